// The two formats of `kisctl status`, which the guest tests parse.
#include <boost/test/unit_test.hpp>

#include "status.hpp"

namespace kis::test {

namespace {

StatusReport example() {
    StatusReport r;
    r.module = {1, "0.1.0", 3, 2};
    CellInfo httpd;
    httpd.name = "httpd";
    httpd.program = "httpd";
    httpd.args = "*";
    httpd.follow_exec = true;
    httpd.max_tasks = 1024;
    httpd.tasks = 2;
    httpd.joined = 5;
    httpd.left = 3;
    httpd.execs = 1;
    httpd.over_limit = 0;
    httpd.syscalls = 1234;
    httpd.id = 7;
    httpd.seq_k = 6;
    httpd.seq_window = 20;
    httpd.seq_threshold = 300;
    httpd.learn_prefixes = 16384;
    httpd.learn_kgrams = 65536;
    httpd.state = KIS_CELL_ARMED | KIS_CELL_TRACING;
    httpd.learned = 5000;
    httpd.learn_dropped = 3;
    httpd.profile_kgrams = 812;
    httpd.alerts = 4;
    httpd.trace_lost = 9;
    r.cells.push_back(httpd);
    CellInfo idle;
    idle.name = "idle";
    idle.program = "/usr/sbin/*";
    idle.args = "-f \"x\"";
    idle.follow_exec = false;
    idle.max_tasks = 1;
    idle.id = 8;
    idle.seq_k = 2;
    idle.seq_window = 1;
    idle.seq_threshold = 0;
    idle.learn_prefixes = 1;
    idle.learn_kgrams = 1;
    r.cells.push_back(idle);
    // Out of order on purpose: the formats sort by tgid, then pid.
    r.tasks.push_back({"httpd", 60, 57, "httpd", 10, 0, 0});
    r.tasks.push_back({"other", 99, 99, "sh", 1, 0, 0}); // a cell not in the cell dump is ignored
    r.tasks.push_back({"httpd", 57, 57, "httpd", 123, 12, 412});
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(status)

BOOST_AUTO_TEST_CASE(plain_format) {
    const std::string want =
        "kis module 0.1.0, protocol 1 (kisctl protocol 1)\n"
        "tasks watched: 3\n"
        "alerts lost: 2\n"
        "cell httpd: program \"httpd\" args \"*\" follow-exec yes "
        "max-tasks 1024\n"
        "  tasks 2, joined 5, left 3, execs 1, over-limit 0, syscalls 1234\n"
        "  state armed+tracing, k 6, window 20, threshold 300, learn-prefixes 16384, "
        "learn-kgrams 65536\n"
        "  learned 5000, learn-dropped 3, profile-kgrams 812, alerts 4, trace-lost 9\n"
        "  PID      TGID     SYSCALLS     COMM             SCORE MAX\n"
        "  57       57       123          httpd            12    412\n"
        "  60       57       10           httpd            0     0\n"
        "cell idle: program \"/usr/sbin/*\" args \"-f \\\"x\\\"\" "
        "follow-exec no max-tasks 1\n"
        "  tasks 0, joined 0, left 0, execs 0, over-limit 0, syscalls 0\n"
        "  state idle, k 2, window 1, threshold 0, learn-prefixes 1, learn-kgrams 1\n"
        "  learned 0, learn-dropped 0, profile-kgrams 0, alerts 0, trace-lost 0\n"
        "  no tasks\n";
    BOOST_TEST(format_status(example()) == want);
}

BOOST_AUTO_TEST_CASE(no_cells) {
    StatusReport r;
    r.module = {1, "0.1.0", 0, 0};
    BOOST_TEST(format_status(r) == "kis module 0.1.0, protocol 1 (kisctl protocol 1)\n"
                                   "tasks watched: 0\n"
                                   "alerts lost: 0\n"
                                   "no cells loaded\n");
    BOOST_TEST(status_json_text(r) ==
               R"({"module_version":"0.1.0","protocol":1,)"
               R"("kisctl_protocol":1,"tasks_watched":0,"alerts_lost":0,"cells":[]})");
}

BOOST_AUTO_TEST_CASE(wide_numbers_stay_separated) {
    StatusReport r = example();
    r.tasks = {{"httpd", 4194304, 4194303, "w", 18446744073709551615ull, 1000, 1000}};
    std::string out = format_status(r);
    BOOST_TEST(out.find("  4194304  4194303  18446744073709551615 w                1000  1000\n") !=
                   std::string::npos,
               out);
    // A comm of 15 bytes, the most a kernel gives, still leaves a space before SCORE.
    r.tasks = {{"httpd", 7, 7, "abcdefghijklmno", 1, 1000, 1000}};
    out = format_status(r);
    BOOST_TEST(out.find(" abcdefghijklmno  1000  1000\n") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(hostile_comm_stays_on_one_line) {
    StatusReport r = example();
    r.tasks = {{"httpd", 7, 7, "x\ncell evil: y", 1, 0, 0}};
    std::string out = format_status(r);
    BOOST_TEST(out.find("\ncell evil") == std::string::npos, out);
    BOOST_TEST(out.find("x\\x0acell evil: y 0     0\n") != std::string::npos, out);
    // Not UTF-8: replaced, not an exception.
    r.tasks = {{"httpd", 7, 7, "\xff\xfe", 1, 0, 0}};
    BOOST_CHECK_NO_THROW(status_json_text(r));
}

BOOST_AUTO_TEST_CASE(json_format) {
    const std::string want =
        R"({"module_version":"0.1.0","protocol":1,"kisctl_protocol":1,"tasks_watched":3,)"
        R"("alerts_lost":2,)"
        R"("cells":[{"name":"httpd","program":"httpd","args":"*","follow_exec":true,)"
        R"("max_tasks":1024,"id":7,"sequence":{"k":6,"window":20,"threshold":300,)"
        R"("learn_prefixes":16384,"learn_kgrams":65536},"state":["armed","tracing"],)"
        R"("counters":{"tasks":2,"joined":5,"left":3,"execs":1,)"
        R"("over_limit":0,"syscalls":1234,"learned":5000,"learn_dropped":3,)"
        R"("profile_kgrams":812,"alerts":4,"trace_lost":9},"tasks":[)"
        R"({"pid":57,"tgid":57,"comm":"httpd","syscalls":123,"score":12,"max_score":412},)"
        R"({"pid":60,"tgid":57,"comm":"httpd","syscalls":10,"score":0,"max_score":0}]},)"
        R"({"name":"idle","program":"/usr/sbin/*","args":"-f \"x\"","follow_exec":false,)"
        R"("max_tasks":1,"id":8,"sequence":{"k":2,"window":1,"threshold":0,)"
        R"("learn_prefixes":1,"learn_kgrams":1},"state":[],)"
        R"("counters":{"tasks":0,"joined":0,"left":0,"execs":0,)"
        R"("over_limit":0,"syscalls":0,"learned":0,"learn_dropped":0,"profile_kgrams":0,)"
        R"("alerts":0,"trace_lost":0},"tasks":[]}]})";
    BOOST_TEST(status_json_text(example()) == want);
}

BOOST_AUTO_TEST_CASE(state_words) {
    BOOST_TEST(cell_state_text(0) == "idle");
    BOOST_TEST(cell_state_text(KIS_CELL_LEARNING) == "learning");
    BOOST_TEST(cell_state_text(KIS_CELL_LEARNING | KIS_CELL_ARMED | KIS_CELL_TRACING) ==
               "learning+armed+tracing");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
