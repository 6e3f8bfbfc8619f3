// The cell config parser. Bad files under data/config/bad describe the errors they must
// produce in comments: "# expect: LINE: fragment". Every expectation must match an error at
// that line whose message contains the fragment, and every error must be expected.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "config.hpp"
#include "netlink.hpp"
#include "test_util.hpp"

// Optional settings are compared whole; a failure shows the expression.
BOOST_TEST_DONT_PRINT_LOG_VALUE(std::optional<std::uint32_t>)
BOOST_TEST_DONT_PRINT_LOG_VALUE(std::optional<std::uint64_t>)

namespace kis::test {

namespace {

struct Expectation {
    int line;
    std::string fragment;
};

std::vector<Expectation> expectations(const std::filesystem::path &file) {
    std::ifstream in(file);
    std::vector<Expectation> out;
    static const std::regex re(R"(^# expect: (\d+): (.*)$)");
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, re))
            out.push_back({std::stoi(m[1]), m[2]});
    }
    return out;
}

int expected_cells(const std::filesystem::path &file) {
    std::ifstream in(file);
    static const std::regex re(R"(^# expect-cells: (\d+)$)");
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, re))
            return std::stoi(m[1]);
    }
    return -1;
}

std::string dump(const std::vector<ConfigError> &errors) {
    std::string s;
    for (const ConfigError &e : errors)
        s += "\n  " + e.str();
    return s;
}

FileConfig parse(const std::string &text) {
    std::vector<FileConfig> files{parse_cell_config(text, "t.toml")};
    check_duplicate_names(files);
    return files[0];
}

// The one error of a cell "a" whose [cell.stats] holds `stats` (TOML lines after the header
// on line 4), as "t.toml:LINE: message".
std::string stats_error(const std::string &stats) {
    FileConfig f = parse("[[cell]]\nname = \"a\"\nprogram = \"a\"\n[cell.stats]\n" + stats);
    BOOST_TEST(f.cells.empty());
    if (f.errors.size() != 1)
        return "errors:" + dump(f.errors);
    return f.errors[0].str();
}

const ParamConfig *param(const CellConfig &c, std::uint32_t id) {
    for (const ParamConfig &p : c.stats.params)
        if (p.id == id)
            return &p;
    return nullptr;
}

// The attributes of an encoded nest, by type (the last of each type).
using CellAttrs = std::array<nlattr *, KIS_CELL_ATTR_MAX + 1>;
using ParamAttrs = std::array<nlattr *, KIS_PARAM_ATTR_MAX + 1>;

// Encodes put_cell_config / put_cell_settings into a KIS_ATTR_CELL nest and parses it back
// the way the module does (nla_parse_nested without a policy, then by type).
struct Encoded {
    nl::MsgPtr msg{nlmsg_alloc()};
    CellAttrs a{};
    std::vector<std::string> globs;
    std::vector<ParamAttrs> params;

    template <typename Put> explicit Encoded(Put put) {
        BOOST_TEST_REQUIRE(msg.get() != nullptr);
        nlattr *nest = nla_nest_start(msg.get(), KIS_ATTR_CELL | NLA_F_NESTED);
        BOOST_TEST_REQUIRE(nest != nullptr);
        BOOST_TEST_REQUIRE(put(msg.get()));
        BOOST_TEST_REQUIRE(nla_nest_end(msg.get(), nest) >= 0);
        BOOST_TEST_REQUIRE(nla_parse_nested(a.data(), KIS_CELL_ATTR_MAX, nest, nullptr) == 0);
        if (nlattr *g = a[KIS_CELL_ATTR_FILE_GLOBS]) {
            nlattr *one = nullptr;
            int rem = 0;
            nla_for_each_nested(one, g, rem) {
                BOOST_TEST(nla_type(one) == KIS_CELL_ATTR_FILE_GLOB);
                globs.emplace_back(static_cast<const char *>(nla_data(one)));
            }
        }
        if (nlattr *ps = a[KIS_CELL_ATTR_PARAMS]) {
            nlattr *one = nullptr;
            int rem = 0;
            nla_for_each_nested(one, ps, rem) {
                BOOST_TEST(nla_type(one) == KIS_CELL_ATTR_PARAM);
                ParamAttrs p{};
                BOOST_TEST_REQUIRE(nla_parse_nested(p.data(), KIS_PARAM_ATTR_MAX, one, nullptr) ==
                                   0);
                params.push_back(p);
            }
        }
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(good_files) {
    auto files = files_in(config_dir() / "good");
    BOOST_TEST_REQUIRE(files.size() >= 4u);
    std::vector<std::string> paths;
    for (const auto &file : files) {
        BOOST_TEST_CONTEXT(file) {
            FileConfig f = read_cell_file(file.string());
            BOOST_TEST(f.ok(), dump(f.errors));
            int want = expected_cells(file);
            BOOST_TEST(want > 0, "the file says # expect-cells: N");
            BOOST_TEST(f.cells.size() == static_cast<size_t>(want));
            for (const CellConfig &c : f.cells) {
                BOOST_TEST(c.file == file.string());
                BOOST_TEST(c.line > 0);
            }
        }
        paths.push_back(file.string());
    }
    // Their names are unique, so they load together.
    for (const FileConfig &f : read_cell_files(paths))
        BOOST_TEST(f.ok(), dump(f.errors));
}

BOOST_AUTO_TEST_CASE(bad_files) {
    auto files = files_in(config_dir() / "bad");
    BOOST_TEST_REQUIRE(files.size() >= 10u);
    for (const auto &file : files) {
        BOOST_TEST_CONTEXT(file.filename()) {
            auto want = expectations(file);
            BOOST_TEST_REQUIRE(!want.empty(), "the file says # expect: LINE: fragment");
            FileConfig f = read_cell_files({file.string()})[0];
            BOOST_TEST(!f.ok());
            for (const Expectation &e : want) {
                std::string prefix = file.string() + ":" + std::to_string(e.line) + ": ";
                bool found = false;
                for (const ConfigError &err : f.errors)
                    if (err.str().rfind(prefix, 0) == 0 &&
                        err.message.find(e.fragment) != std::string::npos)
                        found = true;
                BOOST_TEST(found, "no error " << prefix << "..." << e.fragment
                                              << "; got:" << dump(f.errors));
            }
            for (const ConfigError &err : f.errors) {
                bool expected = false;
                for (const Expectation &e : want)
                    if (err.line == e.line && err.message.find(e.fragment) != std::string::npos)
                        expected = true;
                BOOST_TEST(expected, "unexpected error " << err.str());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(defaults) {
    FileConfig f = read_cell_file((config_dir() / "good/minimal.toml").string());
    BOOST_TEST_REQUIRE(f.cells.size() == 1u);
    const CellConfig &c = f.cells[0];
    BOOST_TEST(c.name == "httpd");
    BOOST_TEST(c.program == "httpd");
    BOOST_TEST(c.args == "*");
    BOOST_TEST(c.follow_exec == true);
    BOOST_TEST(c.max_tasks == static_cast<uint32_t>(KIS_CELL_TASKS_DEFAULT));
    BOOST_TEST(c.line == 3);
    BOOST_TEST(c.name_line == 4);
}

BOOST_AUTO_TEST_CASE(every_key) {
    FileConfig f = read_cell_file((config_dir() / "good/full.toml").string());
    BOOST_TEST_REQUIRE(f.cells.size() == 1u);
    const CellConfig &c = f.cells[0];
    BOOST_TEST(c.name == "web-1.x_y");
    BOOST_TEST(c.program == "/usr/sbin/http[d]");
    BOOST_TEST(c.args == "-f -p [0-9]*");
    BOOST_TEST(c.follow_exec == false);
    BOOST_TEST(c.max_tasks == 65536u);
    BOOST_TEST(c.line == 4);
}

BOOST_AUTO_TEST_CASE(sequence_defaults) {
    FileConfig f = read_cell_file((config_dir() / "good/minimal.toml").string());
    BOOST_TEST_REQUIRE(f.cells.size() == 1u);
    const SequenceConfig &s = f.cells[0].sequence;
    BOOST_TEST(s.k == 6u);
    BOOST_TEST(s.window == 20u);
    BOOST_TEST(s.threshold == 300u);
    BOOST_TEST(s.learn_prefixes == static_cast<uint32_t>(KIS_LEARN_PREFIXES_DEFAULT));
    BOOST_TEST(s.learn_kgrams == static_cast<uint32_t>(KIS_LEARN_KGRAMS_DEFAULT));
}

BOOST_AUTO_TEST_CASE(sequence_every_key) {
    FileConfig f = read_cell_file((config_dir() / "good/sequence.toml").string());
    BOOST_TEST_REQUIRE(f.cells.size() == 3u, dump(f.errors));
    const SequenceConfig &hi = f.cells[0].sequence;
    BOOST_TEST(hi.k == 16u);
    BOOST_TEST(hi.window == 128u);
    BOOST_TEST(hi.threshold == 1000u);
    BOOST_TEST(hi.learn_prefixes == 4194304u);
    BOOST_TEST(hi.learn_kgrams == 4194304u);
    const SequenceConfig &lo = f.cells[1].sequence; // an inline table
    BOOST_TEST(lo.k == 2u);
    BOOST_TEST(lo.window == 1u);
    BOOST_TEST(lo.threshold == 0u);
    BOOST_TEST(lo.learn_prefixes == 1u);
    BOOST_TEST(lo.learn_kgrams == 1u);
    BOOST_TEST(f.cells[2].sequence.k == 6u);
    BOOST_TEST(f.cells[2].sequence.threshold == 300u);
}

BOOST_AUTO_TEST_CASE(sequence_partial_table_keeps_other_defaults) {
    FileConfig f = parse("[[cell]]\nname = \"a\"\nprogram = \"a\"\n[cell.sequence]\n"
                         "threshold = 450\n");
    BOOST_TEST_REQUIRE(f.cells.size() == 1u, dump(f.errors));
    BOOST_TEST(f.cells[0].sequence.threshold == 450u);
    BOOST_TEST(f.cells[0].sequence.window == 20u);
    BOOST_TEST(f.cells[0].sequence.k == 6u);
    // An error in the table drops the cell, like any other error.
    FileConfig bad = parse("[[cell]]\nname = \"a\"\nprogram = \"a\"\n[cell.sequence]\n"
                           "k = 17\n");
    BOOST_TEST(bad.cells.empty());
    BOOST_TEST_REQUIRE(bad.errors.size() == 1u);
    BOOST_TEST(bad.errors[0].str() ==
               "t.toml:5: k 17 in [cell.sequence] of cell \"a\" is out of range; use 2..16 (the "
               "length of the call sequences learned)");
}

BOOST_AUTO_TEST_CASE(stats_defaults) {
    FileConfig f = read_cell_file((config_dir() / "good/minimal.toml").string());
    BOOST_TEST_REQUIRE(f.cells.size() == 1u);
    const CellConfig &c = f.cells[0];
    BOOST_TEST(c.sequence.threshold2 == 650u); // halfway from 300 to 1000
    BOOST_TEST(!c.stats.given);
    BOOST_TEST(c.stats.interval_ms == 1000u);
    BOOST_TEST(c.stats.hold1 == 10u);
    BOOST_TEST(c.stats.hold2 == 3u);
    BOOST_TEST(c.stats.file_tree == 1024u);
    BOOST_TEST(c.stats.files.empty());
    BOOST_TEST(c.stats.params.empty());
}

BOOST_AUTO_TEST_CASE(stats_every_key) {
    FileConfig f = read_cell_file((config_dir() / "good/stats.toml").string());
    BOOST_TEST_REQUIRE(f.cells.size() == 4u, dump(f.errors));
    const CellConfig &full = f.cells[0];
    BOOST_TEST(full.sequence.threshold == 400u);
    BOOST_TEST(full.sequence.threshold2 == 900u);
    BOOST_TEST(full.stats.given);
    BOOST_TEST(full.stats.interval_ms == 500u);
    BOOST_TEST(full.stats.hold1 == 0u);
    BOOST_TEST(full.stats.hold2 == 3600u);
    BOOST_TEST(full.stats.file_tree == 4000u);
    BOOST_TEST(full.stats.files ==
               (std::vector<std::string>{"/var/www/*", "/etc/httpd.conf", "/usr/lib/[a-z]*.so"}));
    // By id, whatever the order in the file; only what was given.
    BOOST_TEST_REQUIRE(full.stats.params.size() == 5u);
    std::vector<std::uint32_t> ids;
    for (const ParamConfig &p : full.stats.params)
        ids.push_back(p.id);
    BOOST_TEST(ids ==
               (std::vector<std::uint32_t>{KIS_PARAM_CPU, KIS_PARAM_FILES, KIS_PARAM_FILES_OUTSIDE,
                                           KIS_PARAM_RX_BYTES, KIS_PARAM_CONN_RATIO}));
    const ParamConfig *cpu = param(full, KIS_PARAM_CPU);
    BOOST_TEST(cpu->mult1 == std::optional<std::uint32_t>(40));
    BOOST_TEST(cpu->mult2 == std::optional<std::uint32_t>(86)); // 8.56 rounds to 8.6
    BOOST_TEST(cpu->floor == std::optional<std::uint64_t>(1000));
    BOOST_TEST(!cpu->expect);
    BOOST_TEST(!cpu->tolerance);
    BOOST_TEST(cpu->line == 17);
    const ParamConfig *files = param(full, KIS_PARAM_FILES);
    BOOST_TEST(files->floor == std::optional<std::uint64_t>(0));
    BOOST_TEST((!files->mult1 && !files->mult2 && !files->expect && !files->tolerance));
    const ParamConfig *outside = param(full, KIS_PARAM_FILES_OUTSIDE);
    BOOST_TEST(outside->expect == std::optional<std::uint64_t>(0));
    BOOST_TEST(outside->tolerance == std::optional<std::uint32_t>(25)); // the default
    const ParamConfig *ratio = param(full, KIS_PARAM_CONN_RATIO);
    BOOST_TEST(ratio->expect == std::optional<std::uint64_t>(150));
    BOOST_TEST(ratio->tolerance == std::optional<std::uint32_t>(1000));
    const ParamConfig *rx = param(full, KIS_PARAM_RX_BYTES);
    BOOST_TEST(rx->mult1 == std::optional<std::uint32_t>(0));
    BOOST_TEST(rx->mult2 == std::optional<std::uint32_t>(10000));

    const CellConfig &in = f.cells[1]; // an inline table
    BOOST_TEST(in.sequence.threshold2 == 650u);
    BOOST_TEST(in.stats.interval_ms == 60000u);
    BOOST_TEST(in.stats.file_tree == 1u);
    BOOST_TEST(in.stats.files == std::vector<std::string>{"/srv/*"});
    BOOST_TEST(in.stats.hold1 == 10u);
    BOOST_TEST_REQUIRE(in.stats.params.size() == 1u);
    BOOST_TEST(in.stats.params[0].id == static_cast<std::uint32_t>(KIS_PARAM_TX_BYTES));
    BOOST_TEST(in.stats.params[0].expect == std::optional<std::uint64_t>(4096));
    BOOST_TEST(in.stats.params[0].tolerance == std::optional<std::uint32_t>(0));

    const CellConfig &empty = f.cells[2];
    BOOST_TEST(empty.stats.given);
    BOOST_TEST(empty.stats.interval_ms == 1000u);
    BOOST_TEST(empty.stats.params.empty());
    BOOST_TEST(empty.sequence.threshold2 == 1000u);

    const CellConfig &minutes = f.cells[3];
    BOOST_TEST(minutes.stats.interval_ms == 60000u);
    BOOST_TEST(minutes.stats.hold1 == 3600u);
    BOOST_TEST(minutes.stats.hold2 == 0u);
    BOOST_TEST(minutes.sequence.threshold == 0u);
    BOOST_TEST(minutes.sequence.threshold2 == 0u);
    BOOST_TEST(minutes.stats.files.empty());
    BOOST_TEST(minutes.stats.params.empty());
}

BOOST_AUTO_TEST_CASE(threshold2_default_is_halfway_to_1000) {
    BOOST_TEST(default_threshold2(0) == 500u);
    BOOST_TEST(default_threshold2(300) == 650u);
    BOOST_TEST(default_threshold2(301) == 650u);
    BOOST_TEST(default_threshold2(999) == 999u);
    BOOST_TEST(default_threshold2(1000) == 1000u);
    FileConfig f = parse("[[cell]]\nname = \"a\"\nprogram = \"a\"\n[cell.sequence]\n"
                         "threshold = 800\n");
    BOOST_TEST_REQUIRE(f.cells.size() == 1u);
    BOOST_TEST(f.cells[0].sequence.threshold2 == 900u);
    // Equal to the threshold is allowed.
    f = parse("[[cell]]\nname = \"a\"\nprogram = \"a\"\n[cell.sequence]\n"
              "threshold = 800\nthreshold2 = 800\n");
    BOOST_TEST_REQUIRE(f.cells.size() == 1u, dump(f.errors));
    BOOST_TEST(f.cells[0].sequence.threshold2 == 800u);
}

BOOST_AUTO_TEST_CASE(stats_errors_name_file_and_line) {
    BOOST_TEST(stats_error("interval = \"99ms\"\n") ==
               "t.toml:5: interval \"99ms\" in [cell.stats] of cell \"a\" is out of range; use "
               "100ms..60000ms (how often the cell's resources are sampled)");
    BOOST_TEST(stats_error("hold2 = 3601\n") ==
               "t.toml:5: hold2 3601 in [cell.stats] of cell \"a\" is out of range; use 0..3600 "
               "(quiet intervals before danger signal 2 falls to 1)");
    BOOST_TEST(stats_error("files = [\"x\"]\n") ==
               "t.toml:5: file glob \"x\" in [cell.stats] of cell \"a\" is not an absolute path; "
               "the expected file tree is given as globs starting with '/', e.g. \"/var/www/*\"");
    BOOST_TEST(stats_error("\n[cell.stats.cpu]\nmult1 = 2.0\nmult2 = 1.5\n") ==
               "t.toml:8: mult2 1.5 in [cell.stats.cpu] of cell \"a\" is below mult1 2.0; danger "
               "signal 2 needs at least as many deviations as danger signal 1");
    BOOST_TEST(stats_error("[cell.stats.cpu]\ntolerance = 5\n") ==
               "t.toml:6: tolerance in [cell.stats.cpu] of cell \"a\" needs expect: it is how "
               "far, in percent, a sample learned may be from the expected value");
    BOOST_TEST(stats_error("[cell.stats.cpu_time]\nmult1 = 2.0\n") ==
               "t.toml:5: unknown parameter \"cpu_time\" in [cell.stats] of cell \"a\" (the "
               "parameters are cpu, vm_pages, rss_pages, files, files_outside, syscalls, forks, "
               "execs, connections, rx_bytes, tx_bytes, rx_msgs, tx_msgs, conn_rx_bytes, "
               "conn_tx_bytes and conn_ratio)");
    BOOST_TEST(stats_error("[cell.stats.rx_byte]\n") ==
               "t.toml:5: unknown parameter \"rx_byte\" in [cell.stats] of cell \"a\" (did you "
               "mean \"rx_bytes\"?)");
    BOOST_TEST(stats_error("[cell.stats.tx_msgs]\nflor = 3\n") ==
               "t.toml:6: unknown key \"flor\" in [cell.stats.tx_msgs] of cell \"a\" (did you "
               "mean \"floor\"?)");
    // An error in [cell.stats] drops the cell, like any other.
    FileConfig f = parse("[[cell]]\nname = \"a\"\nprogram = \"a\"\n"
                         "[[cell]]\nname = \"b\"\nprogram = \"b\"\nstats = { hold1 = -1 }\n");
    BOOST_TEST_REQUIRE(f.cells.size() == 1u);
    BOOST_TEST(f.cells[0].name == "a");
}

BOOST_AUTO_TEST_CASE(durations) {
    BOOST_TEST(parse_duration_ms("500ms") == std::optional<std::uint64_t>(500));
    BOOST_TEST(parse_duration_ms("1s") == std::optional<std::uint64_t>(1000));
    BOOST_TEST(parse_duration_ms("1.5s") == std::optional<std::uint64_t>(1500));
    BOOST_TEST(parse_duration_ms("0.125s") == std::optional<std::uint64_t>(125));
    BOOST_TEST(parse_duration_ms("2m") == std::optional<std::uint64_t>(120000));
    BOOST_TEST(parse_duration_ms("0.5m") == std::optional<std::uint64_t>(30000));
    BOOST_TEST(parse_duration_ms("0ms") == std::optional<std::uint64_t>(0));
    BOOST_TEST(parse_duration_ms("1h") == std::optional<std::uint64_t>(3600000));
    BOOST_TEST(parse_duration_ms("1.5h") == std::optional<std::uint64_t>(5400000));
    BOOST_TEST(parse_duration_ms("7d") == std::optional<std::uint64_t>(604800000));
    for (const char *bad : {"", "1", "ms", "1H", "1w", "1 s", "-1s", ".5s", "1.s", "1.0001s",
                            "0.5ms", "1.2.3s", "1e3ms", "1S", "9999999999s"})
        BOOST_TEST(!parse_duration_ms(bad), bad);
}

BOOST_AUTO_TEST_CASE(durations_for_people) {
    BOOST_TEST(duration_text(0) == "0ms");
    BOOST_TEST(duration_text(999) == "999ms");
    BOOST_TEST(duration_text(1000) == "1s");
    BOOST_TEST(duration_text(45999) == "45s");
    BOOST_TEST(duration_text(90000) == "1m 30s");
    BOOST_TEST(duration_text(7200000) == "2h");
    BOOST_TEST(duration_text(7500000) == "2h 5m");
    BOOST_TEST(duration_text(3 * 86400000ull + 4 * 3600000ull + 59000) == "3d 4h");
}

BOOST_AUTO_TEST_CASE(param_settings_of_kisctl_set) {
    ParamConfig p;
    BOOST_TEST(!parse_param_setting("cpu:mult1=4,mult2=8.5,floor=1000", p));
    BOOST_TEST(p.id == static_cast<std::uint32_t>(KIS_PARAM_CPU));
    BOOST_TEST(p.mult1 == std::optional<std::uint32_t>(40));
    BOOST_TEST(p.mult2 == std::optional<std::uint32_t>(85));
    BOOST_TEST(p.floor == std::optional<std::uint64_t>(1000));
    BOOST_TEST((!p.expect && !p.tolerance));
    BOOST_TEST(!parse_param_setting("conn_ratio:floor=0", p));
    BOOST_TEST(p.id == static_cast<std::uint32_t>(KIS_PARAM_CONN_RATIO));
    BOOST_TEST((!p.mult1 && !p.mult2));
    BOOST_TEST(p.floor == std::optional<std::uint64_t>(0));
    BOOST_TEST(!parse_param_setting("files_outside:mult2=1000.0", p));
    BOOST_TEST(p.mult2 == std::optional<std::uint32_t>(10000));

    const std::vector<std::pair<std::string, std::string>> bad = {
        {"cpu", "--param \"cpu\" must be NAME:KEY=VALUE,..., e.g. cpu:mult1=4,mult2=8,floor=1000"},
        {"cpu:", "--param cpu: nothing to set; give mult1=X, mult2=Y and/or floor=Z"},
        {"cpux:mult1=3", "--param: unknown parameter \"cpux\" (did you mean \"cpu\"?); the "
                         "parameters are cpu, vm_pages, rss_pages, files, files_outside, "
                         "syscalls, forks, execs, connections, rx_bytes, tx_bytes, rx_msgs, "
                         "tx_msgs, conn_rx_bytes, conn_tx_bytes and conn_ratio"},
        {"seq:mult1=3", "--param seq: the thresholds of the sequence anomaly are set with "
                        "--threshold and --threshold2"},
        {"cpu:mult1=3,", "--param cpu: unknown key \"\"; use mult1, mult2 and floor"},
        {"cpu:mul1=3", "--param cpu: unknown key \"mul1\" (did you mean \"mult1\"?); use mult1, "
                       "mult2 and floor"},
        {"cpu:mult1", "--param cpu: mult1 needs a value: mult1=N"},
        {"cpu:mult1=", "--param cpu: mult1 needs a value: mult1=N"},
        {"cpu:mult1=-1", "--param cpu: mult1 must be a number of deviations from 0 to 1000.0 such "
                         "as 3 or 4.5, not \"-1\""},
        {"cpu:mult1=1000.1", "--param cpu: mult1 must be a number of deviations from 0 to "
                             "1000.0 such as 3 or 4.5, not \"1000.1\""},
        {"cpu:mult2=1e3", "--param cpu: mult2 must be a number of deviations from 0 to 1000.0 "
                          "such as 3 or 4.5, not \"1e3\""},
        {"cpu:floor=1.5", "--param cpu: floor must be a whole number of us, 0 or more, not "
                          "\"1.5\""},
        {"cpu:mult1=3,mult1=4", "--param cpu: mult1 is given twice"},
        {"cpu:mult1=5,mult2=4", "--param cpu: mult2 4.0 is below mult1 5.0; danger signal 2 needs "
                                "at least as many deviations as danger signal 1"},
        {"cpu:expect=5", "--param cpu: expect is fixed when the cell is loaded ([cell.stats.cpu] "
                         "of its config); set mult1, mult2 or floor"},
        {"cpu:tolerance=5", "--param cpu: tolerance is fixed when the cell is loaded "
                            "([cell.stats.cpu] of its config); set mult1, mult2 or floor"},
    };
    for (const auto &[text, message] : bad) {
        ParamConfig q;
        q.id = 99;
        auto problem = parse_param_setting(text, q);
        BOOST_TEST(problem.value_or("(accepted)") == message, text);
        BOOST_TEST(q.id == 99u, text); // untouched
    }
}

BOOST_AUTO_TEST_CASE(check_prints_the_stats_settings) {
    FileConfig f = read_cell_file((config_dir() / "good/stats.toml").string());
    BOOST_TEST_REQUIRE(f.cells.size() == 4u, dump(f.errors));
    BOOST_TEST(stats_summary(f.cells[0]) ==
               "  cell stats-full: threshold2 900, interval 500ms, hold1 0, hold2 3600, "
               "file-tree 4000\n"
               "    files \"/var/www/*\", \"/etc/httpd.conf\", \"/usr/lib/[a-z]*.so\"\n"
               "    cpu: mult1 4.0, mult2 8.6, floor 1000\n"
               "    files: floor 0\n"
               "    files_outside: expect 0, tolerance 25%\n"
               "    rx_bytes: mult1 0.0, mult2 1000.0\n"
               "    conn_ratio: expect 150, tolerance 1000%\n");
    BOOST_TEST(stats_summary(f.cells[2]) ==
               "  cell stats-empty: threshold2 1000, interval 1000ms, hold1 10, hold2 3, "
               "file-tree 1024\n");
    // Nothing for a cell without [cell.stats]: `kisctl check` prints what it printed before.
    FileConfig minimal = read_cell_file((config_dir() / "good/minimal.toml").string());
    BOOST_TEST_REQUIRE(minimal.cells.size() == 1u);
    BOOST_TEST(stats_summary(minimal.cells[0]).empty());
    RunResult r = run_kisctl({"check", (config_dir() / "good/stats.toml").string()});
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(r.out.find("stats.toml: ok (4 cells)\n  cell stats-full: threshold2 900, "
                          "interval 500ms") != std::string::npos,
               r.out);
    BOOST_TEST(r.out.find("  cell stats-minutes: threshold2 0, interval 60000ms, hold1 3600, "
                          "hold2 0, file-tree 1024\n") != std::string::npos,
               r.out);
}

BOOST_AUTO_TEST_CASE(cell_load_encoding) {
    FileConfig f = read_cell_file((config_dir() / "good/stats.toml").string());
    BOOST_TEST_REQUIRE(f.cells.size() == 4u, dump(f.errors));
    Encoded e([&](nl_msg *m) { return put_cell_config(m, f.cells[0]); });
    const CellAttrs &a = e.a;
    BOOST_TEST_REQUIRE(a[KIS_CELL_ATTR_SEQ_THRESHOLD2] != nullptr);
    BOOST_TEST(nla_get_u16(a[KIS_CELL_ATTR_SEQ_THRESHOLD2]) == 900u);
    BOOST_TEST(nla_get_u16(a[KIS_CELL_ATTR_SEQ_THRESHOLD]) == 400u);
    BOOST_TEST_REQUIRE(a[KIS_CELL_ATTR_STAT_INTERVAL] != nullptr);
    BOOST_TEST(nla_len(a[KIS_CELL_ATTR_STAT_INTERVAL]) == 4);
    BOOST_TEST(nla_get_u32(a[KIS_CELL_ATTR_STAT_INTERVAL]) == 500u);
    BOOST_TEST_REQUIRE(a[KIS_CELL_ATTR_DANGER_HOLD1] != nullptr);
    BOOST_TEST(nla_len(a[KIS_CELL_ATTR_DANGER_HOLD1]) == 2);
    BOOST_TEST(nla_get_u16(a[KIS_CELL_ATTR_DANGER_HOLD1]) == 0u);
    BOOST_TEST(nla_get_u16(a[KIS_CELL_ATTR_DANGER_HOLD2]) == 3600u);
    BOOST_TEST(nla_get_u32(a[KIS_CELL_ATTR_FILE_TREE]) == 4000u);
    BOOST_TEST((nla_type(a[KIS_CELL_ATTR_FILE_GLOBS]) == KIS_CELL_ATTR_FILE_GLOBS));
    BOOST_TEST(a[KIS_CELL_ATTR_FILE_GLOBS]->nla_type & NLA_F_NESTED);
    BOOST_TEST(e.globs == f.cells[0].stats.files);
    BOOST_TEST(a[KIS_CELL_ATTR_PARAMS]->nla_type & NLA_F_NESTED);
    BOOST_TEST_REQUIRE(e.params.size() == 5u);
    // cpu: MULT1, MULT2, FLOOR; nothing else.
    const ParamAttrs &cpu = e.params[0];
    BOOST_TEST(nla_get_u8(cpu[KIS_PARAM_ATTR_ID]) == KIS_PARAM_CPU);
    BOOST_TEST(nla_len(cpu[KIS_PARAM_ATTR_MULT1]) == 2);
    BOOST_TEST(nla_get_u16(cpu[KIS_PARAM_ATTR_MULT1]) == 40u);
    BOOST_TEST(nla_get_u16(cpu[KIS_PARAM_ATTR_MULT2]) == 86u);
    BOOST_TEST(nla_len(cpu[KIS_PARAM_ATTR_FLOOR]) == 8);
    BOOST_TEST(nla_get_u64(cpu[KIS_PARAM_ATTR_FLOOR]) == 1000u);
    BOOST_TEST(cpu[KIS_PARAM_ATTR_EXPECT] == nullptr);
    BOOST_TEST(cpu[KIS_PARAM_ATTR_TOLERANCE] == nullptr);
    // files: a floor of 0 is sent, because it was given.
    const ParamAttrs &files = e.params[1];
    BOOST_TEST(nla_get_u8(files[KIS_PARAM_ATTR_ID]) == KIS_PARAM_FILES);
    BOOST_TEST_REQUIRE(files[KIS_PARAM_ATTR_FLOOR] != nullptr);
    BOOST_TEST(nla_get_u64(files[KIS_PARAM_ATTR_FLOOR]) == 0u);
    BOOST_TEST((files[KIS_PARAM_ATTR_MULT1] == nullptr && files[KIS_PARAM_ATTR_MULT2] == nullptr));
    // files_outside: EXPECT 0 and the default TOLERANCE.
    const ParamAttrs &outside = e.params[2];
    BOOST_TEST(nla_get_u8(outside[KIS_PARAM_ATTR_ID]) == KIS_PARAM_FILES_OUTSIDE);
    BOOST_TEST_REQUIRE(outside[KIS_PARAM_ATTR_EXPECT] != nullptr);
    BOOST_TEST(nla_get_u64(outside[KIS_PARAM_ATTR_EXPECT]) == 0u);
    BOOST_TEST(nla_len(outside[KIS_PARAM_ATTR_TOLERANCE]) == 2);
    BOOST_TEST(nla_get_u16(outside[KIS_PARAM_ATTR_TOLERANCE]) == 25u);
    BOOST_TEST(outside[KIS_PARAM_ATTR_FLOOR] == nullptr);
    BOOST_TEST(nla_get_u8(e.params[4][KIS_PARAM_ATTR_ID]) == KIS_PARAM_CONN_RATIO);
    BOOST_TEST(nla_get_u16(e.params[4][KIS_PARAM_ATTR_TOLERANCE]) == 1000u);

    // Without [cell.stats]: the defaults are sent, no FILE_GLOBS and no PARAMS.
    FileConfig minimal = read_cell_file((config_dir() / "good/minimal.toml").string());
    BOOST_TEST_REQUIRE(minimal.cells.size() == 1u);
    Encoded d([&](nl_msg *m) { return put_cell_config(m, minimal.cells[0]); });
    BOOST_TEST(nla_get_u16(d.a[KIS_CELL_ATTR_SEQ_THRESHOLD2]) == 650u);
    BOOST_TEST(nla_get_u32(d.a[KIS_CELL_ATTR_STAT_INTERVAL]) ==
               static_cast<std::uint32_t>(KIS_STAT_INTERVAL_MS_DEFAULT));
    BOOST_TEST(nla_get_u16(d.a[KIS_CELL_ATTR_DANGER_HOLD1]) == KIS_DANGER_HOLD1_DEFAULT);
    BOOST_TEST(nla_get_u16(d.a[KIS_CELL_ATTR_DANGER_HOLD2]) == KIS_DANGER_HOLD2_DEFAULT);
    BOOST_TEST(nla_get_u32(d.a[KIS_CELL_ATTR_FILE_TREE]) ==
               static_cast<std::uint32_t>(KIS_FILE_TREE_DEFAULT));
    BOOST_TEST(d.a[KIS_CELL_ATTR_FILE_GLOBS] == nullptr);
    BOOST_TEST(d.a[KIS_CELL_ATTR_PARAMS] == nullptr);
    BOOST_TEST(std::string(static_cast<const char *>(nla_data(d.a[KIS_CELL_ATTR_NAME]))) ==
               "httpd");
}

BOOST_AUTO_TEST_CASE(cell_set_encoding) {
    CellSettings s;
    s.threshold2 = 700;
    s.hold2 = 0;
    ParamConfig p;
    BOOST_TEST_REQUIRE(!parse_param_setting("rx_bytes:mult2=9,floor=4096", p));
    s.params.push_back(p);
    Encoded e([&](nl_msg *m) { return put_cell_settings(m, s); });
    BOOST_TEST(e.a[KIS_CELL_ATTR_SEQ_WINDOW] == nullptr);
    BOOST_TEST(e.a[KIS_CELL_ATTR_SEQ_THRESHOLD] == nullptr);
    BOOST_TEST(e.a[KIS_CELL_ATTR_DANGER_HOLD1] == nullptr);
    BOOST_TEST_REQUIRE(e.a[KIS_CELL_ATTR_SEQ_THRESHOLD2] != nullptr);
    BOOST_TEST(nla_get_u16(e.a[KIS_CELL_ATTR_SEQ_THRESHOLD2]) == 700u);
    BOOST_TEST_REQUIRE(e.a[KIS_CELL_ATTR_DANGER_HOLD2] != nullptr);
    BOOST_TEST(nla_get_u16(e.a[KIS_CELL_ATTR_DANGER_HOLD2]) == 0u);
    BOOST_TEST_REQUIRE(e.params.size() == 1u);
    BOOST_TEST(nla_get_u8(e.params[0][KIS_PARAM_ATTR_ID]) == KIS_PARAM_RX_BYTES);
    BOOST_TEST(e.params[0][KIS_PARAM_ATTR_MULT1] == nullptr);
    BOOST_TEST(nla_get_u16(e.params[0][KIS_PARAM_ATTR_MULT2]) == 90u);
    BOOST_TEST(nla_get_u64(e.params[0][KIS_PARAM_ATTR_FLOOR]) == 4096u);

    CellSettings old;
    old.window = 5;
    old.threshold = 250;
    Encoded o([&](nl_msg *m) { return put_cell_settings(m, old); });
    BOOST_TEST(nla_get_u16(o.a[KIS_CELL_ATTR_SEQ_WINDOW]) == 5u);
    BOOST_TEST(nla_get_u16(o.a[KIS_CELL_ATTR_SEQ_THRESHOLD]) == 250u);
    BOOST_TEST(o.a[KIS_CELL_ATTR_SEQ_THRESHOLD2] == nullptr);
    BOOST_TEST(o.a[KIS_CELL_ATTR_PARAMS] == nullptr);
}

BOOST_AUTO_TEST_CASE(set_usage_errors) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"set", "web", "--threshold2", "1001"}, "--threshold2 must be a number from 0 to 1000"},
        {{"set", "web", "--hold1", "3601"}, "--hold1 must be a number from 0 to 3600"},
        {{"set", "web", "--hold2", "x"}, "--hold2 must be a number from 0 to 3600"},
        {{"set", "web", "--threshold", "500", "--threshold2", "400"},
         "--threshold2 400 is below --threshold 500"},
        {{"set", "web", "--param"}, "option --param needs a value"},
        {{"set", "web", "--param", "cpu"}, "must be NAME:KEY=VALUE"},
        {{"set", "web", "--param=cpus:mult1=3"}, "unknown parameter \"cpus\""},
        {{"set", "web", "-p", "cpu:mult1=3", "--param", "cpu:floor=3"},
         "--param cpu is given twice; give its keys in one --param"},
        {{"set", "web", "--param", "cpu:expect=3"}, "expect is fixed when the cell is loaded"},
        // As for any option with a value: "--param" is the window, the rest an operand.
        {{"set", "web", "--window", "--param", "cpu:mult1=3"},
         "unexpected argument \"cpu:mult1=3\""},
        {{"set", "web", "--window", "--param"}, "--window must be a number from 1 to 128"},
        {{"set", "web"},
         "nothing to set: give --window W, --threshold T, --threshold2 T2, "
         "--hold1 N, --hold2 N and/or --param NAME:KEY=VALUE,..."},
    };
    for (const auto &[args, message] : cases) {
        std::string label;
        for (const std::string &a : args)
            label += a + " ";
        BOOST_TEST_CONTEXT(label) {
            RunResult r = run_kisctl(args);
            BOOST_TEST(r.status == 2);
            BOOST_TEST(r.out.empty());
            BOOST_TEST(r.err.find(message) != std::string::npos, r.err);
        }
    }
}

BOOST_AUTO_TEST_CASE(several_cells_in_file_order) {
    FileConfig f = read_cell_file((config_dir() / "good/several.toml").string());
    BOOST_TEST_REQUIRE(f.cells.size() == 3u);
    BOOST_TEST(f.cells[0].name == "shells");
    BOOST_TEST(f.cells[1].name == "sbin");
    BOOST_TEST(f.cells[1].max_tasks == 1u);
    BOOST_TEST(f.cells[2].name == "literal");
    BOOST_TEST(f.cells[2].program == "weird\\[name\\]\\*");
    BOOST_TEST(f.cells[0].line < f.cells[1].line);
    BOOST_TEST(f.cells[1].line < f.cells[2].line);
}

BOOST_AUTO_TEST_CASE(multiple_errors_all_reported) {
    FileConfig f = read_cell_file((config_dir() / "bad/many_errors.toml").string());
    BOOST_TEST(f.errors.size() == 5u, dump(f.errors));
    BOOST_TEST(f.cells.empty());
    for (size_t i = 1; i < f.errors.size(); i++)
        BOOST_TEST(f.errors[i - 1].line <= f.errors[i].line);
}

BOOST_AUTO_TEST_CASE(good_cells_survive_bad_neighbours) {
    FileConfig f = parse("[[cell]]\nname = \"a\"\nprogram = \"a\"\n"
                         "[[cell]]\nname = \"b\"\nprogram = \"[\"\n");
    BOOST_TEST(f.errors.size() == 1u);
    BOOST_TEST_REQUIRE(f.cells.size() == 1u);
    BOOST_TEST(f.cells[0].name == "a");
}

BOOST_AUTO_TEST_CASE(duplicate_names_across_files) {
    std::string first = (config_dir() / "dup/first.toml").string();
    std::string second = (config_dir() / "dup/second.toml").string();
    auto files = read_cell_files({first, second});
    BOOST_TEST_REQUIRE(files.size() == 2u);
    BOOST_TEST(files[0].ok());
    BOOST_TEST(files[0].cells.size() == 1u);
    BOOST_TEST_REQUIRE(files[1].errors.size() == 1u);
    BOOST_TEST(files[1].errors[0].str() == second + ":5: cell \"httpd\" is already defined at " +
                                               first + ":2; cell names must be unique");
    // The duplicate is dropped, the other cell of the file kept.
    BOOST_TEST_REQUIRE(files[1].cells.size() == 1u);
    BOOST_TEST(files[1].cells[0].name == "other");
    // Each file alone is fine.
    BOOST_TEST(read_cell_files({second})[0].ok());
}

BOOST_AUTO_TEST_CASE(same_file_twice_is_a_duplicate) {
    std::string first = (config_dir() / "dup/first.toml").string();
    auto files = read_cell_files({first, first});
    BOOST_TEST(files[0].ok());
    BOOST_TEST(files[1].errors.size() == 1u);
}

BOOST_AUTO_TEST_CASE(repo_conf_files_parse) {
    auto files = files_in(source_dir() / "conf/cells");
    BOOST_TEST_REQUIRE(!files.empty());
    std::vector<std::string> paths;
    for (const auto &file : files) {
        FileConfig f = read_cell_file(file.string());
        BOOST_TEST(f.ok(), file << dump(f.errors));
        BOOST_TEST(!f.cells.empty(), file);
        paths.push_back(file.string());
    }
    for (const FileConfig &f : read_cell_files(paths))
        BOOST_TEST(f.ok(), dump(f.errors));
}

BOOST_AUTO_TEST_CASE(httpd_example) {
    FileConfig f = read_cell_file((source_dir() / "conf/cells/httpd.toml").string());
    BOOST_TEST_REQUIRE(f.cells.size() == 1u);
    BOOST_TEST(f.cells[0].name == "httpd");
    BOOST_TEST(f.cells[0].program == "httpd");
    BOOST_TEST(f.cells[0].args == "*");
}

BOOST_AUTO_TEST_CASE(unreadable_files) {
    FileConfig missing = read_cell_file("/nonexistent/x.toml");
    BOOST_TEST_REQUIRE(missing.errors.size() == 1u);
    BOOST_TEST(missing.errors[0].line == 0);
    BOOST_TEST(missing.errors[0].str() == "/nonexistent/x.toml: cannot open: No such file or "
                                          "directory");
    FileConfig dir = read_cell_file(config_dir().string());
    BOOST_TEST_REQUIRE(dir.errors.size() == 1u);
    BOOST_TEST(dir.errors[0].message.find("is a directory") == 0u);
}

BOOST_AUTO_TEST_CASE(syntax_error_stops_at_the_first) {
    FileConfig f = parse("[[cell]]\nname = \"a\"\nname = \"b\"\nprogram = \"a\"\n");
    BOOST_TEST_REQUIRE(f.errors.size() == 1u);
    BOOST_TEST(f.errors[0].line == 3);
    BOOST_TEST(f.errors[0].message.find("TOML syntax error: ") == 0u);
}

BOOST_AUTO_TEST_CASE(limits_at_the_edges) {
    std::string name31(31, 'n');
    std::string prog255(255, 'p');
    std::string args255(255, 'a');
    FileConfig ok = parse("[[cell]]\nname = \"" + name31 + "\"\nprogram = \"" + prog255 +
                          "\"\nargs = \"" + args255 + "\"\nmax_tasks = 1\n");
    BOOST_TEST(ok.ok(), dump(ok.errors));
    FileConfig bad = parse("[[cell]]\nname = \"" + name31 + "n\"\nprogram = \"" + prog255 +
                           "p\"\nargs = \"" + args255 + "a\"\nmax_tasks = 65537\n");
    BOOST_TEST(bad.errors.size() == 4u, dump(bad.errors));
}

BOOST_AUTO_TEST_CASE(shared_checks) {
    BOOST_TEST(!check_cell_name("httpd"));
    BOOST_TEST(!check_cell_name("A-Z_a.z-0.9"));
    BOOST_TEST(check_cell_name("").has_value());
    BOOST_TEST(check_cell_name("a b").has_value());
    BOOST_TEST(check_cell_name("\xc3\xa9").has_value());
    BOOST_TEST(!check_pattern("program", "httpd", KIS_PROGRAM_MAX));
    BOOST_TEST(check_pattern("program", "ab[c", KIS_PROGRAM_MAX).value().find("offset 2") !=
               std::string::npos);
    BOOST_TEST(check_pattern("args", "", KIS_ARGS_PATTERN_MAX).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
