// kisctl check FILE...: validate cell files without the module.
#include <iostream>

#include "command.hpp"
#include "config.hpp"

namespace kis {

namespace {

int run_check(const Args &args) {
    auto parsed = parse_args(kCheckCommand, args);
    if (!parsed)
        return kExitUsage;
    if (parsed->help) {
        print_help(kCheckCommand);
        return kExitOk;
    }
    if (parsed->operands.empty())
        return usage_error(kCheckCommand, "no cell file given");

    std::vector<FileConfig> files = read_cell_files(parsed->operands);
    std::size_t errors = 0;
    for (const FileConfig &file : files) {
        if (file.ok()) {
            std::cout << file.path << ": ok (" << file.cells.size()
                      << (file.cells.size() == 1 ? " cell)\n" : " cells)\n");
            for (const CellConfig &cell : file.cells)
                std::cout << stats_summary(cell);
            continue;
        }
        std::cout << std::flush;
        for (const ConfigError &e : file.errors)
            std::cerr << e.str() << "\n";
        errors += file.errors.size();
    }
    std::cout << std::flush;
    return errors ? kExitFailure : kExitOk;
}

} // namespace

std::size_t print_config_errors(const std::vector<FileConfig> &files) {
    std::size_t errors = 0;
    std::cout << std::flush;
    for (const FileConfig &file : files) {
        for (const ConfigError &e : file.errors)
            std::cerr << e.str() << "\n";
        errors += file.errors.size();
    }
    return errors;
}

const Command kCheckCommand = {
    "check",
    "validate cell config files (no module needed)",
    "usage: kisctl check FILE...\n"
    "\n"
    "Parses and validates cell config files (TOML, one or more [[cell]] tables) exactly as\n"
    "`kisctl load` does, without talking to the module. Every error of every file is printed\n"
    "as FILE:LINE: message; a good file prints FILE: ok (N cells), and under it, for each\n"
    "cell with a [cell.stats] table, the statistics settings that will be loaded:\n"
    "  cell NAME: threshold2 T2, interval MSms, hold1 N, hold2 N, file-tree N\n"
    "    files \"GLOB\", ...\n"
    "    PARAM: mult1 X, mult2 Y, floor Z, expect E, tolerance P%   (the keys given)\n"
    "Cell names must be unique across all the files given.\n"
    "\n"
    "options:\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 all files are good, 1 some file has errors, 2 usage error.\n",
    run_check,
};

} // namespace kis
