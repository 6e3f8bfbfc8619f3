// What the commands that change the module share: connecting with the version check and
// reporting refusals the same way everywhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "netlink.hpp"

namespace kis {

// Connects and checks the protocol version; prints the error and returns nothing on failure.
std::optional<Module> connect_or_report();

// Prints why the module refused `action` (e.g. "learn start") on cell `cell`: no rights, no
// such cell, or the module's own message.
void report_refusal(std::string_view action, const std::string &cell, const Error &error);

// Checks a cell name given on the command line; prints "ACTION: no cell named ..." if it
// cannot be one. Returns whether it can.
bool check_cell_operand(std::string_view action, const std::string &cell);

// A program to execute: a path (if it has a '/'), or a name looked up in PATH as a shell
// would. Nothing if it is not an executable regular file.
std::optional<std::string> find_executable(const std::string &program);

// "1 call" / "2 calls".
std::string counted(std::uint64_t n, std::string_view one, std::string_view many);

} // namespace kis
