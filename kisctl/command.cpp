#include "command.hpp"

#include <algorithm>
#include <iostream>

namespace kis {

const Command *find_command(std::string_view name) {
    for (const Command *cmd : kCommands)
        if (cmd->name == name)
            return cmd;
    return nullptr;
}

std::string global_help() {
    std::string text = "usage: kisctl COMMAND [ARGS...]\n"
                       "       kisctl --help | --version\n"
                       "\n"
                       "Controls KIS, the Linux Kernel Immune System module.\n"
                       "\n"
                       "commands:\n";
    for (const Command *cmd : kCommands) {
        std::string name(cmd->name);
        name.resize(std::max<std::size_t>(name.size(), 10), ' ');
        text += "  " + name + std::string(cmd->summary) + "\n";
    }
    text += "\n"
            "options:\n"
            "  -h, --help    show this help\n"
            "  --version     show the protocol version kisctl speaks\n"
            "\n"
            "Run `kisctl COMMAND --help` for the options of a command.\n"
            "Exit status: 0 success, 1 failure, 2 usage error.\n";
    return text;
}

bool ParsedArgs::has(std::string_view flag) const {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

std::optional<ParsedArgs> parse_args(const Command &cmd, const Args &args,
                                     std::initializer_list<std::string_view> flags) {
    ParsedArgs parsed;
    bool options_done = false;
    for (const std::string &arg : args) {
        if (options_done || arg.size() < 2 || arg[0] != '-') {
            parsed.operands.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        if (arg == "-h" || arg == "--help") {
            parsed.help = true;
            continue;
        }
        if (std::find(flags.begin(), flags.end(), arg) != flags.end()) {
            parsed.flags.push_back(arg);
            continue;
        }
        usage_error(cmd, "unknown option " + arg);
        return std::nullopt;
    }
    return parsed;
}

void print_help(const Command &cmd) { std::cout << cmd.help << std::flush; }

int usage_error(const Command &cmd, const std::string &message) {
    std::cerr << "kisctl " << cmd.name << ": " << message << "\n"
              << "Run `kisctl " << cmd.name << " --help` for its usage.\n";
    return kExitUsage;
}

void print_error(const std::string &message) {
    std::cout << std::flush;
    std::cerr << "kisctl: " << message << "\n";
}

int run_action(const Command &cmd, std::span<const Action> actions, const Args &args) {
    std::string list;
    for (std::size_t i = 0; i < actions.size(); i++)
        list += (i == 0                    ? ""
                 : i + 1 == actions.size() ? " or "
                                           : ", ") +
                std::string(actions[i].name);
    if (args.empty())
        return usage_error(cmd, "no action given: " + list);
    const std::string &action = args[0];
    if (action == "-h" || action == "--help") {
        print_help(cmd);
        return kExitOk;
    }
    for (const Action &a : actions)
        if (a.name == action)
            return a.run(args);
    return usage_error(cmd, "unknown action \"" + action + "\": " + list);
}

} // namespace kis
