// `make bench`, part 2: how well the sequence model tells intrusions from normal runs, on the
// UNM system-call data sets (Forrest et al.), side by side with stide.
//
//   build/kis_bench_unm [UNM-DIR] [--sweep]
//
// For each program (a folder with normal/ and intrusion/): the normal traces (one per PID,
// at least k calls) are shuffled with a fixed seed; 70% are learned, the other 30% are held
// out. Every held-out normal trace and every intrusion trace gets one number: its maximum
// smoothed score. From those: the AUC (the chance that an intrusion trace scores above a
// normal one, ties half), the detection rate at 0% and 5% false alarms (the threshold set
// just above the highest, or the 95th-percentile, held-out normal score), and detection and
// false-alarm rates at the default threshold.
//   KIS:   kis_seq_score + kis_seq_smooth, the module's code and defaults.
//   stide: exact matching, k=6: a call scores 1000 if its k-gram was never seen, else 0;
//          the same smoothing.
// --sweep adds, averaged over the well-sampled programs, the figures for other integer
// settings: the log span (KIS_SEQ_LOG_SPAN: a probability of 2^-span scores 1000), the
// window, the warm-up rule of the average (the sum over the whole window, as the core does,
// or the mean of the scores so far); and each program's rates at other thresholds.
// Figures are printed, never checked.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "kis_seq.h"
#include "profile_file.hpp"
#include "trace_file.hpp"

using namespace kis;

namespace {

using Calls = std::vector<std::uint16_t>;
constexpr std::uint32_t kK = KIS_SEQ_K_DEFAULT;
constexpr std::int32_t kUnseen = -1;

std::vector<Calls> load(const std::filesystem::path &dir) {
    std::vector<std::string> paths;
    for (const auto &e : std::filesystem::directory_iterator(dir))
        if (e.is_regular_file())
            paths.push_back(e.path().string());
    std::sort(paths.begin(), paths.end());
    std::vector<Calls> out;
    for (const std::string &p : paths) {
        Result<TraceFile> f = read_trace_file(p);
        if (!f) {
            std::fprintf(stderr, "bench: %s (skipped)\n", f.error().message.c_str());
            continue;
        }
        for (Trace &t : f->traces)
            if (t.calls.size() >= kK)
                out.push_back(std::move(t.calls));
    }
    return out;
}

// Per call with k-1 predecessors: the surprise in 1/256 bits, log2(total) - log2(count) as
// the core computes it, or kUnseen. Everything the scorers below need.
std::vector<std::int32_t> surprises(const kis_seq_model &m, const Calls &t) {
    std::vector<std::int32_t> out;
    kis_seq_recent r{};
    for (std::uint16_t c : t) {
        if (r.n == m.k - 1) {
            std::int32_t bits = kUnseen;
            std::uint16_t calls[KIS_SEQ_K_MAX - 1];
            kis_seq_recent_get(&r, calls);
            if (const kis_seq_prefix *p = kis_seq_find(&m, calls))
                for (std::uint32_t i = p->head; i != KIS_SEQ_NONE; i = m.nexts[i].link)
                    if (m.nexts[i].call == c) {
                        bits = static_cast<std::int32_t>(kis_seq_log2_q8(p->total) -
                                                         kis_seq_log2_q8(m.nexts[i].count));
                        break;
                    }
            out.push_back(bits);
        }
        (void)kis_seq_score(&m, &r, c); // keeps r as the module does
    }
    return out;
}

struct Setting {
    std::uint32_t span = KIS_SEQ_LOG_SPAN; // 0: stide
    std::uint32_t window = KIS_SEQ_WINDOW_DEFAULT;
    bool so_far = false; // the mean of the scores so far instead of the core's sum / W
};

std::uint32_t call_score(std::int32_t bits, std::uint32_t span) {
    if (bits == kUnseen)
        return KIS_SEQ_SCORE_ONE;
    if (span == 0)
        return 0;
    std::uint32_t s = static_cast<std::uint32_t>(bits) * KIS_SEQ_SCORE_ONE / (span * 256);
    return std::min<std::uint32_t>(s, KIS_SEQ_SCORE_ONE);
}

std::uint32_t max_smoothed(const std::vector<std::int32_t> &bits, const Setting &s) {
    kis_seq_window w{};
    std::uint32_t max = 0, sum = 0;
    for (std::size_t i = 0; i < bits.size(); i++) {
        std::uint32_t x = call_score(bits[i], s.span);
        std::uint32_t avg;
        if (s.so_far) {
            sum += x;
            if (i >= s.window)
                sum -= call_score(bits[i - s.window], s.span);
            avg = sum / static_cast<std::uint32_t>(std::min<std::size_t>(i + 1, s.window));
        } else {
            avg = kis_seq_smooth(&w, x, s.window);
        }
        max = std::max(max, avg);
    }
    return max;
}

// The module's own path, for the main table: kis_seq_score + kis_seq_smooth.
std::uint32_t max_smoothed_core(const Profile &p, const Calls &t) {
    return score_trace(p, t, KIS_SEQ_WINDOW_DEFAULT, KIS_SEQ_THRESHOLD_DEFAULT).max;
}

struct Rates {
    double auc = 0, d0 = 0, d5 = 0, det_t = 0, fa_t = 0;
    bool valid = false;
};

double detection_at(const std::vector<std::uint32_t> &neg, const std::vector<std::uint32_t> &pos,
                    double fpr) {
    std::vector<std::uint32_t> cand = neg;
    std::sort(cand.begin(), cand.end());
    cand.erase(std::unique(cand.begin(), cand.end()), cand.end());
    for (std::uint32_t t : cand) {
        double fa = static_cast<double>(std::count_if(neg.begin(), neg.end(),
                                                      [&](std::uint32_t x) { return x > t; })) /
                    static_cast<double>(neg.size());
        if (fa <= fpr)
            return static_cast<double>(std::count_if(pos.begin(), pos.end(),
                                                     [&](std::uint32_t x) { return x > t; })) /
                   static_cast<double>(pos.size());
    }
    return 0;
}

Rates rates(std::vector<std::uint32_t> neg, const std::vector<std::uint32_t> &pos,
            std::uint32_t threshold) {
    Rates r;
    if (neg.empty() || pos.empty())
        return r;
    r.valid = true;
    std::sort(neg.begin(), neg.end());
    double wins = 0;
    for (std::uint32_t p : pos) {
        auto lo = std::lower_bound(neg.begin(), neg.end(), p);
        auto hi = std::upper_bound(neg.begin(), neg.end(), p);
        wins += static_cast<double>(lo - neg.begin()) + 0.5 * static_cast<double>(hi - lo);
    }
    r.auc = wins / (static_cast<double>(neg.size()) * static_cast<double>(pos.size()));
    r.d0 = detection_at(neg, pos, 0.0);
    r.d5 = detection_at(neg, pos, 0.05);
    auto above = [&](const std::vector<std::uint32_t> &v) {
        return static_cast<double>(std::count_if(v.begin(), v.end(),
                                                 [&](std::uint32_t x) { return x > threshold; })) /
               static_cast<double>(v.size());
    };
    r.det_t = above(pos);
    r.fa_t = above(neg);
    return r;
}

struct Program {
    std::string name;
    std::size_t learned = 0, held = 0, intrusion = 0;
    std::uint32_t max_normal = 0;
    std::vector<std::vector<std::int32_t>> neg_bits, pos_bits;
    Rates kis, stide;
};

std::vector<std::uint32_t> maxima(const std::vector<std::vector<std::int32_t>> &v,
                                  const Setting &s) {
    std::vector<std::uint32_t> out;
    for (const auto &b : v)
        out.push_back(max_smoothed(b, s));
    return out;
}

void print_rates(const Rates &r) {
    if (!r.valid) {
        std::printf("  %5s %6s %6s  %6s %6s", "n/a", "", "", "", "");
        return;
    }
    std::printf("  %5.3f %6.2f %6.2f  %6.2f %6.2f", r.auc, r.d0, r.d5, r.det_t, r.fa_t);
}

} // namespace

int main(int argc, char **argv) {
    std::string dir;
    bool sweep = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--sweep")
            sweep = true;
        else
            dir = a;
    }
    if (dir.empty() || !std::filesystem::is_directory(dir)) {
        std::printf("UNM evaluation skipped: no data set at %s (give its folder: make bench "
                    "UNM=DIR)\n",
                    dir.empty() ? "(none given)" : dir.c_str());
        return 0;
    }
    std::vector<std::string> names;
    for (const auto &e : std::filesystem::directory_iterator(dir))
        if (std::filesystem::is_directory(e.path() / "normal") &&
            std::filesystem::is_directory(e.path() / "intrusion"))
            names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());

    std::printf("UNM evaluation (%s): k=%u, window %u, threshold %u, log span %u; per program "
                "70%% of the\nnormal traces learned (shuffled with seed 1), the rest held out; "
                "each trace scored by its maximum\nsmoothed score. det@0%%/det@5%%: detection "
                "rate at 0%%/5%% false alarms; det@T/FA@T: detection\nand false-alarm rates at the "
                "default threshold T=%u; max normal: the highest held-out normal score.\n\n",
                dir.c_str(), kK, KIS_SEQ_WINDOW_DEFAULT, KIS_SEQ_THRESHOLD_DEFAULT,
                KIS_SEQ_LOG_SPAN, KIS_SEQ_THRESHOLD_DEFAULT);
    std::printf("%-9s %6s %5s %5s %8s |%-42s |%-42s\n", "", "", "", "", "max",
                "  KIS (log probability)", "  stide (exact match)");
    std::printf("%-9s %6s %5s %5s %8s |  %5s %6s %6s  %6s %6s |  %5s %6s %6s  %6s %6s\n", "program",
                "learn", "held", "intr", "normal", "AUC", "det@0", "det@5", "det@T", "FA@T", "AUC",
                "det@0", "det@5", "det@T", "FA@T");

    std::vector<Program> progs;
    for (const std::string &name : names) {
        std::filesystem::path base = std::filesystem::path(dir) / name;
        std::vector<Calls> normal = load(base / "normal");
        std::vector<Calls> intr = load(base / "intrusion");
        // Fisher-Yates with a fixed seed: the same split on every machine.
        std::mt19937 rng(1);
        for (std::size_t i = normal.size(); i > 1; i--)
            std::swap(normal[i - 1], normal[rng() % i]);
        std::size_t cut = std::max<std::size_t>(1, normal.size() * 7 / 10);
        Program pr;
        pr.name = name;
        pr.learned = std::min(cut, normal.size());
        pr.held = normal.size() - pr.learned;
        pr.intrusion = intr.size();
        Result<Profile> p = Profile::create(kK);
        for (std::size_t i = 0; i < pr.learned; i++)
            (void)p->learn(normal[i]);
        // The main figures through the module's own code path.
        std::vector<std::uint32_t> neg, pos;
        for (std::size_t i = pr.learned; i < normal.size(); i++) {
            neg.push_back(max_smoothed_core(*p, normal[i]));
            pr.neg_bits.push_back(surprises(p->model(), normal[i]));
        }
        for (const Calls &t : intr) {
            pos.push_back(max_smoothed_core(*p, t));
            pr.pos_bits.push_back(surprises(p->model(), t));
        }
        pr.max_normal = neg.empty() ? 0 : *std::max_element(neg.begin(), neg.end());
        pr.kis = rates(neg, pos, KIS_SEQ_THRESHOLD_DEFAULT);
        // The emulation used by --sweep agrees with the core at the defaults.
        if (maxima(pr.neg_bits, Setting{}) != neg || maxima(pr.pos_bits, Setting{}) != pos)
            std::printf("warning: %s: the sweep's scoring differs from the core's\n", name.c_str());
        Setting st;
        st.span = 0;
        pr.stide =
            rates(maxima(pr.neg_bits, st), maxima(pr.pos_bits, st), KIS_SEQ_THRESHOLD_DEFAULT);
        std::printf("%-9s %6zu %5zu %5zu %8u |", name.c_str(), pr.learned, pr.held, pr.intrusion,
                    pr.max_normal);
        print_rates(pr.kis);
        std::printf(" |");
        print_rates(pr.stide);
        std::printf("\n");
        std::fflush(stdout);
        progs.push_back(std::move(pr));
    }

    // Means over every program with held-out normal traces, and over the well-sampled ones
    // (at least 10 held-out normal traces and 2 intrusion traces): with 1 to 5 learned
    // traces (ftp, inetd, named), held-out normal runs are mostly new and the figures say
    // more about the split than about the scoring.
    auto well = [](const Program &p) { return p.held >= 10 && p.intrusion >= 2; };
    auto mean_of = [&](bool only_well, const Setting *s, std::uint32_t threshold, Rates *kis,
                       Rates *stide) {
        int n = 0;
        for (const Program &p : progs) {
            if (p.neg_bits.empty() || p.pos_bits.empty() || (only_well && !well(p)))
                continue;
            n++;
            Rates k = s ? rates(maxima(p.neg_bits, *s), maxima(p.pos_bits, *s), threshold) : p.kis;
            Rates t = p.stide;
            for (auto [sum, r] : {std::pair{kis, &k}, std::pair{stide, &t}}) {
                if (!sum)
                    continue;
                sum->auc += r->auc, sum->d0 += r->d0, sum->d5 += r->d5;
                sum->det_t += r->det_t, sum->fa_t += r->fa_t;
            }
        }
        for (Rates *r : {kis, stide})
            if (r && n) {
                r->auc /= n, r->d0 /= n, r->d5 /= n, r->det_t /= n, r->fa_t /= n;
                r->valid = true;
            }
        return n;
    };
    std::string well_names;
    for (const Program &p : progs)
        if (well(p))
            well_names += (well_names.empty() ? "" : ", ") + p.name;
    for (bool only_well : {false, true}) {
        Rates mk, ms;
        int n = mean_of(only_well, nullptr, 0, &mk, &ms);
        if (!n)
            continue;
        std::printf("%-9s %6s %5s %5s %8s |", only_well ? "mean*" : "mean", "", "", "", "");
        print_rates(mk);
        std::printf(" |");
        print_rates(ms);
        std::printf("\n");
    }
    std::printf("(mean: the programs with held-out normal traces; mean*: the well-sampled ones, "
                "%s)\n",
                well_names.c_str());
    if (!sweep)
        return 0;

    std::printf("\nsweep: other settings, means over the well-sampled programs (%s)\n",
                well_names.c_str());
    std::printf("  %-8s %6s %-8s |  %5s %6s %6s  %6s %6s\n", "scores", "window", "warm-up", "AUC",
                "det@0", "det@5", "det@T", "FA@T");
    for (std::uint32_t span : {0u, 8u, 12u, 16u, 24u, 32u})
        for (std::uint32_t window : {6u, 10u, 20u, 32u, 64u})
            for (bool so_far : {false, true}) {
                if (so_far && window != KIS_SEQ_WINDOW_DEFAULT)
                    continue;
                Setting s{span, window, so_far};
                Rates m;
                mean_of(true, &s, KIS_SEQ_THRESHOLD_DEFAULT, &m, nullptr);
                std::string label = span ? "span " + std::to_string(span) : "stide";
                std::printf("  %-8s %6u %-8s |", label.c_str(), window,
                            so_far ? "so far" : "sum/W");
                print_rates(m);
                std::printf("%s\n",
                            span == KIS_SEQ_LOG_SPAN && window == KIS_SEQ_WINDOW_DEFAULT && !so_far
                                ? "   <- defaults"
                                : "");
            }

    std::printf("\nthresholds: detection/false-alarm rates of the well-sampled programs at "
                "threshold T (window %u)\n  %-9s %-8s",
                KIS_SEQ_WINDOW_DEFAULT, "program", "scores");
    const std::uint32_t ts[] = {100, 150, 200, 250, 300, 350, 400};
    for (std::uint32_t t : ts)
        std::printf(" %10u", t);
    std::printf("\n");
    for (std::uint32_t span : {static_cast<std::uint32_t>(KIS_SEQ_LOG_SPAN), 24u, 0u}) {
        Setting st;
        st.span = span;
        std::vector<double> det(std::size(ts)), fa(std::size(ts));
        int n = 0;
        for (const Program &p : progs) {
            if (!well(p))
                continue;
            n++;
            std::string label = span ? "span " + std::to_string(span) : "stide";
            std::printf("  %-9s %-8s", p.name.c_str(), label.c_str());
            std::vector<std::uint32_t> neg = maxima(p.neg_bits, st), pos = maxima(p.pos_bits, st);
            for (std::size_t i = 0; i < std::size(ts); i++) {
                Rates r = rates(neg, pos, ts[i]);
                std::printf("  %4.2f/%4.2f", r.det_t, r.fa_t);
                det[i] += r.det_t;
                fa[i] += r.fa_t;
            }
            std::printf("\n");
        }
        std::printf("  %-9s %-8s", "mean*", "");
        for (std::size_t i = 0; n && i < std::size(ts); i++)
            std::printf("  %4.2f/%4.2f", det[i] / n, fa[i] / n);
        std::printf("\n");
    }
    return 0;
}
