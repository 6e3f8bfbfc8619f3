#include "text.hpp"

namespace kis {

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void append_hex_escape(std::string &out, unsigned char u) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\x";
    out += kHex[u >> 4];
    out += kHex[u & 15];
}

namespace {

bool is_control(unsigned char u) { return u < 0x20 || u == 0x7f; }

} // namespace

std::string printable(std::string_view s) {
    std::string out;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (is_control(u))
            append_hex_escape(out, u);
        else
            out += c;
    }
    return out;
}

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (is_control(u)) {
            append_hex_escape(out, u);
        } else {
            out += c;
        }
    }
    return out + '"';
}

} // namespace kis
