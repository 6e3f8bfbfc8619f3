// kisctl set CELL [--window W] [--threshold T]: change a cell's monitoring at run time.
#include <iostream>

#include "command.hpp"
#include "kis_seq.h"
#include "options.hpp"
#include "session.hpp"

namespace kis {

namespace {

static_assert(KIS_SEQ_WINDOW_MAX == 128 && KIS_SEQ_SCORE_ONE == 1000); // the help says so

int run_set(const Args &args) {
    auto o = parse_options(
        "set", args,
        {{"--window", "-w", OptionSpec::value}, {"--threshold", "-t", OptionSpec::value}});
    if (!o)
        return kExitUsage;
    if (o->help) {
        print_help(kSetCommand);
        return kExitOk;
    }
    if (o->operands.empty())
        return usage_error(kSetCommand, "no cell name given");
    if (o->operands.size() > 1)
        return usage_error(kSetCommand, "unexpected argument \"" + o->operands[1] + "\"");
    if (!o->value("--window") && !o->value("--threshold"))
        return usage_error(kSetCommand, "nothing to set: give --window W and/or --threshold T");
    auto window = number_option("set", *o, "--window", 0, 1, KIS_SEQ_WINDOW_MAX);
    if (!window)
        return kExitUsage;
    auto threshold = number_option("set", *o, "--threshold", 0, 0, KIS_SEQ_SCORE_ONE);
    if (!threshold)
        return kExitUsage;
    const std::string &cell = o->operands[0];
    if (!check_cell_operand("set", cell))
        return kExitFailure;

    auto module = connect_or_report();
    if (!module)
        return kExitFailure;
    std::optional<std::uint16_t> w, t;
    if (o->value("--window"))
        w = static_cast<std::uint16_t>(*window);
    if (o->value("--threshold"))
        t = static_cast<std::uint16_t>(*threshold);
    if (Result<void> r = module->set_cell(cell, w, t); !r) {
        report_refusal("set", cell, r.error());
        return kExitFailure;
    }
    auto info = module->cell(cell);
    if (!info) { // unloaded in between: what was asked was done
        std::cout << "cell " << cell << " set\n";
        return kExitOk;
    }
    std::cout << "cell " << cell << ": window " << info->seq_window << ", threshold "
              << info->seq_threshold << "\n";
    return kExitOk;
}

} // namespace

const Command kSetCommand = {
    "set",
    "change a cell's window and alert threshold at run time",
    "usage: kisctl set CELL [--window W] [--threshold T]\n"
    "\n"
    "Changes how an armed cell judges its tasks, at once and without reloading anything:\n"
    "  -w, --window W      how many calls' scores are averaged, 1..128\n"
    "  -t, --threshold T   alert when a task's average rises above T, in thousandths of the\n"
    "                      anomaly score, 0..1000 (300 means 0.3)\n"
    "At least one must be given. The other settings of [cell.sequence] (k, learning room)\n"
    "are fixed when the cell is loaded. Needs CAP_NET_ADMIN (run as root).\n"
    "\n"
    "options:\n"
    "  -h, --help          show this help\n"
    "\n"
    "Prints the cell's window and threshold afterwards.\n"
    "Exit status: 0 set, 1 failure (e.g. no such cell), 2 usage error.\n",
    run_set,
};

} // namespace kis
