// Profiles with the APC's resource statistics (section 2 of a profile file): the core's blob
// written, read back and summarized; files with and without the section; damaged statistics
// refused with a message naming the file; `kisctl profile show` and `profile learn -i`.
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <sstream>

#include <boost/crc.hpp>

#include "kis_stat.h"
#include "profile_file.hpp"
#include "test_profile_util.hpp"

namespace kis::test {

namespace {

Profile small_profile() {
    Result<Profile> p = Profile::create(3);
    BOOST_TEST_REQUIRE(p.ok(), why(p));
    BOOST_TEST_REQUIRE(p->learn(std::vector<std::uint16_t>{1, 2, 3, 1, 2, 4}).ok());
    return std::move(*p);
}

// Statistics learned with the portable core, as the module learns them: cpu and tx_bytes
// samples, conn_rx_bytes for two connections, and a file tree of /etc/passwd, /etc/hosts
// and the 8 files of /usr/lib/x (which collapse into the whole directory).
std::vector<std::uint8_t> learned_blob() {
    std::vector<kis_stat> stats(KIS_PARAM_COUNT);
    for (std::uint64_t x : {1000, 1200, 800, 1000})
        kis_stat_learn(&stats[KIS_PARAM_CPU], x);
    for (std::uint64_t x : {4096, 4096})
        kis_stat_learn(&stats[KIS_PARAM_TX_BYTES], x);
    for (std::uint64_t x : {300, 500})
        kis_stat_learn(&stats[KIS_PARAM_CONN_RX_BYTES], x);
    std::vector<std::uint64_t> mem((kis_ftree_bytes(64) + 7) / 8);
    kis_ftree tree{};
    BOOST_TEST_REQUIRE(kis_ftree_init(&tree, mem.data(), mem.size() * 8, 64) == 0);
    std::vector<std::string> paths = {"/etc/passwd", "/etc/hosts"};
    for (int i = 0; i < KIS_FTREE_COLLAPSE; i++)
        paths.push_back("/usr/lib/x/f" + std::to_string(i));
    for (const std::string &p : paths)
        BOOST_TEST_REQUIRE(kis_ftree_learn(&tree, p.data(), p.size()) == 0, p);
    std::vector<std::uint8_t> blob(kis_stat_blob_size(&tree));
    BOOST_TEST_REQUIRE(kis_stat_blob_write(stats.data(), &tree, blob.data(), blob.size()) ==
                       blob.size());
    return blob;
}

std::uint32_t get32(const std::vector<std::uint8_t> &b, std::size_t off) {
    return b[off] | b[off + 1] << 8 | b[off + 2] << 16 |
           static_cast<std::uint32_t>(b[off + 3]) << 24;
}
std::uint64_t get64(const std::vector<std::uint8_t> &b, std::size_t off) {
    return get32(b, off) | static_cast<std::uint64_t>(get32(b, off + 4)) << 32;
}
void put32(std::vector<std::uint8_t> &b, std::size_t off, std::uint32_t v) {
    for (int i = 0; i < 4; i++)
        b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put64(std::vector<std::uint8_t> &b, std::size_t off, std::uint64_t v) {
    put32(b, off, static_cast<std::uint32_t>(v));
    put32(b, off + 4, static_cast<std::uint32_t>(v >> 32));
}
std::size_t pad8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

// Recomputes length and checksum after a deliberate change: damage a writer could do.
void reseal(std::vector<std::uint8_t> &file) {
    boost::crc_32_type crc;
    crc.process_bytes(file.data() + kProfileHeaderSize, file.size() - kProfileHeaderSize);
    put64(file, 16, file.size() - kProfileHeaderSize);
    put32(file, 24, crc.checksum());
}

// Where the statistics section's payload starts in a file of small_profile() with stats.
std::size_t stats_offset(const Profile &p) {
    return kProfileHeaderSize + kProfileSectionHeaderSize + pad8(p.blob().size()) +
           kProfileSectionHeaderSize;
}

std::string parse_error(const std::vector<std::uint8_t> &file) {
    Result<Profile> p = Profile::parse(file, "p.kis");
    BOOST_TEST_REQUIRE(!p.ok());
    return p.error().message;
}

} // namespace

BOOST_AUTO_TEST_SUITE(profile_stats)

BOOST_AUTO_TEST_CASE(summary_of_a_blob) {
    std::vector<std::uint8_t> blob = learned_blob();
    // Header: "KSTA", version 1, header size 20, 17 parameters, the tree's entries.
    BOOST_TEST(get32(blob, 0) == 0x4154534bu);
    BOOST_TEST(get32(blob, 4) == 1u);
    BOOST_TEST(get32(blob, 8) == 20u);
    BOOST_TEST(get32(blob, 12) == static_cast<std::uint32_t>(KIS_PARAM_COUNT));
    std::uint32_t nfiles = get32(blob, 16);
    BOOST_TEST(blob.size() == 20u + 32u * KIS_PARAM_COUNT + 16u * nfiles);
    // cpu: n, mean and dev in sixteenths, max.
    std::size_t cpu = 20 + 32 * KIS_PARAM_CPU;
    BOOST_TEST(get64(blob, cpu) == 4u);
    BOOST_TEST(get64(blob, cpu + 8) == 1000u * 16);
    BOOST_TEST(get64(blob, cpu + 24) == 1200u);
    // Tree entries by ascending hash.
    std::size_t files = 20 + 32 * KIS_PARAM_COUNT;
    for (std::uint32_t i = 1; i < nfiles; i++)
        BOOST_TEST(get64(blob, files + 16 * i) > get64(blob, files + 16 * (i - 1)));

    Result<StatsSummary> s = summarize_stats(blob, "b");
    BOOST_TEST_REQUIRE(s.ok(), why(s));
    BOOST_TEST_REQUIRE(s->params.size() == static_cast<std::size_t>(KIS_PARAM_COUNT));
    const StatsSummary::Param &c = s->params[KIS_PARAM_CPU];
    BOOST_TEST(c.name == "cpu");
    BOOST_TEST(c.unit == "us");
    BOOST_TEST(!c.per_conn);
    BOOST_TEST(c.samples == 4u);
    BOOST_TEST(c.mean == 1000.0);
    BOOST_TEST(c.max == 1200u);
    BOOST_TEST(c.dev > 0.0);
    BOOST_TEST(c.dev == static_cast<double>(get64(blob, cpu + 16)) / 16);
    const StatsSummary::Param &rx = s->params[KIS_PARAM_CONN_RX_BYTES];
    BOOST_TEST(rx.name == "conn_rx_bytes");
    BOOST_TEST(rx.per_conn);
    BOOST_TEST(rx.samples == 2u);
    BOOST_TEST(rx.mean == 400.0);
    BOOST_TEST(s->params[KIS_PARAM_FORKS].samples == 0u);
    // /etc/ (a directory of 2 files), its 2 files, /usr/lib/x/ (all of it: collapsed) and the
    // files learned before it collapsed.
    BOOST_TEST(s->tree_entries == nfiles);
    BOOST_TEST(s->tree_files + s->tree_dirs + s->tree_dirs_all == nfiles);
    BOOST_TEST(s->tree_dirs == 1u);
    BOOST_TEST(s->tree_dirs_all == 1u);
    BOOST_TEST(s->tree_files >= 2u);

    // Refused: garbage, another version, another number of parameters, a wrong length.
    std::vector<std::uint8_t> bad = {1, 2, 3};
    Result<StatsSummary> r = summarize_stats(bad, "cell web");
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message ==
               "cell web: the statistics are malformed (sizes, counts or version do not add up)");
    bad = blob;
    put32(bad, 4, 2);
    r = summarize_stats(bad, "cell web");
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message == "cell web: statistics format version 2 is not supported (this "
                                    "kisctl reads version 1)");
    bad = blob;
    put32(bad, 12, KIS_PARAM_COUNT + 1);
    r = summarize_stats(bad, "cell web");
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message.find("cell web: the statistics have 18 parameters, this kisctl "
                                      "knows 17") == 0u,
               r.error().message);
    bad = blob;
    bad.pop_back();
    BOOST_TEST(!summarize_stats(bad, "x").ok());
}

BOOST_AUTO_TEST_CASE(file_without_statistics_is_unchanged) {
    Profile p = small_profile();
    BOOST_TEST(!p.stats().has_value());
    std::vector<std::uint8_t> bytes = p.file_bytes();
    BOOST_TEST(get32(bytes, 28) == 1u); // one section
    BOOST_TEST(bytes.size() ==
               kProfileHeaderSize + kProfileSectionHeaderSize + pad8(p.blob().size()));
    Result<Profile> back = Profile::parse(bytes, "p.kis");
    BOOST_TEST_REQUIRE(back.ok(), why(back));
    BOOST_TEST(!back->stats().has_value());
}

BOOST_AUTO_TEST_CASE(file_with_statistics_round_trip) {
    ScratchDir dir;
    std::vector<std::uint8_t> blob = learned_blob();
    Profile p = small_profile();
    std::vector<std::uint8_t> plain = p.file_bytes();
    BOOST_TEST_REQUIRE(p.set_stats(blob, "b").ok());
    BOOST_TEST_REQUIRE(p.stats().has_value());
    std::vector<std::uint8_t> bytes = p.file_bytes();
    // Two sections: the sequence model (type 1, required) as before, then type 2, not
    // required, with the blob as its payload, padded to 8 bytes.
    BOOST_TEST(get32(bytes, 28) == 2u);
    BOOST_TEST(get64(bytes, 16) == bytes.size() - kProfileHeaderSize);
    std::size_t s = stats_offset(p) - kProfileSectionHeaderSize;
    BOOST_TEST(std::equal(plain.begin() + kProfileHeaderSize, plain.end(),
                          bytes.begin() + kProfileHeaderSize));
    BOOST_TEST(get32(bytes, s) == kSectionStatistics);
    BOOST_TEST(get32(bytes, s + 4) == 0u);
    BOOST_TEST(get64(bytes, s + 8) == blob.size());
    BOOST_TEST(std::equal(blob.begin(), blob.end(), bytes.begin() + s + 16));
    BOOST_TEST(bytes.size() == s + 16 + pad8(blob.size()));
    BOOST_TEST(bytes.size() % 8 == 0u);

    std::string path = dir.file("s.kis");
    BOOST_TEST_REQUIRE(p.write(path).ok());
    Result<Profile> back = Profile::read(path);
    BOOST_TEST_REQUIRE(back.ok(), why(back));
    BOOST_TEST_REQUIRE(back->stats().has_value());
    BOOST_TEST(*back->stats() == blob);
    BOOST_TEST(back->file_bytes() == bytes);
    BOOST_TEST(back->kgrams() == p.kgrams());

    // Learning more (profile learn -i) keeps the statistics; moving keeps them too.
    BOOST_TEST_REQUIRE(back->learn(std::vector<std::uint16_t>{5, 6, 7}).ok());
    Profile moved = std::move(*back);
    BOOST_TEST_REQUIRE(moved.stats().has_value());
    BOOST_TEST(*moved.stats() == blob);
    moved.clear_stats();
    BOOST_TEST(get32(moved.file_bytes(), 28) == 1u);

    // A reader that does not know type 2 skips it: it is not marked required.
    BOOST_TEST((get32(bytes, s + 4) & kSectionRequired) == 0u);
}

BOOST_AUTO_TEST_CASE(set_stats_checks) {
    Profile p = small_profile();
    Result<void> r =
        p.set_stats({0x4b, 0x53, 0x54, 0x41}, "the statistics learned by cell \"web\"");
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message == "the statistics learned by cell \"web\": the statistics are "
                                    "malformed (sizes, counts or version do not add up)");
    BOOST_TEST(!p.stats().has_value());
}

BOOST_AUTO_TEST_CASE(damaged_statistics_are_refused) {
    std::vector<std::uint8_t> blob = learned_blob();
    Profile p = small_profile();
    BOOST_TEST_REQUIRE(p.set_stats(blob, "b").ok());
    const std::vector<std::uint8_t> good = p.file_bytes();
    std::size_t off = stats_offset(p);

    // On disk: the checksum catches it.
    std::vector<std::uint8_t> b = good;
    b[off + 100] ^= 4;
    BOOST_TEST(parse_error(b) == "p.kis: checksum mismatch: the file is damaged");

    // Written wrong, checksum fixed up: the blob check catches it, naming the file.
    std::size_t cpu = off + 20 + 32 * KIS_PARAM_CPU;
    b = good;
    put64(b, cpu + 8, get64(good, cpu + 24) * 16 + 1); // a mean above 16 max
    reseal(b);
    BOOST_TEST(parse_error(b) ==
               "p.kis: the statistics are malformed (sizes, counts or version do not add up)");
    b = good;
    std::size_t files = off + 20 + 32 * KIS_PARAM_COUNT;
    put64(b, files + 16, get64(good, files)); // two entries of one hash
    reseal(b);
    BOOST_TEST(parse_error(b) ==
               "p.kis: the statistics are malformed (sizes, counts or version do not add up)");
    b = good;
    put32(b, files + 8, 7); // no such kind of entry
    reseal(b);
    BOOST_TEST(parse_error(b) ==
               "p.kis: the statistics are malformed (sizes, counts or version do not add up)");
    b = good;
    put32(b, off + 4, 9);
    reseal(b);
    BOOST_TEST(parse_error(b) == "p.kis: statistics format version 9 is not supported (this "
                                 "kisctl reads version 1)");
    // The blob shorter than its header says: the last tree entry cut off.
    b = std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<long>(off));
    b.insert(b.end(), blob.begin(), blob.end() - 16);
    b.resize(off + pad8(blob.size() - 16), 0);
    put64(b, off - 8, blob.size() - 16);
    reseal(b);
    BOOST_TEST(parse_error(b) ==
               "p.kis: the statistics are malformed (sizes, counts or version do not add up)");
    // Two statistics sections.
    b = good;
    b.insert(b.end(), good.begin() + static_cast<long>(off - kProfileSectionHeaderSize),
             good.end());
    put32(b, 28, 3);
    reseal(b);
    BOOST_TEST(parse_error(b) == "p.kis: two statistics sections: the file is damaged");
    // A statistics section without a sequence model.
    b = std::vector<std::uint8_t>(good.begin(), good.begin() + kProfileHeaderSize);
    b.insert(b.end(), good.begin() + static_cast<long>(off - kProfileSectionHeaderSize),
             good.end());
    put32(b, 28, 1);
    reseal(b);
    BOOST_TEST(parse_error(b) == "p.kis: no sequence model section: the file is damaged");
}

BOOST_AUTO_TEST_CASE(show_prints_the_statistics) {
    ScratchDir dir;
    Profile p = small_profile();
    std::string plain = dir.file("plain.kis");
    BOOST_TEST_REQUIRE(p.write(plain).ok());
    RunResult r = run_kisctl({"profile", "show", "--max", "0", plain});
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(r.out.find("statistics") == std::string::npos, r.out);

    BOOST_TEST_REQUIRE(p.set_stats(learned_blob(), "b").ok());
    std::string db = dir.file("s.kis");
    BOOST_TEST_REQUIRE(p.write(db).ok());
    r = run_kisctl({"profile", "show", "--max", "1", db});
    BOOST_TEST(r.status == 0, r.err);
    std::istringstream in(r.out);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);)
        lines.push_back(l);
    BOOST_TEST_REQUIRE(lines.size() > 8u + KIS_PARAM_COUNT);
    BOOST_TEST(lines[4] == "counted   4 (calls that had k-1 calls before them)");
    BOOST_TEST(lines[5] == "");
    BOOST_TEST(lines[6].find("statistics 17 parameters; file tree of ") == 0u, lines[6]);
    BOOST_TEST(lines[6].find(", 1 directory, 1 whole directory") != std::string::npos, lines[6]);
    auto row = [&](const std::string &name) {
        for (const std::string &l : lines)
            if (l.rfind("  " + name + " ", 0) == 0)
                return l;
        return std::string();
    };
    std::istringstream cpu(row("cpu"));
    std::vector<std::string> w;
    for (std::string x; cpu >> x;)
        w.push_back(x);
    BOOST_TEST((w == std::vector<std::string>{"cpu", "4", "1000.0", w.size() > 3 ? w[3] : "",
                                              "1200", "us"}));
    BOOST_TEST(row("forks").find(" 0 ") != std::string::npos, row("forks"));
    BOOST_TEST(row("conn_rx_bytes").find("400.0") != std::string::npos, row("conn_rx_bytes"));
    BOOST_TEST(row("conn_rx_bytes").find("bytes per connection") != std::string::npos);
    BOOST_TEST(lines[7].find("PARAMETER") != std::string::npos, lines[7]);
    // The prefixes follow.
    BOOST_TEST(lines.back().find("... ") == 0u, lines.back());

    // A damaged statistics section: show refuses the file, naming it.
    std::vector<std::uint8_t> bytes = read_bytes(db);
    std::size_t cpu_off = stats_offset(p) + 20 + 32 * KIS_PARAM_CPU;
    put64(bytes, cpu_off + 24, 0); // max 0 while samples were learned
    reseal(bytes);
    write_bytes(db, bytes);
    r = run_kisctl({"profile", "show", db});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(r.err == "kisctl: " + db +
                            ": the statistics are malformed (sizes, counts or version do not "
                            "add up)\n");
    r = run_kisctl({"profile", "load", "web", db});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find(db + ": the statistics are malformed") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(learn_keeps_the_input_statistics) {
    ScratchDir dir;
    Profile p = small_profile();
    std::vector<std::uint8_t> blob = learned_blob();
    BOOST_TEST_REQUIRE(p.set_stats(blob, "b").ok());
    std::string db = dir.file("s.kis");
    BOOST_TEST_REQUIRE(p.write(db).ok());
    RunResult r = run_kisctl({"profile", "learn", "-i", db, "-o", db, trace("small.stide")});
    BOOST_TEST(r.status == 0, r.err);
    Result<Profile> back = Profile::read(db);
    BOOST_TEST_REQUIRE(back.ok(), why(back));
    BOOST_TEST_REQUIRE(back->stats().has_value());
    BOOST_TEST(*back->stats() == blob);
    BOOST_TEST(back->total() > p.total());
    // A new profile learned offline has none.
    std::string fresh = dir.file("f.kis");
    r = run_kisctl({"profile", "learn", "-k", "3", "-o", fresh, trace("small.stide")});
    BOOST_TEST(r.status == 0, r.err);
    Result<Profile> f = Profile::read(fresh);
    BOOST_TEST_REQUIRE(f.ok(), why(f));
    BOOST_TEST(!f->stats().has_value());
}

BOOST_AUTO_TEST_CASE(learn_save_options) {
    RunResult r = run_kisctl({"learn", "save", "--help"});
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.out.find("usage: kisctl learn save CELL -o DB [--force] [--no-stats]") == 0u,
               r.out);
    BOOST_TEST(r.out.find("resource statistics") != std::string::npos, r.out);
    check_usage_errors({{"learn", "save", "web", "-o", "x.kis", "--no-stats=1"},
                        {"learn", "save", "web", "--no-stats"}});
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
