// The APC's statistics of the portable core (kernel/kis/core/kis_stat.c): the parameter
// table, running mean and deviation, thresholds, danger levels and their decay, expected
// values, the file tree and the exchange blob with its checks.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kis_stat.h"

namespace kis::test {

namespace {

// A file tree in owned memory.
struct Tree {
    std::unique_ptr<std::uint64_t[]> mem;
    kis_ftree t{};

    explicit Tree(std::uint32_t cap) {
        std::size_t bytes = kis_ftree_bytes(cap);
        BOOST_REQUIRE(bytes > 0);
        mem.reset(new std::uint64_t[(bytes + 7) / 8]);
        BOOST_REQUIRE(kis_ftree_init(&t, mem.get(), bytes, cap) == 0);
    }
    kis_ftree *get() { return &t; }
    kis_ftree *operator->() { return &t; }
    int learn(const std::string &p) { return kis_ftree_learn(&t, p.data(), p.size()); }
    bool contains(const std::string &p) const { return kis_ftree_contains(&t, p.data(), p.size()); }
};

kis_stat learned(const std::vector<std::uint64_t> &xs) {
    kis_stat s{};
    for (std::uint64_t x : xs)
        kis_stat_learn(&s, x);
    return s;
}

// The same recurrence on real numbers, in sixteenths.
struct Reference {
    double mean = 0, dev = 0;
    std::uint64_t n = 0;
    void learn(double x) {
        double xs = 16 * x, d = std::fabs(xs - mean);
        if (++n == 1) {
            mean = xs;
            dev = 0;
            return;
        }
        mean += (xs - mean) / n;
        dev += (d - dev) / n;
    }
};

const kis_stat_limits &defaults(kis_param p) {
    const kis_stat_param_info *info = kis_stat_param(p);
    BOOST_REQUIRE(info != nullptr);
    return info->limits;
}

std::pair<std::uint64_t, std::uint64_t> thresholds(const kis_stat &s, const kis_stat_limits &l) {
    std::uint64_t t1 = 0, t2 = 0;
    kis_stat_thresholds(&s, &l, &t1, &t2);
    return {t1, t2};
}

using Pair = std::pair<std::uint64_t, std::uint64_t>;

constexpr std::size_t kHeader = 20, kParam = 32, kFile = 16;
constexpr std::size_t kFiles = kHeader + KIS_PARAM_COUNT * kParam;

void put32(std::vector<std::uint8_t> &b, std::size_t off, std::uint32_t v) {
    for (int i = 0; i < 4; i++)
        b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put64(std::vector<std::uint8_t> &b, std::size_t off, std::uint64_t v) {
    for (int i = 0; i < 8; i++)
        b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get32(const std::vector<std::uint8_t> &b, std::size_t off) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= static_cast<std::uint32_t>(b[off + i]) << (8 * i);
    return v;
}
std::uint64_t get64(const std::vector<std::uint8_t> &b, std::size_t off) {
    return get32(b, off) | static_cast<std::uint64_t>(get32(b, off + 4)) << 32;
}

std::vector<std::uint8_t> blob_of(const kis_stat *stats, const kis_ftree *t) {
    std::vector<std::uint8_t> b(kis_stat_blob_size(t));
    BOOST_REQUIRE(kis_stat_blob_write(stats, t, b.data(), b.size()) == b.size());
    return b;
}

int check(const std::vector<std::uint8_t> &b) {
    std::uint32_t n = 12345;
    int err = kis_stat_blob_check(b.data(), b.size(), &n);
    if (err)
        BOOST_TEST(n == 12345u); // not set on failure
    return err;
}

// Statistics of every parameter, each from a few different samples.
std::vector<kis_stat> some_stats() {
    std::vector<kis_stat> s(KIS_PARAM_COUNT);
    std::mt19937_64 rng(7);
    for (std::uint32_t p = 0; p < KIS_PARAM_COUNT; p++) {
        if (p == KIS_PARAM_EXECS)
            continue; // one parameter learned nothing
        for (std::uint32_t i = 0; i < 10 + p; i++)
            kis_stat_learn(&s[p], rng() % (1000u << p));
    }
    return s;
}

bool same(const kis_stat &a, const kis_stat &b) {
    return a.n == b.n && a.mean == b.mean && a.dev == b.dev && a.max == b.max;
}

const std::vector<std::string> kPaths = {"/etc/passwd",
                                         "/etc/group",
                                         "/etc/hosts",
                                         "/usr/lib/libc.so.6",
                                         "/usr/lib/libm.so",
                                         "/usr/share/a/b/c",
                                         "/var/log/app.log",
                                         "/tmp/x",
                                         "/srv/www/a",
                                         "/srv/www/b",
                                         "/srv/www/c",
                                         "/",
                                         "/srv/",
                                         "/etc/ssl/certs/ca.pem"};

} // namespace

BOOST_AUTO_TEST_SUITE(stat)

BOOST_AUTO_TEST_CASE(parameter_table) {
    const char *names[KIS_PARAM_COUNT] = {
        "seq",      "cpu",     "vm_pages",      "rss_pages",     "files",     "files_outside",
        "syscalls", "forks",   "execs",         "connections",   "rx_bytes",  "tx_bytes",
        "rx_msgs",  "tx_msgs", "conn_rx_bytes", "conn_tx_bytes", "conn_ratio"};
    const char *units[KIS_PARAM_COUNT] = {
        "per-mille", "us",       "pages", "pages",       "files",  "files",
        "calls",     "tasks",    "execs", "connections", "bytes",  "bytes",
        "messages",  "messages", "bytes", "bytes",       "percent"};
    const std::uint64_t floors[KIS_PARAM_COUNT] = {0, 5000, 64,   64, 4, 1,    200,  2,  2,
                                                   2, 4096, 4096, 4,  4, 1024, 4096, 200};
    for (std::uint32_t p = 0; p < KIS_PARAM_COUNT; p++) {
        const kis_stat_param_info *info = kis_stat_param(p);
        BOOST_TEST_REQUIRE(info != nullptr);
        BOOST_TEST(std::string(info->name) == names[p]);
        BOOST_TEST(std::string(info->unit) == units[p], info->name);
        BOOST_TEST(info->per_conn == (p >= KIS_PARAM_CONN_RX_BYTES), info->name);
        BOOST_TEST(info->limits.floor == floors[p], info->name);
        BOOST_TEST(kis_stat_param_find(names[p]) == static_cast<int>(p));
        if (p == KIS_PARAM_SEQ) {
            BOOST_TEST(info->limits.mult1 == 0u);
            BOOST_TEST(info->limits.mult2 == 0u);
        } else if (p == KIS_PARAM_FILES_OUTSIDE) {
            BOOST_TEST(info->limits.mult1 == 0u);
            BOOST_TEST(info->limits.mult2 == 50u);
        } else {
            BOOST_TEST(info->limits.mult1 == 50u, info->name);
            BOOST_TEST(info->limits.mult2 == 100u, info->name);
        }
    }
    BOOST_TEST(kis_stat_param(KIS_PARAM_COUNT) == nullptr);
    BOOST_TEST(kis_stat_param(0xffffffffu) == nullptr);
    BOOST_TEST(kis_stat_param_find("nope") == -ENOENT);
    BOOST_TEST(kis_stat_param_find("") == -ENOENT);
    BOOST_TEST(kis_stat_param_find("CPU") == -ENOENT);
    BOOST_TEST(kis_stat_param_find("cpu ") == -ENOENT);
    BOOST_TEST(kis_stat_param_find(nullptr) == -ENOENT);
}

BOOST_AUTO_TEST_CASE(constant_samples_have_no_deviation) {
    kis_stat s = learned(std::vector<std::uint64_t>(50, 100));
    BOOST_TEST(s.n == 50u);
    BOOST_TEST(s.mean == 1600u);
    BOOST_TEST(s.dev == 0u);
    BOOST_TEST(s.max == 100u);
    BOOST_TEST(kis_stat_mean(&s) == 100u);
    BOOST_TEST(kis_stat_dev(&s) == 0u);
    // cpu: the deviation used is the floor, 5000 (more than 100 / 8); 5.0 and 10.0 of it.
    BOOST_TEST((thresholds(s, defaults(KIS_PARAM_CPU)) == Pair{100 + 25000, 100 + 50000}));
    // One sample: mean = the sample, no deviation.
    kis_stat one = learned({7});
    BOOST_TEST(one.mean == 7u * 16);
    BOOST_TEST(one.dev == 0u);
    BOOST_TEST(one.max == 7u);
}

BOOST_AUTO_TEST_CASE(running_mean_and_deviation_by_hand) {
    // 10, 20, 30 in sixteenths: 160; 160 + 160/2 = 240 (dev 0 + 160/2 = 80);
    // d = 480 - 240 = 240, mean 240 + 240/3 = 320, dev 80 + (240 - 80)/3 = 133.
    kis_stat s = learned({10, 20, 30});
    BOOST_TEST(s.mean == 320u);
    BOOST_TEST(s.dev == 133u);
    BOOST_TEST(kis_stat_mean(&s) == 20u);
    BOOST_TEST(kis_stat_dev(&s) == 8u); // 133 / 16 = 8.3, rounded down
    BOOST_TEST(s.max == 30u);
    // Going down: 30, 10: mean 480 - 320/2 = 320, dev 320/2 = 160; then 21 (336):
    // d = 16, mean 320 + 16/3 = 325, dev 160 - (160 - 16)/3 = 112.
    kis_stat down = learned({30, 10, 21});
    BOOST_TEST(down.mean == 325u);
    BOOST_TEST(down.dev == 112u);
    BOOST_TEST(down.max == 30u);
    // Rounding towards zero both ways: 0 then 1: mean 16/2 = 8, dev 16/2 = 8; then 0:
    // mean 8 - 8/3 = 6, d = 8 so dev stays 8 + (8 - 8)/3 = 8.
    kis_stat small = learned({0, 1, 0});
    BOOST_TEST(small.mean == 6u);
    BOOST_TEST(small.dev == 8u);
}

BOOST_AUTO_TEST_CASE(running_mean_and_deviation_follow_real_numbers) {
    // Against the same recurrence on doubles. Each quotient is off by less than 1 (rounded
    // towards zero), so n e_n = (n-1) e_(n-1) + n delta_n: the mean is off by less than
    // (n+1)/2 sixteenths. The deviation also sees the mean's error through d, so it is off by
    // less than 3(n+1)/4. Runs of one sign (after a spike) come near the bound; noise does not.
    std::mt19937_64 rng(11);
    std::vector<std::vector<std::uint64_t>> runs;
    std::vector<std::uint64_t> ramp;
    for (std::uint64_t i = 1; i <= 100; i++)
        ramp.push_back(10 * i);
    runs.push_back(ramp);
    for (std::uint64_t range : {3ull, 1000ull, 100000ull, 1ull << 30}) {
        std::vector<std::uint64_t> r;
        for (int i = 0; i < 100; i++)
            r.push_back(rng() % range);
        runs.push_back(r);
    }
    std::vector<std::uint64_t> spiky(100, 5000);
    spiky[40] = 90000;
    spiky[80] = 0;
    runs.push_back(spiky);
    for (std::size_t k = 0; k < runs.size(); k++) {
        kis_stat s{};
        Reference ref;
        for (std::uint64_t x : runs[k]) {
            kis_stat_learn(&s, x);
            ref.learn(static_cast<double>(x));
            double n = static_cast<double>(s.n);
            BOOST_TEST_REQUIRE(std::fabs(static_cast<double>(s.mean) - ref.mean) < (n + 1) / 2,
                               "run " << k << " n " << s.n);
            BOOST_TEST_REQUIRE(std::fabs(static_cast<double>(s.dev) - ref.dev) < 3 * (n + 1) / 4,
                               "run " << k << " n " << s.n);
        }
        BOOST_TEST(s.max == *std::max_element(runs[k].begin(), runs[k].end()));
    }
    // The ramp's mean is exact: 10 * 101 / 2 = 505. Sample k is 5k away from the mean before
    // it, so the running deviation is 5 (2 + ... + 100) / 100 = 252.45 (about the final mean
    // it would be 250); the integers lag by less than a unit.
    kis_stat r = learned(ramp);
    BOOST_TEST(r.mean == 505u * 16);
    BOOST_TEST(kis_stat_dev(&r) >= 251u);
    BOOST_TEST(kis_stat_dev(&r) <= 252u);
}

BOOST_AUTO_TEST_CASE(samples_are_clamped) {
    kis_stat s{};
    kis_stat_learn(&s, ~0ull);
    BOOST_TEST(s.max == KIS_STAT_SAMPLE_MAX);
    BOOST_TEST(s.mean == KIS_STAT_SAMPLE_MAX * 16);
    kis_stat_learn(&s, KIS_STAT_SAMPLE_MAX + 1);
    BOOST_TEST(s.mean == KIS_STAT_SAMPLE_MAX * 16);
    BOOST_TEST(s.dev == 0u);
    kis_stat_learn(&s, 0);
    BOOST_TEST(s.mean == KIS_STAT_SAMPLE_MAX * 16 - KIS_STAT_SAMPLE_MAX * 16 / 3);
    BOOST_TEST(s.dev == KIS_STAT_SAMPLE_MAX * 16 / 3);
    for (int i = 0; i < 1000; i++)
        kis_stat_learn(&s, i % 2 ? ~0ull : 0);
    BOOST_TEST(s.mean <= KIS_STAT_SAMPLE_MAX * 16);
    BOOST_TEST(s.dev <= KIS_STAT_SAMPLE_MAX * 16);
    BOOST_TEST(s.max == KIS_STAT_SAMPLE_MAX);
    // Thresholds of the largest statistics fit.
    auto [t1, t2] = thresholds(s, defaults(KIS_PARAM_CPU));
    BOOST_TEST(t1 > kis_stat_mean(&s));
    BOOST_TEST(t2 > t1);
    BOOST_TEST(t2 < KIS_STAT_NEVER);
}

BOOST_AUTO_TEST_CASE(thresholds_of_nothing_learned_are_never) {
    kis_stat s{};
    BOOST_TEST((thresholds(s, defaults(KIS_PARAM_CPU)) == Pair{KIS_STAT_NEVER, KIS_STAT_NEVER}));
    BOOST_TEST(
        (thresholds(s, defaults(KIS_PARAM_FILES_OUTSIDE)) == Pair{KIS_STAT_NEVER, KIS_STAT_NEVER}));
    BOOST_TEST(kis_stat_level(~0ull, KIS_STAT_NEVER, KIS_STAT_NEVER) == KIS_DANGER_NONE);
}

BOOST_AUTO_TEST_CASE(thresholds_use_the_largest_deviation) {
    kis_stat_limits l{30, 60, 4};
    // The learned deviation, rounded up: mean 500 (8000), dev 100.06 (1601) -> 101, more
    // than the floor and than 500 / 8.
    kis_stat s{10, 8000, 1601, 2000};
    BOOST_TEST((thresholds(s, l) == Pair{500 + 303, 500 + 606}));
    // The floor: dev 2 -> floor 4 ... unless mean / 8 is larger. Mean 20: 20/8 = 2 < 4.
    kis_stat f{10, 320, 32, 40};
    BOOST_TEST((thresholds(f, l) == Pair{20 + 12, 20 + 24}));
    // mean / 8: constant 1,000,000, floor 4, no deviation -> 125,000.
    kis_stat big = learned(std::vector<std::uint64_t>(20, 1000000));
    BOOST_TEST((thresholds(big, l) == Pair{1375000, 1750000}));
    // mean / 8 uses the mean in whole units, rounded down: 1023.9 / 8 -> 127.
    kis_stat m8{1, 16383, 0, 2000};
    kis_stat_limits nofloor{10, 20, 0};
    // ceil((163830 + 16 * 10 * 127) / 160) = ceil(1150.9) = 1151; with 20: ceil(1277.9).
    BOOST_TEST((thresholds(m8, nofloor) == Pair{1151, 1278}));
}

BOOST_AUTO_TEST_CASE(thresholds_are_exact_then_rounded_up) {
    // Mean 17/16, floor 1: ceil(1.0625 + 3) = 5, ceil(1.0625 + 6) = 8.
    kis_stat s{1, 17, 0, 2};
    BOOST_TEST((thresholds(s, kis_stat_limits{30, 60, 1}) == Pair{5, 8}));
    // Multipliers in tenths: 1.5 * 3 = 4.5 -> mean 10 + 4.5 -> 15; 2.5 * 3 -> 18.
    kis_stat t{1, 160, 0, 10};
    BOOST_TEST((thresholds(t, kis_stat_limits{15, 25, 3}) == Pair{15, 18}));
    // Exactly whole: no rounding up. 10 + 2 * 3 = 16.
    BOOST_TEST((thresholds(t, kis_stat_limits{20, 40, 3}) == Pair{16, 22}));
    // Equal thresholds while mult2 > mult1: t2 = t1 + 1. Mean 1, nothing else.
    kis_stat one{5, 16, 0, 1};
    BOOST_TEST((thresholds(one, kis_stat_limits{30, 31, 0}) == Pair{1, 2}));
    // mult2 below mult1 counts as mult1, and the thresholds may be equal.
    BOOST_TEST((thresholds(t, kis_stat_limits{50, 20, 3}) == Pair{25, 25}));
    BOOST_TEST((thresholds(one, kis_stat_limits{30, 30, 0}) == Pair{1, 1}));
}

BOOST_AUTO_TEST_CASE(thresholds_saturate) {
    kis_stat s{3, 16, 0, 1};
    BOOST_TEST((thresholds(s, kis_stat_limits{30, 60, 1ull << 62}) ==
                Pair{KIS_STAT_NEVER, KIS_STAT_NEVER}));
    BOOST_TEST((thresholds(s, kis_stat_limits{0xffffffffu, 0xffffffffu, ~0ull}) ==
                Pair{KIS_STAT_NEVER, KIS_STAT_NEVER}));
    // t1 fits, t2 does not.
    std::uint64_t floor = (1ull << 58) / 10;
    auto [t1, t2] = thresholds(s, kis_stat_limits{10, 10000, floor});
    BOOST_TEST(t1 == 1 + floor);
    BOOST_TEST(t2 == KIS_STAT_NEVER);
    // Mult 0 with a huge floor: just the mean.
    BOOST_TEST((thresholds(s, kis_stat_limits{0, 0, ~0ull}) == Pair{1, 1}));
}

BOOST_AUTO_TEST_CASE(files_outside_defaults) {
    // Learned while the tree grows: always 0. Then any file outside is danger 1, more
    // than 5 in one interval danger 2.
    kis_stat s = learned(std::vector<std::uint64_t>(100, 0));
    auto [t1, t2] = thresholds(s, defaults(KIS_PARAM_FILES_OUTSIDE));
    BOOST_TEST(t1 == 0u);
    BOOST_TEST(t2 == 5u);
    BOOST_TEST(kis_stat_level(0, t1, t2) == KIS_DANGER_NONE);
    BOOST_TEST(kis_stat_level(1, t1, t2) == KIS_DANGER_1);
    BOOST_TEST(kis_stat_level(5, t1, t2) == KIS_DANGER_1);
    BOOST_TEST(kis_stat_level(6, t1, t2) == KIS_DANGER_2);
}

BOOST_AUTO_TEST_CASE(levels) {
    BOOST_TEST(kis_stat_level(0, 10, 20) == KIS_DANGER_NONE);
    BOOST_TEST(kis_stat_level(10, 10, 20) == KIS_DANGER_NONE);
    BOOST_TEST(kis_stat_level(11, 10, 20) == KIS_DANGER_1);
    BOOST_TEST(kis_stat_level(20, 10, 20) == KIS_DANGER_1);
    BOOST_TEST(kis_stat_level(21, 10, 20) == KIS_DANGER_2);
    BOOST_TEST(kis_stat_level(~0ull, 10, KIS_STAT_NEVER) == KIS_DANGER_1);
    BOOST_TEST(kis_stat_level(~0ull - 1, KIS_STAT_NEVER, KIS_STAT_NEVER) == KIS_DANGER_NONE);
}

BOOST_AUTO_TEST_CASE(expected_values) {
    kis_stat_expect none{false, 100, 0};
    BOOST_TEST(kis_stat_expected(&none, 0));
    BOOST_TEST(kis_stat_expected(&none, ~0ull));
    kis_stat_expect exact{true, 100, 0};
    BOOST_TEST(kis_stat_expected(&exact, 100));
    BOOST_TEST(!kis_stat_expected(&exact, 99));
    BOOST_TEST(!kis_stat_expected(&exact, 101));
    kis_stat_expect ten{true, 1000, 10};
    BOOST_TEST(kis_stat_expected(&ten, 900));
    BOOST_TEST(kis_stat_expected(&ten, 1100));
    BOOST_TEST(kis_stat_expected(&ten, 1000));
    BOOST_TEST(!kis_stat_expected(&ten, 899));
    BOOST_TEST(!kis_stat_expected(&ten, 1101));
    BOOST_TEST(!kis_stat_expected(&ten, 0));
    // Rounded down: 10% of 1009 is 100.9 -> 100.
    kis_stat_expect odd{true, 1009, 10};
    BOOST_TEST(kis_stat_expected(&odd, 1109));
    BOOST_TEST(!kis_stat_expected(&odd, 1110));
    // At least 1 of slack with a tolerance.
    kis_stat_expect zero{true, 0, 10};
    BOOST_TEST(kis_stat_expected(&zero, 0));
    BOOST_TEST(kis_stat_expected(&zero, 1));
    BOOST_TEST(!kis_stat_expected(&zero, 2));
    kis_stat_expect five{true, 5, 10};
    BOOST_TEST(kis_stat_expected(&five, 4));
    BOOST_TEST(kis_stat_expected(&five, 6));
    BOOST_TEST(!kis_stat_expected(&five, 7));
    kis_stat_expect zero_exact{true, 0, 0};
    BOOST_TEST(kis_stat_expected(&zero_exact, 0));
    BOOST_TEST(!kis_stat_expected(&zero_exact, 1));
    // Large values: no overflow, exact slack.
    std::uint64_t v = ~0ull;
    kis_stat_expect huge{true, v, 1};
    std::uint64_t slack = v / 100;
    BOOST_TEST(kis_stat_expected(&huge, v - slack));
    BOOST_TEST(!kis_stat_expected(&huge, v - slack - 1));
    kis_stat_expect wide{true, 1ull << 62, KIS_TOLERANCE_MAX};
    BOOST_TEST(kis_stat_expected(&wide, 0));
    BOOST_TEST(kis_stat_expected(&wide, ~0ull));
    kis_stat_expect half{true, 1ull << 62, 50};
    BOOST_TEST(kis_stat_expected(&half, 1ull << 61));
    BOOST_TEST(!kis_stat_expected(&half, (1ull << 61) - 1));
}

BOOST_AUTO_TEST_CASE(danger_rises_and_decays) {
    kis_danger_state d{};
    const std::uint32_t hold1 = 3, hold2 = 2;
    struct Step {
        std::uint32_t sample;
        bool changed;
        std::uint32_t level;
    };
    // 2, then quiet: 2 decays to 1 after hold2 quiet samples, to 0 after hold1 more.
    std::vector<Step> steps = {{0, false, 0},
                               {1, true, 1},
                               {2, true, 2},
                               {0, false, 2},
                               {0, true, 1},
                               {0, false, 1},
                               {0, false, 1},
                               {0, true, 0},
                               {0, false, 0},
                               // A sample at the level refreshes the hold; a 1 is quiet for a 2.
                               {2, true, 2},
                               {1, false, 2},
                               {2, false, 2},
                               {1, false, 2},
                               {1, true, 1},
                               {0, false, 1},
                               {1, false, 1},
                               {0, false, 1},
                               {0, false, 1},
                               {0, true, 0},
                               // Straight to 2 from 1; levels above 2 count as 2.
                               {1, true, 1},
                               {7, true, 2},
                               {2, false, 2}};
    for (std::size_t i = 0; i < steps.size(); i++) {
        bool changed = kis_danger_step(&d, steps[i].sample, hold1, hold2);
        BOOST_TEST(changed == steps[i].changed, "step " << i);
        BOOST_TEST(d.level == steps[i].level, "step " << i);
    }
}

BOOST_AUTO_TEST_CASE(danger_holds_of_zero_and_large) {
    kis_danger_state d{};
    BOOST_TEST(kis_danger_step(&d, 2, 0, 0));
    BOOST_TEST(kis_danger_step(&d, 0, 0, 0));
    BOOST_TEST(d.level == 1u);
    BOOST_TEST(kis_danger_step(&d, 0, 0, 0));
    BOOST_TEST(d.level == 0u);
    BOOST_TEST(!kis_danger_step(&d, 0, 0, 0));
    // Defaults: 3 + 10 quiet samples from 2 to 0.
    kis_danger_state e{};
    kis_danger_step(&e, 2, KIS_DANGER_HOLD1_DEFAULT, KIS_DANGER_HOLD2_DEFAULT);
    int n = 0;
    while (e.level) {
        kis_danger_step(&e, 0, KIS_DANGER_HOLD1_DEFAULT, KIS_DANGER_HOLD2_DEFAULT);
        n++;
    }
    BOOST_TEST(n == KIS_DANGER_HOLD1_DEFAULT + KIS_DANGER_HOLD2_DEFAULT);
    // Holds beyond the 16-bit counter count as 65535: the level still decays.
    kis_danger_state f{};
    kis_danger_step(&f, 1, 100000, 100000);
    n = 0;
    while (f.level && n < 200000) {
        kis_danger_step(&f, 0, 100000, 100000);
        n++;
    }
    BOOST_TEST(n == 65535);
}

BOOST_AUTO_TEST_CASE(ftree_sizes_and_init) {
    BOOST_TEST(kis_ftree_bytes(0) == 0u);
    BOOST_TEST(kis_ftree_bytes(KIS_FILE_TREE_MAX + 1) == 0u);
    BOOST_TEST(kis_ftree_bytes(1) == 16 * sizeof(kis_ftree_entry));
    BOOST_TEST(kis_ftree_bytes(8) == 16 * sizeof(kis_ftree_entry));
    BOOST_TEST(kis_ftree_bytes(9) == 32 * sizeof(kis_ftree_entry));
    BOOST_TEST(kis_ftree_bytes(KIS_FILE_TREE_MAX) == 8192 * sizeof(kis_ftree_entry));
    std::size_t bytes = kis_ftree_bytes(100);
    std::vector<std::uint64_t> mem(bytes / 8 + 1, ~0ull);
    kis_ftree t;
    BOOST_TEST(kis_ftree_init(&t, mem.data(), bytes - 1, 100) == -EINVAL);
    BOOST_TEST(kis_ftree_init(&t, mem.data(), bytes, 0) == -EINVAL);
    BOOST_TEST(kis_ftree_init(&t, mem.data(), bytes, 100) == 0);
    BOOST_TEST(t.cap == 100u);
    BOOST_TEST(t.n == 0u);
    BOOST_TEST(t.mask == 255u);
    BOOST_TEST(t.dropped == 0u);
    for (std::uint32_t i = 0; i <= t.mask; i++)
        BOOST_TEST_REQUIRE(t.slots[i].kind == 0u);
    BOOST_TEST(mem[bytes / 8] == ~0ull); // nothing past the table touched
}

BOOST_AUTO_TEST_CASE(ftree_learns_files_and_collapses_directories) {
    Tree t(100);
    BOOST_TEST(t.learn("/www/index.html") == 0);
    BOOST_TEST(t->n == 2u); // the file and /www/
    BOOST_TEST(t.contains("/www/index.html"));
    BOOST_TEST(!t.contains("/www/other.html"));
    BOOST_TEST(!t.contains("/www/index.htm"));
    BOOST_TEST(!t.contains("/www/index.html.bak"));
    BOOST_TEST(!t.contains("/www"));
    BOOST_TEST(t.contains("/www/")); // the directory itself
    BOOST_TEST(t.learn("/www/index.html") == 0);
    BOOST_TEST(t->n == 2u);
    for (int i = 2; i <= 7; i++)
        BOOST_TEST(t.learn("/www/f" + std::to_string(i)) == 0);
    BOOST_TEST(t->n == 8u);
    BOOST_TEST(!t.contains("/www/f8"));
    BOOST_TEST(!t.contains("/www/img/logo.png"));
    // The eighth distinct file: everything below /www/.
    BOOST_TEST(t.learn("/www/f8") == 0);
    BOOST_TEST(t->n == 9u);
    for (std::string p :
         {"/www/anything", "/www/img/logo.png", "/www/a/b/c/d", "/www/f8", "/www/.", "/www/img/"})
        BOOST_TEST(t.contains(p), p);
    for (std::string p : {"/www", "/wwwx/a", "/ww/a", "/etc/passwd", "/", "/index.html"})
        BOOST_TEST(!t.contains(p), p);
    // Below a learned directory nothing more takes room.
    BOOST_TEST(t.learn("/www/img/logo.png") == 0);
    BOOST_TEST(t.learn("/www/f9") == 0);
    BOOST_TEST(t->n == 9u);
    // A subdirectory collapses on its own.
    for (int i = 1; i <= 8; i++)
        BOOST_TEST(t.learn("/srv/data/" + std::to_string(i)) == 0);
    BOOST_TEST(t.contains("/srv/data/x/y"));
    BOOST_TEST(!t.contains("/srv/other"));
    BOOST_TEST(!t.contains("/srv/data"));
    // Files directly in / collapse the root: then every absolute path is inside.
    Tree r(100);
    BOOST_TEST(!r.contains("/"));
    BOOST_TEST(r.learn("/") == 0);
    BOOST_TEST(r->n == 1u);
    BOOST_TEST(r.contains("/"));
    BOOST_TEST(!r.contains("/a"));
    for (int i = 1; i <= 8; i++)
        BOOST_TEST(r.learn("/" + std::to_string(i)) == 0);
    BOOST_TEST(r.contains("/a"));
    BOOST_TEST(r.contains("/usr/lib/x"));
    BOOST_TEST(!r.contains("usr/lib/x"));
}

BOOST_AUTO_TEST_CASE(ftree_files_and_directories_of_one_name_differ) {
    Tree t(100);
    BOOST_TEST(t.learn("/a/b") == 0); // a file named b
    BOOST_TEST(t.contains("/a/b"));
    BOOST_TEST(!t.contains("/a/b/"));
    BOOST_TEST(!t.contains("/a/b/c"));
    BOOST_TEST(t.learn("/x/y/z") == 0); // makes directory /x/y/
    BOOST_TEST(!t.contains("/x/y"));
    BOOST_TEST(t.contains("/x/y/"));
    BOOST_TEST(!t.contains("/x/")); // only the file's own directory is entered
    BOOST_TEST(!t.contains("/x/y/zz"));
    // A directory learned by itself has no files: its parent does not count it.
    BOOST_TEST(t.learn("/d/e/") == 0);
    BOOST_TEST(t.contains("/d/e/"));
    BOOST_TEST(!t.contains("/d/e"));
    BOOST_TEST(!t.contains("/d/"));
    BOOST_TEST(!t.contains("/d/e/f"));
    // Eight learned directories do not collapse their parent.
    for (int i = 0; i < 8; i++)
        BOOST_TEST(t.learn("/p/" + std::to_string(i) + "/") == 0);
    BOOST_TEST(!t.contains("/p/9"));
}

BOOST_AUTO_TEST_CASE(ftree_rejects_relative_paths) {
    Tree t(16);
    BOOST_TEST(t.learn("etc/passwd") == -EINVAL);
    BOOST_TEST(t.learn("") == -EINVAL);
    BOOST_TEST(t.learn("./x") == -EINVAL);
    BOOST_TEST(t->n == 0u);
    BOOST_TEST(t->dropped == 0u);
    BOOST_TEST(!t.contains(""));
    BOOST_TEST(!t.contains("etc/passwd"));
    BOOST_TEST(kis_ftree_learn(t.get(), nullptr, 0) == -EINVAL);
    BOOST_TEST(!kis_ftree_contains(t.get(), nullptr, 0));
}

BOOST_AUTO_TEST_CASE(ftree_reads_only_len_bytes) {
    Tree t(16);
    std::string longer = "/etc/passwd.bak";
    BOOST_TEST(kis_ftree_learn(t.get(), longer.data(), 11) == 0); // "/etc/passwd"
    BOOST_TEST(t.contains("/etc/passwd"));
    BOOST_TEST(!t.contains("/etc/passwd.bak"));
    // An exactly sized buffer without a NUL, and growing prefixes of a path.
    std::vector<char> exact = {'/', 'e', 't', 'c', '/', 'p', 'a', 's', 's', 'w', 'd'};
    std::unique_ptr<char[]> heap(new char[exact.size()]);
    std::memcpy(heap.get(), exact.data(), exact.size());
    BOOST_TEST(kis_ftree_contains(t.get(), heap.get(), exact.size()));
    for (std::size_t len = 1; len < exact.size(); len++)
        BOOST_TEST(!kis_ftree_contains(t.get(), heap.get(), len) == (len != 5), len);
    // Embedded NULs are bytes of the path.
    std::string nul("/etc/passwd\0x", 13);
    BOOST_TEST(!t.contains(nul));
    // Long paths.
    std::string deep = "/";
    for (int i = 0; i < 1000; i++)
        deep += "d" + std::to_string(i) + "/";
    deep += "file";
    BOOST_TEST(t.learn(deep) == 0);
    BOOST_TEST(t.contains(deep));
    BOOST_TEST(!t.contains(deep + "x"));
}

BOOST_AUTO_TEST_CASE(ftree_full) {
    Tree t(3);
    BOOST_TEST(t.learn("/a/x") == 0);       // 2 entries
    BOOST_TEST(t.learn("/b/y") == -ENOSPC); // needs 2, 1 left
    BOOST_TEST(t->dropped == 1u);
    BOOST_TEST(t->n == 2u);
    BOOST_TEST(!t.contains("/b/y"));
    BOOST_TEST(!t.contains("/b/"));
    BOOST_TEST(t.learn("/a/y") == 0); // 1 entry
    BOOST_TEST(t->n == 3u);
    BOOST_TEST(t.learn("/a/z") == -ENOSPC);
    BOOST_TEST(t.learn("/c/") == -ENOSPC);
    BOOST_TEST(t->dropped == 3u);
    // What is known still is, and relearning it is no error.
    BOOST_TEST(t.learn("/a/x") == 0);
    BOOST_TEST(t.learn("/a/") == 0);
    BOOST_TEST(t->dropped == 3u);
    BOOST_TEST(t.contains("/a/x"));
    BOOST_TEST(t.contains("/a/y"));
    BOOST_TEST(!t.contains("/a/z"));
    // Clear: empty, nothing dropped, room again.
    kis_ftree_clear(t.get());
    BOOST_TEST(t->n == 0u);
    BOOST_TEST(t->dropped == 0u);
    BOOST_TEST(!t.contains("/a/x"));
    BOOST_TEST(!t.contains("/a/"));
    BOOST_TEST(t.learn("/b/y") == 0);
    BOOST_TEST(t.contains("/b/y"));
}

BOOST_AUTO_TEST_CASE(ftree_fills_to_the_maximum) {
    Tree t(KIS_FILE_TREE_MAX);
    std::set<std::string> learned;
    std::uint32_t i = 0, full = 0;
    // 7 files per directory: nothing collapses, 8 entries per directory.
    for (; full < 3; i++) {
        std::string p = "/d" + std::to_string(i / 7) + "/f" + std::to_string(i);
        int err = t.learn(p);
        BOOST_TEST_REQUIRE((err == 0 || err == -ENOSPC));
        if (err)
            full++;
        else
            learned.insert(p);
    }
    BOOST_TEST(t->n == KIS_FILE_TREE_MAX);
    BOOST_TEST(t->dropped == 3u);
    for (const std::string &p : learned)
        BOOST_TEST_REQUIRE(t.contains(p));
    BOOST_TEST(!t.contains("/d0/f7"));
}

BOOST_AUTO_TEST_CASE(blob_layout) {
    std::vector<kis_stat> stats(KIS_PARAM_COUNT);
    stats[KIS_PARAM_CPU] = {3, 0x0102030405060708ull, 9, 0x1122334455ull};
    std::vector<std::uint8_t> b = blob_of(stats.data(), nullptr);
    BOOST_TEST(b.size() == kFiles);
    BOOST_TEST(kis_stat_blob_size(nullptr) == kFiles);
    BOOST_TEST(std::string(b.begin(), b.begin() + 4) == "KSTA");
    BOOST_TEST(get32(b, 0) == 0x4154534bu);
    BOOST_TEST(get32(b, 4) == 1u);
    BOOST_TEST(get32(b, 8) == 20u);
    BOOST_TEST(get32(b, 12) == static_cast<std::uint32_t>(KIS_PARAM_COUNT));
    BOOST_TEST(get32(b, 16) == 0u);
    std::size_t cpu = kHeader + KIS_PARAM_CPU * kParam;
    BOOST_TEST(b[cpu] == 3u);
    BOOST_TEST(b[cpu + 8] == 0x08u);
    BOOST_TEST(b[cpu + 15] == 0x01u);
    BOOST_TEST(get64(b, cpu + 16) == 9u);
    BOOST_TEST(get64(b, cpu + 24) == 0x1122334455ull);
    // Not a valid statistic (mean > 16 max): written as is, refused on reading.
    BOOST_TEST(check(b) == -EINVAL);

    Tree t(16);
    t.learn("/a");
    std::vector<kis_stat> zero(KIS_PARAM_COUNT);
    std::vector<std::uint8_t> f = blob_of(zero.data(), t.get());
    BOOST_TEST(f.size() == kFiles + 2 * kFile);
    BOOST_TEST(get32(f, 16) == 2u);
    // The entries: FNV-1a of "/a" and of "/", by ascending hash.
    auto fnv = [](const std::string &s) {
        std::uint64_t h = 0xcbf29ce484222325ull;
        for (unsigned char c : s) {
            h ^= c;
            h *= 0x100000001b3ull;
        }
        return h;
    };
    std::uint64_t file = fnv("/a"), root = fnv("/");
    bool file_first = file < root;
    std::size_t fo = kFiles + (file_first ? 0 : kFile), ro = kFiles + (file_first ? kFile : 0);
    BOOST_TEST(get64(f, fo) == file);
    BOOST_TEST(get32(f, fo + 8) == static_cast<std::uint32_t>(KIS_FTREE_FILE));
    BOOST_TEST(get32(f, fo + 12) == 0u);
    BOOST_TEST(get64(f, ro) == root);
    BOOST_TEST(get32(f, ro + 8) == static_cast<std::uint32_t>(KIS_FTREE_DIR));
    BOOST_TEST(get32(f, ro + 12) == 1u);
    BOOST_TEST(check(f) == 0);
}

BOOST_AUTO_TEST_CASE(blob_round_trip) {
    std::vector<kis_stat> stats = some_stats();
    Tree t(200);
    for (const std::string &p : kPaths)
        BOOST_TEST_REQUIRE(t.learn(p) == 0);
    for (int i = 0; i < 8; i++)
        BOOST_TEST_REQUIRE(t.learn("/srv/www/x" + std::to_string(i)) == 0);
    std::vector<std::uint8_t> b = blob_of(stats.data(), t.get());
    BOOST_TEST(b.size() == kFiles + t->n * kFile);
    std::uint32_t n = 0;
    BOOST_TEST(kis_stat_blob_check(b.data(), b.size(), &n) == 0);
    BOOST_TEST(n == t->n);
    BOOST_TEST(kis_stat_blob_check(b.data(), b.size(), nullptr) == 0);
    std::vector<std::uint8_t> small(b.size() - 1);
    BOOST_TEST(kis_stat_blob_write(stats.data(), t.get(), small.data(), small.size()) == 0u);

    // Into a tree of exactly the room needed, that had other things in it.
    Tree r(n);
    r.learn("/other/file");
    std::vector<kis_stat> got(KIS_PARAM_COUNT);
    BOOST_TEST(kis_stat_blob_read(got.data(), r.get(), b.data(), b.size()) == 0);
    for (std::uint32_t p = 0; p < KIS_PARAM_COUNT; p++)
        BOOST_TEST(same(got[p], stats[p]), "param " << p);
    BOOST_TEST(r->n == t->n);
    BOOST_TEST(r->dropped == 0u);
    BOOST_TEST(!r.contains("/other/file"));
    for (const std::string &p : kPaths)
        BOOST_TEST(r.contains(p), p);
    BOOST_TEST(r.contains("/srv/www/anything/below"));
    BOOST_TEST(!r.contains("/etc/shadow"));
    BOOST_TEST(!r.contains("/srv/other"));
    // The read tree learns on like the original.
    BOOST_TEST(r.learn("/srv/www/more") == 0);
    // Written again: the same bytes.
    BOOST_TEST((blob_of(got.data(), r.get()) == b));

    // Too little room: -ENOSPC, nothing changed.
    Tree tiny(n - 1);
    tiny.learn("/keep/me");
    std::vector<kis_stat> untouched(KIS_PARAM_COUNT);
    untouched[0] = {1, 16, 0, 1};
    BOOST_TEST(kis_stat_blob_read(untouched.data(), tiny.get(), b.data(), b.size()) == -ENOSPC);
    BOOST_TEST(untouched[0].n == 1u);
    BOOST_TEST(untouched[1].n == 0u);
    BOOST_TEST(tiny.contains("/keep/me"));
    BOOST_TEST(kis_stat_blob_read(untouched.data(), nullptr, b.data(), b.size()) == -ENOSPC);
    // No tree: fine for a blob without entries.
    std::vector<std::uint8_t> bare = blob_of(stats.data(), nullptr);
    BOOST_TEST(kis_stat_blob_read(got.data(), nullptr, bare.data(), bare.size()) == 0);
    // An empty tree written is the same as none.
    Tree empty(1);
    BOOST_TEST((blob_of(stats.data(), empty.get()) == bare));
}

BOOST_AUTO_TEST_CASE(blob_is_canonical) {
    std::vector<kis_stat> stats = some_stats();
    std::vector<std::string> paths = kPaths;
    for (int i = 0; i < 30; i++)
        paths.push_back("/data/" + std::to_string(i % 5) + "/f" + std::to_string(i));
    for (int i = 0; i < 8; i++) // collapses; nothing else below it
        paths.push_back("/lib/m" + std::to_string(i));
    Tree a(paths.size() * 2);
    for (const std::string &p : paths)
        BOOST_TEST_REQUIRE(a.learn(p) == 0);
    std::vector<std::uint8_t> want = blob_of(stats.data(), a.get());
    std::mt19937 rng(5);
    for (int round = 0; round < 10; round++) {
        std::shuffle(paths.begin(), paths.end(), rng);
        // Another order, and another table size.
        Tree b(round % 2 ? KIS_FILE_TREE_MAX : a->n);
        for (const std::string &p : paths)
            BOOST_TEST_REQUIRE(b.learn(p) == 0);
        BOOST_TEST_REQUIRE(b->n == a->n);
        BOOST_TEST((blob_of(stats.data(), b.get()) == want), "round " << round);
    }
    // Sorted by hash, no duplicates.
    for (std::size_t off = kFiles + kFile; off < want.size(); off += kFile)
        BOOST_TEST_REQUIRE(get64(want, off - kFile) < get64(want, off));
}

BOOST_AUTO_TEST_CASE(blob_check_rejects_every_truncation_and_extension) {
    std::vector<kis_stat> stats = some_stats();
    Tree t(64);
    for (const std::string &p : kPaths)
        t.learn(p);
    std::vector<std::uint8_t> b = blob_of(stats.data(), t.get());
    BOOST_TEST_REQUIRE(check(b) == 0);
    std::vector<kis_stat> got(KIS_PARAM_COUNT);
    for (std::size_t len = 0; len < b.size(); len++) {
        // Each length in its own exactly sized buffer.
        std::vector<std::uint8_t> cut(b.begin(), b.begin() + len);
        BOOST_TEST(check(cut) == -EINVAL, "len " << len);
        Tree r(64);
        BOOST_TEST(kis_stat_blob_read(got.data(), r.get(), cut.data(), cut.size()) == -EINVAL,
                   "len " << len);
    }
    b.push_back(0);
    BOOST_TEST(check(b) == -EINVAL);
    b.resize(b.size() + kFile - 1);
    BOOST_TEST(check(b) == -EINVAL); // one record more than the header says
}

BOOST_AUTO_TEST_CASE(blob_check_rejects_malformed_fields) {
    std::vector<kis_stat> stats = some_stats();
    Tree t(64);
    for (const std::string &p : kPaths)
        t.learn(p);
    const std::vector<std::uint8_t> good = blob_of(stats.data(), t.get());
    const std::uint32_t n = t->n;
    BOOST_TEST_REQUIRE(check(good) == 0);
    BOOST_TEST_REQUIRE(n >= 4u);
    auto with32 = [&](std::size_t off, std::uint32_t v) {
        std::vector<std::uint8_t> b = good;
        put32(b, off, v);
        return b;
    };
    auto with64 = [&](std::size_t off, std::uint64_t v) {
        std::vector<std::uint8_t> b = good;
        put64(b, off, v);
        return b;
    };
    std::vector<std::pair<std::string, std::vector<std::uint8_t>>> bad = {
        {"magic", with32(0, 0x4154534c)},
        {"magic KSEQ", with32(0, 0x5145534b)},
        {"version 0", with32(4, 0)},
        {"version 2", with32(4, 2)},
        {"header size 24", with32(8, 24)},
        {"header size 0", with32(8, 0)},
        {"params - 1", with32(12, KIS_PARAM_COUNT - 1)},
        {"params + 1", with32(12, KIS_PARAM_COUNT + 1)},
        {"files + 1", with32(16, n + 1)},
        {"files - 1", with32(16, n - 1)},
        {"files max + 1", with32(16, KIS_FILE_TREE_MAX + 1)},
        {"files huge", with32(16, 0xffffffffu)},
    };
    // Stats: n == 0 with something else; mean or dev above 16 max; max above the clamp.
    std::size_t execs = kHeader + KIS_PARAM_EXECS * kParam; // learned nothing
    std::size_t cpu = kHeader + KIS_PARAM_CPU * kParam;
    BOOST_TEST_REQUIRE(get64(good, execs) == 0u);
    std::uint64_t cpu_max = get64(good, cpu + 24);
    bad.push_back({"n 0 mean 1", with64(execs + 8, 1)});
    bad.push_back({"n 0 dev 1", with64(execs + 16, 1)});
    bad.push_back({"n 0 max 1", with64(execs + 24, 1)});
    bad.push_back({"n 0 of a learned one", with64(cpu, 0)});
    bad.push_back({"mean > 16 max", with64(cpu + 8, cpu_max * 16 + 1)});
    bad.push_back({"dev > 16 max", with64(cpu + 16, cpu_max * 16 + 1)});
    bad.push_back({"max > clamp", [&] {
                       std::vector<std::uint8_t> b = with64(cpu + 24, KIS_STAT_SAMPLE_MAX + 1);
                       put64(b, cpu + 8, 0);
                       put64(b, cpu + 16, 0);
                       return b;
                   }()});
    bad.push_back({"max wraps", with64(cpu + 24, (1ull << 60) + 1)});
    // Files.
    std::size_t f0 = kFiles, f1 = kFiles + kFile, last = kFiles + (n - 1) * kFile;
    bad.push_back({"duplicate hash", with64(f1, get64(good, f0))});
    bad.push_back({"hash 0", with64(f0, 0)});
    bad.push_back({"unsorted", [&] {
                       std::vector<std::uint8_t> b = good;
                       std::swap_ranges(b.begin() + f0, b.begin() + f0 + kFile, b.begin() + f1);
                       return b;
                   }()});
    bad.push_back({"last below previous", with64(last, get64(good, last - kFile) - 1)});
    bad.push_back({"last equal previous", with64(last, get64(good, last - kFile))});
    for (std::uint32_t kind : {0u, 4u, 0xffffffffu})
        bad.push_back({"kind " + std::to_string(kind), with32(f0 + 8, kind)});
    // Children: files have none, an uncollapsed directory fewer than KIS_FTREE_COLLAPSE.
    std::size_t a_file = 0, a_dir = 0;
    for (std::size_t off = kFiles; off < good.size(); off += kFile) {
        if (get32(good, off + 8) == KIS_FTREE_FILE)
            a_file = off;
        if (get32(good, off + 8) == KIS_FTREE_DIR)
            a_dir = off;
    }
    BOOST_TEST_REQUIRE(a_file != 0u);
    BOOST_TEST_REQUIRE(a_dir != 0u);
    bad.push_back({"file with children", with32(a_file + 12, 1)});
    bad.push_back({"dir with 8 children", with32(a_dir + 12, KIS_FTREE_COLLAPSE)});

    for (const auto &[what, b] : bad) {
        BOOST_TEST(check(b) == -EINVAL, what);
        // Reading refuses it and changes nothing.
        Tree r(64);
        r.learn("/keep/me");
        std::vector<kis_stat> got(KIS_PARAM_COUNT);
        got[3] = {1, 16, 0, 1};
        BOOST_TEST(kis_stat_blob_read(got.data(), r.get(), b.data(), b.size()) == -EINVAL, what);
        BOOST_TEST(got[3].n == 1u, what);
        BOOST_TEST(got[1].n == 0u, what);
        BOOST_TEST(r.contains("/keep/me"), what);
    }
    // The edges that are allowed: a collapsed directory with any children, a directory of
    // no files, mean and dev of exactly 16 max, max at the clamp.
    std::vector<std::uint8_t> ok = with32(a_dir + 8, KIS_FTREE_DIR_ALL);
    put32(ok, a_dir + 12, 12345);
    BOOST_TEST(check(ok) == 0);
    BOOST_TEST(check(with32(a_dir + 12, 0)) == 0);
    std::vector<std::uint8_t> edge = with64(cpu + 24, KIS_STAT_SAMPLE_MAX);
    put64(edge, cpu + 8, KIS_STAT_SAMPLE_MAX * 16);
    put64(edge, cpu + 16, KIS_STAT_SAMPLE_MAX * 16);
    BOOST_TEST(check(edge) == 0);
}

BOOST_AUTO_TEST_CASE(blob_fits_one_netlink_attribute) {
    // A full tree: header + stats + 4000 entries, plus the 4-byte attribute header, under
    // the 16-bit attribute length.
    Tree t(KIS_FILE_TREE_MAX);
    for (std::uint32_t i = 0; t->n + 2 <= KIS_FILE_TREE_MAX; i++)
        BOOST_TEST_REQUIRE(t.learn("/d" + std::to_string(i / 7) + "/f" + std::to_string(i)) == 0);
    if (t->n < KIS_FILE_TREE_MAX)
        BOOST_TEST_REQUIRE(t.learn("/extra/") == 0);
    BOOST_TEST_REQUIRE(t->n == KIS_FILE_TREE_MAX);
    std::vector<kis_stat> stats = some_stats();
    std::vector<std::uint8_t> b = blob_of(stats.data(), t.get());
    BOOST_TEST(b.size() + 4 <= 0xffffu);
    BOOST_TEST(check(b) == 0);
    Tree r(KIS_FILE_TREE_MAX);
    std::vector<kis_stat> got(KIS_PARAM_COUNT);
    BOOST_TEST(kis_stat_blob_read(got.data(), r.get(), b.data(), b.size()) == 0);
    BOOST_TEST((blob_of(got.data(), r.get()) == b));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
