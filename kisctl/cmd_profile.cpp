// kisctl profile learn|show|score|load|unload: sequence profiles. learn, show and score work
// offline, no module needed; they run the portable core's code (kis_seq_learn, kis_seq_score,
// kis_seq_smooth), the same the module runs, so the numbers equal the kernel's. load and
// unload arm and disarm a cell (cmd_profile_arm.cpp).
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "command.hpp"
#include "options.hpp"
#include "profile_arm.hpp"
#include "profile_file.hpp"
#include "session.hpp"
#include "trace_file.hpp"

namespace kis {

namespace {

constexpr std::uint32_t kShowMaxDefault = 100;

bool same_file(const std::string &a, const std::string &b) {
    std::error_code ec;
    if (a == b)
        return true;
    return std::filesystem::equivalent(a, b, ec) && !ec;
}

std::string plural(std::uint64_t n, const char *one, const char *many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// ---- learn ---------------------------------------------------------------------------------

// The help texts spell out the core's defaults; these keep them true.
static_assert(KIS_SEQ_K_MIN == 2 && KIS_SEQ_K_MAX == 16 && KIS_SEQ_K_DEFAULT == 6);
static_assert(KIS_SEQ_WINDOW_MAX == 128 && KIS_SEQ_WINDOW_DEFAULT == 20);
static_assert(KIS_SEQ_THRESHOLD_DEFAULT == 300 && KIS_SEQ_LOG_SPAN == 16);
static_assert(kShowMaxDefault == 100);

const char kLearnHelp[] =
    "usage: kisctl profile learn [-k K] [-i DB] [--force] -o DB TRACE...\n"
    "\n"
    "Learns a sequence profile from trace files, offline: for every run of K-1 system calls,\n"
    "which call came next and how often. Each PID of a trace file is one trace, learned from\n"
    "its first call, exactly as the module learns each task (kis_seq_learn). Trace files are\n"
    "ImSafe (INDEX PID SYSCALL) or stide (PID SYSCALL), plain or gzip-compressed.\n"
    "The profile file is canonical: the same k-grams and counts give the same bytes, however\n"
    "and in whatever order they were learned. It holds no resource statistics (only the\n"
    "module learns them); with -i, those of the input profile are kept as they are.\n"
    "\n"
    "options:\n"
    "  -k K              sequence length, 2..16 (default 6; with -i, the profile's)\n"
    "  -i, --input DB    add to the counts of an existing profile\n"
    "  -o, --output DB   the profile to write (required); an existing file is refused\n"
    "                    unless it is the -i profile or --force is given\n"
    "  -f, --force       overwrite an existing -o file\n"
    "  -h, --help        show this help\n"
    "\n"
    "Prints what was learned: traces, calls, prefixes (runs of K-1 calls), k-grams.\n"
    "Exit status: 0 learned, 1 failure, 2 usage error.\n";

int run_learn(const Args &args) {
    auto o = parse_options("profile learn", args,
                           {{"-k", "", OptionSpec::value},
                            {"--input", "-i", OptionSpec::value},
                            {"--output", "-o", OptionSpec::value},
                            {"--force", "-f", OptionSpec::flag}},
                           1);
    if (!o)
        return kExitUsage;
    if (o->help) {
        std::cout << kLearnHelp;
        return kExitOk;
    }
    const std::string *out = o->value("--output");
    if (!out)
        return usage_error("profile learn", "no output file: give -o FILE");
    if (o->operands.empty())
        return usage_error("profile learn", "no trace file given");
    auto k =
        number_option("profile learn", *o, "-k", KIS_SEQ_K_DEFAULT, KIS_SEQ_K_MIN, KIS_SEQ_K_MAX);
    if (!k)
        return kExitUsage;
    const std::string *in = o->value("--input");
    bool force = o->has("--force");
    bool onto_input = in && same_file(*in, *out);

    std::error_code ec;
    if (!force && !onto_input && std::filesystem::exists(*out, ec)) {
        print_error(*out + " already exists; use --force to overwrite it, or -i " + *out +
                    " to add to it");
        return kExitFailure;
    }

    std::optional<Profile> profile;
    if (in) {
        Result<Profile> p = Profile::read(*in);
        if (!p) {
            print_error(p.error().message);
            return kExitFailure;
        }
        if (o->value("-k") && p->k() != *k) {
            print_error(*in + " has k=" + std::to_string(p->k()) + ", not " + std::to_string(*k) +
                        "; leave -k out to add to it");
            return kExitFailure;
        }
        profile.emplace(std::move(*p));
    } else {
        Result<Profile> p = Profile::create(*k);
        if (!p) {
            print_error(p.error().message);
            return kExitFailure;
        }
        profile.emplace(std::move(*p));
    }
    std::uint64_t before = profile->total();

    Result<std::vector<TraceFile>> files = read_trace_files(o->operands);
    if (!files) {
        print_error(files.error().message);
        return kExitFailure;
    }
    std::uint64_t traces = 0, calls = 0;
    for (const TraceFile &f : *files) {
        traces += f.traces.size();
        calls += f.calls;
    }
    if (Result<void> r = profile->learn(*files); !r) {
        print_error(r.error().message);
        return kExitFailure;
    }
    if (profile->kgrams() == 0) {
        print_error("nothing learned: no trace has " + std::to_string(profile->k()) +
                    " calls (k); " + *out + " was not written");
        return kExitFailure;
    }
    if (Result<void> r = profile->write(*out, force || onto_input); !r) {
        print_error(r.error().message);
        return kExitFailure;
    }
    std::cout << (in ? "added to " : "learned ") << *out << " (k=" << profile->k() << ") from "
              << plural(traces, "trace", "traces") << ", " << plural(calls, "call", "calls") << ": "
              << plural(profile->total() - before, "k-gram", "k-grams") << " counted\n"
              << "profile: " << plural(profile->prefixes(), "prefix", "prefixes") << ", "
              << plural(profile->kgrams(), "distinct k-gram", "distinct k-grams") << ", "
              << plural(profile->total(), "k-gram", "k-grams") << " counted in all\n";
    return kExitOk;
}

// ---- show ----------------------------------------------------------------------------------

const char kShowHelp[] =
    "usage: kisctl profile show [--tree] [--max N] DB\n"
    "\n"
    "Prints a profile: its summary (k, prefixes, k-grams, calls counted, file size); when it\n"
    "holds resource statistics (from `kisctl learn save`), per parameter the samples learned,\n"
    "their mean, mean absolute deviation and maximum, and the entries of the file tree by\n"
    "kind; then every run of k-1 calls (prefix) with the calls seen after it, most frequent\n"
    "first, each with its probability p and its score, 1000 * log2(1/p) / 16 at most 1000:\n"
    "  4 2 66 5 ->  66 0.750 (score 26)  | 5 0.250 (score 125)\n"
    "\n"
    "options:\n"
    "  --tree        print the prefixes as an indented tree of calls\n"
    "  --max N       print at most N prefixes (default 100; 0: all)\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

std::string next_calls(const ProfileEntry &e) {
    std::vector<ProfileEntry::Next> v = e.next;
    std::stable_sort(v.begin(), v.end(), [](const auto &a, const auto &b) {
        return a.count > b.count; // canonical order (by call) breaks ties
    });
    std::ostringstream s;
    s << std::fixed << std::setprecision(3);
    for (std::size_t i = 0; i < v.size(); i++) {
        s << (i ? "  | " : " ") << v[i].call << " " << static_cast<double>(v[i].count) / e.total
          << " (score " << v[i].score << ")";
    }
    return s.str();
}

// The statistics section of `profile show`.
std::string stats_text(const StatsSummary &s) {
    std::ostringstream o;
    o << "\nstatistics " << counted(s.params.size(), "parameter", "parameters") << "; file tree of "
      << counted(s.tree_entries, "entry", "entries") << ": "
      << counted(s.tree_files, "file", "files") << ", "
      << counted(s.tree_dirs, "directory", "directories") << ", "
      << counted(s.tree_dirs_all, "whole directory", "whole directories") << "\n";
    std::vector<std::vector<std::string>> rows = {
        {"PARAMETER", "SAMPLES", "MEAN", "DEV", "MAX", "UNIT"}};
    auto fixed1 = [](double v) {
        std::ostringstream f;
        f << std::fixed << std::setprecision(1) << v;
        return f.str();
    };
    for (const StatsSummary::Param &p : s.params) {
        std::string unit = p.unit + (p.per_conn ? " per connection" : "");
        if (!p.samples)
            rows.push_back({p.name, "0", "-", "-", "-", unit});
        else
            rows.push_back({p.name, std::to_string(p.samples), fixed1(p.mean), fixed1(p.dev),
                            std::to_string(p.max), unit});
    }
    std::size_t width[5] = {};
    for (const auto &row : rows)
        for (std::size_t c = 0; c < 5; c++)
            width[c] = std::max(width[c], row[c].size());
    for (const auto &row : rows) {
        o << "  " << std::left << std::setw(static_cast<int>(width[0])) << row[0];
        for (std::size_t c = 1; c < 5; c++)
            o << "  " << std::right << std::setw(static_cast<int>(width[c])) << row[c];
        o << "  " << row[5] << "\n";
    }
    return o.str();
}

int run_show(const Args &args) {
    auto o = parse_options("profile show", args,
                           {{"--tree", "", OptionSpec::flag}, {"--max", "", OptionSpec::value}}, 1);
    if (!o)
        return kExitUsage;
    if (o->help) {
        std::cout << kShowHelp;
        return kExitOk;
    }
    if (o->operands.size() != 1)
        return usage_error("profile show",
                           o->operands.empty() ? "no profile given" : "give one profile file");
    auto max = number_option("profile show", *o, "--max", kShowMaxDefault, 0, UINT32_MAX);
    if (!max)
        return kExitUsage;
    const std::string &path = o->operands[0];
    Result<Profile> p = Profile::read(path);
    if (!p) {
        print_error(p.error().message);
        return kExitFailure;
    }
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    std::cout << "profile   " << path << " (" << (ec ? 0 : size) << " bytes, format "
              << kProfileVersion << ")\n"
              << "k         " << p->k() << "\n"
              << "prefixes  " << p->prefixes() << "\n"
              << "k-grams   " << p->kgrams() << "\n"
              << "counted   " << p->total() << " (calls that had k-1 calls before them)\n";
    if (p->stats()) {
        auto stats = summarize_stats(*p->stats(), path); // checked when read
        if (stats)
            std::cout << stats_text(*stats);
    }
    std::vector<ProfileEntry> entries = p->entries();
    std::size_t shown = *max ? std::min<std::size_t>(*max, entries.size()) : entries.size();
    if (shown)
        std::cout << "\n";
    const std::vector<std::uint16_t> *prev = nullptr;
    for (std::size_t i = 0; i < shown; i++) {
        const ProfileEntry &e = entries[i];
        if (!o->has("--tree")) {
            for (std::size_t c = 0; c < e.prefix.size(); c++)
                std::cout << (c ? " " : "") << e.prefix[c];
            std::cout << " -> " << next_calls(e) << "\n";
            continue;
        }
        std::size_t same = 0;
        while (prev && same < e.prefix.size() && (*prev)[same] == e.prefix[same])
            same++;
        for (std::size_t d = same; d < e.prefix.size(); d++) {
            std::cout << std::string(2 * d, ' ') << e.prefix[d];
            std::cout << (d + 1 == e.prefix.size() ? " -> " + next_calls(e) : "") << "\n";
        }
        prev = &e.prefix;
    }
    if (shown < entries.size())
        std::cout << "... " << plural(entries.size() - shown, "more prefix", "more prefixes")
                  << " (--max 0 shows all)\n";
    return kExitOk;
}

// ---- score ---------------------------------------------------------------------------------

const char kScoreHelp[] =
    "usage: kisctl profile score [--window W] [--threshold T] [--json] DB TRACE...\n"
    "\n"
    "Scores trace files against a profile as the module scores a task's calls: each call\n"
    "scores 0..1000 by how unexpected it is after the k-1 calls before it (kis_seq_score),\n"
    "the scores are averaged over the last W calls (kis_seq_smooth), and a task alerts when\n"
    "the average rises above T. Each PID of a trace file is one trace, scored from its first\n"
    "call. Prints one line per trace:\n"
    "  FILE PID CALLS MAX ALERT\n"
    "MAX is the highest average (0..1000); ALERT is \"yes\" (with how many times the average\n"
    "rose above T, and the number of the call that did it first) or \"no\".\n"
    "\n"
    "options:\n"
    "  -w, --window W      calls averaged, 1..128 (default 20)\n"
    "  -t, --threshold T   alert above T, 0..1000 (default 300)\n"
    "  --json              print one JSON object: {\"profile\", \"k\", \"window\",\n"
    "                      \"threshold\", \"traces\": [{\"file\", \"pid\", \"calls\", \"scored\",\n"
    "                      \"max\", \"max_at\", \"alert\", \"alerts\", \"first_alert\"}]}\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 scored (alerts or not), 1 failure, 2 usage error.\n";

int run_score(const Args &args) {
    auto o = parse_options("profile score", args,
                           {{"--window", "-w", OptionSpec::value},
                            {"--threshold", "-t", OptionSpec::value},
                            {"--json", "", OptionSpec::flag}},
                           1);
    if (!o)
        return kExitUsage;
    if (o->help) {
        std::cout << kScoreHelp;
        return kExitOk;
    }
    if (o->operands.empty())
        return usage_error("profile score", "no profile given");
    if (o->operands.size() < 2)
        return usage_error("profile score", "no trace file given");
    auto window = number_option("profile score", *o, "--window", KIS_SEQ_WINDOW_DEFAULT, 1,
                                KIS_SEQ_WINDOW_MAX);
    if (!window)
        return kExitUsage;
    auto threshold = number_option("profile score", *o, "--threshold", KIS_SEQ_THRESHOLD_DEFAULT, 0,
                                   KIS_SEQ_SCORE_ONE);
    if (!threshold)
        return kExitUsage;
    const std::string &db = o->operands[0];
    Result<Profile> p = Profile::read(db);
    if (!p) {
        print_error(p.error().message);
        return kExitFailure;
    }
    std::vector<std::string> paths(o->operands.begin() + 1, o->operands.end());
    Result<std::vector<TraceFile>> files = read_trace_files(paths);
    if (!files) {
        print_error(files.error().message);
        return kExitFailure;
    }
    bool json = o->has("--json");
    nlohmann::json rows = nlohmann::json::array();
    std::vector<std::vector<std::string>> table;
    for (const TraceFile &f : *files) {
        for (const Trace &t : f.traces) {
            TraceScore s = score_trace(*p, t.calls, *window, *threshold);
            if (json) {
                rows.push_back({{"file", f.path},
                                {"pid", t.pid},
                                {"calls", s.calls},
                                {"scored", s.scored},
                                {"max", s.max},
                                {"max_at", s.max_at},
                                {"alert", s.alerts > 0},
                                {"alerts", s.alerts},
                                {"first_alert", s.first_alert ? nlohmann::json(s.first_alert)
                                                              : nlohmann::json(nullptr)}});
                continue;
            }
            std::string alert = "no";
            if (s.alerts)
                alert = "yes (" + plural(s.alerts, "time", "times") + ", first at call " +
                        std::to_string(s.first_alert) + ")";
            table.push_back({f.path, std::to_string(t.pid), std::to_string(s.calls),
                             std::to_string(s.max), alert});
        }
    }
    if (json) {
        nlohmann::json doc = {{"profile", db},
                              {"k", p->k()},
                              {"window", *window},
                              {"threshold", *threshold},
                              {"traces", rows}};
        std::cout << doc.dump() << "\n";
        return kExitOk;
    }
    table.insert(table.begin(), {"FILE", "PID", "CALLS", "MAX", "ALERT"});
    std::size_t width[4] = {};
    for (const auto &row : table)
        for (std::size_t c = 0; c < 4; c++)
            width[c] = std::max(width[c], row[c].size());
    for (const auto &row : table) {
        for (std::size_t c = 0; c < 4; c++)
            std::cout << std::left << std::setw(static_cast<int>(width[c] + 2)) << row[c];
        std::cout << row[4] << "\n";
    }
    return kExitOk;
}

// ---- the command ---------------------------------------------------------------------------

// load and unload talk to the module: cmd_profile_arm.cpp.
constexpr Action kActions[] = {
    {"learn", run_learn},           {"show", run_show},
    {"score", run_score},           {"load", run_profile_load},
    {"unload", run_profile_unload},
};

int run_profile(const Args &args) { return run_action(kProfileCommand, kActions, args); }

} // namespace

const Command kProfileCommand = {
    "profile",
    "learn, show and score sequence profiles; arm cells with them",
    "usage: kisctl profile learn [-k K] [-i DB] [--force] -o DB TRACE...\n"
    "       kisctl profile show [--tree] [--max N] DB\n"
    "       kisctl profile score [--window W] [--threshold T] [--json] DB TRACE...\n"
    "       kisctl profile load CELL DB\n"
    "       kisctl profile unload CELL\n"
    "\n"
    "Sequence profiles (Documentation/sequence-model.md). learn, show and score work offline,\n"
    "without the module, with the same code the module runs:\n"
    "  learn   learn a profile from trace files, or add them to an existing one\n"
    "  show    print a profile: summary, statistics, next-call probabilities\n"
    "  score   score trace files against a profile: maximum average score, alerts\n"
    "load and unload arm and disarm a cell of the module (CAP_NET_ADMIN):\n"
    "  load    check a profile file and arm a cell with it\n"
    "  unload  disarm a cell\n"
    "\n"
    "Trace files: ImSafe (INDEX PID SYSCALL) or stide (PID SYSCALL), plain or gzip; each PID\n"
    "is one trace. Profile files: Documentation/file-formats.md.\n"
    "Run `kisctl profile ACTION --help` for the options of an action.\n"
    "\n"
    "options:\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n",
    run_profile,
};

} // namespace kis
