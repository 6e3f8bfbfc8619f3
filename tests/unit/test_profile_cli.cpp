// `kisctl profile learn|show|score`, run as a user would, on the traces of
// tests/unit/data/traces/. No module needed.
#include <boost/test/unit_test.hpp>

#include <sstream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "test_profile_util.hpp"

namespace kis::test {

namespace {

std::vector<std::string> words(const std::string &line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;)
        out.push_back(w);
    return out;
}

std::vector<std::string> lines(const std::string &text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);)
        out.push_back(l);
    return out;
}

// Learns `traces` into dir/name with extra arguments; requires success.
std::string learn(const ScratchDir &dir, const std::string &name,
                  const std::vector<std::string> &traces, std::vector<std::string> extra = {}) {
    std::string out = dir.file(name);
    std::vector<std::string> args = {"profile", "learn"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"-o", out});
    args.insert(args.end(), traces.begin(), traces.end());
    RunResult r = run_kisctl(args);
    BOOST_TEST_REQUIRE(r.status == 0, r.err);
    return out;
}

const std::string kSmallShow = "1 2 ->  3 0.667 (score 36)  | 4 0.333 (score 98)\n"
                               "2 3 ->  1 1.000 (score 0)\n"
                               "2 4 ->  1 1.000 (score 0)\n"
                               "3 1 ->  2 1.000 (score 0)\n"
                               "4 1 ->  2 1.000 (score 0)\n"
                               "5 6 ->  7 1.000 (score 0)\n"
                               "6 7 ->  5 1.000 (score 0)\n"
                               "7 5 ->  6 1.000 (score 0)\n";

} // namespace

BOOST_AUTO_TEST_SUITE(profile_cli)

BOOST_AUTO_TEST_CASE(help) {
    RunResult top = run_kisctl({"--help"});
    BOOST_TEST(top.out.find("\n  profile ") != std::string::npos, top.out);
    RunResult r = run_kisctl({"profile", "--help"});
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.out.find("usage: kisctl profile learn") == 0u, r.out);
    BOOST_TEST(run_kisctl({"help", "profile"}).out == r.out);
    for (const char *action : {"learn", "show", "score", "load", "unload"}) {
        BOOST_TEST_CONTEXT(action) {
            RunResult a = run_kisctl({"profile", action, "--help"});
            BOOST_TEST(a.status == 0);
            BOOST_TEST(a.out.find(std::string("usage: kisctl profile ") + action) == 0u, a.out);
            BOOST_TEST(a.err.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
    ScratchDir dir;
    std::string db = learn(dir, "s.kis", {trace("small.imsafe")}, {"-k", "3"});
    std::string t = trace("small.stide");
    const std::vector<std::vector<std::string>> cases = {
        {"profile"},
        {"profile", "bogus"},
        {"profile", "learn"},
        {"profile", "learn", t},
        {"profile", "learn", "-o"},
        {"profile", "learn", "-o", dir.file("x.kis")},
        {"profile", "learn", "-k", "1", "-o", dir.file("x.kis"), t},
        {"profile", "learn", "-k", "17", "-o", dir.file("x.kis"), t},
        {"profile", "learn", "-k", "six", "-o", dir.file("x.kis"), t},
        {"profile", "learn", "--bogus", "-o", dir.file("x.kis"), t},
        {"profile", "show"},
        {"profile", "show", db, db},
        {"profile", "show", "--max", "-1", db},
        {"profile", "show", "--tree=yes", db},
        {"profile", "score"},
        {"profile", "score", db},
        {"profile", "score", "--window", "0", db, t},
        {"profile", "score", "--window", "129", db, t},
        {"profile", "score", "--threshold", "1001", db, t},
        {"profile", "score", "--window"},
        {"profile", "load"},
        {"profile", "load", "httpd"},
        {"profile", "load", "httpd", db, db},
        {"profile", "load", "--bogus", "httpd", db},
        {"profile", "unload"},
        {"profile", "unload", "a", "b"},
    };
    check_usage_errors(cases);
    BOOST_TEST(!std::filesystem::exists(dir.file("x.kis")));
    RunResult r = run_kisctl({"profile", "score", "--window", "0", db, t});
    BOOST_TEST(r.err == "kisctl profile score: --window must be a number from 1 to 128, not "
                        "\"0\"\nRun `kisctl profile score --help` for its usage.\n");
}

BOOST_AUTO_TEST_CASE(learn_prints_what_it_learned) {
    ScratchDir dir;
    std::string out = dir.file("s.kis");
    RunResult r = run_kisctl({"profile", "learn", "-k", "3", "-o", out, trace("small.imsafe")});
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(r.out == "learned " + out +
                            " (k=3) from 2 traces, 15 calls: 11 k-grams counted\n"
                            "profile: 8 prefixes, 9 distinct k-grams, 11 k-grams counted in all\n");
    BOOST_TEST(r.err.empty());
    // Both formats, plain or compressed, give the same file.
    BOOST_TEST(read_bytes(learn(dir, "b.kis", {trace("small.stide")}, {"-k", "3"})) ==
               read_bytes(out));
    BOOST_TEST(read_bytes(learn(dir, "c.kis", {trace("small.stide.gz")}, {"-k", "3"})) ==
               read_bytes(out));
    // k defaults to 6.
    std::string six = learn(dir, "six.kis", {trace("normal.stide")});
    BOOST_TEST(read_bytes(six)[12] == 6);
}

BOOST_AUTO_TEST_CASE(learn_order_does_not_matter) {
    ScratchDir dir;
    std::string a = learn(dir, "a.kis", {trace("normal.stide"), trace("attack.stide")});
    std::string b = learn(dir, "b.kis", {trace("attack.stide"), trace("normal.stide")});
    BOOST_TEST(read_bytes(a) == read_bytes(b));
    // Learned in two steps with -i: the same again.
    std::string c = learn(dir, "c.kis", {trace("attack.stide")});
    RunResult r = run_kisctl({"profile", "learn", "-i", c, "-o", c, trace("normal.stide")});
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(r.out.find("added to " + c +
                          " (k=6) from 3 traces, 954 calls: 939 k-grams "
                          "counted\n") == 0u,
               r.out);
    BOOST_TEST(read_bytes(c) == read_bytes(a));
}

BOOST_AUTO_TEST_CASE(learn_refuses_to_overwrite) {
    ScratchDir dir;
    std::string out = learn(dir, "s.kis", {trace("small.imsafe")}, {"-k", "3"});
    std::vector<std::uint8_t> before = read_bytes(out);
    RunResult r = run_kisctl({"profile", "learn", "-o", out, trace("normal.stide")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(r.err == "kisctl: " + out + " already exists; use --force to overwrite it, or -i " +
                            out + " to add to it\n");
    BOOST_TEST(read_bytes(out) == before);
    RunResult f = run_kisctl({"profile", "learn", "--force", "-o", out, trace("normal.stide")});
    BOOST_TEST(f.status == 0, f.err);
    BOOST_TEST(read_bytes(out) != before);
    BOOST_TEST(read_bytes(out)[12] == 6);
}

BOOST_AUTO_TEST_CASE(learn_adds_to_an_existing_profile) {
    ScratchDir dir;
    std::string db = learn(dir, "s.kis", {trace("small.imsafe")}, {"-k", "3"});
    // -i and -o the same file: counts add up (11 + 11).
    RunResult r = run_kisctl({"profile", "learn", "-i", db, "-o", db, trace("small.stide")});
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(r.out == "added to " + db +
                            " (k=3) from 2 traces, 15 calls: 11 k-grams counted\n"
                            "profile: 8 prefixes, 9 distinct k-grams, 22 k-grams counted in all\n");
    // Into another file: the input stays as it was.
    std::vector<std::uint8_t> in = read_bytes(db);
    std::string other = dir.file("other.kis");
    r = run_kisctl({"profile", "learn", "-i", db, "-o", other, trace("small.stide")});
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(read_bytes(db) == in);
    // k must match.
    r = run_kisctl({"profile", "learn", "-k", "4", "-i", db, "-o", db, trace("small.stide")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err == "kisctl: " + db + " has k=3, not 4; leave -k out to add to it\n");
    // A damaged input.
    std::vector<std::uint8_t> bad = in;
    bad[bad.size() - 9] ^= 1;
    write_bytes(db, bad);
    r = run_kisctl({"profile", "learn", "-i", db, "-o", db, trace("small.stide")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err == "kisctl: " + db + ": checksum mismatch: the file is damaged\n");
    BOOST_TEST(read_bytes(db) == bad);
}

BOOST_AUTO_TEST_CASE(learn_errors) {
    ScratchDir dir;
    std::string out = dir.file("x.kis");
    RunResult r =
        run_kisctl({"profile", "learn", "-o", out, trace("small.stide"), trace("bad_text.trace")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err == "kisctl: " + trace("bad_text.trace") +
                            ":4: not a trace line: \"3 100 read\"; expected decimal numbers "
                            "INDEX PID SYSCALL (ImSafe) or PID SYSCALL (stide)\n");
    BOOST_TEST(!std::filesystem::exists(out));
    r = run_kisctl({"profile", "learn", "-o", out, "/nonexistent.trace"});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err == "kisctl: /nonexistent.trace: cannot open: No such file or directory\n");
    // Traces too short for k: nothing to learn, nothing written.
    r = run_kisctl({"profile", "learn", "-o", out, trace("crlf.stide")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err ==
               "kisctl: nothing learned: no trace has 6 calls (k); " + out + " was not written\n");
    BOOST_TEST(!std::filesystem::exists(out));
    r = run_kisctl({"profile", "learn", "-o", "/nonexistent/dir/x.kis", trace("small.stide")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find("/nonexistent/dir/x.kis: cannot create: No such file or directory") !=
                   std::string::npos,
               r.err);
}

BOOST_AUTO_TEST_CASE(show_lists_next_call_probabilities) {
    ScratchDir dir;
    std::string db = learn(dir, "s.kis", {trace("small.imsafe")}, {"-k", "3"});
    RunResult r = run_kisctl({"profile", "show", db});
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(r.out == "profile   " + db +
                            " (192 bytes, format 1)\n"
                            "k         3\n"
                            "prefixes  8\n"
                            "k-grams   9\n"
                            "counted   11 (calls that had k-1 calls before them)\n"
                            "\n" +
                            kSmallShow);
    RunResult m = run_kisctl({"profile", "show", "--max", "2", db});
    BOOST_TEST(m.status == 0);
    std::vector<std::string> l = lines(m.out);
    BOOST_TEST_REQUIRE(l.size() == 9u);
    BOOST_TEST(l[6] == "1 2 ->  3 0.667 (score 36)  | 4 0.333 (score 98)");
    BOOST_TEST(l[8] == "... 6 more prefixes (--max 0 shows all)");
    RunResult all = run_kisctl({"profile", "show", "--max=0", db});
    BOOST_TEST(all.out == r.out);
}

BOOST_AUTO_TEST_CASE(show_tree) {
    ScratchDir dir;
    std::string db = learn(dir, "t.kis", {trace("small.imsafe")}, {"-k", "4"});
    RunResult r = run_kisctl({"profile", "show", "--tree", db});
    BOOST_TEST(r.status == 0, r.err);
    std::vector<std::string> l = lines(r.out);
    std::vector<std::string> tree(l.begin() + 6, l.end());
    // k=4: prefixes 1 2 3, 1 2 4, 2 3 1, 2 4 1, 3 1 2, 4 1 2, 5 6 7, 6 7 5, 7 5 6.
    std::vector<std::string> want = {"1",
                                     "  2",
                                     "    3 ->  1 1.000 (score 0)",
                                     "    4 ->  1 1.000 (score 0)",
                                     "2",
                                     "  3",
                                     "    1 ->  2 1.000 (score 0)",
                                     "  4",
                                     "    1 ->  2 1.000 (score 0)",
                                     "3",
                                     "  1",
                                     "    2 ->  4 1.000 (score 0)",
                                     "4",
                                     "  1",
                                     "    2 ->  3 1.000 (score 0)",
                                     "5",
                                     "  6",
                                     "    7 ->  5 1.000 (score 0)",
                                     "6",
                                     "  7",
                                     "    5 ->  6 1.000 (score 0)",
                                     "7",
                                     "  5",
                                     "    6 ->  7 1.000 (score 0)"};
    BOOST_TEST(tree == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(show_damaged_profile) {
    ScratchDir dir;
    std::string db = learn(dir, "s.kis", {trace("small.imsafe")}, {"-k", "3"});
    std::vector<std::uint8_t> b = read_bytes(db);
    b[60] ^= 0x40;
    write_bytes(db, b);
    RunResult r = run_kisctl({"profile", "show", db});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(r.err == "kisctl: " + db + ": checksum mismatch: the file is damaged\n");
    b.resize(40);
    write_bytes(db, b);
    r = run_kisctl({"profile", "score", db, trace("small.stide")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err == "kisctl: " + db + ": truncated: the header announces 160 bytes of data, " +
                            "the file has 8: the file is damaged\n");
    r = run_kisctl({"profile", "show", trace("small.stide")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err == "kisctl: " + trace("small.stide") +
                            ": not a KIS profile (it does not start with \"KISPROF\")\n");
}

BOOST_AUTO_TEST_CASE(score_one_line_per_trace) {
    ScratchDir dir;
    std::string db = learn(dir, "n.kis", {trace("normal.stide")});
    RunResult r =
        run_kisctl({"profile", "score", db, trace("attack.stide"), trace("normal.stide")});
    BOOST_TEST(r.status == 0, r.err);
    std::vector<std::string> l = lines(r.out);
    BOOST_TEST_REQUIRE(l.size() == 6u, r.out);
    BOOST_TEST((words(l[0]) == std::vector<std::string>{"FILE", "PID", "CALLS", "MAX", "ALERT"}));
    // FILE PID CALLS MAX ALERT: the attacked process alerts, the other does not; normal
    // traces score low.
    std::vector<std::string> w400 = words(l[1]), w401 = words(l[2]);
    BOOST_TEST(w400[0] == trace("attack.stide"));
    BOOST_TEST(w400[1] == "400");
    BOOST_TEST(w400[2] == "61");
    BOOST_TEST(std::stoi(w400[3]) > 300);
    BOOST_TEST(w400[4] == "yes");
    BOOST_TEST(w401[1] == "401");
    BOOST_TEST(std::stoi(w401[3]) <= 300);
    BOOST_TEST(w401[4] == "no");
    for (std::size_t i = 3; i < 6; i++) {
        std::vector<std::string> w = words(l[i]);
        BOOST_TEST(w[0] == trace("normal.stide"));
        BOOST_TEST(std::stoi(w[3]) < 100);
        BOOST_TEST(w[4] == "no");
    }
    // A threshold and a window.
    RunResult t =
        run_kisctl({"profile", "score", "-w", "5", "--threshold=10", db, trace("normal.stide")});
    BOOST_TEST(t.status == 0, t.err);
    std::vector<std::string> tl = lines(t.out);
    BOOST_TEST_REQUIRE(tl.size() == 4u);
    for (std::size_t i = 1; i < tl.size(); i++)
        BOOST_TEST(words(tl[i])[4] == "yes", tl[i]);
}

BOOST_AUTO_TEST_CASE(score_json) {
    ScratchDir dir;
    std::string db = learn(dir, "s.kis", {trace("small.imsafe")}, {"-k", "3"});
    std::string t = dir.file("t.trace");
    write_text(t, "1 7 1\n2 7 2\n3 7 3\n4 7 1\n5 7 2\n6 7 9\n7 8 1\n");
    RunResult r = run_kisctl({"profile", "score", "--json", "--window", "2", db, t});
    BOOST_TEST(r.status == 0, r.err);
    nlohmann::json j = nlohmann::json::parse(r.out);
    BOOST_TEST(j["profile"] == db);
    BOOST_TEST(j["k"] == 3);
    BOOST_TEST(j["window"] == 2);
    BOOST_TEST(j["threshold"] == 300);
    BOOST_TEST_REQUIRE(j["traces"].size() == 2u);
    // PID 7: 1 2 3 1 2 9: scores 36 0 0 1000, window 2: 36 18 0 500.
    const nlohmann::json &a = j["traces"][0];
    BOOST_TEST(a["file"] == t);
    BOOST_TEST(a["pid"] == 7);
    BOOST_TEST(a["calls"] == 6);
    BOOST_TEST(a["scored"] == 4);
    BOOST_TEST(a["max"] == 500);
    BOOST_TEST(a["max_at"] == 6);
    BOOST_TEST(a["alert"] == true);
    BOOST_TEST(a["alerts"] == 1);
    BOOST_TEST(a["first_alert"] == 6);
    const nlohmann::json &b = j["traces"][1];
    BOOST_TEST(b["pid"] == 8);
    BOOST_TEST(b["scored"] == 0);
    BOOST_TEST(b["alert"] == false);
    BOOST_TEST(b["first_alert"].is_null());
    // The text form of the same.
    RunResult text = run_kisctl({"profile", "score", "--window", "2", db, t});
    std::vector<std::string> l = lines(text.out);
    BOOST_TEST_REQUIRE(l.size() == 3u);
    BOOST_TEST((words(l[1]) == std::vector<std::string>{t, "7", "6", "500", "yes", "(1", "time,",
                                                        "first", "at", "call", "6)"}));
    BOOST_TEST((words(l[2]) == std::vector<std::string>{t, "8", "1", "0", "no"}));
}

BOOST_AUTO_TEST_CASE(load_checks_the_file_before_the_module) {
    ScratchDir dir;
    std::string db = learn(dir, "s.kis", {trace("small.imsafe")}, {"-k", "3"});
    std::vector<std::uint8_t> b = read_bytes(db);
    b[b.size() - 1] ^= 1;
    std::string bad = dir.file("bad.kis");
    write_bytes(bad, b);
    RunResult r = run_kisctl({"profile", "load", "httpd", bad});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find(bad + ": checksum mismatch: the file is damaged\n") != std::string::npos,
               r.err);
    if (access("/sys/module/kis", F_OK) == 0) {
        BOOST_TEST_MESSAGE("the kis module is loaded here; skipping the rest");
        return;
    }
    const std::string not_loaded = "the kis module is not loaded";
    r = run_kisctl({"profile", "load", "httpd", db});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find(not_loaded) != std::string::npos, r.err);
    r = run_kisctl({"profile", "unload", "httpd"});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find(not_loaded) != std::string::npos, r.err);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
