// What kisctl monitor writes and kisctl plot reads (monitor_log.hpp): the log format and
// its parser, the terminal and JSON lines, the environment of --exec-on-alert programs,
// loss detection, and the gnuplot script.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kis_stat.h"
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

// A rising danger 2 of a connection parameter, with its task.
DangerEvent example_danger() {
    DangerEvent d;
    d.seq = 12;
    d.lost = 0;
    d.time_ns = 1795438149186055290ull;
    d.cell = "web";
    d.pid = 389;
    d.tgid = 388;
    d.comm = "nc x";
    d.param = KIS_PARAM_TX_BYTES;
    d.level = KIS_DANGER_2;
    d.cell_level = KIS_DANGER_2;
    d.value = 912000;
    d.mean = 20480;
    d.dev = 4096;
    d.t1 = 32768;
    d.t2 = 45056;
    kis_peer peer{};
    peer.family = AF_INET;
    peer.peer_port = 51234;
    peer.local_port = 80;
    inet_pton(AF_INET, "10.0.0.2", peer.peer_addr);
    d.peer = peer;
    return d;
}

// A file outside the tree: no task, no peer, no thresholds.
DangerEvent file_danger() {
    DangerEvent d;
    d.seq = 13;
    d.time_ns = 1795438149186055290ull;
    d.cell = "web";
    d.param = KIS_PARAM_FILES_OUTSIDE;
    d.level = KIS_DANGER_1;
    d.cell_level = KIS_DANGER_1;
    d.value = 1;
    d.t1 = KIS_STAT_NEVER;
    d.t2 = KIS_STAT_NEVER;
    d.path = "/etc/shadow";
    return d;
}

TrainingEvent example_training() {
    TrainingEvent t;
    t.seq = 14;
    t.time_ns = 1795438149186055290ull;
    t.cell = "web";
    t.param = KIS_PARAM_CPU;
    t.value = 52000;
    t.expect = 1000;
    t.tolerance = 10;
    return t;
}

TrainingEvent file_training() {
    TrainingEvent t;
    t.seq = 15;
    t.time_ns = 1795438149186055290ull;
    t.cell = "web";
    t.param = KIS_PARAM_FILES_OUTSIDE;
    t.value = 1;
    t.expect = 0;
    t.tolerance = 0;
    t.path = "/tmp/a b";
    return t;
}

ParamSample example_param(std::optional<std::uint64_t> t1, std::optional<std::uint64_t> t2) {
    return {1795438149000ull, "web", "cpu", 1200, t1, t2, KIS_DANGER_NONE};
}

std::size_t columns(const std::string &line) {
    std::istringstream in(line);
    std::size_t n = 0;
    for (std::string w; in >> w;)
        n++;
    return n;
}

// A log with parameter samples of two cells, a danger event, a task and an alert.
const std::string kParamLog = "1000 web param cpu 100 - - 0\n"
                              "1000 db param cpu 5 - - 0\n"
                              "1500 web param cpu 120 300 500 0\n"
                              "2000 web param cpu 900 300 500 2\n"
                              "2000 web danger cpu 2 2 900 100 20 300 500 7 0 0 - - -\n"
                              "2000 web param rss_pages 10 - - 0\n"
                              "2000 web 57 12 300\n";

std::vector<LogRecord> parse_ok(const std::string &text) {
    auto r = parse_monitor_log(text, "m.log");
    BOOST_TEST_REQUIRE(r.ok(), why(r));
    return *r;
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
    // The header: comment lines, the first as kisctl has always written it.
    int header = static_cast<int>(count(std::string(kMonitorLogHeader), "\n")) + 1;
    BOOST_TEST(header == 4);
    BOOST_TEST(kMonitorLogHeader.find("# kisctl monitor log: TIME_MS CELL PID SCORE THRESHOLD "
                                      "[alert SEQ TGID COMM CALLS]\n#") == 0u);
    const LogRecord &s = (*records)[0];
    BOOST_TEST(s.line == header + 1);
    BOOST_TEST(s.time_ms == 1000u);
    BOOST_TEST(s.cell == "httpd");
    BOOST_TEST(s.pid == 103u);
    BOOST_TEST(s.score == 12u);
    BOOST_TEST(s.threshold == 300u);
    BOOST_TEST(!s.alert);
    BOOST_TEST((s.kind == LogRecord::Kind::task));
    const LogRecord &a = (*records)[1];
    BOOST_TEST(a.line == header + 4);
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
    const char *base[] = {"PATH=/bin",        "KIS_CELL=forged",  "KIS_CELLAR=kept",
                          "HOME=/root",       "KIS_CALLS=forged", "NOEQUALS",
                          "KIS_PARAM=forged", "KIS_EVENT=forged", nullptr};
    Alert a = example_alert();
    a.comm = "we$(ird) 'x'";
    std::vector<std::string> env = alert_environment(a, base);
    std::vector<std::string> want = {
        "PATH=/bin",
        "KIS_CELLAR=kept",
        "HOME=/root",
        "NOEQUALS",
        "KIS_EVENT=alert",
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
    BOOST_TEST(alert_environment(a, nullptr).size() == 11u);
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

BOOST_AUTO_TEST_CASE(param_danger_training_log_lines) {
    BOOST_TEST(log_param_line(example_param(2100, 3000)) ==
               "1795438149000 web param cpu 1200 2100 3000 0\n");
    BOOST_TEST(log_param_line(example_param(std::nullopt, std::nullopt)) ==
               "1795438149000 web param cpu 1200 - - 0\n");
    BOOST_TEST(log_danger_line(example_danger()) ==
               "1795438149186 web danger tx_bytes 2 2 912000 20480 4096 32768 45056 12 389 388 "
               "nc\\x20x 10.0.0.2:51234 -\n");
    BOOST_TEST(log_danger_line(file_danger()) ==
               "1795438149186 web danger files_outside 1 1 1 0 0 - - 13 0 0 - - /etc/shadow\n");
    BOOST_TEST(log_training_line(example_training()) ==
               "1795438149186 web training cpu 14 52000 1000 10 -\n");
    BOOST_TEST(log_training_line(file_training()) ==
               "1795438149186 web training files_outside 15 1 0 0 /tmp/a\\x20b\n");
    TrainingEvent bare;
    bare.seq = 1;
    bare.cell = "c";
    bare.path = "/x";
    BOOST_TEST(log_training_line(bare) == "0 c training - 1 - - - /x\n");
    // A reader of task lines only (5 or 10 columns) refuses these rather than misreading them.
    for (const std::string &line :
         {log_param_line(example_param(1, 2)), log_danger_line(example_danger()),
          log_danger_line(file_danger()), log_training_line(example_training()),
          log_training_line(bare)}) {
        BOOST_TEST(columns(line) != 5u, line);
        BOOST_TEST(columns(line) != 10u, line);
    }
}

BOOST_AUTO_TEST_CASE(param_danger_training_round_trip) {
    std::string text = std::string(kMonitorLogHeader) + "\n" +
                       log_sample_line(example_sample(1000, 103, 12)) +
                       log_param_line(example_param(2100, 3000)) +
                       log_param_line(example_param(std::nullopt, std::nullopt)) +
                       log_danger_line(example_danger()) + log_danger_line(file_danger()) +
                       log_alert_line(example_alert()) + log_training_line(example_training()) +
                       log_training_line(file_training());
    std::vector<LogRecord> r = parse_ok(text);
    BOOST_TEST_REQUIRE(r.size() == 8u);
    using Kind = LogRecord::Kind;
    BOOST_TEST((r[0].kind == Kind::task));
    BOOST_TEST(!r[0].alert);

    const LogRecord &p = r[1];
    BOOST_TEST((p.kind == Kind::param));
    BOOST_TEST(p.time_ms == 1795438149000u);
    BOOST_TEST(p.cell == "web");
    BOOST_TEST(p.param == "cpu");
    BOOST_TEST_REQUIRE(p.value.has_value());
    BOOST_TEST(*p.value == 1200u);
    BOOST_TEST((p.t1 == std::optional<std::uint64_t>(2100)));
    BOOST_TEST((p.t2 == std::optional<std::uint64_t>(3000)));
    BOOST_TEST(p.level == 0u);
    BOOST_TEST(!r[2].t1.has_value());
    BOOST_TEST(!r[2].t2.has_value());

    const LogRecord &d = r[3];
    BOOST_TEST((d.kind == Kind::danger));
    BOOST_TEST(d.time_ms == 1795438149186u);
    BOOST_TEST(d.param == "tx_bytes");
    BOOST_TEST(d.level == 2u);
    BOOST_TEST(d.cell_level == 2u);
    BOOST_TEST(*d.value == 912000u);
    BOOST_TEST(d.mean == 20480u);
    BOOST_TEST(d.dev == 4096u);
    BOOST_TEST(*d.t1 == 32768u);
    BOOST_TEST(*d.t2 == 45056u);
    BOOST_TEST(d.seq == 12u);
    BOOST_TEST(d.pid == 389u);
    BOOST_TEST(d.tgid == 388u);
    BOOST_TEST(d.comm == "nc x");
    BOOST_TEST(d.peer == "10.0.0.2:51234");
    BOOST_TEST(d.path.empty());
    const LogRecord &f = r[4];
    BOOST_TEST(f.param == "files_outside");
    BOOST_TEST(!f.t1.has_value());
    BOOST_TEST(f.pid == 0u);
    BOOST_TEST(f.comm.empty());
    BOOST_TEST(f.peer.empty());
    BOOST_TEST(f.path == "/etc/shadow");

    BOOST_TEST((r[5].kind == Kind::task));
    BOOST_TEST(r[5].alert);

    const LogRecord &t = r[6];
    BOOST_TEST((t.kind == Kind::training));
    BOOST_TEST(t.param == "cpu");
    BOOST_TEST(t.seq == 14u);
    BOOST_TEST((t.value == std::optional<std::uint64_t>(52000)));
    BOOST_TEST((t.expect == std::optional<std::uint64_t>(1000)));
    BOOST_TEST((t.tolerance == std::optional<std::uint32_t>(10)));
    BOOST_TEST(t.path.empty());
    BOOST_TEST(r[7].path == "/tmp/a b");

    std::vector<LogRecord> bare = parse_ok("5 c training - 1 - - - /x\n");
    BOOST_TEST(bare[0].param.empty());
    BOOST_TEST(!bare[0].value.has_value());
    BOOST_TEST(!bare[0].expect.has_value());
    BOOST_TEST(!bare[0].tolerance.has_value());
}

BOOST_AUTO_TEST_CASE(param_line_errors) {
    auto bad = [](const std::string &text) {
        auto r = parse_monitor_log(text, "m.log");
        BOOST_TEST_REQUIRE(!r.ok(), text);
        return r.error().message;
    };
    BOOST_TEST(bad("1 web param cpu 1 2 3\n").find("m.log:1: a param line has 8 columns") == 0u);
    BOOST_TEST(bad("1 web param cpu 1 2 3 3\n").find("m.log:1: a param line has a parameter") ==
               0u);
    BOOST_TEST(bad("1 web param CPU 1 2 3 0\n").find("m.log:1: a param line has a parameter") ==
               0u);
    BOOST_TEST(bad("1 web param cpu x - - 0\n").find("m.log:1: a param line has a parameter") ==
               0u);
    BOOST_TEST(bad("x web param cpu 1 - - 0\n").find("m.log:1: TIME_MS must be a number") == 0u);
    BOOST_TEST(bad("1 a/b param cpu 1 - - 0\n").find("m.log:1: \"a/b\" is not a cell name") == 0u);
    BOOST_TEST(bad("1 web danger cpu 1\n").find("m.log:1: a danger line has 17 columns") == 0u);
    BOOST_TEST(bad("1 web danger cpu 3 2 900 100 20 300 500 7 0 0 - - -\n")
                   .find("m.log:1: a danger line has a parameter name, LEVEL") == 0u);
    BOOST_TEST(bad("1 web danger cpu 2 2 900 100 20 300 500 x 0 0 - - -\n")
                   .find("m.log:1: a danger line") == 0u);
    BOOST_TEST(bad("1 web training cpu 1 1 1\n").find("m.log:1: a training line has 9") == 0u);
    BOOST_TEST(bad("1 web training cpu x 1 1 1 -\n").find("m.log:1: a training line has a") == 0u);
}

BOOST_AUTO_TEST_CASE(danger_and_training_text) {
    DangerEvent d = example_danger();
    BOOST_TEST(format_danger(d, true) ==
               "2026-11-23T12:49:09.186Z DANGER 2 #12 cell web: tx_bytes 912000 bytes vs mean "
               "20480 +- 4096 bytes, thresholds 32768 and 45056; peer 10.0.0.2:51234 (local port "
               "80); pid 389 (tgid 388, nc x); cell at danger 2\n");
    d.level = KIS_DANGER_1;
    d.comm = "a\nb";
    BOOST_TEST(format_danger(d, false).find(" danger 1 (decayed) #12 cell web: ") !=
               std::string::npos);
    BOOST_TEST(format_danger(d, false).find("(tgid 388, a\\x0ab)") != std::string::npos);
    d.level = KIS_DANGER_NONE;
    d.cell_level = KIS_DANGER_NONE;
    d.peer.reset();
    d.pid = 0;
    BOOST_TEST(format_danger(d, false) ==
               "2026-11-23T12:49:09.186Z danger cleared #12 cell web: tx_bytes 912000 bytes vs "
               "mean 20480 +- 4096 bytes, thresholds 32768 and 45056; cell cleared\n");
    BOOST_TEST(format_danger(file_danger(), true) ==
               "2026-11-23T12:49:09.186Z DANGER 1 #13 cell web: files_outside 1 files vs mean 0 "
               "+- 0 files, thresholds none and none; file /etc/shadow; cell at danger 1\n");
    BOOST_TEST(format_training(example_training()) ==
               "2026-11-23T12:49:09.186Z suspected training #14 cell web: cpu 52000 us not "
               "learned, expected 1000 us +- 10%\n");
    BOOST_TEST(format_training(file_training()) ==
               "2026-11-23T12:49:09.186Z suspected training #15 cell web: file /tmp/a b is "
               "outside the expected tree, not learned\n");
}

BOOST_AUTO_TEST_CASE(danger_and_training_json) {
    BOOST_TEST(
        danger_json(example_danger(), true).dump() ==
        R"({"type":"danger","time":"2026-11-23T12:49:09.186Z","time_ns":1795438149186055290,)"
        R"("seq":12,"lost":0,"cell":"web","param":"tx_bytes","unit":"bytes","level":2,)"
        R"("rising":true,"cell_level":2,"value":912000,"mean":20480,"dev":4096,"t1":32768,)"
        R"("t2":45056,"pid":389,"tgid":388,"comm":"nc x","peer":"10.0.0.2:51234",)"
        R"("local_port":80,"path":null})");
    BOOST_TEST(
        danger_json(file_danger(), false).dump() ==
        R"({"type":"danger","time":"2026-11-23T12:49:09.186Z","time_ns":1795438149186055290,)"
        R"("seq":13,"lost":0,"cell":"web","param":"files_outside","unit":"files","level":1,)"
        R"("rising":false,"cell_level":1,"value":1,"mean":0,"dev":0,"t1":null,"t2":null,)"
        R"("pid":null,"tgid":null,"comm":null,"peer":null,"local_port":null,)"
        R"("path":"/etc/shadow"})");
    BOOST_TEST(
        training_json(example_training()).dump() ==
        R"({"type":"training","time":"2026-11-23T12:49:09.186Z","time_ns":1795438149186055290,)"
        R"("seq":14,"lost":0,"cell":"web","param":"cpu","unit":"us","value":52000,)"
        R"("expect":1000,"tolerance":10,"path":null})");
    TrainingEvent bare;
    bare.seq = 1;
    bare.cell = "c";
    bare.path = "/x";
    BOOST_TEST(training_json(bare).dump() ==
               R"({"type":"training","time":"1970-01-01T00:00:00.000Z","time_ns":0,"seq":1,)"
               R"("lost":0,"cell":"c","param":null,"unit":null,"value":null,"expect":null,)"
               R"("tolerance":null,"path":"/x"})");
    BOOST_TEST(param_json(example_param(2100, 3000)).dump() ==
               R"({"type":"param","time":"2026-11-23T12:49:09.000Z","time_ms":1795438149000,)"
               R"("cell":"web","param":"cpu","unit":"us","value":1200,"t1":2100,"t2":3000,)"
               R"("level":0})");
    BOOST_TEST(param_json(example_param(std::nullopt, std::nullopt))
                   .dump()
                   .find(R"("t1":null,"t2":null)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(danger_exec_environment) {
    const char *base[] = {"PATH=/bin",  "KIS_SCORE=forged", "KIS_CALLS=forged", "KIS_PEER=forged",
                          "HOME=/root", "KIS_LEVELS=kept",  "KIS_PATH=/forged", nullptr};
    std::vector<std::string> env = danger_environment(example_danger(), base);
    std::vector<std::string> want = {
        "PATH=/bin",
        "HOME=/root",
        "KIS_LEVELS=kept",
        "KIS_EVENT=danger",
        "KIS_CELL=web",
        "KIS_PARAM=tx_bytes",
        "KIS_UNIT=bytes",
        "KIS_LEVEL=2",
        "KIS_CELL_LEVEL=2",
        "KIS_VALUE=912000",
        "KIS_MEAN=20480",
        "KIS_DEV=4096",
        "KIS_T1=32768",
        "KIS_T2=45056",
        "KIS_PEER=10.0.0.2:51234",
        "KIS_PATH=",
        "KIS_PID=389",
        "KIS_TGID=388",
        "KIS_COMM=nc x",
        "KIS_SEQ=12",
        "KIS_TIME=2026-11-23T12:49:09.186Z",
        "KIS_TIME_NS=1795438149186055290",
    };
    BOOST_TEST(env == want, boost::test_tools::per_element());
    // Nothing known: empty values, the names still set (none leaks from kisctl's environment).
    std::vector<std::string> f = danger_environment(file_danger(), base);
    auto has = [&](const std::string &v) { return std::find(f.begin(), f.end(), v) != f.end(); };
    BOOST_TEST(has("KIS_PARAM=files_outside"));
    BOOST_TEST(has("KIS_PATH=/etc/shadow"));
    BOOST_TEST(has("KIS_PEER="));
    BOOST_TEST(has("KIS_PID="));
    BOOST_TEST(has("KIS_COMM="));
    BOOST_TEST(has("KIS_T1="));
    BOOST_TEST(has("KIS_T2="));
    BOOST_TEST(!has("KIS_PATH=/forged"));
    BOOST_TEST(!has("KIS_SCORE=forged"));
    BOOST_TEST(danger_environment(file_danger(), nullptr).size() == 19u);
    // IPv6 peers are bracketed.
    DangerEvent six = example_danger();
    six.peer->family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::1", six.peer->peer_addr);
    six.peer->peer_port = 443;
    std::vector<std::string> e6 = danger_environment(six, nullptr);
    BOOST_TEST((std::find(e6.begin(), e6.end(), "KIS_PEER=[2001:db8::1]:443") != e6.end()));
}

BOOST_AUTO_TEST_CASE(danger_rises_and_decays) {
    DangerLevels levels;
    levels.set("web", KIS_PARAM_CPU, KIS_DANGER_2); // as the cell dump said at the start
    DangerEvent d = example_danger();
    d.param = KIS_PARAM_CPU;
    auto at = [&](std::uint32_t level) {
        d.level = level;
        return levels.rises(d);
    };
    BOOST_TEST(!at(1)); // 2 -> 1: decay
    BOOST_TEST(!at(0)); // 1 -> 0
    BOOST_TEST(at(1));  // 0 -> 1: rise
    BOOST_TEST(at(2));  // 1 -> 2
    BOOST_TEST(at(2));  // events lost in between: 2 is always a rise
    BOOST_TEST(!at(1)); // 2 -> 1
    BOOST_TEST(at(1));  // 1 -> ? -> 1: a rise, to be safe
    d.cell = "other";   // nothing known: from 0
    BOOST_TEST(at(1));
    d.param = KIS_PARAM_FORKS; // parameters are apart
    d.cell = "web";
    BOOST_TEST(at(1));
}

BOOST_AUTO_TEST_CASE(gaps_across_event_kinds) {
    AlertGaps gaps(0);
    Alert a = example_alert();
    a.seq = 1;
    BOOST_TEST(!gaps.see(a));
    BOOST_TEST(!gaps.see(2, 0)); // a danger event: the next number
    auto m = gaps.see(5, 1);     // a training event: 3 and 4 missing, one dropped
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->count == 2u);
    BOOST_TEST(m->first_seq == 3u);
    BOOST_TEST(m->last_seq == 4u);
    BOOST_TEST(m->dropped_by_module == 1u);
    a.seq = 6;
    a.lost = 1;
    BOOST_TEST(!gaps.see(a));
}

BOOST_AUTO_TEST_CASE(plot_param_script) {
    std::vector<LogRecord> records = parse_ok(kParamLog);
    auto s = gnuplot_param_script(records, "cpu", {});
    BOOST_TEST_REQUIRE(s.ok(), why(s));
    BOOST_TEST(s->series == 2u);
    BOOST_TEST(s->samples == 4u);
    BOOST_TEST(s->dangers == 1u);
    const std::string &g = s->script;
    BOOST_TEST(g.find("set terminal pngcairo") != std::string::npos);
    BOOST_TEST(g.find("set output") == std::string::npos, "the image goes to stdout");
    BOOST_TEST(g.find("set ylabel 'cpu (us)'") != std::string::npos, g);
    BOOST_TEST(g.find("seconds since 1970-01-01T00:00:01.000Z") != std::string::npos, g);
    // Cells in name order: db, then web.
    BOOST_TEST(g.find("$value1 << EOD\n0.000 5\nEOD\n") != std::string::npos, g);
    BOOST_TEST(
        g.find("$value2 << EOD\n0.000 100\n0.500 120\n1.000 900\nEOD\n") != std::string::npos, g);
    // Thresholds only where armed; db never was.
    BOOST_TEST(g.find("$t1_2 << EOD\n0.500 300\n1.000 300\nEOD\n") != std::string::npos, g);
    BOOST_TEST(g.find("$t2_2 << EOD\n0.500 500\n1.000 500\nEOD\n") != std::string::npos, g);
    BOOST_TEST(g.find("$t1_1") == std::string::npos, g);
    BOOST_TEST(g.find("title 'threshold 1 web'") != std::string::npos, g);
    BOOST_TEST(g.find("title 'threshold 2 web'") != std::string::npos, g);
    BOOST_TEST(g.find("title 'web cpu'") != std::string::npos, g);
    BOOST_TEST(g.find("title 'db cpu'") != std::string::npos, g);
    BOOST_TEST(g.find("$danger << EOD\n1.000 900 web:2\nEOD\n") != std::string::npos, g);
    BOOST_TEST(count(g, "<< EOD") == 5u); // 2 values, 2 thresholds, dangers
    BOOST_TEST(g.find("rss_pages") == std::string::npos, "another parameter is drawn");
    BOOST_TEST(g.find("\nplot $value1 using 1:2") != std::string::npos, g);

    PlotSelection web;
    web.cell = "web";
    auto w = gnuplot_param_script(records, "cpu", web);
    BOOST_TEST_REQUIRE(w.ok(), why(w));
    BOOST_TEST(w->series == 1u);
    BOOST_TEST(w->samples == 3u);
    BOOST_TEST(w->script.find("db cpu") == std::string::npos);
    BOOST_TEST(w->script.find("set title 'KIS parameter cpu (us), cell web'") != std::string::npos,
               w->script);

    // The task scores are drawn as before: parameter lines take no part.
    auto tasks = gnuplot_script(records, {});
    BOOST_TEST_REQUIRE(tasks.ok(), why(tasks));
    BOOST_TEST(tasks->series == 1u);
    BOOST_TEST(tasks->samples == 1u);
    BOOST_TEST(tasks->script.find("pid 0") == std::string::npos, tasks->script);
}

BOOST_AUTO_TEST_CASE(plot_param_without_samples) {
    std::vector<LogRecord> records = parse_ok(kParamLog);
    auto none = gnuplot_param_script(records, "forks", {});
    BOOST_TEST_REQUIRE(!none.ok());
    BOOST_TEST(none.error().message ==
               "no samples of parameter forks in the log; it has samples of cpu, rss_pages");
    PlotSelection db;
    db.cell = "db";
    auto of_db = gnuplot_param_script(records, "rss_pages", db);
    BOOST_TEST_REQUIRE(!of_db.ok());
    BOOST_TEST(of_db.error().message ==
               "no samples of parameter rss_pages of cell db in the log; it has samples of cpu");
    // A danger event alone is no sample.
    auto danger_only = gnuplot_param_script(
        parse_ok("2000 web danger cpu 2 2 900 100 20 300 500 7 0 0 - - -\n"), "cpu", {});
    BOOST_TEST_REQUIRE(!danger_only.ok());
    BOOST_TEST(danger_only.error().message.find("no samples of parameter cpu in the log; it has "
                                                "no parameter samples at all") == 0u);
    std::vector<LogRecord> old = parse_ok("1000 web 57 12 300\n");
    auto from_old = gnuplot_param_script(old, "cpu", {});
    BOOST_TEST_REQUIRE(!from_old.ok());
    BOOST_TEST(from_old.error().message.find("it has no parameter samples at all") !=
               std::string::npos);
    // The default plot of a log with parameters only says what to do.
    auto scores = gnuplot_script(parse_ok("1000 web param cpu 100 - - 0\n"), {});
    BOOST_TEST_REQUIRE(!scores.ok());
    BOOST_TEST(scores.error().message ==
               "no records in the log; it has parameter samples: draw one with --param NAME");
}

BOOST_AUTO_TEST_CASE(plot_param_command) {
    ScratchDir dir;
    std::string log = dir.file("m.log");
    std::string png = dir.file("p.png");
    write_text(log, std::string(kMonitorLogHeader) + "\n" + kParamLog);
    RunResult r = run_kisctl({"plot", log, "-o", png, "--param", "nosuch"});
    BOOST_TEST(r.status == 2);
    BOOST_TEST(r.err.find("--param: no parameter named \"nosuch\"; they are seq, cpu, vm_pages") !=
                   std::string::npos,
               r.err);
    r = run_kisctl({"plot", log, "-o", png, "--param", "cpu", "--pid", "57"});
    BOOST_TEST(r.status == 2);
    BOOST_TEST(r.err.find("--pid does not go with --param") != std::string::npos, r.err);
    r = run_kisctl({"plot", log, "-o", png, "--param", "forks"});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err == "kisctl: plot: " + log +
                            ": no samples of parameter forks in the log; it has samples of cpu, "
                            "rss_pages\n");
    BOOST_TEST(!std::filesystem::exists(png));
    if (access("/usr/bin/gnuplot", X_OK) != 0 && access("/usr/local/bin/gnuplot", X_OK) != 0) {
        BOOST_TEST_MESSAGE("gnuplot is not installed: parameter plot not drawn");
        return;
    }
    r = run_kisctl({"plot", log, "-o", png, "--param", "cpu"});
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(r.out == "plotted cpu of 2 cells (4 samples, 1 danger event) into " + png + "\n");
    std::string bytes = read_text(png);
    BOOST_TEST(bytes.rfind("\x89PNG\r\n", 0) == 0u);
    BOOST_TEST(bytes.size() > 1000u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
