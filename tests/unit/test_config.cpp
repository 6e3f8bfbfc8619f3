// The cell config parser. Bad files under data/config/bad describe the errors they must
// produce in comments: "# expect: LINE: fragment". Every expectation must match an error at
// that line whose message contains the fragment, and every error must be expected.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "config.hpp"
#include "test_util.hpp"

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
