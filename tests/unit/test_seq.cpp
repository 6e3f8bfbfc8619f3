// The sequence model of the portable core (kernel/kis/core/kis_seq.c): logarithms, learning,
// scoring, smoothing, the exchange blob and its checks, capacity limits.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "kis_seq.h"

namespace kis::test {

namespace {

// A model in owned memory.
struct Model {
    std::unique_ptr<std::uint64_t[]> mem;
    kis_seq_model m{};

    Model(std::uint32_t k, std::uint32_t prefixes, std::uint32_t kgrams) {
        std::size_t bytes = kis_seq_model_bytes(k, prefixes, kgrams);
        BOOST_REQUIRE(bytes > 0);
        mem.reset(new std::uint64_t[(bytes + 7) / 8]);
        BOOST_REQUIRE(kis_seq_model_init(&m, mem.get(), bytes, k, prefixes, kgrams) == 0);
    }
    kis_seq_model *operator->() { return &m; }
    kis_seq_model *get() { return &m; }
};

// Learns one task's calls; returns the number of -ENOSPC results.
int learn(kis_seq_model *m, const std::vector<std::uint16_t> &calls) {
    kis_seq_recent r{};
    int full = 0;
    for (std::uint16_t c : calls) {
        int err = kis_seq_learn(m, &r, c);
        BOOST_REQUIRE(err == 0 || err == -ENOSPC);
        full += err == -ENOSPC;
    }
    return full;
}

// Raw scores of a task's calls (KIS_SEQ_NO_SCORE for the first k-1).
std::vector<std::uint32_t> scores(const kis_seq_model *m, const std::vector<std::uint16_t> &calls) {
    kis_seq_recent r{};
    std::vector<std::uint32_t> out;
    for (std::uint16_t c : calls)
        out.push_back(kis_seq_score(m, &r, c));
    return out;
}

// The same for calls given as 32-bit numbers, as the module passes them.
std::vector<std::uint32_t> scores_wide(const kis_seq_model *m,
                                       const std::vector<std::uint32_t> &calls) {
    kis_seq_recent r{};
    std::vector<std::uint32_t> out;
    for (std::uint32_t c : calls)
        out.push_back(kis_seq_score(m, &r, c));
    return out;
}

// The score of `call` after `prefix`, looked up directly.
std::uint32_t score_of(const kis_seq_model *m, std::vector<std::uint16_t> prefix,
                       std::uint16_t call) {
    const kis_seq_prefix *p = kis_seq_find(m, prefix.data());
    if (!p)
        return KIS_SEQ_SCORE_ONE;
    for (std::uint32_t i = p->head; i != KIS_SEQ_NONE; i = m->nexts[i].link)
        if (m->nexts[i].call == call)
            return m->nexts[i].score;
    return KIS_SEQ_SCORE_ONE;
}

using Counts = std::map<std::vector<std::uint16_t>, std::map<std::uint16_t, std::uint32_t>>;

// Everything a model holds, order-free.
Counts contents(const kis_seq_model *m) {
    Counts out;
    std::uint32_t n = m->k - 1;
    for (std::uint32_t i = 0; i < m->nprefix; i++) {
        std::vector<std::uint16_t> prefix(&m->calls[i * n], &m->calls[i * n] + n);
        auto &next = out[prefix];
        std::uint64_t total = 0;
        for (std::uint32_t j = m->prefixes[i].head; j != KIS_SEQ_NONE; j = m->nexts[j].link) {
            BOOST_TEST(next.count(m->nexts[j].call) == 0u);
            next[m->nexts[j].call] = m->nexts[j].count;
            total += m->nexts[j].count;
        }
        BOOST_TEST(total == m->prefixes[i].total);
        BOOST_TEST(next.size() == m->prefixes[i].nnext);
    }
    return out;
}

std::vector<std::uint8_t> blob_of(const kis_seq_model *m) {
    std::vector<std::uint8_t> b(kis_seq_blob_size(m));
    BOOST_REQUIRE(kis_seq_blob_write(m, b.data(), b.size()) == b.size());
    return b;
}

void put32(std::vector<std::uint8_t> &b, std::size_t off, std::uint32_t v) {
    for (int i = 0; i < 4; i++)
        b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put16(std::vector<std::uint8_t> &b, std::size_t off, std::uint32_t v) {
    b[off] = v & 0xff;
    b[off + 1] = (v >> 8) & 0xff;
}

// Hand-made blob, k=3: entries {prefix (2 calls), [(call, count)...]}.
std::vector<std::uint8_t>
make_blob(std::uint32_t k,
          const std::vector<std::pair<std::vector<std::uint16_t>,
                                      std::vector<std::pair<std::uint16_t, std::uint32_t>>>> &e) {
    std::uint32_t nn = 0;
    for (const auto &x : e)
        nn += static_cast<std::uint32_t>(x.second.size());
    std::vector<std::uint8_t> b(20);
    put32(b, 0, 0x5145534b);
    put32(b, 4, 1);
    put32(b, 8, k);
    put32(b, 12, static_cast<std::uint32_t>(e.size()));
    put32(b, 16, nn);
    for (const auto &[prefix, next] : e) {
        for (std::uint16_t c : prefix) {
            b.resize(b.size() + 2);
            put16(b, b.size() - 2, c);
        }
        b.resize(b.size() + 4);
        put32(b, b.size() - 4, static_cast<std::uint32_t>(next.size()));
        for (auto [call, count] : next) {
            b.resize(b.size() + 6);
            put16(b, b.size() - 6, call);
            put32(b, b.size() - 4, count);
        }
    }
    return b;
}

int check(const std::vector<std::uint8_t> &b) {
    std::uint32_t k, np, nn;
    return kis_seq_blob_check(b.data(), b.size(), &k, &np, &nn);
}

// The trace of the hand-computed examples: with k=3, after (1 2) came 3 twice and 4 once.
using Calls16 = std::vector<std::uint16_t>;
const Calls16 kOneTwo = {1, 2};

const std::vector<std::uint16_t> kSmall = {1, 2, 3, 1, 2, 4, 1, 2, 3};

} // namespace

BOOST_AUTO_TEST_SUITE(seq)

BOOST_AUTO_TEST_CASE(log2_q8_exact_points) {
    BOOST_TEST(kis_seq_log2_q8(0) == 0u);
    BOOST_TEST(kis_seq_log2_q8(1) == 0u);
    for (std::uint32_t n = 0; n < 32; n++)
        BOOST_TEST(kis_seq_log2_q8(1u << n) == n * 256, n);
    BOOST_TEST(kis_seq_log2_q8(0xffffffffu) == 32u * 256 - 1);
    BOOST_TEST(kis_seq_log2_q8(3) == 405u); // 256 * 1.58496 = 405.75
}

BOOST_AUTO_TEST_CASE(log2_q8_accuracy_and_monotonicity) {
    // floor(256 * log2(x)) to within one unit, never decreasing: exhaustively to 2^20, then
    // at random points and around every power of two.
    std::uint32_t prev = 0;
    int worst = 0;
    for (std::uint32_t x = 1; x <= (1u << 20); x++) {
        std::uint32_t got = kis_seq_log2_q8(x);
        int want = static_cast<int>(std::floor(256.0 * std::log2(static_cast<double>(x))));
        worst = std::max(worst, std::abs(static_cast<int>(got) - want));
        if (got < prev)
            BOOST_TEST_REQUIRE(got >= prev, "not monotonic at " << x);
        prev = got;
    }
    std::mt19937 rng(42);
    std::vector<std::uint32_t> xs;
    for (int i = 0; i < 200000; i++)
        xs.push_back(rng() | 1u);
    for (std::uint32_t n = 1; n < 32; n++)
        for (std::uint32_t d = 0; d < 4; d++) {
            xs.push_back((1u << n) - d);
            xs.push_back((1u << n) + d);
        }
    std::sort(xs.begin(), xs.end());
    prev = 0;
    for (std::uint32_t x : xs) {
        std::uint32_t got = kis_seq_log2_q8(x);
        int want = static_cast<int>(std::floor(256.0 * std::log2(static_cast<double>(x))));
        worst = std::max(worst, std::abs(static_cast<int>(got) - want));
        BOOST_TEST_REQUIRE(got >= prev, "not monotonic at " << x);
        prev = got;
    }
    BOOST_TEST(worst <= 1);
}

BOOST_AUTO_TEST_CASE(model_bytes_and_init_reject_bad_parameters) {
    BOOST_TEST(kis_seq_model_bytes(1, 10, 10) == 0u);
    BOOST_TEST(kis_seq_model_bytes(17, 10, 10) == 0u);
    BOOST_TEST(kis_seq_model_bytes(6, 0, 10) == 0u);
    BOOST_TEST(kis_seq_model_bytes(6, 10, 0) == 0u);
    BOOST_TEST(kis_seq_model_bytes(6, 0x400001, 10) == 0u);
    BOOST_TEST(kis_seq_model_bytes(6, 10, 0x400001) == 0u);
    BOOST_TEST(kis_seq_model_bytes(16, 0x400000, 0x400000) > 0u);
    std::size_t bytes = kis_seq_model_bytes(6, 10, 10);
    std::vector<std::uint64_t> mem(bytes / 8 + 1);
    kis_seq_model m;
    BOOST_TEST(kis_seq_model_init(&m, mem.data(), bytes - 1, 6, 10, 10) == -EINVAL);
    BOOST_TEST(kis_seq_model_init(&m, mem.data(), bytes, 6, 10, 10) == 0);
    BOOST_TEST(m.nprefix == 0u);
    BOOST_TEST(m.nnext == 0u);
}

BOOST_AUTO_TEST_CASE(learn_counts_kgrams) {
    Model m(3, 16, 16);
    BOOST_TEST(learn(m.get(), kSmall) == 0);
    kis_seq_finish(m.get());
    // k-grams: 1 2 3, 2 3 1, 3 1 2, 1 2 4, 2 4 1, 4 1 2, 1 2 3.
    Counts want = {{{1, 2}, {{3, 2}, {4, 1}}},
                   {{2, 3}, {{1, 1}}},
                   {{3, 1}, {{2, 1}}},
                   {{2, 4}, {{1, 1}}},
                   {{4, 1}, {{2, 1}}}};
    BOOST_TEST((contents(m.get()) == want));
    BOOST_TEST(m->nprefix == 5u);
    BOOST_TEST(m->nnext == 6u);
    BOOST_TEST(m->dropped == 0u);
    BOOST_TEST(kis_seq_find(m.get(), std::vector<std::uint16_t>{2, 1}.data()) == nullptr);
}

BOOST_AUTO_TEST_CASE(learn_rejects_out_of_range_calls) {
    Model m(3, 16, 16);
    kis_seq_recent r{};
    BOOST_TEST(kis_seq_learn(m.get(), &r, 0x10000) == -EINVAL);
    BOOST_TEST(r.n == 0u);
    BOOST_TEST(kis_seq_learn(m.get(), &r, 0xffff) == 0);
    BOOST_TEST(r.n == 1u);
}

BOOST_AUTO_TEST_CASE(scores_by_hand) {
    // After (1 2): 3 with p = 2/3, 4 with p = 1/3. Score = 1000 * log2(1/p) / 16, computed
    // with logarithms of 8 fractional bits and truncated:
    //   3: (log2q8(3) - log2q8(2)) = 405 - 256 = 149 -> 149000 / 4096 = 36 (exact: 36.6)
    //   4: (log2q8(3) - log2q8(1)) = 405            -> 405000 / 4096 = 98 (exact: 99.1)
    // p = 1 scores 0; a call never seen after its prefix, or an unseen prefix, 1000.
    Model m(3, 16, 16);
    learn(m.get(), kSmall);
    kis_seq_finish(m.get());
    BOOST_TEST(score_of(m.get(), {1, 2}, 3) == 36u);
    BOOST_TEST(score_of(m.get(), {1, 2}, 4) == 98u);
    BOOST_TEST(score_of(m.get(), {2, 3}, 1) == 0u);
    BOOST_TEST(score_of(m.get(), {1, 2}, 5) == 1000u);
    BOOST_TEST(score_of(m.get(), {9, 9}, 1) == 1000u);

    std::vector<std::uint32_t> got = scores(m.get(), {1, 2, 3, 1, 2, 4, 1, 2, 5, 9, 9, 9});
    std::vector<std::uint32_t> want = {
        KIS_SEQ_NO_SCORE, KIS_SEQ_NO_SCORE, 36, 0, 0, 98, 0, 0, 1000, 1000, 1000, 1000};
    BOOST_TEST(got == want, boost::test_tools::per_element());
    // Calls beyond 16 bits score as never seen and enter the history as 0xffff.
    std::vector<std::uint32_t> big = scores_wide(m.get(), {1, 2, 0x12345, 1, 2});
    BOOST_TEST(big[2] == 1000u);
    BOOST_TEST(big[3] == 1000u);
}

BOOST_AUTO_TEST_CASE(scores_follow_log_probability) {
    // One prefix, next calls with counts 1, 2, 4, ... 2^15: probability halves from call to
    // call, the score grows by 1000/16 per halving and reaches 1000 at p = 2^-16.
    Model m(2, 4, 64);
    std::uint16_t prefix = 7;
    std::uint64_t total = 0;
    for (std::uint16_t c = 0; c < 17; c++) {
        std::uint32_t count = 1u << (16 - c);
        total += count;
        BOOST_TEST_REQUIRE(kis_seq_add(m.get(), &prefix, c, count) == 0);
    }
    kis_seq_finish(m.get());
    for (std::uint16_t c = 0; c < 17; c++) {
        double p = static_cast<double>(1u << (16 - c)) / static_cast<double>(total);
        double exact = std::min(1000.0, 1000.0 * std::log2(1 / p) / 16);
        BOOST_TEST(std::abs(score_of(m.get(), {prefix}, c) - exact) <= 1.0, "call " << c);
    }
}

BOOST_AUTO_TEST_CASE(smoothing_is_a_moving_average) {
    kis_seq_window w{};
    // Window 3 over 36 0 0 1000: while fewer than 3 scores are in, the missing ones count
    // as 0 (normal), so a task's first calls do not weigh more than later ones.
    BOOST_TEST(kis_seq_smooth(&w, 36, 3) == 12u);
    BOOST_TEST(kis_seq_smooth(&w, 0, 3) == 12u);
    BOOST_TEST(kis_seq_smooth(&w, 0, 3) == 12u);
    BOOST_TEST(kis_seq_smooth(&w, 1000, 3) == 333u);
    BOOST_TEST(kis_seq_smooth(&w, 1000, 3) == 666u);
    BOOST_TEST(kis_seq_smooth(&w, 1000, 3) == 1000u);
    // A new window size restarts the average.
    BOOST_TEST(kis_seq_smooth(&w, 100, 2) == 50u);
    BOOST_TEST(kis_seq_smooth(&w, 100, 2) == 100u);
    // Out-of-range windows are clamped to 1..KIS_SEQ_WINDOW_MAX.
    kis_seq_window one{};
    BOOST_TEST(kis_seq_smooth(&one, 500, 0) == 500u);
    BOOST_TEST(kis_seq_smooth(&one, 100, 0) == 100u);
    kis_seq_window big{};
    std::mt19937 rng(3);
    std::vector<std::uint32_t> xs;
    for (int i = 0; i < 1000; i++) {
        xs.push_back(rng() % 1001);
        std::uint32_t got = kis_seq_smooth(&big, xs.back(), 100000);
        std::size_t n = std::min<std::size_t>(xs.size(), KIS_SEQ_WINDOW_MAX);
        std::uint64_t sum = 0;
        for (std::size_t j = xs.size() - n; j < xs.size(); j++)
            sum += xs[j];
        BOOST_TEST_REQUIRE(got == sum / KIS_SEQ_WINDOW_MAX);
    }
}

BOOST_AUTO_TEST_CASE(blob_round_trip) {
    Model m(3, 16, 16);
    learn(m.get(), kSmall);
    learn(m.get(), {5, 6, 7, 5, 6, 7});
    kis_seq_finish(m.get());
    std::vector<std::uint8_t> b = blob_of(m.get());
    BOOST_TEST(b.size() == 20u + m->nprefix * (2 * 2 + 4) + m->nnext * 6);
    std::uint32_t k, np, nn;
    BOOST_TEST(kis_seq_blob_check(b.data(), b.size(), &k, &np, &nn) == 0);
    BOOST_TEST(k == 3u);
    BOOST_TEST(np == m->nprefix);
    BOOST_TEST(nn == m->nnext);
    // Too small a buffer writes nothing.
    std::vector<std::uint8_t> small(b.size() - 1);
    BOOST_TEST(kis_seq_blob_write(m.get(), small.data(), small.size()) == 0u);

    Model r(3, np, nn);
    BOOST_TEST(kis_seq_blob_read(r.get(), b.data(), b.size()) == 0);
    BOOST_TEST((contents(r.get()) == contents(m.get())));
    // Read models are finished: the same scores.
    std::vector<std::uint16_t> t = {1, 2, 3, 1, 2, 4, 5, 6, 7, 1, 2, 9};
    BOOST_TEST(scores(r.get(), t) == scores(m.get(), t), boost::test_tools::per_element());
    // Read back and written again: the same entries (order may differ).
    std::vector<std::uint8_t> again = blob_of(r.get());
    BOOST_TEST(again.size() == b.size());
}

BOOST_AUTO_TEST_CASE(blob_read_needs_an_empty_model_of_the_right_size) {
    Model m(3, 16, 16);
    learn(m.get(), kSmall);
    std::vector<std::uint8_t> b = blob_of(m.get());
    Model wrong_k(4, 16, 16);
    BOOST_TEST(kis_seq_blob_read(wrong_k.get(), b.data(), b.size()) == -EINVAL);
    Model few_prefixes(3, m->nprefix - 1, 16);
    BOOST_TEST(kis_seq_blob_read(few_prefixes.get(), b.data(), b.size()) == -ENOSPC);
    Model few_kgrams(3, 16, m->nnext - 1);
    BOOST_TEST(kis_seq_blob_read(few_kgrams.get(), b.data(), b.size()) == -ENOSPC);
    Model used(3, 16, 16);
    learn(used.get(), {1, 1, 1});
    BOOST_TEST(kis_seq_blob_read(used.get(), b.data(), b.size()) == -EINVAL);
    // An empty model has an empty blob, which is valid.
    Model empty(3, 1, 1);
    std::vector<std::uint8_t> e = blob_of(empty.get());
    BOOST_TEST(e.size() == 20u);
    BOOST_TEST(check(e) == 0);
}

BOOST_AUTO_TEST_CASE(blob_check_rejects_every_truncation_and_extension) {
    Model m(3, 16, 16);
    learn(m.get(), kSmall);
    std::vector<std::uint8_t> b = blob_of(m.get());
    BOOST_TEST_REQUIRE(check(b) == 0);
    for (std::size_t len = 0; len < b.size(); len++) {
        std::uint32_t k, np, nn;
        BOOST_TEST(kis_seq_blob_check(b.data(), len, &k, &np, &nn) == -EINVAL, "len " << len);
        Model r(3, 16, 16);
        BOOST_TEST(kis_seq_blob_read(r.get(), b.data(), len) == -EINVAL, "len " << len);
    }
    b.push_back(0);
    BOOST_TEST(check(b) == -EINVAL);
}

BOOST_AUTO_TEST_CASE(blob_check_rejects_corrupted_headers_and_counts) {
    Model m(3, 16, 16);
    learn(m.get(), kSmall);
    const std::vector<std::uint8_t> good = blob_of(m.get());
    const std::uint32_t np = m->nprefix, nn = m->nnext;
    auto with = [&](std::size_t off, std::uint32_t v) {
        std::vector<std::uint8_t> b = good;
        put32(b, off, v);
        return b;
    };
    BOOST_TEST(check(with(0, 0x5145534c)) == -EINVAL); // magic
    BOOST_TEST(check(with(4, 2)) == -EINVAL);          // version
    BOOST_TEST(check(with(4, 0)) == -EINVAL);
    BOOST_TEST(check(with(8, 1)) == -EINVAL); // k below KIS_SEQ_K_MIN
    BOOST_TEST(check(with(8, 17)) == -EINVAL);
    BOOST_TEST(check(with(8, 4)) == -EINVAL); // another k: the sizes no longer add up
    BOOST_TEST(check(with(12, np + 1)) == -EINVAL);
    BOOST_TEST(check(with(12, np - 1)) == -EINVAL);
    BOOST_TEST(check(with(12, nn + 1)) == -EINVAL); // more prefixes than k-grams
    BOOST_TEST(check(with(16, nn + 1)) == -EINVAL);
    BOOST_TEST(check(with(16, nn - 1)) == -EINVAL);
    BOOST_TEST(check(with(12, 0x400001)) == -EINVAL);
    BOOST_TEST(check(with(16, 0xffffffff)) == -EINVAL);

    // Per-prefix counts: the first prefix's number of next calls, then its first count.
    BOOST_TEST(check(make_blob(3, {{{1, 2}, {{3, 2}, {4, 1}}}})) == 0);
    std::vector<std::uint8_t> b = make_blob(3, {{{1, 2}, {{3, 2}, {4, 1}}}});
    put32(b, 24, 0); // no next calls
    BOOST_TEST(check(b) == -EINVAL);
    put32(b, 24, 3); // more than there are
    BOOST_TEST(check(b) == -EINVAL);
    BOOST_TEST(check(make_blob(3, {{{1, 2}, {{3, 0}}}})) == -EINVAL); // a count of 0
    // Counts of a prefix add up beyond 32 bits.
    BOOST_TEST(check(make_blob(3, {{{1, 2}, {{3, 0xffffffff}}}})) == 0);
    BOOST_TEST(check(make_blob(3, {{{1, 2}, {{3, 0xffffffff}, {4, 1}}}})) == -EINVAL);
    BOOST_TEST(check(make_blob(3, {{{1, 2}, {{3, 0x80000000}, {4, 0x7fffffff}}}})) == 0);
}

BOOST_AUTO_TEST_CASE(blob_read_rejects_duplicates) {
    std::vector<std::uint8_t> dup_prefix =
        make_blob(3, {{{1, 2}, {{3, 1}}}, {{2, 3}, {{1, 1}}}, {{1, 2}, {{4, 1}}}});
    std::vector<std::uint8_t> dup_next = make_blob(3, {{{1, 2}, {{3, 1}, {4, 2}, {3, 5}}}});
    for (const auto &b : {dup_prefix, dup_next}) {
        std::uint32_t k, np, nn;
        BOOST_TEST_REQUIRE(kis_seq_blob_check(b.data(), b.size(), &k, &np, &nn) == 0);
        Model r(k, np, nn);
        BOOST_TEST(kis_seq_blob_read(r.get(), b.data(), b.size()) == -EINVAL);
    }
    std::vector<std::uint8_t> fine = make_blob(3, {{{1, 2}, {{3, 1}, {4, 2}}}, {{2, 1}, {{3, 1}}}});
    Model r(3, 2, 3);
    BOOST_TEST(kis_seq_blob_read(r.get(), fine.data(), fine.size()) == 0);
}

BOOST_AUTO_TEST_CASE(capacity_limits_drop_and_count) {
    // Room for 2 prefixes and 3 k-grams.
    Model m(3, 2, 3);
    kis_seq_recent r{};
    int results[7];
    for (int i = 0; i < 7; i++)
        results[i] = kis_seq_learn(m.get(), &r, static_cast<std::uint16_t>(kSmall[i]));
    // 1 2 | 3 (new prefix 1 2) | 1 (new 2 3) | 2 (prefix 3 1: no room) | 4 (1 2 -> 4: third
    // k-gram) | 1 (prefix 2 4: no room) | 2 (prefix 4 1: no room).
    std::vector<int> got(results, results + 7);
    std::vector<int> want = {0, 0, 0, 0, -ENOSPC, 0, -ENOSPC};
    BOOST_TEST(got == want, boost::test_tools::per_element());
    BOOST_TEST(m->nprefix == 2u);
    BOOST_TEST(m->nnext == 3u);
    BOOST_TEST(m->dropped == 2u);
    // Known k-grams still count when full.
    BOOST_TEST(learn(m.get(), {1, 2, 3, 1, 2, 4}) == 1); // 1 2 3, 2 3 1, (3 1 2), 1 2 4
    BOOST_TEST(m->dropped == 3u);
    Counts want_counts = {{{1, 2}, {{3, 2}, {4, 2}}}, {{2, 3}, {{1, 2}}}};
    BOOST_TEST((contents(m.get()) == want_counts));
    // A new prefix is not added while no k-gram fits: room for prefixes, none for k-grams.
    Model n(3, 8, 1);
    BOOST_TEST(learn(n.get(), {1, 2, 3, 4}) == 1);
    BOOST_TEST(n->nprefix == 1u);
    // kis_seq_add when full.
    std::uint16_t pre[2] = {7, 7};
    BOOST_TEST(kis_seq_add(n.get(), pre, 7, 5) == -ENOSPC);
    BOOST_TEST(n->dropped == 2u);
}

BOOST_AUTO_TEST_CASE(add_checks_and_halves_on_overflow) {
    Model m(3, 4, 8);
    std::uint16_t pre[2] = {1, 2};
    BOOST_TEST(kis_seq_add(m.get(), pre, 3, 0) == -EINVAL);
    BOOST_TEST(kis_seq_add(m.get(), pre, 0x10000, 1) == -EINVAL);
    BOOST_TEST(m->nprefix == 0u);
    BOOST_TEST(kis_seq_add(m.get(), pre, 3, 0xc0000000u) == 0);
    BOOST_TEST(kis_seq_add(m.get(), pre, 4, 0x3fffffffu) == 0); // total 2^32 - 1
    BOOST_TEST(kis_seq_add(m.get(), pre, 3, 2) == 0);           // overflows: all counts halve first
    Counts c = contents(m.get());
    BOOST_TEST(c[kOneTwo][3] == 0x60000001u);
    BOOST_TEST(c[kOneTwo][4] == 0x20000000u);
    // A new call after a saturated prefix gets a count of at least 1, and the blob stays valid.
    BOOST_TEST(kis_seq_add(m.get(), pre, 5, 0xffffffffu) == 0);
    c = contents(m.get());
    BOOST_TEST(c[kOneTwo][5] >= 1u);
    for (auto [call, count] : c[kOneTwo])
        BOOST_TEST(count >= 1u, "call " << call);
    BOOST_TEST(check(blob_of(m.get())) == 0);
    kis_seq_finish(m.get());
    // Halved to 0x30000001, 0x10000000 and 0 before 0x80000000 (halved too) was added: 5
    // has 2/3 of all, log2(3/2) = 0.585 bits, score 36.
    BOOST_TEST(c[kOneTwo][5] == 0x80000000u);
    BOOST_TEST(score_of(m.get(), {1, 2}, 5) == 36u);
}

BOOST_AUTO_TEST_CASE(learning_long_runs_keeps_the_blob_valid) {
    // A prefix seen more than 2^32 times (a task that loops on one call for hours).
    Model m(2, 4, 8);
    std::uint16_t pre = 0;
    for (int i = 0; i < 5; i++)
        BOOST_TEST_REQUIRE(kis_seq_add(m.get(), &pre, 0, 0xffffffffu) == 0);
    kis_seq_recent r{};
    for (int i = 0; i < 3; i++)
        BOOST_TEST(kis_seq_learn(m.get(), &r, 0) == 0);
    BOOST_TEST(kis_seq_learn(m.get(), &r, 1) == 0);
    BOOST_TEST(check(blob_of(m.get())) == 0);
    BOOST_TEST(contents(m.get())[Calls16{0}][1] == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- differential test against a plain C++ model ----------------------------------------------

namespace {

// The reference: k-gram counts in a std::map, scores in floating point.
struct Reference {
    std::uint32_t k;
    Counts counts;

    void learn(const std::vector<std::uint16_t> &t) {
        for (std::size_t i = k - 1; i < t.size(); i++)
            counts[std::vector<std::uint16_t>(t.begin() + (i - (k - 1)), t.begin() + i)][t[i]]++;
    }
    // The exact score; the core's is within 1 of it (8-bit logarithms, truncation).
    double score(const std::vector<std::uint16_t> &prefix, std::uint16_t call) const {
        auto p = counts.find(prefix);
        if (p == counts.end())
            return 1000;
        auto c = p->second.find(call);
        if (c == p->second.end())
            return 1000;
        double total = 0;
        for (auto [_, n] : p->second)
            total += n;
        return std::min(1000.0, 1000.0 * std::log2(total / c->second) / KIS_SEQ_LOG_SPAN);
    }
};

// Random traces with structure: a Markov chain over a small alphabet whose transitions
// prefer a few successors, so that k-grams repeat with varied probabilities.
std::vector<std::uint16_t> random_trace(std::mt19937 &rng, std::size_t len, unsigned alphabet,
                                        unsigned noise_percent) {
    std::vector<std::uint16_t> t;
    std::uint16_t c = static_cast<std::uint16_t>(rng() % alphabet);
    for (std::size_t i = 0; i < len; i++) {
        t.push_back(c);
        if (rng() % 100 < noise_percent)
            c = static_cast<std::uint16_t>(rng() % alphabet);
        else
            c = static_cast<std::uint16_t>((c * 7 + 1 + (rng() % 3 == 0 ? c % 3 : 0)) % alphabet);
    }
    return t;
}

} // namespace

BOOST_AUTO_TEST_SUITE(seq_differential)

BOOST_AUTO_TEST_CASE(model_equals_reference_on_random_traces) {
    std::mt19937 rng(2024);
    for (std::uint32_t k : {2u, 3u, 6u, 9u, 16u}) {
        BOOST_TEST_CONTEXT("k=" << k) {
            Reference ref{k, {}};
            Model m(k, 1 << 16, 1 << 16);
            std::vector<std::vector<std::uint16_t>> traces;
            for (int t = 0; t < 20; t++) {
                traces.push_back(random_trace(rng, 50 + rng() % 2000, 12 + t % 5, 10));
                ref.learn(traces.back());
                BOOST_TEST_REQUIRE(learn(m.get(), traces.back()) == 0);
            }
            kis_seq_finish(m.get());
            BOOST_TEST_REQUIRE((contents(m.get()) == ref.counts));

            // Scores of new traces, unseen k-grams included, call by call; then the smoothed
            // scores against a plain moving average of the core's scores.
            double worst = 0;
            for (int t = 0; t < 10; t++) {
                std::vector<std::uint16_t> test = random_trace(rng, 1000, 14, 20);
                std::vector<std::uint32_t> got = scores(m.get(), test);
                kis_seq_window w{};
                std::vector<std::uint32_t> seen;
                for (std::size_t i = 0; i < test.size(); i++) {
                    if (i < k - 1) {
                        BOOST_TEST_REQUIRE(got[i] == KIS_SEQ_NO_SCORE);
                        continue;
                    }
                    std::vector<std::uint16_t> prefix(test.begin() + (i - (k - 1)),
                                                      test.begin() + i);
                    double want = ref.score(prefix, test[i]);
                    if (want == 1000)
                        BOOST_TEST_REQUIRE(got[i] == 1000u);
                    worst = std::max(worst, std::abs(got[i] - want));
                    seen.push_back(got[i]);
                    std::uint32_t smooth = kis_seq_smooth(&w, got[i], 7);
                    std::size_t n = std::min<std::size_t>(seen.size(), 7);
                    std::uint64_t sum = 0;
                    for (std::size_t j = seen.size() - n; j < seen.size(); j++)
                        sum += seen[j];
                    BOOST_TEST_REQUIRE(smooth == sum / 7);
                }
            }
            // Two logarithms of 8 fractional bits (each within 1/256 bit) and a truncated
            // division: the core's score is within 1.5 of the exact one.
            BOOST_TEST(worst < 1.5);

            // Through the blob and back: the same model.
            std::vector<std::uint8_t> b = blob_of(m.get());
            std::uint32_t bk, np, nn;
            BOOST_TEST_REQUIRE(kis_seq_blob_check(b.data(), b.size(), &bk, &np, &nn) == 0);
            Model r(bk, np, nn);
            BOOST_TEST_REQUIRE(kis_seq_blob_read(r.get(), b.data(), b.size()) == 0);
            BOOST_TEST((contents(r.get()) == ref.counts));
        }
    }
}

BOOST_AUTO_TEST_CASE(random_blobs_never_crash_the_checks) {
    // Random corruption of a valid blob: check and read either accept it (and then the model
    // is consistent) or refuse it.
    std::mt19937 rng(99);
    Model m(4, 256, 512);
    learn(m.get(), random_trace(rng, 3000, 10, 10));
    const std::vector<std::uint8_t> good = blob_of(m.get());
    int accepted = 0;
    for (int i = 0; i < 3000; i++) {
        std::vector<std::uint8_t> b = good;
        int flips = 1 + rng() % 3;
        for (int f = 0; f < flips; f++)
            b[rng() % b.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        std::uint32_t k, np, nn;
        if (kis_seq_blob_check(b.data(), b.size(), &k, &np, &nn) != 0)
            continue;
        Model r(k, std::max(np, 1u), std::max(nn, 1u));
        if (kis_seq_blob_read(r.get(), b.data(), b.size()) == 0) {
            accepted++;
            contents(r.get()); // consistent totals and counts
        }
    }
    BOOST_TEST_MESSAGE(accepted << " of 3000 corrupted blobs were still valid models");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
