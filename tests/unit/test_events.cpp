// The module's multicast messages as kisctl reads them: KIS_CMD_ALERT, KIS_CMD_DANGER,
// KIS_CMD_TRAINING and KIS_CMD_TRACE built here with libnl as the module builds them, and the
// bookkeeping of kisctl trace.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "netlink.hpp"
#include "test_profile_util.hpp"
#include "trace_recorder.hpp"

namespace kis::test {

namespace {

constexpr int kFamily = 0x1234;

nl::MsgPtr message(std::uint8_t cmd) {
    nl::MsgPtr msg(nlmsg_alloc());
    BOOST_TEST_REQUIRE(msg.get() != nullptr);
    BOOST_TEST_REQUIRE(genlmsg_put(msg.get(), 0, 0, kFamily, 0, 0, cmd, KIS_GENL_VERSION) !=
                       nullptr);
    return msg;
}

kis_trace_record record(std::uint32_t cell, std::uint32_t pid, std::uint16_t call) {
    return {cell, pid, pid, call, 0};
}

nl::MsgPtr trace_message(std::uint64_t seq, std::uint64_t lost,
                         const std::vector<kis_trace_record> &records) {
    nl::MsgPtr msg = message(KIS_CMD_TRACE);
    nl_msg *m = msg.get();
    BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_ATTR_TRACE_SEQ, seq) == 0);
    BOOST_TEST_REQUIRE(nla_put_u64(m, KIS_ATTR_TRACE_LOST, lost) == 0);
    BOOST_TEST_REQUIRE(nla_put(m, KIS_ATTR_TRACE_RECORDS,
                               static_cast<int>(records.size() * sizeof(kis_trace_record)),
                               records.data()) == 0);
    return msg;
}

kis_peer ipv4_peer(const char *addr, std::uint16_t port, std::uint16_t local) {
    kis_peer p{};
    p.family = AF_INET;
    p.peer_port = port;
    p.local_port = local;
    inet_pton(AF_INET, addr, p.peer_addr);
    return p;
}

// The attributes every event has, as kis_alert_put() writes them.
void put_event_head(nl_msg *m, std::uint64_t seq, std::uint64_t lost, const char *cell) {
    nla_put_u64(m, KIS_EVENT_ATTR_SEQ, seq);
    nla_put_u64(m, KIS_EVENT_ATTR_LOST, lost);
    nla_put_u64(m, KIS_EVENT_ATTR_TIME_NS, 1795438149186055290ull);
    nla_put_string(m, KIS_EVENT_ATTR_CELL, cell);
}

// A danger event as kis_event_put_danger() writes it; the task, peer and path optional.
nl::MsgPtr danger_message(std::uint8_t param, std::uint8_t level, bool task, const kis_peer *peer,
                          const char *path) {
    nl::MsgPtr msg = message(KIS_CMD_DANGER);
    nl_msg *m = msg.get();
    nlattr *nest = nla_nest_start(m, KIS_ATTR_EVENT);
    BOOST_TEST_REQUIRE(nest != nullptr);
    put_event_head(m, 21, 3, "web");
    if (task) {
        nla_put_u32(m, KIS_EVENT_ATTR_PID, 389);
        nla_put_u32(m, KIS_EVENT_ATTR_TGID, 388);
        nla_put_string(m, KIS_EVENT_ATTR_COMM, "httpd");
    }
    if (peer)
        nla_put(m, KIS_EVENT_ATTR_PEER, sizeof *peer, peer);
    if (path)
        nla_put_string(m, KIS_EVENT_ATTR_PATH, path);
    nla_put_u8(m, KIS_EVENT_ATTR_PARAM, param);
    nla_put_u8(m, KIS_EVENT_ATTR_LEVEL, level);
    nla_put_u8(m, KIS_EVENT_ATTR_CELL_LEVEL, 2);
    nla_put_u64(m, KIS_EVENT_ATTR_VALUE, 912000);
    nla_put_u64(m, KIS_EVENT_ATTR_MEAN, 20480);
    nla_put_u64(m, KIS_EVENT_ATTR_DEV, 4096);
    nla_put_u64(m, KIS_EVENT_ATTR_T1, 32768);
    nla_put_u64(m, KIS_EVENT_ATTR_T2, ~0ull);
    nla_nest_end(m, nest);
    return msg;
}

TraceBatch batch(std::uint64_t seq, std::uint64_t lost, std::vector<kis_trace_record> records) {
    TraceBatch b;
    b.seq = seq;
    b.lost = lost;
    b.records = std::move(records);
    return b;
}

} // namespace

BOOST_AUTO_TEST_SUITE(events)

BOOST_AUTO_TEST_CASE(alert_message) {
    nl::MsgPtr msg = message(KIS_CMD_ALERT);
    nl_msg *m = msg.get();
    nlattr *nest = nla_nest_start(m, KIS_ATTR_EVENT);
    std::uint16_t calls[] = {3, 13, 59};
    BOOST_TEST_REQUIRE(nest != nullptr);
    nla_put_u64(m, KIS_EVENT_ATTR_SEQ, 7);
    nla_put_u64(m, KIS_EVENT_ATTR_LOST, 2);
    nla_put_u64(m, KIS_EVENT_ATTR_TIME_NS, 1795438149186055290ull);
    nla_put_string(m, KIS_EVENT_ATTR_CELL, "httpd");
    nla_put_u32(m, KIS_EVENT_ATTR_PID, 389);
    nla_put_u32(m, KIS_EVENT_ATTR_TGID, 388);
    nla_put_string(m, KIS_EVENT_ATTR_COMM, "exe");
    nla_put_u32(m, KIS_EVENT_ATTR_SCORE, 1000);
    nla_put_u32(m, KIS_EVENT_ATTR_THRESHOLD, 300);
    nla_put(m, KIS_EVENT_ATTR_CALLS, sizeof calls, calls);
    nla_nest_end(m, nest);
    Result<Alert> a = parse_alert(nlmsg_hdr(m));
    BOOST_TEST_REQUIRE(a.ok(), why(a));
    BOOST_TEST(a->seq == 7u);
    BOOST_TEST(a->lost == 2u);
    BOOST_TEST(a->time_ns == 1795438149186055290ull);
    BOOST_TEST(a->cell == "httpd");
    BOOST_TEST(a->pid == 389u);
    BOOST_TEST(a->tgid == 388u);
    BOOST_TEST(a->comm == "exe");
    BOOST_TEST(a->score == 1000u);
    BOOST_TEST(a->threshold == 300u);
    BOOST_TEST((a->calls == std::vector<std::uint16_t>{3, 13, 59}));
}

BOOST_AUTO_TEST_CASE(malformed_alerts) {
    nl::MsgPtr empty = message(KIS_CMD_ALERT);
    BOOST_TEST(!parse_alert(nlmsg_hdr(empty.get())).ok());
    nl::MsgPtr odd = message(KIS_CMD_ALERT);
    nlattr *nest = nla_nest_start(odd.get(), KIS_ATTR_EVENT);
    nla_put_u64(odd.get(), KIS_EVENT_ATTR_SEQ, 1);
    nla_put_string(odd.get(), KIS_EVENT_ATTR_CELL, "c");
    nla_put_u32(odd.get(), KIS_EVENT_ATTR_PID, 1);
    nla_put(odd.get(), KIS_EVENT_ATTR_CALLS, 3, "abc"); // not a whole number of u16
    nla_nest_end(odd.get(), nest);
    Result<Alert> a = parse_alert(nlmsg_hdr(odd.get()));
    BOOST_TEST_REQUIRE(!a.ok());
    BOOST_TEST(a.error().message.find("malformed alert") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(danger_event_parses) {
    kis_peer peer = ipv4_peer("10.0.0.2", 51234, 80);
    nl::MsgPtr msg = danger_message(KIS_PARAM_CONN_TX_BYTES, KIS_DANGER_2, true, &peer, nullptr);
    Result<DangerEvent> d = parse_danger(nlmsg_hdr(msg.get()));
    BOOST_TEST_REQUIRE(d.ok(), why(d));
    BOOST_TEST(d->seq == 21u);
    BOOST_TEST(d->lost == 3u);
    BOOST_TEST(d->time_ns == 1795438149186055290ull);
    BOOST_TEST(d->cell == "web");
    BOOST_TEST(d->pid == 389u);
    BOOST_TEST(d->tgid == 388u);
    BOOST_TEST(d->comm == "httpd");
    BOOST_TEST(d->param == static_cast<std::uint32_t>(KIS_PARAM_CONN_TX_BYTES));
    BOOST_TEST(d->level == 2u);
    BOOST_TEST(d->cell_level == 2u);
    BOOST_TEST(d->value == 912000u);
    BOOST_TEST(d->mean == 20480u);
    BOOST_TEST(d->dev == 4096u);
    BOOST_TEST(d->t1 == 32768u);
    BOOST_TEST(d->t2 == ~0ull);
    BOOST_TEST_REQUIRE(d->peer.has_value());
    BOOST_TEST(d->peer->local_port == 80u);
    BOOST_TEST(peer_text(*d->peer) == "10.0.0.2:51234");
    BOOST_TEST(d->path.empty());

    // No task, a file: PID, TGID, COMM and PEER absent.
    nl::MsgPtr file =
        danger_message(KIS_PARAM_FILES_OUTSIDE, KIS_DANGER_1, false, nullptr, "/etc/shadow");
    d = parse_danger(nlmsg_hdr(file.get()));
    BOOST_TEST_REQUIRE(d.ok(), why(d));
    BOOST_TEST(d->pid == 0u);
    BOOST_TEST(d->comm.empty());
    BOOST_TEST(!d->peer.has_value());
    BOOST_TEST(d->path == "/etc/shadow");
    BOOST_TEST(d->level == 1u);
}

BOOST_AUTO_TEST_CASE(malformed_danger_events) {
    auto refused = [](const nl::MsgPtr &msg) {
        Result<DangerEvent> d = parse_danger(nlmsg_hdr(msg.get()));
        BOOST_TEST_REQUIRE(!d.ok());
        BOOST_TEST(d.error().message.find("malformed danger event") != std::string::npos,
                   d.error().message);
    };
    refused(danger_message(KIS_PARAM_COUNT, 1, false, nullptr, nullptr)); // no such parameter
    refused(danger_message(KIS_PARAM_CPU, 3, false, nullptr, nullptr));   // no such level
    nl::MsgPtr short_peer = message(KIS_CMD_DANGER);
    nlattr *nest = nla_nest_start(short_peer.get(), KIS_ATTR_EVENT);
    put_event_head(short_peer.get(), 1, 0, "web");
    nla_put_u8(short_peer.get(), KIS_EVENT_ATTR_PARAM, KIS_PARAM_CPU);
    nla_put_u8(short_peer.get(), KIS_EVENT_ATTR_LEVEL, 1);
    nla_put(short_peer.get(), KIS_EVENT_ATTR_PEER, 6, "abcdef");
    nla_nest_end(short_peer.get(), nest);
    refused(short_peer);
    nl::MsgPtr no_param = message(KIS_CMD_DANGER);
    nest = nla_nest_start(no_param.get(), KIS_ATTR_EVENT);
    put_event_head(no_param.get(), 1, 0, "web");
    nla_put_u8(no_param.get(), KIS_EVENT_ATTR_LEVEL, 1);
    nla_nest_end(no_param.get(), nest);
    refused(no_param);
    nl::MsgPtr long_path = danger_message(KIS_PARAM_FILES_OUTSIDE, 1, false, nullptr,
                                          std::string(KIS_PATH_MAX, 'a').c_str());
    refused(long_path);
}

BOOST_AUTO_TEST_CASE(training_event_parses) {
    nl::MsgPtr msg = message(KIS_CMD_TRAINING);
    nl_msg *m = msg.get();
    nlattr *nest = nla_nest_start(m, KIS_ATTR_EVENT);
    put_event_head(m, 30, 0, "web");
    nla_put_u8(m, KIS_EVENT_ATTR_PARAM, KIS_PARAM_CPU);
    nla_put_u64(m, KIS_EVENT_ATTR_VALUE, 52000);
    nla_put_u64(m, KIS_EVENT_ATTR_EXPECT, 1000);
    nla_put_u16(m, KIS_EVENT_ATTR_TOLERANCE, 10);
    nla_nest_end(m, nest);
    Result<TrainingEvent> t = parse_training(nlmsg_hdr(m));
    BOOST_TEST_REQUIRE(t.ok(), why(t));
    BOOST_TEST(t->seq == 30u);
    BOOST_TEST(t->cell == "web");
    BOOST_TEST((t->param == std::optional<std::uint32_t>(KIS_PARAM_CPU)));
    BOOST_TEST((t->value == std::optional<std::uint64_t>(52000)));
    BOOST_TEST((t->expect == std::optional<std::uint64_t>(1000)));
    BOOST_TEST((t->tolerance == std::optional<std::uint32_t>(10)));
    BOOST_TEST(t->path.empty());

    nl::MsgPtr file = message(KIS_CMD_TRAINING);
    nest = nla_nest_start(file.get(), KIS_ATTR_EVENT);
    put_event_head(file.get(), 31, 0, "web");
    nla_put_string(file.get(), KIS_EVENT_ATTR_PATH, "/tmp/x");
    nla_nest_end(file.get(), nest);
    t = parse_training(nlmsg_hdr(file.get()));
    BOOST_TEST_REQUIRE(t.ok(), why(t));
    BOOST_TEST(!t->param.has_value());
    BOOST_TEST(!t->value.has_value());
    BOOST_TEST(t->path == "/tmp/x");

    // Neither a parameter nor a path.
    nl::MsgPtr empty = message(KIS_CMD_TRAINING);
    nest = nla_nest_start(empty.get(), KIS_ATTR_EVENT);
    put_event_head(empty.get(), 32, 0, "web");
    nla_nest_end(empty.get(), nest);
    t = parse_training(nlmsg_hdr(empty.get()));
    BOOST_TEST_REQUIRE(!t.ok());
    BOOST_TEST(t.error().message.find("malformed training event") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(peers_as_text) {
    BOOST_TEST(peer_text(ipv4_peer("192.168.1.20", 8080, 1)) == "192.168.1.20:8080");
    kis_peer six{};
    six.family = AF_INET6;
    six.peer_port = 443;
    inet_pton(AF_INET6, "2001:db8::1", six.peer_addr);
    BOOST_TEST(peer_text(six) == "[2001:db8::1]:443");
    kis_peer odd{};
    odd.family = 99;
    odd.peer_port = 7;
    BOOST_TEST(peer_text(odd) == "family99:7");
}

BOOST_AUTO_TEST_CASE(trace_message_parses) {
    std::vector<kis_trace_record> recs = {record(1, 10, 0), record(2, 11, 1), record(1, 10, 60)};
    nl::MsgPtr msg = trace_message(100, 3, recs);
    Result<TraceBatch> b = parse_trace(nlmsg_hdr(msg.get()));
    BOOST_TEST_REQUIRE(b.ok(), why(b));
    BOOST_TEST(b->seq == 100u);
    BOOST_TEST(b->lost == 3u);
    BOOST_TEST_REQUIRE(b->records.size() == 3u);
    BOOST_TEST(b->records[2].syscall == 60u);
    BOOST_TEST(b->records[1].cell_id == 2u);

    nl::MsgPtr bad = message(KIS_CMD_TRACE);
    nla_put_u64(bad.get(), KIS_ATTR_TRACE_SEQ, 1);
    nla_put(bad.get(), KIS_ATTR_TRACE_RECORDS, 15, std::string(15, 'x').data());
    BOOST_TEST(!parse_trace(nlmsg_hdr(bad.get())).ok());
}

BOOST_AUTO_TEST_CASE(recorder_filters_counts_and_stops) {
    std::vector<std::pair<std::uint32_t, std::uint16_t>> got;
    TraceRecorder rec(1, 0, [&](std::uint32_t pid, std::uint16_t call) -> Result<void> {
        got.push_back({pid, call});
        return {};
    });
    rec.add(batch(100, 3, {record(1, 10, 0), record(2, 11, 1), record(1, 12, 60)}));
    rec.add(batch(103, 3, {record(1, 10, 1)}));
    BOOST_TEST(rec.recorded() == 3u);
    BOOST_TEST(rec.tasks() == 2u);
    BOOST_TEST(rec.gap_records() == 0u);
    BOOST_TEST(rec.module_lost() == 0u);
    BOOST_TEST(
        (got == std::vector<std::pair<std::uint32_t, std::uint16_t>>{{10, 0}, {12, 60}, {10, 1}}));
    // Records 104..109 never arrived; the module dropped 4 more meanwhile.
    rec.overrun();
    BOOST_TEST(rec.overrun_pending());
    rec.add(batch(110, 7, {record(1, 10, 2)}));
    BOOST_TEST(!rec.overrun_pending());
    BOOST_TEST(rec.gap_records() == 6u);
    BOOST_TEST(rec.module_lost() == 4u);
    BOOST_TEST(rec.batches() == 3u);
}

BOOST_AUTO_TEST_CASE(recorder_limit_and_errors) {
    std::uint64_t n = 0;
    TraceRecorder rec(5, 2, [&](std::uint32_t, std::uint16_t) -> Result<void> {
        n++;
        return {};
    });
    rec.add(batch(0, 0, {record(5, 1, 0), record(5, 1, 1), record(5, 1, 2)}));
    BOOST_TEST(rec.full());
    BOOST_TEST(rec.recorded() == 2u);
    BOOST_TEST(n == 2u);

    TraceRecorder failing(5, 0, [&](std::uint32_t, std::uint16_t) -> Result<void> {
        return make_error("disk full");
    });
    failing.add(batch(0, 0, {record(5, 1, 0), record(5, 1, 1)}));
    BOOST_TEST_REQUIRE(failing.error().has_value());
    BOOST_TEST(failing.error()->message == "disk full");
    BOOST_TEST(failing.recorded() == 0u);
    // Later batches are still counted for losses, not written.
    failing.add(batch(5, 0, {record(5, 1, 0)}));
    BOOST_TEST(failing.gap_records() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
