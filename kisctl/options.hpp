// Options with values for the subcommands that need them ("-o FILE", "--window=20",
// "--exec-on-alert PROG ARGS..."). command.hpp's parse_args covers plain flags; this covers
// the rest with the same conventions: "-h"/"--help", "--" ends the options, a usage error
// names the command and how to get its help.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "command.hpp"

namespace kis {

struct OptionSpec {
    enum Kind {
        flag,  // no value
        value, // one value: "--opt V" or "--opt=V"
        rest,  // a value and every argument after it, options or not
    };
    std::string_view name;  // e.g. "--output"
    std::string_view alias; // e.g. "-o", or empty
    Kind kind = flag;
};

struct Options {
    bool help = false;
    std::map<std::string, std::string, std::less<>> values; // by OptionSpec::name
    std::vector<std::string> flags;                         // by OptionSpec::name
    std::vector<std::string> operands;
    std::vector<std::string> rest; // the `rest` option's value and what followed it

    bool has(std::string_view name) const;
    const std::string *value(std::string_view name) const;
};

// Parses args[first..]. `usage` is what usage errors name, e.g. "learn save" for
// "kisctl learn save: ...". Returns nothing after printing a usage error.
std::optional<Options> parse_options(std::string_view usage, const Args &args,
                                     std::initializer_list<OptionSpec> specs,
                                     std::size_t first = 0);

// Prints "kisctl USAGE: message" and the help hint to stderr; returns kExitUsage.
int usage_error(std::string_view usage, const std::string &message);

// A decimal number in [lo, hi]; nothing if `text` is not one.
std::optional<std::uint64_t> parse_number(std::string_view text, std::uint64_t lo,
                                          std::uint64_t hi);

// The value of option `name` as a number in [lo, hi]: `def` if the option was not given;
// nothing after a usage error.
std::optional<std::uint64_t> number_option(std::string_view usage, const Options &o,
                                           std::string_view name, std::uint64_t def,
                                           std::uint64_t lo, std::uint64_t hi);

// Seconds as a decimal number with up to 3 decimals ("10", "0.5") in milliseconds, in
// (0, max_ms]; nothing if it is not one.
std::optional<std::uint64_t> parse_seconds_ms(std::string_view text, std::uint64_t max_ms);

// The value of a --duration SECONDS option in milliseconds (at most a year): 0 if the
// option was not given; nothing after a usage error.
std::optional<std::uint64_t> duration_option(std::string_view usage, const Options &o);

} // namespace kis
