// What kisctl monitor writes and kisctl plot reads (monitor_log.hpp): the log format and
// its parser, the terminal and JSON lines, the environment of --exec-on-alert programs,
// loss detection, and the gnuplot script.
#include <boost/test/unit_test.hpp>

#include "monitor_log.hpp"
#include "test_profile_util.hpp"

namespace kis::test {

namespace {

Alert example_alert() {
    Alert a;
    a.seq = 3;
    a.lost = 0;
    a.time_ns = 1795438149186055290ull; // 2026-11-23T12:49:09.186Z
    a.cell = "httpd";
    a.pid = 389;
    a.tgid = 388;
    a.comm = "cat";
    a.score = 319;
    a.threshold = 300;
    a.calls = {102, 257, 40, 40, 3};
    return a;
}

Sample example_sample(std::uint64_t t, std::uint32_t pid, std::uint32_t score) {
    return {t, "httpd", pid, pid, "httpd", score, score, 300};
}

std::size_t count(const std::string &s, const std::string &needle) {
    std::size_t n = 0;
    for (std::size_t pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + 1))
        n++;
    return n;
}

} // namespace

BOOST_AUTO_TEST_SUITE(monitor_log)

BOOST_AUTO_TEST_CASE(words_escape_and_come_back) {
    BOOST_TEST(escape_word("httpd") == "httpd");
    BOOST_TEST(escape_word("") == "-");
    BOOST_TEST(escape_word("-") == "\\x2d");
    BOOST_TEST(escape_word("a b\tc\\d\n\xff") == "a\\x20b\\x09c\\x5cd\\x0a\\xff");
    for (std::string s : {"httpd", "", "-", "a b", "x\\x20y", "\xff\x01 \\", "--"})
        BOOST_TEST(unescape_word(escape_word(s)) == s, s);
    BOOST_TEST(unescape_word("\\x4") == "\\x4"); // too short: literal
}

BOOST_AUTO_TEST_CASE(log_lines) {
    BOOST_TEST(log_sample_line(example_sample(1795438148402ull, 103, 12)) ==
               "1795438148402 httpd 103 12 300\n");
    BOOST_TEST(log_alert_line(example_alert()) ==
               "1795438149186 httpd 389 319 300 alert 3 388 cat 102,257,40,40,3\n");
    Alert odd = example_alert();
    odd.comm = "my cat";
    odd.calls.clear();
    BOOST_TEST(log_alert_line(odd) == "1795438149186 httpd 389 319 300 alert 3 388 my\\x20cat -\n");
}

BOOST_AUTO_TEST_CASE(log_round_trip) {
    Alert odd = example_alert();
    odd.comm = "two words";
    std::string text = std::string(kMonitorLogHeader) + "\n" +
                       log_sample_line(example_sample(1000, 103, 12)) + "\n   \n" +
                       log_alert_line(odd) + "# 1001 missed 2 alerts\r\n" +
                       log_sample_line(example_sample(1500, 104, 0));
    auto records = parse_monitor_log(text, "m.log");
    BOOST_TEST_REQUIRE(records.ok(), why(records));
    BOOST_TEST_REQUIRE(records->size() == 3u);
    const LogRecord &s = (*records)[0];
    BOOST_TEST(s.line == 2);
    BOOST_TEST(s.time_ms == 1000u);
    BOOST_TEST(s.cell == "httpd");
    BOOST_TEST(s.pid == 103u);
    BOOST_TEST(s.score == 12u);
    BOOST_TEST(s.threshold == 300u);
    BOOST_TEST(!s.alert);
    const LogRecord &a = (*records)[1];
    BOOST_TEST(a.line == 5);
    BOOST_TEST(a.alert);
    BOOST_TEST(a.seq == 3u);
    BOOST_TEST(a.tgid == 388u);
    BOOST_TEST(a.comm == "two words");
    BOOST_TEST((a.calls == std::vector<std::uint16_t>{102, 257, 40, 40, 3}));
    BOOST_TEST((*records)[2].pid == 104u);
}

BOOST_AUTO_TEST_CASE(log_errors_name_the_line) {
    auto bad = [](const std::string &text) {
        auto r = parse_monitor_log(text, "m.log");
        BOOST_TEST_REQUIRE(!r.ok());
        return r.error().message;
    };
    BOOST_TEST(bad("# ok\n1 httpd 2 3\n").find("m.log:2: expected 5 or 10 columns, found 4") == 0u);
    BOOST_TEST(bad("1 httpd x 3 4\n").find("m.log:1: TIME_MS, PID, SCORE and THRESHOLD") == 0u);
    BOOST_TEST(bad("1 bad/cell 2 3 4\n").find("m.log:1: \"bad/cell\" is not a cell name") == 0u);
    BOOST_TEST(bad("1 c 2 3 4 alert x 5 c 1\n").find("m.log:1: SEQ and TGID") == 0u);
    BOOST_TEST(bad("1 c 2 3 4 alert 1 5 c 1,,2\n").find("m.log:1: CALLS") == 0u);
    BOOST_TEST(bad("1 c 2 3 4 alert 1 5 c 1,\n").find("m.log:1: CALLS") == 0u);
    BOOST_TEST(bad("1 c 2 3 4 alert 1 5 c 70000\n").find("m.log:1: CALLS") == 0u);
    BOOST_TEST(bad("1 c 2 3 4 alarm 1 5 c 1\n").find("m.log:1: expected 5 or 10") == 0u);
    // A file with no records is no error; there is just nothing to plot.
    BOOST_TEST(parse_monitor_log("", "m.log")->empty());
}

BOOST_AUTO_TEST_CASE(terminal_and_json_lines) {
    BOOST_TEST(format_time_ms(0) == "1970-01-01T00:00:00.000Z");
    BOOST_TEST(format_time_ms(1795438149186ull) == "2026-11-23T12:49:09.186Z");
    Alert a = example_alert();
    a.comm = "c\nx";
    BOOST_TEST(format_alert(a) ==
               "2026-11-23T12:49:09.186Z ALERT #3 cell httpd pid 389 (tgid 388, c\\x0ax): score "
               "319 > threshold 300; last calls 102 257 40 40 3\n");
    BOOST_TEST(format_samples({example_sample(1795438149186ull, 57, 12),
                               example_sample(1795438149186ull, 60, 0)}) ==
               "2026-11-23T12:49:09.186Z cell httpd threshold 300: 57=12 60=0\n");
    BOOST_TEST(format_samples({}).empty());
    BOOST_TEST(alert_json(example_alert()).dump() ==
               R"({"type":"alert","time":"2026-11-23T12:49:09.186Z","time_ns":1795438149186055290,)"
               R"("seq":3,"lost":0,"cell":"httpd","pid":389,"tgid":388,"comm":"cat",)"
               R"("score":319,"threshold":300,"calls":[102,257,40,40,3]})");
    BOOST_TEST(sample_json(example_sample(1795438149186ull, 57, 12)).dump() ==
               R"({"type":"sample","time":"2026-11-23T12:49:09.186Z","time_ms":1795438149186,)"
               R"("cell":"httpd","pid":57,"tgid":57,"comm":"httpd","score":12,"max_score":12,)"
               R"("threshold":300})");
}

BOOST_AUTO_TEST_CASE(exec_environment) {
    const char *base[] = {"PATH=/bin",  "KIS_CELL=forged",  "KIS_CELLAR=kept",
                          "HOME=/root", "KIS_CALLS=forged", "NOEQUALS",
                          nullptr};
    Alert a = example_alert();
    a.comm = "we$(ird) 'x'";
    std::vector<std::string> env = alert_environment(a, base);
    std::vector<std::string> want = {
        "PATH=/bin",
        "KIS_CELLAR=kept",
        "HOME=/root",
        "NOEQUALS",
        "KIS_CELL=httpd",
        "KIS_PID=389",
        "KIS_TGID=388",
        "KIS_COMM=we$(ird) 'x'",
        "KIS_SCORE=319",
        "KIS_THRESHOLD=300",
        "KIS_SEQ=3",
        "KIS_CALLS=102 257 40 40 3",
        "KIS_TIME=2026-11-23T12:49:09.186Z",
        "KIS_TIME_NS=1795438149186055290",
    };
    BOOST_TEST(env == want, boost::test_tools::per_element());
    BOOST_TEST(alert_environment(a, nullptr).size() == 10u);
}

BOOST_AUTO_TEST_CASE(alert_gaps) {
    AlertGaps gaps(5); // the module had dropped 5 alerts before monitoring started
    Alert a = example_alert();
    a.seq = 10;
    a.lost = 5;
    BOOST_TEST(!gaps.see(a)); // the first: nothing to compare with, nothing new dropped
    a.seq = 11;
    BOOST_TEST(!gaps.see(a));
    a.seq = 15; // 12..14 missing, 2 of them dropped by the module
    a.lost = 7;
    auto m = gaps.see(a);
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->count == 3u);
    BOOST_TEST(m->first_seq == 12u);
    BOOST_TEST(m->last_seq == 14u);
    BOOST_TEST(m->dropped_by_module == 2u);
    a.seq = 2; // the module was reloaded: numbers start again
    a.lost = 0;
    BOOST_TEST(!gaps.see(a));
    a.seq = 3;
    BOOST_TEST(!gaps.see(a));

    AlertGaps fresh(1);
    a.seq = 40;
    a.lost = 4; // 3 dropped since monitoring started, before the first alert seen
    m = fresh.see(a);
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->count == 3u);
    BOOST_TEST(m->first_seq == 0u);
    BOOST_TEST(m->dropped_by_module == 3u);
}

BOOST_AUTO_TEST_CASE(plot_script) {
    std::vector<LogRecord> records;
    auto add = [&](std::uint64_t t, std::string cell, std::uint32_t pid, std::uint32_t score,
                   std::uint32_t threshold, bool alert = false) {
        LogRecord r;
        r.time_ms = t;
        r.cell = std::move(cell);
        r.pid = pid;
        r.score = score;
        r.threshold = threshold;
        r.alert = alert;
        r.comm = alert ? "c a'b" : "";
        records.push_back(r);
    };
    add(1000, "web", 1, 10, 300);
    add(1000, "web", 2, 20, 300);
    add(1500, "web", 1, 15, 250);
    add(1500, "web", 2, 400, 250);
    add(1600, "web", 9, 700, 250, true); // a short-lived task: only its alert
    add(1500, "db", 7, 5, 100);          // out of time order on purpose
    auto s = gnuplot_script(records, {});
    BOOST_TEST_REQUIRE(s.ok(), why(s));
    BOOST_TEST(s->series == 3u);
    BOOST_TEST(s->samples == 5u);
    BOOST_TEST(s->alerts == 1u);
    BOOST_TEST(s->dropped_series == 0u);
    const std::string &g = s->script;
    BOOST_TEST(g.find("set terminal pngcairo") != std::string::npos);
    BOOST_TEST(g.find("set output") == std::string::npos, "the image goes to stdout");
    BOOST_TEST(g.find("seconds since 1970-01-01T00:00:01.000Z") != std::string::npos, g);
    BOOST_TEST(g.find("title 'web pid 1'") != std::string::npos, g);
    BOOST_TEST(g.find("title 'db pid 7'") != std::string::npos, g);
    BOOST_TEST(g.find("title 'threshold web'") != std::string::npos, g);
    BOOST_TEST(g.find("$alerts << EOD\n0.600 700 c_a?b:9\nEOD\n") != std::string::npos, g);
    // Task 2's line: 0.000 20 then 0.500 400.
    BOOST_TEST(g.find("0.000 20\n0.500 400\nEOD\n") != std::string::npos, g);
    // The threshold steps from 300 to 250.
    BOOST_TEST(g.find("0.000 300\n0.000 300\n0.500 250\n0.500 250\n0.600 250\nEOD\n") !=
                   std::string::npos,
               g);
    BOOST_TEST(count(g, "<< EOD") == 6u); // 3 tasks, 2 thresholds, alerts
    BOOST_TEST(g.find("'") != std::string::npos);
    BOOST_TEST(g.find("a'b") == std::string::npos, "a quote in a comm reaches gnuplot");

    auto web = gnuplot_script(records, {std::string("web"), std::nullopt});
    BOOST_TEST_REQUIRE(web.ok());
    BOOST_TEST(web->series == 2u);
    BOOST_TEST(web->script.find("db pid") == std::string::npos);
    auto one = gnuplot_script(records, {std::nullopt, 2u});
    BOOST_TEST_REQUIRE(one.ok());
    BOOST_TEST(one->series == 1u);
    BOOST_TEST(one->alerts == 0u);
    auto none = gnuplot_script(records, {std::string("web"), 7u});
    BOOST_TEST_REQUIRE(!none.ok());
    BOOST_TEST(none.error().message == "no records of cell web of pid 7 in the log");
    BOOST_TEST(!gnuplot_script({}, {}).ok());

    PlotSelection few;
    few.max_series = 1; // the task with the highest score stays
    auto top = gnuplot_script(records, few);
    BOOST_TEST_REQUIRE(top.ok());
    BOOST_TEST(top->series == 1u);
    BOOST_TEST(top->dropped_series == 2u);
    BOOST_TEST(top->script.find("title 'web pid 2'") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
