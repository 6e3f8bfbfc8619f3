// kisctl learn start|stop|status|save: a cell learns its sequence profile in the kernel,
// from the live system calls of its tasks.
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <iostream>

#include "command.hpp"
#include "config.hpp"
#include "options.hpp"
#include "profile_file.hpp"
#include "session.hpp"
#include "status.hpp"

namespace kis {

namespace {

const char kStartHelp[] =
    "usage: kisctl learn start CELL [--for DURATION]\n"
    "\n"
    "The cell starts learning from scratch: from the next system call of each of its tasks,\n"
    "the module counts which call follows each run of k-1 calls (k, and the room of the\n"
    "learning model, come from the cell's [cell.sequence]). A task learns from its own calls,\n"
    "as `kisctl profile learn` learns from one trace per PID. Alongside, every interval of\n"
    "its [cell.stats] the cell's resource statistics are learned (mean and deviation per\n"
    "parameter) and the files it opens make its file tree; with expected values in the\n"
    "config (hard tolerization), samples far from them are not learned. What an earlier run\n"
    "learned is discarded. Needs CAP_NET_ADMIN (run as root).\n"
    "\n"
    "Options:\n"
    "  --for DURATION   the module stops learning by itself after DURATION (\"30m\", \"12h\",\n"
    "                   \"7d\"; units ms, s, m, h, d; at most 30 days), as `learn stop` would,\n"
    "                   whether or not kisctl still runs\n"
    "  -h, --help       show this help\n"
    "\n"
    "Exit status: 0 started, 1 failure (e.g. learning already), 2 usage error.\n";

const char kStopHelp[] =
    "usage: kisctl learn stop CELL\n"
    "\n"
    "The cell stops learning; what it learned is kept in the module until the next `learn\n"
    "start` or until the cell is unloaded: save it with `kisctl learn save`. Needs\n"
    "CAP_NET_ADMIN (run as root).\n"
    "\n"
    "Exit status: 0 stopped, 1 failure, 2 usage error.\n";

const char kStatusHelp[] =
    "usage: kisctl learn status [CELL...]\n"
    "\n"
    "Shows, for the named cells or all loaded cells, whether they are learning, the calls\n"
    "learned by the current (or last) run, the k-grams dropped because the learning model\n"
    "was full, and the model's room. Then the statistics learned alongside: intervals\n"
    "sampled, files learned and the file tree's room, suspected training samples not\n"
    "learned, and for each parameter with samples its SAMPLES, MEAN and DEV (in the\n"
    "parameter's unit). Needs no privileges.\n"
    "\n"
    "Exit status: 0 success, 1 failure (e.g. no such cell), 2 usage error.\n";

const char kSaveHelp[] =
    "usage: kisctl learn save CELL -o DB [--force] [--no-stats]\n"
    "\n"
    "Fetches what the cell learned (after `kisctl learn stop`) and writes it as a profile\n"
    "file: the sequence model and, when the cell learned them, its resource statistics and\n"
    "file tree (a section of their own). The sequence model is canonical: learning in the\n"
    "kernel and `kisctl profile learn` on a trace of the same activity (one trace per task,\n"
    "from the same start) give the same bytes; with --no-stats so does the whole file.\n"
    "Warns when k-grams were dropped because the learning model was full. Needs\n"
    "CAP_NET_ADMIN (run as root).\n"
    "\n"
    "options:\n"
    "  -o, --output DB   the profile file to write (required)\n"
    "  -f, --force       overwrite an existing file\n"
    "  --no-stats        leave the statistics out: the sequence model only\n"
    "  -h, --help        show this help\n"
    "\n"
    "Exit status: 0 saved, 1 failure, 2 usage error.\n";

// "learn start" etc.: what usage errors and messages name.
std::string usage_name(const std::string &action) { return "learn " + action; }

// The one CELL operand of start/stop.
std::optional<std::string> one_cell(const std::string &action, const Options &o) {
    if (o.operands.empty()) {
        usage_error(usage_name(action), "no cell name given");
        return std::nullopt;
    }
    if (o.operands.size() > 1) {
        usage_error(usage_name(action), "unexpected argument \"" + o.operands[1] + "\"");
        return std::nullopt;
    }
    return o.operands[0];
}

// The --for DURATION of learn start in milliseconds: 0 if not given; nothing after a usage
// error.
std::optional<std::uint32_t> learn_for_ms(const Options &o) {
    const std::string *text = o.value("--for");
    if (!text)
        return 0;
    auto ms = parse_duration_ms(*text);
    if (!ms || *ms == 0 || *ms > KIS_LEARN_FOR_MS_MAX) {
        usage_error(usage_name("start"),
                    "--for \"" + *text + "\" is not a duration of 1ms to 30d (e.g. 30m, 12h, 7d)");
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(*ms);
}

int run_start_stop(const Args &args, bool start) {
    const std::string action = start ? "start" : "stop";
    auto o = start ? parse_options(usage_name(action), args, {{"--for", "", OptionSpec::value}}, 1)
                   : parse_options(usage_name(action), args, {}, 1);
    if (!o)
        return kExitUsage;
    if (o->help) {
        std::cout << (start ? kStartHelp : kStopHelp);
        return kExitOk;
    }
    auto cell = one_cell(action, *o);
    if (!cell)
        return kExitUsage;
    auto for_ms = start ? learn_for_ms(*o) : std::optional<std::uint32_t>(0);
    if (!for_ms)
        return kExitUsage;
    if (!check_cell_operand(usage_name(action), *cell))
        return kExitFailure;
    auto module = connect_or_report();
    if (!module)
        return kExitFailure;
    Result<void> r = start ? module->learn_start(*cell, *for_ms) : module->learn_stop(*cell);
    if (!r) {
        if (start && r.error().kernel_errno == EBUSY) {
            print_error("learn start: cell \"" + *cell +
                        "\" is learning already; stop it first: kisctl learn stop " + *cell);
            return kExitFailure;
        }
        report_refusal(usage_name(action), *cell, r.error());
        return kExitFailure;
    }
    auto info = module->cell(*cell);
    if (start) {
        std::cout << "cell " << *cell << ": learning";
        if (info)
            std::cout << " (k " << info->seq_k << ", room for "
                      << counted(info->learn_prefixes, "prefix", "prefixes") << " and "
                      << counted(info->learn_kgrams, "k-gram", "k-grams") << ")";
        if (*for_ms)
            std::cout << ", stops by itself in " << duration_text(*for_ms);
        std::cout << "\n";
        if (info && info->stat_interval_ms)
            std::cout << "  statistics: sampled every " << info->stat_interval_ms
                      << " ms, room for "
                      << counted(info->file_tree, "file", "files and directories") << "\n";
        return kExitOk;
    }
    std::cout << "cell " << *cell << ": learning stopped";
    if (info) {
        std::cout << " after " << counted(info->learned, "call", "calls");
        if (info->learn_dropped)
            std::cout << "; " << counted(info->learn_dropped, "k-gram", "k-grams")
                      << " dropped: the learning model was full";
    }
    std::cout << "\nsave it: kisctl learn save " << *cell << " -o FILE\n";
    return kExitOk;
}

std::string status_line(const CellInfo &c) {
    std::string s = "cell " + c.name + ": ";
    if (c.learning())
        s += "learning, " + counted(c.learned, "call", "calls") + " learned";
    else if (c.learned)
        s += "stopped, " + counted(c.learned, "call", "calls") + " learned";
    else
        s += "not learning";
    if (c.learning() || c.learned)
        s += ", " + counted(c.learn_dropped, "k-gram", "k-grams") + " dropped";
    if (c.learning() && c.learn_left_ms)
        s += ", stops by itself in " + duration_text(c.learn_left_ms);
    s += "; k " + std::to_string(c.seq_k) + ", room " +
         counted(c.learn_prefixes, "prefix", "prefixes") + ", " +
         counted(c.learn_kgrams, "k-gram", "k-grams");
    if (c.learn_dropped)
        s += "\n  the learning model is full: raise learn_prefixes and learn_kgrams in the "
             "cell's [cell.sequence] and learn again";
    return s + "\n" + format_learn_stats(c);
}

int run_status(const Args &args) {
    auto o = parse_options("learn status", args, {}, 1);
    if (!o)
        return kExitUsage;
    if (o->help) {
        std::cout << kStatusHelp;
        return kExitOk;
    }
    auto session = Module::connect_checked();
    if (!session) {
        print_error(session.error().message);
        return kExitFailure;
    }
    auto cells = session->first.cells();
    if (!cells) {
        print_error("learn status: cannot list the cells: " + cells.error().message);
        return kExitFailure;
    }
    if (o->operands.empty()) {
        if (cells->empty())
            std::cout << "no cells loaded\n";
        for (const CellInfo &c : *cells)
            std::cout << status_line(c);
        return kExitOk;
    }
    int status = kExitOk;
    for (const std::string &name : o->operands) {
        const CellInfo *found = nullptr;
        for (const CellInfo &c : *cells)
            if (c.name == name)
                found = &c;
        if (!found) {
            std::cout << std::flush;
            print_error("learn status: no cell named \"" + name +
                        "\" is loaded (kisctl status lists the loaded cells)");
            status = kExitFailure;
            continue;
        }
        std::cout << status_line(*found);
    }
    return status;
}

int run_save(const Args &args) {
    auto o = parse_options(
        "learn save", args,
        {{"--output", "-o", OptionSpec::value}, {"--force", "-f"}, {"--no-stats", ""}}, 1);
    if (!o)
        return kExitUsage;
    if (o->help) {
        std::cout << kSaveHelp;
        return kExitOk;
    }
    auto cell = one_cell("save", *o);
    if (!cell)
        return kExitUsage;
    const std::string *out = o->value("--output");
    if (!out)
        return usage_error("learn save", "no output file: give -o FILE");
    bool force = o->has("--force");
    std::error_code ec;
    if (!force && std::filesystem::exists(*out, ec)) {
        print_error("learn save: " + *out +
                    " already exists; choose another name or use --force "
                    "to overwrite it");
        return kExitFailure;
    }
    if (!check_cell_operand("learn save", *cell))
        return kExitFailure;
    auto module = connect_or_report();
    if (!module)
        return kExitFailure;
    auto info = module->cell(*cell);
    if (!info) {
        report_refusal("learn save", *cell, info.error());
        return kExitFailure;
    }
    if (info->learning()) {
        print_error("learn save: cell \"" + *cell +
                    "\" is still learning; stop it first: kisctl learn stop " + *cell);
        return kExitFailure;
    }
    auto blob = module->profile_get(*cell, KIS_PROFILE_LEARNED);
    if (!blob) {
        int err = blob.error().kernel_errno;
        if (err == ENODATA) {
            print_error("learn save: cell \"" + *cell +
                        "\" has learned nothing yet; run kisctl "
                        "learn start " +
                        *cell + ", let it work, then kisctl learn stop " + *cell);
            return kExitFailure;
        }
        if (err == EBUSY) {
            print_error("learn save: cell \"" + *cell +
                        "\" is still learning; stop it first: kisctl learn stop " + *cell);
            return kExitFailure;
        }
        report_refusal("learn save", *cell, blob.error());
        return kExitFailure;
    }
    Result<Profile> profile =
        Profile::from_blob(*blob, "the profile learned by cell \"" + *cell + "\"");
    if (!profile) {
        print_error("learn save: " + profile.error().message);
        return kExitFailure;
    }
    if (profile->kgrams() == 0) {
        print_error("learn save: cell \"" + *cell + "\" learned no k-gram (no task made " +
                    std::to_string(profile->k()) + " calls while it learned); " + *out +
                    " was not written");
        return kExitFailure;
    }
    // The statistics, when the cell learned any. None: the module answers ENODATA (ENOENT in
    // early drafts of the protocol, which also means "no such cell": checked again).
    std::optional<StatsSummary> stats;
    if (!o->has("--no-stats")) {
        auto blob = module->stats_get(*cell, KIS_PROFILE_LEARNED);
        if (blob) {
            std::string what = "the statistics learned by cell \"" + *cell + "\"";
            auto summary = summarize_stats(*blob, what);
            Result<void> r = summary ? profile->set_stats(std::move(*blob), what)
                                     : Result<void>(summary.error());
            if (!r) {
                print_error("learn save: " + r.error().message + "; " + *out + " was not written");
                return kExitFailure;
            }
            stats = std::move(*summary);
        } else if (int err = blob.error().kernel_errno;
                   err != ENODATA && !(err == ENOENT && module->cell(*cell))) {
            report_refusal("learn save", *cell, blob.error());
            return kExitFailure;
        }
    }
    if (Result<void> r = profile->write(*out, force); !r) {
        print_error("learn save: " + r.error().message);
        return kExitFailure;
    }
    std::cout << "saved the profile of cell " << *cell << " to " << *out << " (k=" << profile->k()
              << "): " << counted(profile->prefixes(), "prefix", "prefixes") << ", "
              << counted(profile->kgrams(), "distinct k-gram", "distinct k-grams") << ", "
              << counted(profile->total(), "k-gram", "k-grams") << " counted\n";
    if (stats) {
        std::uint64_t sampled = 0, learned = 0;
        for (const StatsSummary::Param &p : stats->params) {
            sampled = std::max(sampled, p.samples);
            learned += p.samples > 0;
        }
        std::cout << "statistics: " << learned << " of " << stats->params.size()
                  << " parameters learned (up to " << counted(sampled, "sample", "samples")
                  << "), file tree of " << counted(stats->tree_entries, "entry", "entries") << "\n";
    } else if (!o->has("--no-stats")) {
        std::cout << "statistics: none learned (the file holds the sequence model only)\n";
    }
    // The counter is read before the profile: learning had stopped, so it is final.
    if (info->learn_dropped) {
        std::cout << std::flush;
        print_error("warning: " + counted(info->learn_dropped, "k-gram was", "k-grams were") +
                    " not learned because the learning model was full; the profile is "
                    "incomplete: raise learn_prefixes and learn_kgrams in the cell's "
                    "[cell.sequence] and learn again");
    }
    return kExitOk;
}

int run_start(const Args &args) { return run_start_stop(args, true); }
int run_stop(const Args &args) { return run_start_stop(args, false); }

constexpr Action kActions[] = {
    {"start", run_start},
    {"stop", run_stop},
    {"status", run_status},
    {"save", run_save},
};

int run_learn(const Args &args) { return run_action(kLearnCommand, kActions, args); }

} // namespace

const Command kLearnCommand = {
    "learn",
    "learn a cell's sequence profile in the kernel, and save it",
    "usage: kisctl learn start CELL\n"
    "       kisctl learn stop CELL\n"
    "       kisctl learn status [CELL...]\n"
    "       kisctl learn save CELL -o DB [--force] [--no-stats]\n"
    "\n"
    "A cell learns which system call follows each run of k-1 calls of its tasks, live, in\n"
    "the module (Documentation/sequence-model.md):\n"
    "  start    start learning from scratch\n"
    "  stop     stop learning; what was learned is kept in the module\n"
    "  status   calls learned, k-grams dropped for lack of room, the model's room, and the\n"
    "           statistics learned alongside\n"
    "  save     write what was learned to a profile file (as `kisctl profile learn` does)\n"
    "Then arm the cell with it: kisctl profile load CELL DB.\n"
    "Run `kisctl learn ACTION --help` for the options of an action.\n"
    "\n"
    "options:\n"
    "  -h, --help    show this help\n"
    "\n"
    "start, stop and save need CAP_NET_ADMIN (run as root).\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n",
    run_learn,
};

} // namespace kis
