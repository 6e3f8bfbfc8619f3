// kisctl load FILE...: validate cell files, then load all their cells in one request.
#include <cerrno>
#include <iostream>

#include "command.hpp"
#include "config.hpp"
#include "netlink.hpp"

namespace kis {

namespace {

// After EEXIST: names the cells that are already loaded, if the module lists any. Returns
// whether it printed something.
bool report_loaded_names(Module &module, const std::vector<CellConfig> &cells) {
    auto loaded = module.cells();
    if (!loaded)
        return false;
    bool printed = false;
    for (const CellConfig &c : cells) {
        for (const CellInfo &l : *loaded) {
            if (l.name != c.name)
                continue;
            print_error("load refused by the module: cell \"" + c.name + "\" (" + c.file + ":" +
                        std::to_string(c.name_line) +
                        ") is already loaded; unload it first: kisctl unload " + c.name);
            printed = true;
        }
    }
    return printed;
}

int run_load(const Args &args) {
    auto parsed = parse_args(kLoadCommand, args);
    if (!parsed)
        return kExitUsage;
    if (parsed->help) {
        print_help(kLoadCommand);
        return kExitOk;
    }
    if (parsed->operands.empty())
        return usage_error(kLoadCommand, "no cell file given");

    // Everything is checked before the module is contacted.
    std::vector<FileConfig> files = read_cell_files(parsed->operands);
    if (std::size_t errors = print_config_errors(files)) {
        print_error("load: " + std::to_string(errors) + (errors == 1 ? " error" : " errors") +
                    " in the cell files; nothing was loaded");
        return kExitFailure;
    }
    std::vector<CellConfig> cells;
    for (const FileConfig &file : files)
        cells.insert(cells.end(), file.cells.begin(), file.cells.end());
    if (cells.size() > KIS_LOAD_CELLS_MAX) {
        print_error("load: " + std::to_string(cells.size()) +
                    " cells given, but one load takes "
                    "at most " +
                    std::to_string(KIS_LOAD_CELLS_MAX) + "; load the files in several runs");
        return kExitFailure;
    }

    auto session = Module::connect_checked();
    if (!session) {
        print_error(session.error().message);
        return kExitFailure;
    }
    Module &module = session->first;
    Result<void> r = module.load_cells(cells);
    if (!r) {
        int err = r.error().kernel_errno;
        if (err == EPERM || err == EACCES) {
            print_error("load: permission denied: changing KIS needs CAP_NET_ADMIN (run as root)");
            return kExitFailure;
        }
        // Name the clashing cells rather than repeat the module's general message.
        if (err == EEXIST && report_loaded_names(module, cells))
            return kExitFailure;
        if (err)
            print_error("load refused by the module: " + r.error().message);
        else
            print_error("load: " + r.error().message);
        return kExitFailure;
    }

    std::string names;
    for (const CellConfig &c : cells)
        names += (names.empty() ? "" : ", ") + c.name;
    std::cout << "loaded " << cells.size() << (cells.size() == 1 ? " cell: " : " cells: ") << names
              << "\n"
              << std::flush;
    return kExitOk;
}

} // namespace

const Command kLoadCommand = {
    "load",
    "validate cell config files and load their cells into the module",
    "usage: kisctl load FILE...\n"
    "\n"
    "Validates every file like `kisctl check` (nothing is sent if any file has an error or a\n"
    "cell name is defined twice), then sends all cells to the module in one request: the\n"
    "module adds all of them or none. At most " KIS_STR(
        KIS_LOAD_CELLS_MAX) " cells per load.\n"
                            "Needs CAP_NET_ADMIN (run as root).\n"
                            "\n"
                            "options:\n"
                            "  -h, --help    show this help\n"
                            "\n"
                            "Exit status: 0 loaded, 1 failure, 2 usage error.\n",
    run_load,
};

} // namespace kis
