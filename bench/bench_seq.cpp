// `make bench`, part 1: the cost of the sequence model on this machine (native, one core).
//
//   build/kis_bench_seq [UNM-DIR]
//
// (a) hot path: ns per observed system call of kis_seq_score + kis_seq_smooth, what the
//     module's sys_enter probe runs for a watched task of an armed cell;
// (b) offline throughput in calls per second: parsing trace files (text, file, gzip), writing
//     them, learning (kis_seq_learn through kisctl's Profile) and scoring (score_trace).
// Workloads: a synthetic server (request handlers made of system-call runs with error paths),
// and, when UNM-DIR is given and exists, the UNM traces. Figures are printed, never checked.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "kis_seq.h"
#include "profile_file.hpp"
#include "trace_file.hpp"

using namespace kis;

namespace {

using Clock = std::chrono::steady_clock;
using Calls = std::vector<std::uint16_t>;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The best of `rounds` runs of f(), in seconds.
template <typename F> double best_of(int rounds, F f) {
    double best = 1e30;
    for (int i = 0; i < rounds; i++) {
        auto t0 = Clock::now();
        f();
        best = std::min(best, seconds_since(t0));
    }
    return best;
}

volatile std::uint64_t g_sink;

// ---- a synthetic server ------------------------------------------------------------------------

// Request handlers: fixed runs of 8..40 calls over an alphabet of 60 system calls, each with
// two branch points where, now and then (5%), an error path of 3 calls replaces the rest of
// the run. A task starts with a start-up run, then serves requests one after the other, the
// handlers chosen with Zipf-like popularity. The distinct k-grams are mostly those within
// handlers and those across the end of one request and the start of the next.
struct Server {
    struct Handler {
        Calls calls;
        std::size_t branch[2];
        Calls error[2];
    };
    std::vector<Handler> handlers;
    Calls startup;
    std::vector<double> weights;

    Server(unsigned seed, int nhandlers) {
        std::mt19937 rng(seed);
        auto call = [&] { return static_cast<std::uint16_t>(rng() % 60); };
        for (int i = 0; i < 30; i++)
            startup.push_back(call());
        for (int h = 0; h < nhandlers; h++) {
            Handler x;
            std::size_t len = 8 + rng() % 32;
            x.calls.push_back(43); // accept
            for (std::size_t i = 0; i < len; i++)
                x.calls.push_back(call());
            x.calls.push_back(3); // close
            for (int b = 0; b < 2; b++) {
                x.branch[b] = 1 + rng() % len;
                x.error[b] = {call(), call(), 3};
            }
            handlers.push_back(std::move(x));
            weights.push_back(1.0 / (h + 1));
        }
    }

    // One task's calls.
    Calls task(std::mt19937 &rng, std::size_t n) const {
        Calls out = startup;
        std::discrete_distribution<int> pick(weights.begin(), weights.end());
        while (out.size() < n) {
            const Handler &x = handlers[pick(rng)];
            int fail = rng() % 20 == 0 ? static_cast<int>(rng() % 2) : -1;
            std::size_t end = fail < 0 ? x.calls.size() : x.branch[fail];
            out.insert(out.end(), x.calls.begin(), x.calls.begin() + end);
            if (fail >= 0)
                out.insert(out.end(), x.error[fail].begin(), x.error[fail].end());
        }
        out.resize(n);
        return out;
    }
};

std::vector<Calls> tasks_of(const Server &s, unsigned seed, int ntasks, std::size_t each) {
    std::mt19937 rng(seed);
    std::vector<Calls> out;
    for (int t = 0; t < ntasks; t++)
        out.push_back(s.task(rng, each));
    return out;
}

Profile learn_profile(const std::vector<Calls> &tasks, std::uint32_t k = KIS_SEQ_K_DEFAULT) {
    Result<Profile> p = Profile::create(k);
    for (const Calls &t : tasks)
        if (Result<void> r = p->learn(t); !r) {
            std::fprintf(stderr, "bench: %s\n", r.error().message.c_str());
            std::exit(1);
        }
    return std::move(*p);
}

// ---- (a) the hot path --------------------------------------------------------------------------

// ns per call of score + smooth, one task.
double hot_path_one_task(const kis_seq_model &m, const Calls &trace) {
    double s = best_of(5, [&] {
        kis_seq_recent r{};
        kis_seq_window w{};
        std::uint64_t sum = 0;
        for (std::uint16_t c : trace) {
            std::uint32_t score = kis_seq_score(&m, &r, c);
            if (score != KIS_SEQ_NO_SCORE)
                sum += kis_seq_smooth(&w, score, KIS_SEQ_WINDOW_DEFAULT);
        }
        g_sink = sum;
    });
    return s * 1e9 / static_cast<double>(trace.size());
}

// ns per call with many tasks taking turns (each task's state is cold more often).
double hot_path_many_tasks(const kis_seq_model &m, const std::vector<Calls> &tasks) {
    struct State {
        kis_seq_recent r;
        kis_seq_window w;
    };
    std::size_t total = 0, len = tasks[0].size();
    for (const Calls &t : tasks)
        total += t.size();
    std::vector<State> st(tasks.size());
    double s = best_of(5, [&] {
        for (State &x : st)
            x = State{};
        std::uint64_t sum = 0;
        for (std::size_t i = 0; i < len; i += 4)
            for (std::size_t t = 0; t < tasks.size(); t++)
                for (std::size_t j = i; j < i + 4 && j < len; j++) {
                    std::uint32_t score = kis_seq_score(&m, &st[t].r, tasks[t][j]);
                    if (score != KIS_SEQ_NO_SCORE)
                        sum += kis_seq_smooth(&st[t].w, score, KIS_SEQ_WINDOW_DEFAULT);
                }
        g_sink = sum;
    });
    return s * 1e9 / static_cast<double>(total);
}

void row(const char *what, const std::string &figure, const char *goal = "") {
    std::printf("  %-58s %14s  %s\n", what, figure.c_str(), goal);
}

std::string fmt(const char *f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), f, v);
    return buf;
}

std::string mps(double calls, double secs) { return fmt("%.1f M/s", calls / secs / 1e6); }

void profile_line(const char *name, const Profile &p) {
    std::printf("  profile %-12s k=%u, %u prefixes, %u k-grams, %llu calls counted\n", name, p.k(),
                p.prefixes(), p.kgrams(), static_cast<unsigned long long>(p.total()));
}

void hot_path(const std::string &unm) {
    std::printf("(a) hot path: kis_seq_score + kis_seq_smooth (window %d), ns per call\n",
                KIS_SEQ_WINDOW_DEFAULT);
    struct Case {
        const char *name;
        int handlers;
        int tasks;
        std::size_t each;
    };
    const Case cases[] = {
        {"small", 10, 20, 50000}, {"medium", 60, 50, 100000}, {"large", 400, 100, 200000}};
    std::vector<Profile> keep;
    for (const Case &c : cases) {
        Server srv(static_cast<unsigned>(c.handlers), c.handlers);
        keep.push_back(learn_profile(tasks_of(srv, 10, c.tasks, c.each)));
        const Profile &p = keep.back();
        std::mt19937 rng(11);
        Calls t = srv.task(rng, 10000000);
        profile_line(c.name, p);
        std::string what = std::string("synthetic server, ") + c.name + " profile, 1 task";
        row(what.c_str(), fmt("%.1f ns", hot_path_one_task(p.model(), t)), "goal <= 25 ns");
        if (c.handlers == 60) {
            std::string many =
                std::string("synthetic server, ") + c.name + " profile, 1024 tasks taking turns";
            row(many.c_str(),
                fmt("%.1f ns", hot_path_many_tasks(p.model(), tasks_of(srv, 22, 1024, 10000))),
                "goal <= 25 ns");
        }
    }
    // The calls of some other program: almost every prefix unseen.
    Calls noise(10000000);
    std::mt19937 rng(5);
    for (auto &c : noise)
        c = static_cast<std::uint16_t>(rng() % 300);
    row("random calls (nearly all unseen), large profile, 1 task",
        fmt("%.1f ns", hot_path_one_task(keep.back().model(), noise)), "");

    std::string sendmail = unm + "/sendmail/normal";
    if (!unm.empty() && std::filesystem::is_directory(sendmail)) {
        std::vector<std::string> paths;
        for (const auto &e : std::filesystem::directory_iterator(sendmail))
            paths.push_back(e.path().string());
        std::sort(paths.begin(), paths.end());
        Result<std::vector<TraceFile>> files = read_trace_files(paths);
        if (files) {
            Result<Profile> p = Profile::create(KIS_SEQ_K_DEFAULT);
            (void)p->learn(*files);
            Calls t;
            while (t.size() < 10000000)
                for (const TraceFile &f : *files)
                    for (const Trace &tr : f.traces)
                        t.insert(t.end(), tr.calls.begin(), tr.calls.end());
            profile_line("sendmail", *p);
            row("UNM sendmail normal traces, replayed as 1 task",
                fmt("%.1f ns", hot_path_one_task(p->model(), t)), "goal <= 25 ns");
        }
    }
}

// ---- (b) offline throughput ---------------------------------------------------------------------

void throughput(const std::string &unm) {
    std::printf("\n(b) offline throughput, one core, system calls per second\n");
    Server s(3, 400);
    std::vector<Calls> tasks = tasks_of(s, 30, 64, 150000);
    std::size_t ncalls = 0;
    for (const Calls &t : tasks)
        ncalls += t.size();

    // Interleave the tasks as a tracer would write them.
    std::string text;
    text.reserve(ncalls * 12);
    {
        std::mt19937 rng(31);
        std::vector<std::size_t> pos(tasks.size());
        std::size_t left = ncalls, index = 0;
        while (left) {
            std::size_t t = rng() % tasks.size();
            for (int n = 0; n < 8 && pos[t] < tasks[t].size(); n++, left--) {
                text += std::to_string(++index) + " " + std::to_string(1000 + t) + " " +
                        std::to_string(tasks[t][pos[t]++]) + "\n";
            }
        }
    }
    std::printf("  workload: synthetic server, %zu tasks, %.1f M calls, %.0f MB of ImSafe text\n",
                tasks.size(), ncalls / 1e6, text.size() / 1e6);

    double t_parse = best_of(3, [&] {
        Result<TraceFile> f = parse_traces(text, "mem");
        g_sink = f->calls;
    });
    row("parse ImSafe text in memory", mps(ncalls, t_parse),
        fmt("(%.0f MB/s)", text.size() / t_parse / 1e6).c_str());

    std::string dir =
        (std::filesystem::temp_directory_path() / ("kis_bench." + std::to_string(getpid())))
            .string();
    std::filesystem::create_directories(dir);
    std::string plain = dir + "/t.trace", gz = dir + "/t.trace.gz";
    for (const std::string &path : {plain, gz}) {
        auto t0 = Clock::now();
        Result<TraceWriter> w = TraceWriter::open(path, true);
        std::mt19937 rng(31);
        std::vector<std::size_t> pos(tasks.size());
        std::size_t left = ncalls;
        while (left) {
            std::size_t t = rng() % tasks.size();
            for (int n = 0; n < 8 && pos[t] < tasks[t].size(); n++, left--)
                (void)w->write(static_cast<std::uint32_t>(1000 + t), tasks[t][pos[t]++]);
        }
        (void)w->close();
        double secs = seconds_since(t0);
        row(path == plain ? "write ImSafe file (TraceWriter)" : "write ImSafe .gz (TraceWriter)",
            mps(ncalls, secs), fmt("(%.0f MB)", std::filesystem::file_size(path) / 1e6).c_str());
    }
    Result<TraceFile> from_file = read_trace_file(plain);
    double t_file = best_of(3, [&] { from_file = read_trace_file(plain); });
    row("read + parse ImSafe file (page cache)", mps(ncalls, t_file));
    double t_gz = best_of(3, [&] { g_sink = read_trace_file(gz)->calls; });
    row("read + gunzip + parse ImSafe .gz", mps(ncalls, t_gz));
    std::filesystem::remove_all(dir);

    std::vector<TraceFile> files = {std::move(*from_file)};
    double t_learn = best_of(3, [&] {
        Result<Profile> p = Profile::create(KIS_SEQ_K_DEFAULT);
        (void)p->learn(files);
        g_sink = p->kgrams();
    });
    row("learn (Profile::learn, growing from empty)", mps(ncalls, t_learn), "goal >= 10 M/s");
    Result<Profile> p = Profile::create(KIS_SEQ_K_DEFAULT);
    (void)p->learn(files);
    {
        std::size_t bytes = kis_seq_model_bytes(6, p->prefixes(), p->kgrams());
        std::vector<std::uint64_t> mem(bytes / 8 + 1);
        double t_raw = best_of(3, [&] {
            kis_seq_model m;
            kis_seq_model_init(&m, mem.data(), bytes, 6, p->prefixes(), p->kgrams());
            for (const Trace &t : files[0].traces) {
                kis_seq_recent r{};
                for (std::uint16_t c : t.calls)
                    kis_seq_learn(&m, &r, c);
            }
            g_sink = m.nnext;
        });
        row("learn (kis_seq_learn into a model of the right size)", mps(ncalls, t_raw),
            "goal >= 10 M/s");
    }
    double t_score = best_of(3, [&] {
        std::uint64_t sum = 0;
        for (const Trace &t : files[0].traces)
            sum += score_trace(*p, t.calls).max;
        g_sink = sum;
    });
    row("score (score_trace: score + smooth + alert rule)", mps(ncalls, t_score), "goal >= 10 M/s");
    profile_line("learned", *p);

    std::string stide = unm + "/stide/normal/stide-normal.int.gz";
    if (!unm.empty() && std::filesystem::exists(stide)) {
        std::printf("  workload: UNM stide normal (stide format, gzip)\n");
        auto t0 = Clock::now();
        Result<TraceFile> f = read_trace_file(stide);
        double t_read = seconds_since(t0);
        if (!f) {
            std::printf("  %s\n", f.error().message.c_str());
            return;
        }
        double n = static_cast<double>(f->calls);
        row("read + gunzip + parse stide-normal.int.gz", mps(n, t_read),
            fmt("(%.1f M calls)", n / 1e6).c_str());
        std::vector<TraceFile> v = {std::move(*f)};
        Result<Profile> q = Profile::create(KIS_SEQ_K_DEFAULT);
        t0 = Clock::now();
        (void)q->learn(v);
        row("learn", mps(n, seconds_since(t0)), "goal >= 10 M/s");
        t0 = Clock::now();
        std::uint64_t sum = 0;
        for (const Trace &t : v[0].traces)
            sum += score_trace(*q, t.calls).max;
        g_sink = sum;
        row("score", mps(n, seconds_since(t0)), "goal >= 10 M/s");
        profile_line("stide", *q);
    }
}

} // namespace

int main(int argc, char **argv) {
    std::string unm = argc > 1 ? argv[1] : "";
    if (!unm.empty() && !std::filesystem::is_directory(unm)) {
        std::printf("(UNM data set not found at %s: its rows are skipped)\n", unm.c_str());
        unm.clear();
    }
    std::printf("KIS sequence model benchmark: k=%d, built %s\n\n", KIS_SEQ_K_DEFAULT,
                KIS_BENCH_BUILD);
    hot_path(unm);
    throughput(unm);
    return 0;
}
