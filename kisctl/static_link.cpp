// Linked into the static kisctl only. libnl's address and protocol helpers reference glibc's
// name-service functions (getaddrinfo, getprotobyname, getprotobynumber), which a static
// binary can only use with the matching shared NSS libraries at run time; the busybox guest
// has none, and ld warns about each. kisctl never resolves host or protocol names, so the
// link wraps these references (-Wl,--wrap=...) and sends them here: they fail cleanly, and
// libnl falls back to numbers.
#include <netdb.h>

extern "C" {

int __wrap_getaddrinfo(const char *, const char *, const struct addrinfo *, struct addrinfo **res) {
    if (res)
        *res = nullptr;
    return EAI_FAIL;
}

struct protoent *__wrap_getprotobyname(const char *) {
    return nullptr;
}

struct protoent *__wrap_getprotobynumber(int) {
    return nullptr;
}

} // extern "C"
