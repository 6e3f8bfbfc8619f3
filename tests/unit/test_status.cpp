// The two formats of `kisctl status`, which the guest tests parse.
#include <boost/test/unit_test.hpp>

#include "status.hpp"

namespace kis::test {

namespace {

StatusReport example() {
    StatusReport r;
    r.module = {1, "0.1.0", 3};
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
    r.cells.push_back(httpd);
    CellInfo idle;
    idle.name = "idle";
    idle.program = "/usr/sbin/*";
    idle.args = "-f \"x\"";
    idle.follow_exec = false;
    idle.max_tasks = 1;
    r.cells.push_back(idle);
    // Out of order on purpose: the formats sort by tgid, then pid.
    r.tasks.push_back({"httpd", 60, 57, "httpd", 10});
    r.tasks.push_back({"other", 99, 99, "sh", 1}); // a cell not in the cell dump is ignored
    r.tasks.push_back({"httpd", 57, 57, "httpd", 123});
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(status)

BOOST_AUTO_TEST_CASE(plain_format) {
    const std::string want = "kis module 0.1.0, protocol 1 (kisctl protocol 1)\n"
                             "tasks watched: 3\n"
                             "cell httpd: program \"httpd\" args \"*\" follow-exec yes "
                             "max-tasks 1024\n"
                             "  tasks 2, joined 5, left 3, execs 1, over-limit 0, syscalls 1234\n"
                             "  PID      TGID     SYSCALLS     COMM\n"
                             "  57       57       123          httpd\n"
                             "  60       57       10           httpd\n"
                             "cell idle: program \"/usr/sbin/*\" args \"-f \\\"x\\\"\" "
                             "follow-exec no max-tasks 1\n"
                             "  tasks 0, joined 0, left 0, execs 0, over-limit 0, syscalls 0\n"
                             "  no tasks\n";
    BOOST_TEST(format_status(example()) == want);
}

BOOST_AUTO_TEST_CASE(no_cells) {
    StatusReport r;
    r.module = {1, "0.1.0", 0};
    BOOST_TEST(format_status(r) == "kis module 0.1.0, protocol 1 (kisctl protocol 1)\n"
                                   "tasks watched: 0\n"
                                   "no cells loaded\n");
    BOOST_TEST(status_json_text(r) == R"({"module_version":"0.1.0","protocol":1,)"
                                      R"("kisctl_protocol":1,"tasks_watched":0,"cells":[]})");
}

BOOST_AUTO_TEST_CASE(wide_numbers_stay_separated) {
    StatusReport r = example();
    r.tasks = {{"httpd", 4194304, 4194303, "w", 18446744073709551615ull}};
    std::string out = format_status(r);
    BOOST_TEST(out.find("  4194304  4194303  18446744073709551615 w\n") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(hostile_comm_stays_on_one_line) {
    StatusReport r = example();
    r.tasks = {{"httpd", 7, 7, "x\ncell evil: y", 1}};
    std::string out = format_status(r);
    BOOST_TEST(out.find("\ncell evil") == std::string::npos, out);
    BOOST_TEST(out.find("x\\x0acell evil: y\n") != std::string::npos, out);
    // Not UTF-8: replaced, not an exception.
    r.tasks = {{"httpd", 7, 7, "\xff\xfe", 1}};
    BOOST_CHECK_NO_THROW(status_json_text(r));
}

BOOST_AUTO_TEST_CASE(json_format) {
    const std::string want =
        R"({"module_version":"0.1.0","protocol":1,"kisctl_protocol":1,"tasks_watched":3,)"
        R"("cells":[{"name":"httpd","program":"httpd","args":"*","follow_exec":true,)"
        R"("max_tasks":1024,"counters":{"tasks":2,"joined":5,"left":3,"execs":1,)"
        R"("over_limit":0,"syscalls":1234},"tasks":[)"
        R"({"pid":57,"tgid":57,"comm":"httpd","syscalls":123},)"
        R"({"pid":60,"tgid":57,"comm":"httpd","syscalls":10}]},)"
        R"({"name":"idle","program":"/usr/sbin/*","args":"-f \"x\"","follow_exec":false,)"
        R"("max_tasks":1,"counters":{"tasks":0,"joined":0,"left":0,"execs":0,)"
        R"("over_limit":0,"syscalls":0},"tasks":[]}]})";
    BOOST_TEST(status_json_text(example()) == want);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
