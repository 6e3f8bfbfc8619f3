// kisctl unload CELL...: remove cells from the module, one request per cell.
#include <cerrno>
#include <iostream>

#include "command.hpp"
#include "config.hpp"
#include "netlink.hpp"

namespace kis {

namespace {

int run_unload(const Args &args) {
    auto parsed = parse_args(kUnloadCommand, args);
    if (!parsed)
        return kExitUsage;
    if (parsed->help) {
        print_help(kUnloadCommand);
        return kExitOk;
    }
    if (parsed->operands.empty())
        return usage_error(kUnloadCommand, "no cell name given");

    auto session = Module::connect_checked();
    if (!session) {
        print_error(session.error().message);
        return kExitFailure;
    }
    Module &module = session->first;

    int status = kExitOk;
    for (const std::string &name : parsed->operands) {
        if (check_cell_name(name)) {
            print_error("unload: no cell named \"" + name +
                        "\" (not a valid cell name; kisctl status lists the loaded cells)");
            status = kExitFailure;
            continue;
        }
        Result<void> r = module.unload_cell(name);
        if (r) {
            std::cout << "unloaded cell " << name << "\n" << std::flush;
            continue;
        }
        status = kExitFailure;
        int err = r.error().kernel_errno;
        if (err == EPERM || err == EACCES) {
            print_error(
                "unload: permission denied: changing KIS needs CAP_NET_ADMIN (run as root)");
            break; // the other names would fail the same way
        }
        if (err == ENOENT)
            print_error("unload: no cell named \"" + name +
                        "\" (kisctl status lists the loaded cells)");
        else if (err)
            print_error("unload of cell \"" + name +
                        "\" refused by the module: " + r.error().message);
        else
            print_error("unload: " + r.error().message);
    }
    return status;
}

} // namespace

const Command kUnloadCommand = {
    "unload",
    "remove cells from the module",
    "usage: kisctl unload CELL...\n"
    "\n"
    "Removes each named cell from the module; its tasks stop being watched. Every name is\n"
    "tried even if an earlier one fails. Needs CAP_NET_ADMIN (run as root).\n"
    "\n"
    "options:\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 all cells unloaded, 1 some cell could not be unloaded, 2 usage error.\n",
    run_unload,
};

} // namespace kis
