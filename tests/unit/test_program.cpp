// kis_program_match and kis_cmdline_split: which processes belong to a cell.
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "kis_match.h"

namespace {

bool matches(const char *program, const char *args_pattern, const char *exe, const char *argv0,
             const char *args) {
    kis_exec_info info{exe, argv0, args};
    return kis_program_match(program, args_pattern, &info);
}

struct Split {
    std::string argv0;
    std::string args;
    size_t len;
};

// Runs kis_cmdline_split on a copy of raw (which may hold NULs), with the byte of room
// after the data that the function requires.
Split split(const std::string &raw) {
    std::vector<char> buf(raw.begin(), raw.end());
    buf.push_back('X'); // must be overwritten by the terminating NUL
    const char *argv0 = nullptr;
    const char *args = nullptr;
    size_t len = kis_cmdline_split(buf.data(), raw.size(), &argv0, &args);
    return {argv0, args, len};
}

} // namespace

BOOST_AUTO_TEST_SUITE(program_match)

BOOST_AUTO_TEST_CASE(without_slash_matches_basenames) {
    BOOST_TEST(matches("httpd", nullptr, "/usr/sbin/httpd", "httpd", ""));
    BOOST_TEST(matches("httpd", nullptr, "/usr/sbin/httpd", nullptr, ""));
    BOOST_TEST(matches("http*", nullptr, "/usr/sbin/httpd", nullptr, ""));
    BOOST_TEST(!matches("sbin", nullptr, "/usr/sbin/httpd", nullptr, ""));
    BOOST_TEST(!matches("usr*", nullptr, "/usr/sbin/httpd", nullptr, ""));
}

BOOST_AUTO_TEST_CASE(argv0_when_exe_does_not_match) {
    // busybox applets: the executable is busybox, argv[0] names the applet.
    BOOST_TEST(matches("httpd", nullptr, "/bin/busybox", "httpd", ""));
    BOOST_TEST(matches("httpd", nullptr, "/bin/busybox", "/usr/sbin/httpd", ""));
    BOOST_TEST(!matches("httpd", nullptr, "/bin/busybox", "sh", ""));
    BOOST_TEST(matches("busybox", nullptr, "/bin/busybox", "httpd", ""));
    // No executable path known: argv[0] alone decides.
    BOOST_TEST(matches("httpd", nullptr, nullptr, "httpd", ""));
    BOOST_TEST(matches("httpd", nullptr, "", "httpd", ""));
    BOOST_TEST(!matches("httpd", nullptr, nullptr, nullptr, ""));
    BOOST_TEST(!matches("httpd", nullptr, "", "", ""));
    BOOST_TEST(!matches("*", nullptr, nullptr, nullptr, ""));
}

BOOST_AUTO_TEST_CASE(with_slash_matches_whole_paths) {
    BOOST_TEST(matches("/usr/sbin/httpd", nullptr, "/usr/sbin/httpd", nullptr, ""));
    BOOST_TEST(matches("/usr/sbin/*", nullptr, "/usr/sbin/httpd", nullptr, ""));
    BOOST_TEST(matches("*/httpd", nullptr, "/usr/sbin/httpd", nullptr, ""));
    BOOST_TEST(!matches("sbin/httpd", nullptr, "/usr/sbin/httpd", nullptr, ""));
    BOOST_TEST(!matches("/usr/bin/*", nullptr, "/usr/sbin/httpd", nullptr, ""));
    // argv[0] is matched whole too: a bare "httpd" is not a path.
    BOOST_TEST(!matches("/usr/sbin/*", nullptr, "/bin/busybox", "httpd", ""));
    BOOST_TEST(matches("/usr/sbin/*", nullptr, "/bin/busybox", "/usr/sbin/httpd", ""));
}

BOOST_AUTO_TEST_CASE(args_pattern) {
    // NULL and "" match any arguments, as does "*".
    BOOST_TEST(matches("httpd", nullptr, "/bin/httpd", nullptr, "-f -p 80"));
    BOOST_TEST(matches("httpd", "", "/bin/httpd", nullptr, "-f -p 80"));
    BOOST_TEST(matches("httpd", "*", "/bin/httpd", nullptr, "-f -p 80"));
    BOOST_TEST(matches("httpd", "*", "/bin/httpd", nullptr, ""));
    BOOST_TEST(matches("httpd", "-f *", "/bin/httpd", nullptr, "-f -p 80"));
    BOOST_TEST(!matches("httpd", "-f *", "/bin/httpd", nullptr, "-p 80"));
    BOOST_TEST(!matches("httpd", "-f *", "/bin/httpd", nullptr, ""));
    BOOST_TEST(!matches("httpd", "-f *", "/bin/httpd", nullptr, nullptr));
    BOOST_TEST(matches("httpd", "*-p 80", "/bin/httpd", nullptr, "-f -p 80"));
    // The program must match as well.
    BOOST_TEST(!matches("nginx", "*", "/bin/httpd", "httpd", "-f"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cmdline_split)

BOOST_AUTO_TEST_CASE(normal) {
    Split s = split(std::string("httpd\0-f\0-p\0"
                                "80\0",
                                15));
    BOOST_TEST(s.argv0 == "httpd");
    BOOST_TEST(s.args == "-f -p 80");
    BOOST_TEST(s.len == s.args.size());
}

BOOST_AUTO_TEST_CASE(no_args) {
    Split s = split(std::string("httpd\0", 6));
    BOOST_TEST(s.argv0 == "httpd");
    BOOST_TEST(s.args == "");
    BOOST_TEST(s.len == 0u);
}

BOOST_AUTO_TEST_CASE(no_args_no_nul) {
    Split s = split("httpd");
    BOOST_TEST(s.argv0 == "httpd");
    BOOST_TEST(s.args == "");
    BOOST_TEST(s.len == 0u);
}

BOOST_AUTO_TEST_CASE(empty) {
    Split s = split("");
    BOOST_TEST(s.argv0 == "");
    BOOST_TEST(s.args == "");
    BOOST_TEST(s.len == 0u);
}

BOOST_AUTO_TEST_CASE(trailing_nuls) {
    Split s = split(std::string("a\0b\0\0\0", 6));
    BOOST_TEST(s.argv0 == "a");
    BOOST_TEST(s.args == "b");
    BOOST_TEST(s.len == 1u);
    Split t = split(std::string("prog\0\0\0", 7));
    BOOST_TEST(t.argv0 == "prog");
    BOOST_TEST(t.args == "");
    BOOST_TEST(t.len == 0u);
}

BOOST_AUTO_TEST_CASE(no_trailing_nul) {
    Split s = split(std::string("a\0b\0c", 5));
    BOOST_TEST(s.argv0 == "a");
    BOOST_TEST(s.args == "b c");
    BOOST_TEST(s.len == 3u);
}

BOOST_AUTO_TEST_CASE(empty_argument_is_joined_too) {
    // argv {"a", "", "b"}: the empty argument still gets its separator.
    Split s = split(std::string("a\0\0b\0", 5));
    BOOST_TEST(s.argv0 == "a");
    BOOST_TEST(s.args == " b");
    BOOST_TEST(s.len == 2u);
}

BOOST_AUTO_TEST_CASE(split_then_match) {
    std::string raw("/usr/sbin/httpd\0-f\0-p\0"
                    "8080\0",
                    27);
    std::vector<char> buf(raw.begin(), raw.end());
    buf.push_back('\0');
    kis_exec_info info{"/bin/busybox", nullptr, nullptr};
    kis_cmdline_split(buf.data(), raw.size(), &info.argv0, &info.args);
    BOOST_TEST(kis_program_match("httpd", "-f -p 80*", &info));
    BOOST_TEST(!kis_program_match("httpd", "-f -p 80", &info));
}

BOOST_AUTO_TEST_SUITE_END()
