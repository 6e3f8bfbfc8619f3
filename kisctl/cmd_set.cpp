// kisctl set CELL [--window W] [--threshold T] [--threshold2 T2] [--hold1 N] [--hold2 N]
//                 [--param NAME:mult1=X,mult2=Y,floor=Z]...: change a cell's monitoring at
// run time.
#include <algorithm>
#include <iostream>

#include "command.hpp"
#include "config.hpp"
#include "kis_seq.h"
#include "options.hpp"
#include "session.hpp"

namespace kis {

namespace {

static_assert(KIS_SEQ_WINDOW_MAX == 128 && KIS_SEQ_SCORE_ONE == 1000); // the help says so
static_assert(KIS_DANGER_HOLD_MAX == 3600 && KIS_MULT_MAX == 10000);

// --param may be given several times, which parse_options refuses for one option: its values
// are taken out first. The values of the other options are skipped, so that "--window
// --param" stays the usage error it is.
struct SplitArgs {
    Args rest;
    std::vector<std::string> params;
    bool missing_value = false;
};

SplitArgs split_param_options(const Args &args) {
    SplitArgs out;
    for (std::size_t i = 0; i < args.size(); i++) {
        const std::string &a = args[i];
        if (a == "--") {
            out.rest.insert(out.rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i),
                            args.end());
            break;
        }
        if (a == "--param" || a == "-p") {
            if (i + 1 == args.size()) {
                out.missing_value = true;
                break;
            }
            out.params.push_back(args[++i]);
            continue;
        }
        if (a.rfind("--param=", 0) == 0) {
            out.params.push_back(a.substr(8));
            continue;
        }
        out.rest.push_back(a);
        bool takes_value = a == "--window" || a == "-w" || a == "--threshold" || a == "-t" ||
                           a == "--threshold2" || a == "--hold1" || a == "--hold2";
        if (takes_value && i + 1 < args.size())
            out.rest.push_back(args[++i]);
    }
    return out;
}

int run_set(const Args &args) {
    SplitArgs split = split_param_options(args);
    if (split.missing_value)
        return usage_error(kSetCommand, "option --param needs a value");
    auto o = parse_options("set", split.rest,
                           {{"--window", "-w", OptionSpec::value},
                            {"--threshold", "-t", OptionSpec::value},
                            {"--threshold2", "", OptionSpec::value},
                            {"--hold1", "", OptionSpec::value},
                            {"--hold2", "", OptionSpec::value}});
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
    if (o->values.empty() && split.params.empty())
        return usage_error(kSetCommand,
                           "nothing to set: give --window W, --threshold T, --threshold2 T2, "
                           "--hold1 N, --hold2 N and/or --param NAME:KEY=VALUE,...");
    CellSettings settings;
    struct Numeric {
        const char *name;
        std::uint64_t lo, hi;
        std::optional<std::uint16_t> *out;
    };
    const Numeric numerics[] = {
        {"--window", 1, KIS_SEQ_WINDOW_MAX, &settings.window},
        {"--threshold", 0, KIS_SEQ_SCORE_ONE, &settings.threshold},
        {"--threshold2", 0, KIS_SEQ_SCORE_ONE, &settings.threshold2},
        {"--hold1", 0, KIS_DANGER_HOLD_MAX, &settings.hold1},
        {"--hold2", 0, KIS_DANGER_HOLD_MAX, &settings.hold2},
    };
    for (const Numeric &n : numerics) {
        auto v = number_option("set", *o, n.name, 0, n.lo, n.hi);
        if (!v)
            return kExitUsage;
        if (o->value(n.name))
            *n.out = static_cast<std::uint16_t>(*v);
    }
    if (settings.threshold && settings.threshold2 && *settings.threshold2 < *settings.threshold)
        return usage_error(kSetCommand, "--threshold2 " + std::to_string(*settings.threshold2) +
                                            " is below --threshold " +
                                            std::to_string(*settings.threshold) +
                                            "; danger signal 2 needs a score at least as high "
                                            "as an alert");
    for (const std::string &text : split.params) {
        ParamConfig p;
        if (auto problem = parse_param_setting(text, p))
            return usage_error(kSetCommand, *problem);
        bool twice = std::any_of(settings.params.begin(), settings.params.end(),
                                 [&](const ParamConfig &q) { return q.id == p.id; });
        if (twice)
            return usage_error(kSetCommand, "--param " + stat_param_name(p.id) +
                                                " is given twice; give its keys in one --param");
        settings.params.push_back(p);
    }
    const std::string &cell = o->operands[0];
    if (!check_cell_operand("set", cell))
        return kExitFailure;

    auto module = connect_or_report();
    if (!module)
        return kExitFailure;
    if (Result<void> r = module->set_cell(cell, settings); !r) {
        report_refusal("set", cell, r.error());
        return kExitFailure;
    }
    auto info = module->cell(cell);
    if (!info) { // unloaded in between: what was asked was done
        std::cout << "cell " << cell << " set\n";
        return kExitOk;
    }
    std::cout << "cell " << cell << ": window " << info->seq_window << ", threshold "
              << info->seq_threshold;
    if (settings.threshold2 || settings.hold1 || settings.hold2)
        std::cout << ", threshold2 " << info->seq_threshold2 << ", hold1 " << info->danger_hold1
                  << ", hold2 " << info->danger_hold2;
    std::cout << "\n";
    for (const ParamConfig &p : settings.params)
        for (const ParamInfo &q : info->params)
            if (q.id == p.id)
                std::cout << "  " << stat_param_name(q.id) << ": mult1 " << tenths_text(q.mult1)
                          << ", mult2 " << tenths_text(q.mult2) << ", floor " << q.floor << "\n";
    return kExitOk;
}

} // namespace

const Command kSetCommand = {
    "set",
    "change a cell's thresholds, danger holds and parameter limits at run time",
    "usage: kisctl set CELL [--window W] [--threshold T] [--threshold2 T2] [--hold1 N]\n"
    "                       [--hold2 N] [--param NAME:mult1=X,mult2=Y,floor=Z]...\n"
    "\n"
    "Changes how a loaded cell judges its tasks, at once and without reloading anything:\n"
    "  -w, --window W      how many calls' scores are averaged, 1..128\n"
    "  -t, --threshold T   alert when a task's average rises above T, in thousandths of the\n"
    "                      anomaly score, 0..1000 (300 means 0.3)\n"
    "  --threshold2 T2     danger signal 2 of the sequence anomaly above T2, 0..1000, at\n"
    "                      least the threshold (raising --threshold above the cell's\n"
    "                      threshold2 needs a new --threshold2 with it)\n"
    "  --hold1 N           quiet intervals before danger signal 1 ends, 0..3600\n"
    "  --hold2 N           quiet intervals before danger signal 2 falls to 1, 0..3600\n"
    "  -p, --param NAME:KEY=VALUE,...\n"
    "                      the limits of one statistics parameter (cpu, files, rx_bytes, ...;\n"
    "                      Documentation/config.md lists them): mult1=X and mult2=Y\n"
    "                      deviations above the mean for danger signals 1 and 2 (0..1000,\n"
    "                      in tenths, mult2 at least mult1), floor=Z the least deviation\n"
    "                      used, in the parameter's unit. Give --param once per parameter,\n"
    "                      e.g. --param cpu:mult1=4,mult2=8 --param files:floor=5\n"
    "At least one must be given. The other settings of [cell.sequence] and [cell.stats]\n"
    "(k, learning room, interval, file tree, expected values) are fixed when the cell is\n"
    "loaded. Needs CAP_NET_ADMIN (run as root).\n"
    "\n"
    "options:\n"
    "  -h, --help          show this help\n"
    "\n"
    "Prints the cell's window and threshold afterwards (and threshold2 and the holds when\n"
    "one of them was given, and the limits of each --param parameter).\n"
    "Exit status: 0 set, 1 failure (e.g. no such cell), 2 usage error.\n",
    run_set,
};

} // namespace kis
