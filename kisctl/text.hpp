// Text that comes from processes or files (a comm, a pattern, a bad line) printed safely:
// control bytes as \xNN, so that a line of output stays one line.
#pragma once

#include <string>
#include <string_view>

namespace kis {

// The value of a hexadecimal digit, or -1.
int hex_value(char c);

// Appends \xNN for byte `u`.
void append_hex_escape(std::string &out, unsigned char u);

// `s` with control bytes (below 0x20, and 0x7f) as \xNN.
std::string printable(std::string_view s);

// `s` in double quotes, with '"' and '\' backslash-escaped and control bytes as \xNN.
std::string quoted(std::string_view s);

} // namespace kis
