// kisctl profile load CELL DB, kisctl profile unload CELL: arm and disarm a cell.
#include "profile_arm.hpp"

#include <iostream>

#include "options.hpp"
#include "profile_file.hpp"
#include "session.hpp"

namespace kis {

namespace {

const char kLoadHelp[] =
    "usage: kisctl profile load CELL DB\n"
    "\n"
    "Arms the cell with the profile file DB (from `kisctl learn save` or `kisctl profile\n"
    "learn`): from their next system call on, the cell's tasks are scored against it, and a\n"
    "task whose average score over the cell's window rises above its threshold raises an\n"
    "alert (kisctl monitor shows them). A profile already loaded is replaced; every task\n"
    "starts its score afresh. When DB also holds resource statistics (`kisctl learn save`\n"
    "of a cell that learned them), they are armed next: the cell's parameters are judged\n"
    "against their thresholds and raise danger signals. The file is checked completely\n"
    "(format, checksum, every count) before anything is sent; the module checks it again.\n"
    "Needs CAP_NET_ADMIN (run as root).\n"
    "\n"
    "options:\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 armed, 1 failure, 2 usage error.\n";

const char kUnloadHelp[] =
    "usage: kisctl profile unload CELL\n"
    "\n"
    "Disarms the cell: its tasks are no longer scored, and raise no alerts. The cell stays\n"
    "loaded. Needs CAP_NET_ADMIN (run as root).\n"
    "\n"
    "options:\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 disarmed (or it was not armed), 1 failure, 2 usage error.\n";

} // namespace

int run_profile_load(const Args &args) {
    auto o = parse_options("profile load", args, {}, 1);
    if (!o)
        return kExitUsage;
    if (o->help) {
        std::cout << kLoadHelp;
        return kExitOk;
    }
    if (o->operands.empty())
        return usage_error("profile load", "no cell name given");
    if (o->operands.size() < 2)
        return usage_error("profile load", "no profile file given");
    if (o->operands.size() > 2)
        return usage_error("profile load", "unexpected argument \"" + o->operands[2] + "\"");
    const std::string &cell = o->operands[0];
    const std::string &path = o->operands[1];
    Result<Profile> profile = Profile::read(path);
    if (!profile) {
        print_error("profile load: " + profile.error().message);
        return kExitFailure;
    }
    if (profile->kgrams() == 0) {
        print_error("profile load: " + path + " holds no k-gram; it would alert on everything");
        return kExitFailure;
    }
    if (!check_cell_operand("profile load", cell))
        return kExitFailure;
    auto module = connect_or_report();
    if (!module)
        return kExitFailure;
    std::vector<std::uint8_t> blob = profile->blob();
    if (Result<void> r = module->profile_load(cell, blob); !r) {
        report_refusal("profile load", cell, r.error());
        return kExitFailure;
    }
    std::cout << "cell " << cell << " armed with " << path << " (k=" << profile->k() << ", "
              << counted(profile->prefixes(), "prefix", "prefixes") << ", "
              << counted(profile->kgrams(), "k-gram", "k-grams") << ")";
    if (auto info = module->cell(cell))
        std::cout << "; window " << info->seq_window << ", threshold " << info->seq_threshold;
    std::cout << "\n";
    // The statistics second: the sequence profile stays armed if they are refused.
    if (!profile->stats()) {
        std::cout << "cell " << cell << ": no statistics in " << path
                  << ", the sequence profile only was armed\n";
        return kExitOk;
    }
    if (Result<void> r = module->stats_load(cell, *profile->stats()); !r) {
        std::cout << std::flush;
        report_refusal("profile load", cell, r.error());
        print_error("profile load: cell " + cell +
                    " is armed with the sequence profile only: its statistics were not armed");
        return kExitFailure;
    }
    // Checked when the file was read.
    auto stats = summarize_stats(*profile->stats(), path);
    std::uint32_t learned = 0;
    if (stats)
        for (const StatsSummary::Param &p : stats->params)
            learned += p.samples > 0;
    std::cout << "cell " << cell << ": statistics armed (" << learned << " of " << KIS_PARAM_COUNT
              << " parameters learned, file tree of "
              << counted(stats ? stats->tree_entries : 0, "entry", "entries") << ")\n";
    return kExitOk;
}

int run_profile_unload(const Args &args) {
    auto o = parse_options("profile unload", args, {}, 1);
    if (!o)
        return kExitUsage;
    if (o->help) {
        std::cout << kUnloadHelp;
        return kExitOk;
    }
    if (o->operands.empty())
        return usage_error("profile unload", "no cell name given");
    if (o->operands.size() > 1)
        return usage_error("profile unload", "unexpected argument \"" + o->operands[1] + "\"");
    const std::string &cell = o->operands[0];
    if (!check_cell_operand("profile unload", cell))
        return kExitFailure;
    auto module = connect_or_report();
    if (!module)
        return kExitFailure;
    auto info = module->cell(cell);
    bool was_armed = !info || info->armed();
    if (Result<void> r = module->profile_unload(cell); !r) {
        report_refusal("profile unload", cell, r.error());
        return kExitFailure;
    }
    std::cout << "cell " << cell << (was_armed ? " disarmed" : " was not armed") << "\n";
    return kExitOk;
}

} // namespace kis
