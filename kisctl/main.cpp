// kisctl: the command line tool of KIS. Dispatches to the subcommands of command.hpp.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <linux/kis.h>

#include "command.hpp"

int main(int argc, char **argv) {
    using namespace kis;
    try {
        if (argc < 2) {
            std::cerr << global_help();
            return kExitUsage;
        }
        std::string first = argv[1];
        if (first == "-h" || first == "--help" || first == "help") {
            if (first == "help" && argc > 2) {
                if (const Command *cmd = find_command(argv[2])) {
                    print_help(*cmd);
                    return kExitOk;
                }
                std::cerr << "kisctl: unknown command \"" << argv[2]
                          << "\"; run kisctl --help for the list of commands\n";
                return kExitUsage;
            }
            std::cout << global_help();
            return kExitOk;
        }
        if (first == "--version") {
            std::cout << "kisctl protocol " << KIS_GENL_VERSION << "\n";
            return kExitOk;
        }
        const Command *cmd = find_command(first);
        if (!cmd) {
            std::cerr << "kisctl: unknown " << (first[0] == '-' ? "option" : "command") << " \""
                      << first << "\"; run kisctl --help for the list of commands\n";
            return kExitUsage;
        }
        std::vector<std::string> args(argv + 2, argv + argc);
        return cmd->run(args);
    } catch (const std::exception &e) {
        std::cerr << "kisctl: internal error: " << e.what() << "\n";
        return kExitFailure;
    }
}
