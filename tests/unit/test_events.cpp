// The module's multicast messages as kisctl reads them: KIS_CMD_ALERT and KIS_CMD_TRACE
// built here with libnl as the module builds them, and the bookkeeping of kisctl trace.
#include <boost/test/unit_test.hpp>

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
