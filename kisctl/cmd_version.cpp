// kisctl version: the protocol kisctl speaks and, if loaded, the module's versions.
#include <iostream>

#include <linux/kis.h>

#include "command.hpp"
#include "netlink.hpp"

namespace kis {

namespace {

int run_version(const Args &args) {
    auto parsed = parse_args(kVersionCommand, args);
    if (!parsed)
        return kExitUsage;
    if (parsed->help) {
        print_help(kVersionCommand);
        return kExitOk;
    }
    if (!parsed->operands.empty())
        return usage_error(kVersionCommand, "unexpected argument \"" + parsed->operands[0] + "\"");

    std::cout << "kisctl protocol " << KIS_GENL_VERSION << "\n" << std::flush;

    Result<Module> module = Module::connect();
    if (!module) {
        // Without the module there is nothing more to show; that is not an error here.
        if (is_not_loaded(module.error()))
            return kExitOk;
        print_error(module.error().message);
        return kExitFailure;
    }
    Result<ModuleInfo> info = module->version();
    if (!info) {
        print_error("version: " + info.error().message);
        return kExitFailure;
    }
    std::cout << "kis module " << info->module_version << ", protocol " << info->protocol << "\n"
              << std::flush;
    if (info->protocol != KIS_GENL_VERSION) {
        print_error(protocol_mismatch_message(info->protocol));
        return kExitFailure;
    }
    return kExitOk;
}

} // namespace

const Command kVersionCommand = {
    "version",
    "show the protocol versions of kisctl and of the loaded module",
    "usage: kisctl version\n"
    "\n"
    "Prints the generic netlink protocol version kisctl speaks and, if the kis module is\n"
    "loaded, the module's version and protocol. Needs no privileges.\n"
    "\n"
    "options:\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 ok (also when the module is not loaded), 1 protocol mismatch or error,\n"
    "2 usage error.\n",
    run_version,
};

} // namespace kis
