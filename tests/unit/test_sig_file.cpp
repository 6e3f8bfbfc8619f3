// Signature files (kisctl/sig_file.{hpp,cpp}) and `kisctl sig`. Bad files under data/sig/bad
// give the exact errors they must produce in comments, "# expect: LINE: message", in order:
// the errors of the file must be exactly these, and the file must yield no signature.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "sig_file.hpp"
#include "test_profile_util.hpp" // ScratchDir
#include "test_util.hpp"

namespace kis::test {

namespace {

std::filesystem::path sig_dir() { return data_dir() / "sig"; }
std::string good(const std::string &name) { return (sig_dir() / "good" / name).string(); }
std::string bad(const std::string &name) { return (sig_dir() / "bad" / name).string(); }
std::string example() { return (source_dir() / "conf/signatures/httpd.toml").string(); }

// "FILE:LINE: message" for each "# expect: LINE: message" of the file, in order.
std::vector<std::string> expected_errors(const std::filesystem::path &file) {
    std::ifstream in(file);
    std::vector<std::string> out;
    static const std::regex re(R"(^# expect: (\d+): (.*)$)");
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, re))
            out.push_back(file.string() + ":" + std::string(m[1]) + ": " + std::string(m[2]));
    }
    return out;
}

std::vector<std::string> error_lines(const SigFile &f) {
    std::vector<std::string> out;
    for (const ConfigError &e : f.errors)
        out.push_back(e.str());
    return out;
}

const Signature *find_sig(const SigFile &f, const std::string &id) {
    for (const Signature &s : f.signatures)
        if (s.id == id)
            return &s;
    return nullptr;
}

// The lines of stdout.
std::vector<std::string> lines(const std::string &text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos)
            nl = text.size();
        out.push_back(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    return out;
}

// A request that injects `;id` into a CGI's query; the injection ends after "id", at byte 29.
const char kInjection[] = "GET /cgi-bin/status?host=a;id HTTP/1.0\\r\\nHost: lab\\r\\n\\r\\n";
const char kNormal[] =
    "GET /index.html HTTP/1.0\\r\\nHost: lab\\r\\nUser-Agent: curl/8.0\\r\\n\\r\\n";

} // namespace

BOOST_AUTO_TEST_SUITE(sig_file)

BOOST_AUTO_TEST_CASE(minimal_file_gets_the_defaults) {
    SigFile f = read_sig_file(good("minimal.toml"));
    BOOST_TEST_REQUIRE(f.ok(), error_lines(f).size());
    BOOST_TEST_REQUIRE(f.signatures.size() == 1u);
    const Signature &s = f.signatures[0];
    BOOST_TEST(s.id == "probe");
    BOOST_TEST(s.pattern.text == "GET /admin");
    BOOST_TEST(s.pattern.nocase == false);
    BOOST_TEST(s.type == 2u);
    BOOST_TEST(sig_response_name(s.response) == "log");
    BOOST_TEST(s.description.empty());
    BOOST_TEST((s.cells == std::vector<std::string>{"httpd"}));
    BOOST_TEST(s.line == 2);
    BOOST_TEST(s.pattern_line == 4);
}

BOOST_AUTO_TEST_CASE(full_file_gets_every_key) {
    SigFile f = read_sig_file(good("full.toml"));
    BOOST_TEST_REQUIRE(f.ok());
    BOOST_TEST_REQUIRE(f.signatures.size() == 4u);
    const Signature *a = find_sig(f, "cmd.injection-1");
    BOOST_TEST_REQUIRE(a != nullptr);
    BOOST_TEST(a->type == 1u);
    BOOST_TEST(sig_response_name(a->response) == "deny");
    BOOST_TEST(a->pattern.nocase == true);
    BOOST_TEST(a->description == "command injection");
    BOOST_TEST((a->cells == std::vector<std::string>{"httpd", "web_2"}));
    const Signature *b = find_sig(f, "shellshock");
    BOOST_TEST_REQUIRE(b != nullptr);
    BOOST_TEST(b->pattern.text == R"(\(\) *\{)");
    BOOST_TEST(sig_response_name(b->response) == "kill");
    BOOST_TEST(b->all_cells());
    BOOST_TEST(b->applies_to("anything"));
    BOOST_TEST(sig_response_name(find_sig(f, "slow")->response) == "delay");
    BOOST_TEST(sig_response_name(find_sig(f, "dropper")->response) == "drop");
    BOOST_TEST(find_sig(f, "dropper")->type == 2u);

    BOOST_TEST((f.named_cells() == std::vector<std::string>{"httpd", "web_2", "ftpd"}));
    std::vector<std::string> web;
    for (const Signature *s : f.for_cell("web_2"))
        web.push_back(s->id);
    BOOST_TEST((web == std::vector<std::string>{"cmd.injection-1", "shellshock", "slow"}));
    BOOST_TEST(f.for_cell("other").size() == 1u);
    BOOST_TEST(f.for_cell("").size() == 4u);
    for (std::string_view r : {"deny", "drop", "delay", "kill", "log"})
        BOOST_TEST(r == sig_response_name(r == "deny"    ? SigResponse::deny
                                          : r == "drop"  ? SigResponse::drop
                                          : r == "delay" ? SigResponse::delay
                                          : r == "kill"  ? SigResponse::kill
                                                         : SigResponse::log));
}

BOOST_AUTO_TEST_CASE(example_file_is_good) {
    SigFile f = read_sig_file(example());
    BOOST_TEST_REQUIRE(f.ok(), error_lines(f).size());
    BOOST_TEST(f.signatures.size() >= 3u);
    Result<SigAutomaton> a = compile_sig_set(f.for_cell("httpd"), "httpd");
    BOOST_TEST_REQUIRE(a.ok());
    BOOST_TEST(a->blob.size() <= KIS_DFA_SIZE_MAX);
}

BOOST_AUTO_TEST_CASE(bad_files_give_exact_errors) {
    std::vector<std::filesystem::path> files = files_in(sig_dir() / "bad");
    BOOST_TEST_REQUIRE(files.size() >= 15u);
    for (const auto &file : files) {
        BOOST_TEST_CONTEXT(file.filename().string()) {
            std::vector<std::string> want = expected_errors(file);
            BOOST_TEST_REQUIRE(!want.empty()); // a bad file must say what it expects
            SigFile f = read_sig_file(file.string());
            BOOST_TEST(!f.ok());
            BOOST_TEST(f.signatures.empty()); // nothing half accepted
            BOOST_TEST(error_lines(f) == want, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(unreadable_files) {
    SigFile f = read_sig_file((sig_dir() / "missing.toml").string());
    BOOST_TEST_REQUIRE(f.errors.size() == 1u);
    BOOST_TEST(f.errors[0].str() ==
               (sig_dir() / "missing.toml").string() + ": cannot open: No such file or directory");
    SigFile d = read_sig_file(sig_dir().string());
    BOOST_TEST_REQUIRE(d.errors.size() == 1u);
    BOOST_TEST(d.errors[0].message.find("is a directory; give the signature files") == 0u);
}

BOOST_AUTO_TEST_CASE(inline_errors) {
    auto one = [](const std::string &text) {
        SigFile f = parse_sig_file(text, "t.toml");
        BOOST_TEST(f.signatures.empty());
        return f.errors.size() == 1 ? f.errors[0].str()
                                    : "errors: " + std::to_string(f.errors.size());
    };
    BOOST_TEST(one("[[signature]]\nid = \"" + std::string(64, 'a') +
                   "\"\npattern = 'x'\ncells = [\"a\"]\n") ==
               "t.toml:2: id \"" + std::string(64, 'a') +
                   "\" is 64 bytes long; at most 63 are allowed");
    BOOST_TEST(one("[[signature]]\nid = \"a\"\npattern = 'x'\ncells = [\"*\", \"b\"]\n") ==
               "t.toml:4: cells of signature \"a\" holds \"*\" and cell names; \"*\" alone "
               "already means every cell");
    BOOST_TEST(one("[[signature]]\nid = \"a\"\npattern = 'x'\ncells = [\"b\", \"b\"]\n") ==
               "t.toml:4: cells of signature \"a\" names \"b\" twice");
    BOOST_TEST(one("[[signature]]\nid = \"a\"\ncells = [\"b\"]\n") ==
               "t.toml:1: signature \"a\" has no pattern");
    BOOST_TEST(one("[signature]\nid = \"a\"\n") ==
               "t.toml:1: \"signature\" must be an array of tables: write [[signature]], not "
               "[signature]");
    // The nocase key is given to the pattern check: (?i) and nocase agree.
    SigFile f = parse_sig_file(
        "[[signature]]\nid = \"a\"\npattern = 'ABC'\nnocase = true\ncells = [\"b\"]\n", "t.toml");
    BOOST_TEST_REQUIRE(f.ok());
    BOOST_TEST(f.signatures[0].pattern.nocase);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sig_cli)

BOOST_AUTO_TEST_CASE(check_example_and_good_files) {
    RunResult r = run_kisctl({"sig", "check", example(), good("minimal.toml")});
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.err.empty());
    std::vector<std::string> out = lines(r.out);
    BOOST_TEST_REQUIRE(out.size() >= 4u);
    BOOST_TEST(out[0] == example() + ": ok (5 signatures)");
    BOOST_TEST(std::regex_match(
        out[1],
        std::regex(R"(  cell httpd: 5 signatures, \d+ states, \d+ byte classes, \d+ bytes)")));
    BOOST_TEST(out[2] == "  cell *: 1 signature, 5 states, 5 byte classes, 432 bytes");
    BOOST_TEST(out[3] == good("minimal.toml") + ": ok (1 signature)");
}

BOOST_AUTO_TEST_CASE(check_reports_every_error_of_every_file) {
    RunResult r = run_kisctl(
        {"sig", "check", bad("several.toml"), good("minimal.toml"), bad("bad_type.toml")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.out == good("minimal.toml") + ": ok (1 signature)\n" +
                            "  cell httpd: 1 signature, 12 states, 11 byte classes, 888 bytes\n");
    std::string want;
    for (const std::string &f : {bad("several.toml"), bad("bad_type.toml")})
        for (const std::string &e : expected_errors(f))
            want += e + "\n";
    BOOST_TEST(r.err == want);
}

BOOST_AUTO_TEST_CASE(test_finds_the_injection) {
    RunResult r = run_kisctl({"sig", "test", example(), "--data", kInjection});
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.out == "match cmd-injection at offset 29 (type 2, response deny)\n");
    BOOST_TEST(r.err.empty());
    // Fed byte by byte, and with --cell: the same matches.
    RunResult c = run_kisctl(
        {"sig", "test", example(), "--cell", "httpd", "--data", kInjection, "--chunk", "1"});
    BOOST_TEST(c.status == 0);
    BOOST_TEST(c.out == r.out);
    // A signature of another cell does not apply.
    RunResult o = run_kisctl({"sig", "test", example(), "--cell", "ftpd", "--data", kInjection});
    BOOST_TEST(o.status == 1);
    BOOST_TEST(o.out == "no match\n");
}

BOOST_AUTO_TEST_CASE(test_goes_on_after_a_match) {
    const std::string data = "GET /a/../../etc/passwd HTTP/1.0\\r\\nX: () { :; }\\r\\n\\r\\n";
    const std::string want = "match path-traversal at offset 10 (type 2, response deny)\n"
                             "match path-traversal at offset 13 (type 2, response deny)\n"
                             "match passwd-file at offset 23 (type 1, response log)\n"
                             "match shellshock at offset 41 (type 2, response kill)\n";
    for (const char *chunk : {"1", "3", "7", "1000"}) {
        BOOST_TEST_CONTEXT("--chunk " << chunk) {
            RunResult r = run_kisctl({"sig", "test", example(), "--data", data, "--chunk", chunk});
            BOOST_TEST(r.status == 0);
            BOOST_TEST(r.out == want);
        }
    }
}

BOOST_AUTO_TEST_CASE(test_normal_request_does_not_match) {
    for (const char *chunk : {"1", "5"}) {
        RunResult r = run_kisctl({"sig", "test", example(), "--data", kNormal, "--chunk", chunk});
        BOOST_TEST(r.status == 1);
        BOOST_TEST(r.out == "no match\n");
        BOOST_TEST(r.err.empty());
    }
    RunResult r = run_kisctl({"sig", "test", example(), "--data", kNormal});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.out == "no match\n");
}

BOOST_AUTO_TEST_CASE(test_reads_input_files_and_escapes) {
    ScratchDir tmp;
    std::string in = tmp.file("req");
    {
        std::ofstream f(in, std::ios::binary);
        f << "GET /x?q=1%3Bid HTTP/1.0\r\n\r\n";
    }
    RunResult r = run_kisctl({"sig", "test", example(), "--input", in});
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.out == "match cmd-injection at offset 15 (type 2, response deny)\n");
    // \xHH and \\ escapes: "\x28\x29 {" is "() {".
    RunResult e = run_kisctl({"sig", "test", example(), "--data", "a\\\\\\x28\\x29 {"});
    BOOST_TEST(e.status == 0);
    BOOST_TEST(e.out == "match shellshock at offset 6 (type 2, response kill)\n");
}

BOOST_AUTO_TEST_CASE(test_failures) {
    RunResult r = run_kisctl({"sig", "test", bad("bad_type.toml"), "--data", "x"});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(r.err == expected_errors(bad("bad_type.toml"))[0] + "\n");
    RunResult c = run_kisctl({"sig", "test", good("minimal.toml"), "--cell", "x", "--data", "x"});
    BOOST_TEST(c.status == 1);
    BOOST_TEST(c.err.find("no signature of") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(usage) {
    RunResult h = run_kisctl({"sig", "--help"});
    BOOST_TEST(h.status == 0);
    BOOST_TEST(h.out.find("usage: kisctl sig check FILE...") == 0u);
    BOOST_TEST(h.out.find("  check ") != std::string::npos);
    BOOST_TEST(h.out.find("  test ") != std::string::npos);
    for (const char *action : {"check", "test"}) {
        RunResult a = run_kisctl({"sig", action, "--help"});
        BOOST_TEST(a.status == 0);
        BOOST_TEST(a.out.find(std::string("usage: kisctl sig ") + action) == 0u);
    }
    RunResult g = run_kisctl({"--help"});
    BOOST_TEST(g.out.find("\n  sig ") != std::string::npos);
    check_usage_errors({
        {"sig"},
        {"sig", "bogus"},
        {"sig", "check"},
        {"sig", "check", "--bogus", example()},
        {"sig", "test", example()},
        {"sig", "test", "--data", "x"},
        {"sig", "test", example(), good("minimal.toml"), "--data", "x"},
        {"sig", "test", example(), "--data", "x", "--input", example()},
        {"sig", "test", example(), "--data", "x", "--chunk", "0"},
        {"sig", "test", example(), "--data", "x", "--chunk", "many"},
        {"sig", "test", example(), "--data", "x\\q"},
        {"sig", "test", example(), "--data", "x\\x4"},
        {"sig", "test", example(), "--data", "x\\"},
        {"sig", "test", example(), "--cell", "a b", "--data", "x"},
    });
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
