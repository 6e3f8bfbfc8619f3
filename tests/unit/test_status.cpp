// The two formats of `kisctl status`, which the guest tests parse.
#include <boost/test/unit_test.hpp>
#include <sys/socket.h>

#include <cstring>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "status.hpp"

namespace kis::test {

namespace {

// "kisctl protocol N" as status prints it.
const std::string kProto = std::to_string(KIS_GENL_VERSION);

ParamInfo param(std::uint32_t id, bool armed, std::uint64_t samples, std::uint64_t value,
                std::uint64_t mean, std::uint64_t dev, std::uint64_t t1, std::uint64_t t2,
                std::uint32_t level) {
    ParamInfo p;
    p.id = id;
    p.mult1 = 30;
    p.mult2 = 60;
    p.floor = 4;
    p.armed = armed;
    p.samples = samples;
    p.value = value;
    p.mean = mean;
    p.dev = dev;
    p.t1 = t1;
    p.t2 = t2;
    p.level = level;
    return p;
}

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
    httpd.seq_threshold2 = 650;
    httpd.stat_interval_ms = 1000;
    httpd.danger_hold1 = 10;
    httpd.danger_hold2 = 3;
    httpd.file_tree = 1024;
    httpd.danger = KIS_DANGER_2;
    httpd.danger_events = 5;
    httpd.training = 1;
    httpd.stat_samples = 120;
    httpd.files_learned = 37;
    httpd.connections = 2;
    // Shown: samples or a level. cpu at danger 2; files quiet; rx_bytes armed from a loaded
    // blob (no samples of its own) at danger 1. Hidden: files_outside (armed, nothing learned,
    // thresholds "never") and conn_ratio (not armed, no samples).
    httpd.params.push_back(
        param(KIS_PARAM_CPU, true, 120, 2500000, 1000000, 120000, 1600000, 2200000, KIS_DANGER_2));
    httpd.params.push_back(param(KIS_PARAM_FILES, true, 120, 3, 4, 1, 10, 16, KIS_DANGER_NONE));
    ParamInfo outside = param(KIS_PARAM_FILES_OUTSIDE, true, 0, 0, 0, 0, KIS_STAT_NEVER,
                              KIS_STAT_NEVER, KIS_DANGER_NONE);
    outside.mult1 = 0;
    outside.mult2 = 50;
    outside.floor = 1;
    outside.expect = 0;
    outside.tolerance = 25;
    httpd.params.push_back(outside);
    httpd.params.push_back(
        param(KIS_PARAM_RX_BYTES, true, 0, 90000, 20000, 5000, 50000, 80000, KIS_DANGER_1));
    httpd.params.push_back(param(KIS_PARAM_CONN_RATIO, false, 0, 7, 0, 0, KIS_STAT_NEVER,
                                 KIS_STAT_NEVER, KIS_DANGER_NONE));
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
    idle.seq_threshold2 = 500;
    idle.stat_interval_ms = 60000;
    idle.danger_hold1 = 0;
    idle.danger_hold2 = 3600;
    idle.file_tree = 1;
    r.cells.push_back(idle);
    // Out of order on purpose: the formats sort by tgid, then pid.
    r.tasks.push_back({"httpd", 60, 57, "httpd", 10, 0, 0});
    r.tasks.push_back({"other", 99, 99, "sh", 1, 0, 0}); // a cell not in the cell dump is ignored
    r.tasks.push_back({"httpd", 57, 57, "httpd", 123, 12, 412});
    ConnInfo v4;
    v4.cell = "httpd";
    v4.peer.family = AF_INET;
    v4.peer.peer_port = 43174;
    v4.peer.local_port = 8080;
    std::memcpy(v4.peer.peer_addr, "\x7f\x00\x00\x01", 4);
    v4.pid = 60;
    v4.tgid = 57;
    v4.rx_bytes = 100;
    v4.tx_bytes = 70935;
    v4.level = KIS_DANGER_2;
    ConnInfo v6 = v4;
    v6.peer.family = AF_INET6;
    v6.peer.peer_port = 50000;
    std::memset(v6.peer.peer_addr, 0, sizeof v6.peer.peer_addr);
    v6.peer.peer_addr[15] = 1;
    v6.pid = 57;
    v6.rx_bytes = 20;
    v6.tx_bytes = 300;
    v6.level = KIS_DANGER_NONE;
    ConnInfo stray = v4;
    stray.cell = "other"; // a cell not in the cell dump is ignored
    r.conns = {v4, stray, v6};
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(status)

BOOST_AUTO_TEST_CASE(plain_format) {
    const std::string want =
        "kis module 0.1.0, protocol 1 (kisctl protocol " + kProto +
        ")\n"
        "tasks watched: 3\n"
        "alerts lost: 2\n"
        "cell httpd: program \"httpd\" args \"*\" follow-exec yes "
        "max-tasks 1024\n"
        "  tasks 2, joined 5, left 3, execs 1, over-limit 0, syscalls 1234\n"
        "  state armed+tracing, k 6, window 20, threshold 300, learn-prefixes 16384, "
        "learn-kgrams 65536\n"
        "  learned 5000, learn-dropped 3, profile-kgrams 812, alerts 4, trace-lost 9\n"
        "  danger 2, danger-events 5, training 1, threshold2 650, interval-ms 1000, hold1 10, "
        "hold2 3\n"
        "  stat-samples 120, files-learned 37, file-tree 1024, connections 2\n"
        "  PARAM         VALUE         MEAN          DEV           T1            T2            "
        "LEVEL SAMPLES\n"
        "  cpu           2500000       1000000       120000        1600000       2200000       "
        "2     120\n"
        "  files         3             4             1             10            16            "
        "none  120\n"
        "  rx_bytes      90000         20000         5000          50000         80000         "
        "1     0\n"
        "  PEER                                           LOCAL  PID      RX            TX         "
        "   LEVEL\n"
        "  127.0.0.1:43174                                8080   60       100           70935      "
        "   2\n"
        "  [::1]:50000                                    8080   57       20            300        "
        "   none\n"
        "  PID      TGID     SYSCALLS     COMM             SCORE MAX\n"
        "  57       57       123          httpd            12    412\n"
        "  60       57       10           httpd            0     0\n"
        "cell idle: program \"/usr/sbin/*\" args \"-f \\\"x\\\"\" "
        "follow-exec no max-tasks 1\n"
        "  tasks 0, joined 0, left 0, execs 0, over-limit 0, syscalls 0\n"
        "  state idle, k 2, window 1, threshold 0, learn-prefixes 1, learn-kgrams 1\n"
        "  learned 0, learn-dropped 0, profile-kgrams 0, alerts 0, trace-lost 0\n"
        "  danger none, danger-events 0, training 0, threshold2 500, interval-ms 60000, "
        "hold1 0, hold2 3600\n"
        "  stat-samples 0, files-learned 0, file-tree 1, connections 0\n"
        "  no tasks\n";
    BOOST_TEST(format_status(example()) == want);
}

BOOST_AUTO_TEST_CASE(all_params) {
    // --params: every parameter of the dump, "-" where not armed or never.
    std::string out = format_status(example(), true);
    BOOST_TEST(out.find("  files         3             4             1             10            "
                        "16            none  120\n"
                        "  files_outside 0             -             -             -             "
                        "-             none  0\n"
                        "  rx_bytes      90000 ") != std::string::npos,
               out);
    BOOST_TEST(out.find("  conn_ratio    7             -             -             -             "
                        "-             -     0\n"
                        "  PEER ") != std::string::npos,
               out);
    // Without it they are left out.
    BOOST_TEST(format_status(example()).find("files_outside") == std::string::npos);
    BOOST_TEST(format_status(example()).find("conn_ratio") == std::string::npos);
    // A cell whose parameters have neither samples nor a level has no table at all.
    StatusReport r = example();
    for (ParamInfo &p : r.cells[0].params) {
        p.samples = 0;
        p.level = KIS_DANGER_NONE;
    }
    BOOST_TEST(format_status(r).find("PARAM") == std::string::npos);
    BOOST_TEST(format_status(r, true).find("  PARAM ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(status_counters_stay_readable_by_the_guest_helpers) {
    // tests/qemu/lib.sh's cell_counter splits the lines that do not start with a number or
    // PID at ", " into NAME VALUE pairs and takes the first match: the new counters must be
    // such pairs, and parameter rows (cpu, syscalls, ...) come after every counter line.
    std::string out = format_status(example(), true);
    std::size_t table = out.find("  PARAM ");
    BOOST_TEST_REQUIRE(table != std::string::npos);
    for (const char *counter :
         {"danger 2,", ", danger-events 5,", ", training 1,", ", threshold2 650,",
          ", interval-ms 1000,", ", hold1 10,", ", hold2 3\n", "stat-samples 120,",
          ", files-learned 37,", ", file-tree 1024,", ", connections 2\n", "syscalls 1234\n",
          ", execs 1,"}) {
        std::size_t at = out.find(counter);
        BOOST_TEST(at != std::string::npos, counter);
        BOOST_TEST(at < table, counter);
    }
}

BOOST_AUTO_TEST_CASE(learn_status_statistics) {
    StatusReport r = example();
    BOOST_TEST(format_learn_stats(r.cells[0]) ==
               "  statistics: 120 intervals sampled, 37 files learned (room 1024), 1 suspected "
               "training sample not learned\n"
               "  PARAM         SAMPLES       MEAN          DEV\n"
               "  cpu           120           1000000       120000\n"
               "  files         120           4             1\n");
    // Nothing learned: one line, no table.
    BOOST_TEST(format_learn_stats(r.cells[1]) ==
               "  statistics: 0 intervals sampled, 0 files learned (room 1)\n");
    r.cells[1].stat_samples = 1;
    r.cells[1].files_learned = 1;
    r.cells[1].training = 2;
    BOOST_TEST(format_learn_stats(r.cells[1]) ==
               "  statistics: 1 interval sampled, 1 file learned (room 1), 2 suspected training "
               "samples not learned\n");
}

BOOST_AUTO_TEST_CASE(danger_words) {
    BOOST_TEST(danger_text(KIS_DANGER_NONE) == "none");
    BOOST_TEST(danger_text(KIS_DANGER_1) == "1");
    BOOST_TEST(danger_text(KIS_DANGER_2) == "2");
}

BOOST_AUTO_TEST_CASE(no_cells) {
    StatusReport r;
    r.module = {1, "0.1.0", 0, 0};
    BOOST_TEST(format_status(r) == "kis module 0.1.0, protocol 1 (kisctl protocol " + kProto +
                                       ")\n"
                                       "tasks watched: 0\n"
                                       "alerts lost: 0\n"
                                       "no cells loaded\n");
    BOOST_TEST(status_json_text(r) == R"({"module_version":"0.1.0","protocol":1,)"
                                      R"("kisctl_protocol":)" +
                                          kProto +
                                          R"(,"tasks_watched":0,"alerts_lost":0,"cells":[]})");
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
        R"({"module_version":"0.1.0","protocol":1,"kisctl_protocol":)" + kProto +
        R"(,"tasks_watched":3,)"
        R"("alerts_lost":2,)"
        R"("cells":[{"name":"httpd","program":"httpd","args":"*","follow_exec":true,)"
        R"("max_tasks":1024,"id":7,"sequence":{"k":6,"window":20,"threshold":300,)"
        R"("threshold2":650,"learn_prefixes":16384,"learn_kgrams":65536},)"
        R"("state":["armed","tracing"],)"
        R"("counters":{"tasks":2,"joined":5,"left":3,"execs":1,)"
        R"("over_limit":0,"syscalls":1234,"learned":5000,"learn_dropped":3,)"
        R"("profile_kgrams":812,"alerts":4,"trace_lost":9},)"
        R"("stats":{"interval_ms":1000,"hold1":10,"hold2":3,"file_tree":1024,"danger":2,)"
        R"("danger_events":5,"training":1,"samples":120,"files_learned":37,"connections":2,)"
        R"("params":[)"
        R"({"name":"cpu","id":1,"unit":"us","per_conn":false,"armed":true,"level":2,)"
        R"("value":2500000,"samples":120,"mean":1000000,"dev":120000,"t1":1600000,)"
        R"("t2":2200000,"mult1":3.0,"mult2":6.0,"floor":4,"expect":null,"tolerance":null},)"
        R"({"name":"files","id":4,"unit":"files","per_conn":false,"armed":true,"level":0,)"
        R"("value":3,"samples":120,"mean":4,"dev":1,"t1":10,"t2":16,"mult1":3.0,)"
        R"("mult2":6.0,"floor":4,"expect":null,"tolerance":null},)"
        R"({"name":"files_outside","id":5,"unit":"files","per_conn":false,"armed":true,)"
        R"("level":0,"value":0,"samples":0,"mean":0,"dev":0,"t1":null,"t2":null,)"
        R"("mult1":0.0,"mult2":5.0,"floor":1,"expect":0,"tolerance":25},)"
        R"({"name":"rx_bytes","id":10,"unit":"bytes","per_conn":false,"armed":true,)"
        R"("level":1,"value":90000,"samples":0,"mean":20000,"dev":5000,"t1":50000,)"
        R"("t2":80000,"mult1":3.0,"mult2":6.0,"floor":4,"expect":null,"tolerance":null},)"
        R"({"name":"conn_ratio","id":16,"unit":"percent","per_conn":true,"armed":false,)"
        R"("level":0,"value":7,"samples":0,"mean":0,"dev":0,"t1":null,"t2":null,)"
        R"("mult1":3.0,"mult2":6.0,"floor":4,"expect":null,"tolerance":null}]},)"
        R"("tasks":[)"
        R"({"pid":57,"tgid":57,"comm":"httpd","syscalls":123,"score":12,"max_score":412},)"
        R"({"pid":60,"tgid":57,"comm":"httpd","syscalls":10,"score":0,"max_score":0}],)"
        R"("connections":[)"
        R"({"peer":"127.0.0.1:43174","local_port":8080,"pid":60,"tgid":57,"rx_bytes":100,)"
        R"("tx_bytes":70935,"level":2},)"
        R"({"peer":"[::1]:50000","local_port":8080,"pid":57,"tgid":57,"rx_bytes":20,)"
        R"("tx_bytes":300,"level":0}]},)"
        R"({"name":"idle","program":"/usr/sbin/*","args":"-f \"x\"","follow_exec":false,)"
        R"("max_tasks":1,"id":8,"sequence":{"k":2,"window":1,"threshold":0,"threshold2":500,)"
        R"("learn_prefixes":1,"learn_kgrams":1},"state":[],)"
        R"("counters":{"tasks":0,"joined":0,"left":0,"execs":0,)"
        R"("over_limit":0,"syscalls":0,"learned":0,"learn_dropped":0,"profile_kgrams":0,)"
        R"("alerts":0,"trace_lost":0},)"
        R"("stats":{"interval_ms":60000,"hold1":0,"hold2":3600,"file_tree":1,"danger":0,)"
        R"("danger_events":0,"training":0,"samples":0,"files_learned":0,"connections":0,)"
        R"("params":[]},"tasks":[],"connections":[]}]})";
    BOOST_TEST(status_json_text(example()) == want);
}

// A KIS_ATTR_CELL nest as the module dumps it, parsed by kisctl.
BOOST_AUTO_TEST_CASE(cell_dump_parsing) {
    nl::MsgPtr msg(nlmsg_alloc());
    nl_msg *m = msg.get();
    BOOST_TEST_REQUIRE(m != nullptr);
    nlattr *cell = nla_nest_start(m, KIS_ATTR_CELL | NLA_F_NESTED);
    BOOST_TEST_REQUIRE(nla_put_string(m, KIS_CELL_ATTR_NAME, "web") == 0);
    BOOST_TEST_REQUIRE(nla_put_u16(m, KIS_CELL_ATTR_SEQ_THRESHOLD, 300) == 0);
    BOOST_TEST_REQUIRE(nla_put_u16(m, KIS_CELL_ATTR_SEQ_THRESHOLD2, 650) == 0);
    BOOST_TEST_REQUIRE(nla_put_u32(m, KIS_CELL_ATTR_STAT_INTERVAL, 500) == 0);
    BOOST_TEST_REQUIRE(nla_put_u16(m, KIS_CELL_ATTR_DANGER_HOLD1, 11) == 0);
    BOOST_TEST_REQUIRE(nla_put_u16(m, KIS_CELL_ATTR_DANGER_HOLD2, 4) == 0);
    BOOST_TEST_REQUIRE(nla_put_u32(m, KIS_CELL_ATTR_FILE_TREE, 2048) == 0);
    BOOST_TEST_REQUIRE(nla_put_u8(m, KIS_CELL_ATTR_DANGER, KIS_DANGER_1) == 0);
    BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_CELL_ATTR_DANGER_EVENTS, 1ull << 40) == 0);
    BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_CELL_ATTR_TRAINING, 6) == 0);
    BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_CELL_ATTR_STAT_SAMPLES, 321) == 0);
    BOOST_TEST_REQUIRE(nla_put_u32(m, KIS_CELL_ATTR_FILES_LEARNED, 77) == 0);
    BOOST_TEST_REQUIRE(nla_put_u32(m, KIS_CELL_ATTR_CONNECTIONS, 9) == 0);
    nlattr *params = nla_nest_start(m, KIS_CELL_ATTR_PARAMS | NLA_F_NESTED);
    // Out of order on purpose: kisctl sorts by id.
    for (std::uint8_t id : {std::uint8_t(KIS_PARAM_TX_BYTES), std::uint8_t(KIS_PARAM_CPU)}) {
        nlattr *p = nla_nest_start(m, KIS_CELL_ATTR_PARAM | NLA_F_NESTED);
        BOOST_TEST_REQUIRE(nla_put_u8(m, KIS_PARAM_ATTR_ID, id) == 0);
        BOOST_TEST_REQUIRE(nla_put_u16(m, KIS_PARAM_ATTR_MULT1, 35) == 0);
        BOOST_TEST_REQUIRE(nla_put_u16(m, KIS_PARAM_ATTR_MULT2, 70) == 0);
        BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_PARAM_ATTR_FLOOR, 100) == 0);
        if (id == KIS_PARAM_CPU) {
            BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_PARAM_ATTR_EXPECT, 0) == 0);
            BOOST_TEST_REQUIRE(nla_put_u16(m, KIS_PARAM_ATTR_TOLERANCE, 40) == 0);
            BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_PARAM_ATTR_T1, 1500) == 0);
            BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_PARAM_ATTR_T2, KIS_STAT_NEVER) == 0);
            BOOST_TEST_REQUIRE(nla_put_u8(m, KIS_PARAM_ATTR_ARMED, 1) == 0);
            BOOST_TEST_REQUIRE(nla_put_u8(m, KIS_PARAM_ATTR_LEVEL, KIS_DANGER_1) == 0);
        }
        BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_PARAM_ATTR_SAMPLES, 50 + id) == 0);
        BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_PARAM_ATTR_MEAN, 1000 + id) == 0);
        BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_PARAM_ATTR_DEV, 10 + id) == 0);
        BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_PARAM_ATTR_VALUE, 2000 + id) == 0);
        nla_nest_end(m, p);
    }
    nla_nest_end(m, params);
    nla_nest_end(m, cell);

    Result<CellInfo> c = parse_cell_info(cell);
    BOOST_TEST_REQUIRE(c.ok());
    BOOST_TEST(c->name == "web");
    BOOST_TEST(c->seq_threshold == 300u);
    BOOST_TEST(c->seq_threshold2 == 650u);
    BOOST_TEST(c->stat_interval_ms == 500u);
    BOOST_TEST(c->danger_hold1 == 11u);
    BOOST_TEST(c->danger_hold2 == 4u);
    BOOST_TEST(c->file_tree == 2048u);
    BOOST_TEST(c->danger == static_cast<std::uint32_t>(KIS_DANGER_1));
    BOOST_TEST(c->danger_events == 1ull << 40);
    BOOST_TEST(c->training == 6u);
    BOOST_TEST(c->stat_samples == 321u);
    BOOST_TEST(c->files_learned == 77u);
    BOOST_TEST(c->connections == 9u);
    BOOST_TEST_REQUIRE(c->params.size() == 2u);
    const ParamInfo &cpu = c->params[0];
    BOOST_TEST(cpu.id == static_cast<std::uint32_t>(KIS_PARAM_CPU));
    BOOST_TEST(cpu.mult1 == 35u);
    BOOST_TEST(cpu.mult2 == 70u);
    BOOST_TEST(cpu.floor == 100u);
    BOOST_TEST_REQUIRE(cpu.expect.has_value());
    BOOST_TEST(*cpu.expect == 0u);
    BOOST_TEST(cpu.tolerance == 40u);
    BOOST_TEST(cpu.samples == 51u);
    BOOST_TEST(cpu.mean == 1001u);
    BOOST_TEST(cpu.dev == 11u);
    BOOST_TEST(cpu.t1 == 1500u);
    BOOST_TEST(cpu.t2 == KIS_STAT_NEVER);
    BOOST_TEST(cpu.value == 2001u);
    BOOST_TEST(cpu.level == static_cast<std::uint32_t>(KIS_DANGER_1));
    BOOST_TEST(cpu.armed);
    const ParamInfo &tx = c->params[1];
    BOOST_TEST(tx.id == static_cast<std::uint32_t>(KIS_PARAM_TX_BYTES));
    BOOST_TEST(!tx.expect.has_value());
    BOOST_TEST(!tx.armed);
    BOOST_TEST(tx.t1 == KIS_STAT_NEVER); // not sent: never
    BOOST_TEST(tx.level == static_cast<std::uint32_t>(KIS_DANGER_NONE));
    BOOST_TEST(tx.samples == 61u);
}

BOOST_AUTO_TEST_CASE(malformed_cell_dumps_are_refused) {
    // A PARAM without an ID, with an unknown ID, with a short u64: a protocol mismatch.
    for (int bad = 0; bad < 3; bad++) {
        BOOST_TEST_CONTEXT("case " << bad) {
            nl::MsgPtr msg(nlmsg_alloc());
            nl_msg *m = msg.get();
            nlattr *cell = nla_nest_start(m, KIS_ATTR_CELL | NLA_F_NESTED);
            BOOST_TEST_REQUIRE(nla_put_string(m, KIS_CELL_ATTR_NAME, "web") == 0);
            nlattr *params = nla_nest_start(m, KIS_CELL_ATTR_PARAMS | NLA_F_NESTED);
            nlattr *p = nla_nest_start(m, KIS_CELL_ATTR_PARAM | NLA_F_NESTED);
            if (bad == 0)
                BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_PARAM_ATTR_MEAN, 1) == 0);
            if (bad == 1)
                BOOST_TEST_REQUIRE(nla_put_u8(m, KIS_PARAM_ATTR_ID, KIS_PARAM_COUNT) == 0);
            if (bad == 2) {
                BOOST_TEST_REQUIRE(nla_put_u8(m, KIS_PARAM_ATTR_ID, KIS_PARAM_CPU) == 0);
                BOOST_TEST_REQUIRE(nla_put_u32(m, KIS_PARAM_ATTR_MEAN, 1) == 0);
            }
            nla_nest_end(m, p);
            nla_nest_end(m, params);
            nla_nest_end(m, cell);
            Result<CellInfo> c = parse_cell_info(cell);
            BOOST_TEST_REQUIRE(!c.ok());
            BOOST_TEST(c.error().message.find("malformed cell reply") != std::string::npos);
        }
    }
    // A cell dump of an older module, without any statistics attribute, still parses.
    nl::MsgPtr msg(nlmsg_alloc());
    nlattr *cell = nla_nest_start(msg.get(), KIS_ATTR_CELL | NLA_F_NESTED);
    BOOST_TEST_REQUIRE(nla_put_string(msg.get(), KIS_CELL_ATTR_NAME, "old") == 0);
    nla_nest_end(msg.get(), cell);
    Result<CellInfo> c = parse_cell_info(cell);
    BOOST_TEST_REQUIRE(c.ok());
    BOOST_TEST(c->params.empty());
    BOOST_TEST(c->danger == static_cast<std::uint32_t>(KIS_DANGER_NONE));
}

BOOST_AUTO_TEST_CASE(state_words) {
    BOOST_TEST(cell_state_text(0) == "idle");
    BOOST_TEST(cell_state_text(KIS_CELL_LEARNING) == "learning");
    BOOST_TEST(cell_state_text(KIS_CELL_LEARNING | KIS_CELL_ARMED | KIS_CELL_TRACING) ==
               "learning+armed+tracing");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
