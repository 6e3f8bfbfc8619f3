// Profiles (kisctl/profile_file.*): learning with growth, canonical bytes whatever the order of
// learning, the file format and every way a damaged file is refused, scoring like the module.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>

#include <boost/crc.hpp>

#include "profile_file.hpp"
#include "test_profile_util.hpp"

namespace kis::test {

namespace {

using Calls = std::vector<std::uint16_t>;

std::vector<Calls> random_traces(unsigned seed, int n, std::size_t len, unsigned alphabet) {
    std::mt19937 rng(seed);
    std::vector<Calls> out;
    for (int t = 0; t < n; t++) {
        Calls c;
        std::uint16_t x = static_cast<std::uint16_t>(rng() % alphabet);
        std::size_t l = len / 2 + rng() % len;
        for (std::size_t i = 0; i < l; i++) {
            c.push_back(x);
            x = rng() % 8 == 0 ? static_cast<std::uint16_t>(rng() % alphabet)
                               : static_cast<std::uint16_t>((x * 5 + 3) % alphabet);
        }
        out.push_back(std::move(c));
    }
    return out;
}

Profile learned(std::uint32_t k, const std::vector<Calls> &traces) {
    Result<Profile> p = Profile::create(k);
    BOOST_TEST_REQUIRE(p.ok(), why(p));
    for (const Calls &t : traces) {
        Result<void> r = p->learn(t);
        BOOST_TEST_REQUIRE(r.ok(), why(r));
    }
    return std::move(*p);
}

std::uint32_t get32(const std::vector<std::uint8_t> &b, std::size_t off) {
    return b[off] | b[off + 1] << 8 | b[off + 2] << 16 |
           static_cast<std::uint32_t>(b[off + 3]) << 24;
}
void put32(std::vector<std::uint8_t> &b, std::size_t off, std::uint32_t v) {
    for (int i = 0; i < 4; i++)
        b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put64(std::vector<std::uint8_t> &b, std::size_t off, std::uint64_t v) {
    put32(b, off, static_cast<std::uint32_t>(v));
    put32(b, off + 4, static_cast<std::uint32_t>(v >> 32));
}
// Recomputes the body checksum after a deliberate change.
void reseal(std::vector<std::uint8_t> &file) {
    boost::crc_32_type crc;
    crc.process_bytes(file.data() + kProfileHeaderSize, file.size() - kProfileHeaderSize);
    put64(file, 16, file.size() - kProfileHeaderSize);
    put32(file, 24, crc.checksum());
}

std::string parse_error(const std::vector<std::uint8_t> &file) {
    Result<Profile> p = Profile::parse(file, "p.kis");
    BOOST_TEST_REQUIRE(!p.ok());
    return p.error().message;
}

} // namespace

BOOST_AUTO_TEST_SUITE(profile)

BOOST_AUTO_TEST_CASE(create_checks_k) {
    BOOST_TEST(!Profile::create(1).ok());
    BOOST_TEST(!Profile::create(17).ok());
    Result<Profile> p = Profile::create(17);
    BOOST_TEST(p.error().message == "k must be 2..16, not 17");
    Result<Profile> q = Profile::create(6);
    BOOST_TEST_REQUIRE(q.ok());
    BOOST_TEST(q->k() == 6u);
    BOOST_TEST(q->kgrams() == 0u);
    BOOST_TEST(q->total() == 0u);
}

BOOST_AUTO_TEST_CASE(learns_traces_per_pid) {
    Result<TraceFile> f = read_trace_file(trace("small.imsafe"));
    BOOST_TEST_REQUIRE(f.ok());
    Result<Profile> p = Profile::create(3);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST_REQUIRE(p->learn(std::vector<TraceFile>{*f}).ok());
    // PID 100: 1 2 3 1 2 4 1 2 3 (7 k-grams, 5 prefixes); PID 200: 5 6 7 5 6 7 (4 k-grams,
    // 3 prefixes). No k-gram spans the two PIDs.
    BOOST_TEST(p->prefixes() == 8u);
    BOOST_TEST(p->kgrams() == 9u);
    BOOST_TEST(p->total() == 11u);
    std::vector<ProfileEntry> e = p->entries();
    BOOST_TEST_REQUIRE(e.size() == 8u);
    BOOST_TEST(e[0].prefix == (Calls{1, 2}), boost::test_tools::per_element());
    BOOST_TEST(e[0].total == 3u);
    BOOST_TEST_REQUIRE(e[0].next.size() == 2u);
    BOOST_TEST(e[0].next[0].call == 3u);
    BOOST_TEST(e[0].next[0].count == 2u);
    BOOST_TEST(e[0].next[0].score == 36u);
    BOOST_TEST(e[0].next[1].call == 4u);
    BOOST_TEST(e[0].next[1].score == 98u);
    BOOST_TEST(e[7].prefix == (Calls{7, 5}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(grows_without_dropping) {
    // Thousands of distinct k-grams from a profile that starts small: it grows many times and
    // ends equal to one model made big enough at once.
    std::vector<Calls> traces = random_traces(1, 30, 4000, 3000);
    Profile p = learned(6, traces);
    BOOST_TEST(p.kgrams() > 10000u);
    BOOST_TEST(p.model().dropped == 0u);
    BOOST_TEST(p.model().prefix_cap > 256u);

    std::size_t bytes = kis_seq_model_bytes(6, 1 << 17, 1 << 17);
    std::vector<std::uint64_t> mem(bytes / 8 + 1);
    kis_seq_model big;
    BOOST_TEST_REQUIRE(kis_seq_model_init(&big, mem.data(), bytes, 6, 1 << 17, 1 << 17) == 0);
    for (const Calls &t : traces) {
        kis_seq_recent r{};
        for (std::uint16_t c : t)
            BOOST_TEST_REQUIRE(kis_seq_learn(&big, &r, c) == 0);
    }
    std::vector<std::uint8_t> raw(kis_seq_blob_size(&big));
    kis_seq_blob_write(&big, raw.data(), raw.size());
    Result<Profile> same = Profile::from_blob(raw, "big");
    BOOST_TEST_REQUIRE(same.ok(), why(same));
    BOOST_TEST(same->blob() == p.blob());
    BOOST_TEST(same->total() == p.total());
}

BOOST_AUTO_TEST_CASE(canonical_bytes_whatever_the_learning_order) {
    std::vector<Calls> traces = random_traces(2, 12, 800, 40);
    std::vector<std::uint8_t> want = learned(5, traces).file_bytes();
    std::mt19937 rng(3);
    for (int round = 0; round < 5; round++) {
        std::shuffle(traces.begin(), traces.end(), rng);
        BOOST_TEST(learned(5, traces).file_bytes() == want);
    }
    // Learned in parts and merged.
    std::vector<Calls> a(traces.begin(), traces.begin() + 5), b(traces.begin() + 5, traces.end());
    Profile pa = learned(5, a);
    Profile pb = learned(5, b);
    BOOST_TEST_REQUIRE(pa.merge(pb).ok());
    BOOST_TEST(pa.file_bytes() == want);
    // Interleaved the way the kernel sees calls: each task with its own history, the calls
    // of all tasks mixed in time, into one core model.
    std::size_t bytes = kis_seq_model_bytes(5, 4096, 8192);
    std::vector<std::uint64_t> mem(bytes / 8 + 1);
    kis_seq_model m;
    BOOST_TEST_REQUIRE(kis_seq_model_init(&m, mem.data(), bytes, 5, 4096, 8192) == 0);
    std::vector<kis_seq_recent> recent(traces.size());
    std::vector<std::size_t> pos(traces.size());
    for (bool more = true; more;) {
        more = false;
        for (std::size_t t = 0; t < traces.size(); t++) {
            std::size_t n = rng() % 4;
            for (; n && pos[t] < traces[t].size(); n--)
                kis_seq_learn(&m, &recent[t], traces[t][pos[t]++]);
            more |= pos[t] < traces[t].size();
        }
    }
    std::vector<std::uint8_t> raw(kis_seq_blob_size(&m));
    kis_seq_blob_write(&m, raw.data(), raw.size());
    Result<Profile> kernel = Profile::from_blob(raw, "kernel");
    BOOST_TEST_REQUIRE(kernel.ok());
    BOOST_TEST(kernel->file_bytes() == want);
    // The canonical blob is a valid core blob with the core's header.
    std::vector<std::uint8_t> blob = kernel->blob();
    BOOST_TEST(blob.size() == raw.size());
    BOOST_TEST(std::equal(blob.begin(), blob.begin() + 20, raw.begin()));
    BOOST_TEST(blob != raw); // the kernel's order is not canonical
}

BOOST_AUTO_TEST_CASE(canonical_order_is_sorted) {
    Profile p = learned(3, {{9, 8, 7, 9, 8, 1, 9, 8, 7}, {1, 2, 3}, {9, 8, 0}});
    std::vector<std::uint8_t> b = p.blob();
    // Prefixes: (1 2) (1 9) (7 9) (8 1) (8 7) (9 8); after (9 8): 0, 1, 7 in that order.
    std::size_t off = 20;
    std::vector<Calls> prefixes;
    std::vector<std::uint16_t> after98;
    for (std::uint32_t i = 0; i < get32(b, 12); i++) {
        Calls pre = {static_cast<std::uint16_t>(b[off] | b[off + 1] << 8),
                     static_cast<std::uint16_t>(b[off + 2] | b[off + 3] << 8)};
        std::uint32_t n = get32(b, off + 4);
        off += 8;
        for (std::uint32_t j = 0; j < n; j++, off += 6)
            if (pre == Calls{9, 8})
                after98.push_back(static_cast<std::uint16_t>(b[off] | b[off + 1] << 8));
        prefixes.push_back(pre);
    }
    BOOST_TEST(off == b.size());
    std::vector<Calls> want = {{1, 2}, {1, 9}, {7, 9}, {8, 1}, {8, 7}, {9, 8}};
    BOOST_TEST((prefixes == want));
    BOOST_TEST(after98 == (Calls{0, 1, 7}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(file_round_trip) {
    ScratchDir dir;
    Profile p = learned(6, random_traces(4, 5, 2000, 30));
    std::string path = dir.file("p.kis");
    BOOST_TEST_REQUIRE(p.write(path).ok());
    std::vector<std::uint8_t> bytes = read_bytes(path);
    BOOST_TEST(bytes == p.file_bytes());
    // Layout: magic, version 1, k, body length, CRC-32, 1 section; the section header
    // (type 1, required, length) and the blob, padded to 8 bytes.
    BOOST_TEST(std::string(bytes.begin(), bytes.begin() + 8) == "KISPROF\n");
    BOOST_TEST(get32(bytes, 8) == 1u);
    BOOST_TEST(get32(bytes, 12) == 6u);
    BOOST_TEST(get32(bytes, 16) == bytes.size() - 32);
    BOOST_TEST(get32(bytes, 20) == 0u);
    BOOST_TEST(get32(bytes, 28) == 1u);
    BOOST_TEST(get32(bytes, 32) == 1u);
    BOOST_TEST(get32(bytes, 36) == 1u);
    std::vector<std::uint8_t> blob = p.blob();
    BOOST_TEST(get32(bytes, 40) == blob.size());
    BOOST_TEST(std::equal(blob.begin(), blob.end(), bytes.begin() + 48));
    BOOST_TEST(bytes.size() % 8 == 0u);

    Result<Profile> back = Profile::read(path);
    BOOST_TEST_REQUIRE(back.ok(), why(back));
    BOOST_TEST(back->file_bytes() == bytes);
    BOOST_TEST(back->total() == p.total());

    // Refuses to overwrite, unless asked; the old file stays whole on refusal.
    Profile other = learned(6, random_traces(5, 2, 500, 30));
    Result<void> again = other.write(path);
    BOOST_TEST_REQUIRE(!again.ok());
    BOOST_TEST(again.error().message ==
               path + ": the file already exists; choose another name or use --force to "
                      "overwrite it");
    BOOST_TEST(read_bytes(path) == bytes);
    BOOST_TEST_REQUIRE(other.write(path, true).ok());
    BOOST_TEST(read_bytes(path) == other.file_bytes());
    int files = 0; // no temporary file left behind
    for (const auto &entry :
         std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
        (void)entry;
        files++;
    }
    BOOST_TEST(files == 1);
    Result<void> nodir = other.write(dir.file("no/such.kis"));
    BOOST_TEST(!nodir.ok());
}

BOOST_AUTO_TEST_CASE(damaged_files_are_refused) {
    Profile p = learned(4, random_traces(6, 3, 600, 20));
    const std::vector<std::uint8_t> good = p.file_bytes();
    BOOST_TEST_REQUIRE(Profile::parse(good, "p.kis").ok());

    // A flipped bit anywhere in the body: the checksum.
    for (std::size_t i = kProfileHeaderSize; i < good.size(); i += 7) {
        std::vector<std::uint8_t> b = good;
        b[i] ^= 0x10;
        BOOST_TEST(parse_error(b) == "p.kis: checksum mismatch: the file is damaged", "byte " << i);
    }
    std::vector<std::uint8_t> b = good;
    b[24] ^= 1; // the stored checksum itself
    BOOST_TEST(parse_error(b) == "p.kis: checksum mismatch: the file is damaged");

    // Every truncation.
    for (std::size_t len = 0; len < good.size(); len++) {
        std::vector<std::uint8_t> t(good.begin(), good.begin() + len);
        std::string e = parse_error(t);
        if (len < 8)
            BOOST_TEST(e == "p.kis: not a KIS profile (it does not start with \"KISPROF\")");
        else if (len < 32)
            BOOST_TEST(e == "p.kis: truncated: " + std::to_string(len) +
                                " bytes, shorter than the 32-byte header: the file is damaged");
        else
            BOOST_TEST(e == "p.kis: truncated: the header announces " +
                                std::to_string(good.size() - 32) + " bytes of data, the file has " +
                                std::to_string(len - 32) + ": the file is damaged");
    }
    b = good;
    b.push_back(0);
    BOOST_TEST(parse_error(b) ==
               "p.kis: 1 stray bytes after the end of the profile: the file is damaged");

    b = good;
    b[0] = 'X';
    BOOST_TEST(parse_error(b) == "p.kis: not a KIS profile (it does not start with \"KISPROF\")");
    BOOST_TEST(parse_error(std::vector<std::uint8_t>{'h', 'e', 'l', 'l', 'o', '\n', 'w', 'o', 'r',
                                                     'l', 'd', '\n'}) ==
               "p.kis: not a KIS profile (it does not start with \"KISPROF\")");

    b = good;
    put32(b, 8, 2);
    BOOST_TEST(parse_error(b) == "p.kis: profile format version 2 is not supported (this kisctl "
                                 "reads version 1); use a newer kisctl");
    put32(b, 8, 0);
    BOOST_TEST(parse_error(b) ==
               "p.kis: profile format version 0 is not supported (this kisctl reads version 1)");

    b = good;
    put32(b, 12, 5); // k is in the header, outside the checksum
    BOOST_TEST(parse_error(b) ==
               "p.kis: the header says k=5 but the sequence model has k=4: the file is damaged");

    b = good;
    put32(b, 28, 2);
    BOOST_TEST(parse_error(b) ==
               "p.kis: the header announces 2 sections, the file holds 1: the file is damaged");

    // Damage that a writer (not the disk) could do: checksums fixed up after the change.
    b = good;
    put64(b, 40, get32(good, 40) + 1000); // section longer than the body
    reseal(b);
    BOOST_TEST(parse_error(b) == "p.kis: section 1 runs past the end: the file is damaged");
    b = good;
    put32(b, 32, 7); // the sequence section is gone (an optional unknown section instead)
    put32(b, 36, 0);
    reseal(b);
    BOOST_TEST(parse_error(b) == "p.kis: no sequence model section: the file is damaged");
    b = good;
    b[48 + 12] ^= 1; // the blob's prefix count
    reseal(b);
    BOOST_TEST(parse_error(b) == "p.kis: the sequence model is malformed (sizes, counts or "
                                 "version do not add up)");
}

BOOST_AUTO_TEST_CASE(blob_duplicates_are_refused) {
    // A blob (as the module might send) with a prefix listed twice.
    std::vector<std::uint8_t> b(20);
    put32(b, 0, 0x5145534b);
    put32(b, 4, 1);
    put32(b, 8, 2);
    put32(b, 12, 2);
    put32(b, 16, 2);
    for (int i = 0; i < 2; i++) {
        std::vector<std::uint8_t> e = {7, 0, 1, 0, 0, 0, 3, 0, 1, 0, 0, 0};
        b.insert(b.end(), e.begin(), e.end());
    }
    Result<Profile> p = Profile::from_blob(b, "cell httpd");
    BOOST_TEST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message ==
               "cell httpd: the sequence model lists a run of calls or a k-gram twice");
}

BOOST_AUTO_TEST_CASE(unknown_sections) {
    Profile p = learned(3, {{1, 2, 3, 1, 2, 4}});
    std::vector<std::uint8_t> good = p.file_bytes();
    // An optional section of a later version is skipped.
    std::vector<std::uint8_t> b = good;
    std::vector<std::uint8_t> extra(16 + 5, 0xab);
    put32(extra, 0, 42);
    put32(extra, 4, 0);
    put64(extra, 8, 5);
    b.insert(b.end(), extra.begin(), extra.end());
    b.resize(b.size() + 3, 0); // padding to 8
    put32(b, 28, 2);
    reseal(b);
    Result<Profile> q = Profile::parse(b, "p.kis");
    BOOST_TEST_REQUIRE(q.ok(), why(q));
    BOOST_TEST(q->file_bytes() == good); // written back with the sections kisctl knows
    // A required one is refused.
    put32(b, good.size() + 4, kSectionRequired);
    reseal(b);
    BOOST_TEST(parse_error(b) == "p.kis: holds a section of type 42 that this kisctl does not "
                                 "know and the profile needs; use a newer kisctl");
    // Two sequence sections.
    b = good;
    b.insert(b.end(), good.begin() + 32, good.end());
    put32(b, 28, 2);
    reseal(b);
    BOOST_TEST(parse_error(b) == "p.kis: two sequence model sections: the file is damaged");
}

BOOST_AUTO_TEST_CASE(read_errors) {
    Result<Profile> p = Profile::read("/nonexistent/p.kis");
    BOOST_TEST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message == "/nonexistent/p.kis: cannot open: No such file or directory");
    p = Profile::read(traces_dir().string());
    BOOST_TEST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message == traces_dir().string() + ": not a regular file");
    p = Profile::read(trace("small.stide"));
    BOOST_TEST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().message ==
               trace("small.stide") + ": not a KIS profile (it does not start with \"KISPROF\")");
}

BOOST_AUTO_TEST_CASE(merge_adds_counts) {
    Profile a = learned(3, {{1, 2, 3, 1, 2, 3}});
    Profile b = learned(3, {{1, 2, 4}});
    BOOST_TEST_REQUIRE(a.merge(b).ok());
    std::vector<ProfileEntry> e = a.entries();
    BOOST_TEST_REQUIRE(e[0].prefix == (Calls{1, 2}));
    BOOST_TEST(e[0].total == 3u);
    BOOST_TEST(e[0].next[0].count == 2u);
    BOOST_TEST(e[0].next[1].count == 1u);
    BOOST_TEST(e[0].next[1].score == 98u); // scores recomputed after the merge
    Profile c = learned(4, {{1, 2, 3, 4}});
    Result<void> r = a.merge(c);
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message == "cannot merge a profile of k=4 into one of k=3");
    // Merging a profile into itself (a copy) doubles every count.
    Result<Profile> copy = Profile::from_blob(a.blob(), "copy");
    BOOST_TEST_REQUIRE(copy.ok());
    std::uint64_t total = a.total();
    BOOST_TEST_REQUIRE(a.merge(*copy).ok());
    BOOST_TEST(a.total() == 2 * total);
}

BOOST_AUTO_TEST_CASE(learning_more_updates_scores) {
    Profile p = learned(3, {{1, 2, 3}});
    // Window 1: the smoothed score is the call's own score.
    BOOST_TEST(score_trace(p, Calls{1, 2, 4}, 1, 300).max == 1000u);
    BOOST_TEST_REQUIRE(p.learn(Calls{1, 2, 4}).ok());
    // Now 3 and 4 each with p = 1/2: score 1000 * 1 / 16 = 62 (62.5 truncated).
    BOOST_TEST(score_trace(p, Calls{1, 2, 4}, 1, 300).max == 62u);
    // Window 20: the 19 calls the task has not made yet count as normal.
    BOOST_TEST(score_trace(p, Calls{1, 2, 4}).max == 3u);
}

BOOST_AUTO_TEST_CASE(scoring_like_the_module) {
    Profile p = learned(3, {{1, 2, 3, 1, 2, 4, 1, 2, 3}});
    // Raw scores: - - 36 0 0 98 0 0 1000 1000 1000 1000 1000 36 0 0 36 ...
    Calls t = {1, 2, 3, 1, 2, 4, 1, 2, 9, 9, 9, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3};
    TraceScore s = score_trace(p, t, 3, 300);
    BOOST_TEST(s.calls == t.size());
    BOOST_TEST(s.scored == t.size() - 2);
    // Window 3: ... 98 0 0 -> 32, then 1000 (call 9) -> 333, 666, 1000, 1000, 1000 (1 after
    // 9 9 is unseen too, and 2 after 9 1), then it falls back below 300.
    BOOST_TEST(s.max == 1000u);
    BOOST_TEST(s.max_at == 11u);
    BOOST_TEST(s.alerts == 1u);
    BOOST_TEST(s.first_alert == 9u);
    // Each excursion above the threshold is one alert; the threshold is exclusive.
    Calls twice = {1, 2, 9, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 9};
    TraceScore s2 = score_trace(p, twice, 2, 499);
    BOOST_TEST(s2.alerts == 2u);
    TraceScore s3 = score_trace(p, twice, 2, 500); // the second excursion only reaches 500
    BOOST_TEST(s3.alerts == 1u);
    // One unseen call in a window of 2 whose other slot was never filled: 1000 / 2.
    TraceScore s4 = score_trace(p, Calls{1, 2, 9}, 2, 1000);
    BOOST_TEST(s4.max == 500u);
    BOOST_TEST(s4.alerts == 0u);
    // Too short to score.
    TraceScore none = score_trace(p, Calls{1, 2});
    BOOST_TEST(none.scored == 0u);
    BOOST_TEST(none.max == 0u);
    BOOST_TEST(none.max_at == 0u);
}

BOOST_AUTO_TEST_CASE(score_equals_core_loop) {
    // score_trace is kis_seq_score + kis_seq_smooth with the module's alert rule, call by call.
    std::vector<Calls> traces = random_traces(8, 6, 1500, 25);
    Profile p = learned(6, std::vector<Calls>(traces.begin(), traces.begin() + 4));
    for (std::size_t t = 4; t < traces.size(); t++) {
        kis_seq_recent r{};
        kis_seq_window w{};
        std::uint32_t max = 0, alerts = 0;
        bool above = false;
        for (std::uint16_t c : traces[t]) {
            std::uint32_t s = kis_seq_score(&p.model(), &r, c);
            if (s == KIS_SEQ_NO_SCORE)
                continue;
            s = kis_seq_smooth(&w, s, 10);
            max = std::max(max, s);
            if (s > 150 && !above)
                alerts++;
            above = s > 150;
        }
        TraceScore got = score_trace(p, traces[t], 10, 150);
        BOOST_TEST(got.max == max);
        BOOST_TEST(got.alerts == alerts);
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
