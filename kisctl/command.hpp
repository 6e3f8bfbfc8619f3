// The subcommand table and what the subcommands share: exit codes, option parsing, help and
// error printing.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// Turns a number from <linux/kis.h> into a string literal for help texts.
#define KIS_STR_(x) #x
#define KIS_STR(x) KIS_STR_(x)

namespace kis {

struct FileConfig;

enum ExitCode : int {
    kExitOk = 0,
    kExitFailure = 1,
    kExitUsage = 2,
};

using Args = std::vector<std::string>; // the arguments after the command name

struct Command {
    std::string_view name;
    std::string_view summary; // one line for `kisctl --help`
    std::string_view help;    // full text for `kisctl COMMAND --help`
    int (*run)(const Args &args);
};

extern const Command kCheckCommand;
extern const Command kLoadCommand;
extern const Command kUnloadCommand;
extern const Command kStatusCommand;
extern const Command kVersionCommand;
extern const Command kProfileCommand;
extern const Command kSetCommand;
extern const Command kLearnCommand;
extern const Command kTraceCommand;
extern const Command kMonitorCommand;
extern const Command kPlotCommand;
extern const Command kSigCommand;

inline constexpr const Command *kCommands[] = {
    &kCheckCommand,   &kLoadCommand,    &kUnloadCommand, &kStatusCommand,
    &kVersionCommand, &kProfileCommand, &kSetCommand,    &kLearnCommand,
    &kTraceCommand,   &kMonitorCommand, &kPlotCommand,   &kSigCommand,
};

const Command *find_command(std::string_view name);

// The usage text of `kisctl --help`.
std::string global_help();

struct ParsedArgs {
    bool help = false;
    std::vector<std::string> flags;    // the options given, e.g. "--json"
    std::vector<std::string> operands; // everything else, in order

    bool has(std::string_view flag) const;
};

// Parses "--help"/"-h", the given flags and operands ("--" ends the options). On an unknown
// option prints a usage error and returns nothing: the caller exits with kExitUsage.
std::optional<ParsedArgs> parse_args(const Command &cmd, const Args &args,
                                     std::initializer_list<std::string_view> flags = {});

// Prints cmd.help to stdout.
void print_help(const Command &cmd);

// One action of a command that has several ("kisctl learn start ...").
struct Action {
    std::string_view name;
    int (*run)(const Args &args); // gets the arguments from the action's name on
};

// Runs the action args[0] names; -h/--help prints the command's help; no or an unknown
// action is a usage error that lists the actions.
int run_action(const Command &cmd, std::span<const Action> actions, const Args &args);

// Prints "kisctl CMD: message" and a hint to stderr; returns kExitUsage.
int usage_error(const Command &cmd, const std::string &message);

// Prints "kisctl: message" to stderr.
void print_error(const std::string &message);

// Prints every error of every file as "FILE:LINE: message" to stderr; returns their number.
std::size_t print_config_errors(const std::vector<FileConfig> &files);

} // namespace kis
