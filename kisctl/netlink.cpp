#include "netlink.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/netlink.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/socket.h>

namespace kis {

namespace {

// Longest wait for one answer of the module.
constexpr int kReceiveTimeoutSeconds = 10;

// State of one request/answer exchange, shared with the libnl callbacks.
struct Exchange {
    const std::function<Result<void>(nlmsghdr *)> *on_reply = nullptr;
    bool done = false;
    int kernel_errno = 0; // positive
    std::string extack;
    long bad_attr_offset = -1;
    std::optional<Error> reply_error;
};

// Reads NLMSGERR_ATTR_MSG and NLMSGERR_ATTR_OFFS from the TLVs of an extended ACK.
void parse_extack(Exchange *x, const void *tlvs, std::size_t len) {
    std::array<nlattr *, NLMSGERR_ATTR_MAX + 1> tb{};
    if (len < NLA_HDRLEN)
        return;
    auto *attrs = static_cast<nlattr *>(const_cast<void *>(tlvs));
    if (nla_parse(tb.data(), NLMSGERR_ATTR_MAX, attrs, static_cast<int>(len), nullptr) < 0)
        return;
    if (nlattr *msg = tb[NLMSGERR_ATTR_MSG]; msg && nla_len(msg) > 0) {
        const char *s = static_cast<const char *>(nla_data(msg));
        x->extack = std::string(s, strnlen(s, static_cast<std::size_t>(nla_len(msg))));
    }
    if (nlattr *offs = tb[NLMSGERR_ATTR_OFFS]; offs && nla_len(offs) >= 4)
        x->bad_attr_offset = static_cast<long>(nla_get_u32(offs));
}

int on_valid(nl_msg *msg, void *arg) {
    auto *x = static_cast<Exchange *>(arg);
    if (x->reply_error || !x->on_reply || !*x->on_reply)
        return NL_SKIP;
    Result<void> r = (*x->on_reply)(nlmsg_hdr(msg));
    if (!r)
        x->reply_error = r.error();
    return NL_OK;
}

int on_ack(nl_msg *, void *arg) {
    static_cast<Exchange *>(arg)->done = true;
    return NL_STOP;
}

// NLMSG_DONE ends a dump; its payload is the dump's error code, possibly followed by
// extended ACK TLVs.
int on_finish(nl_msg *msg, void *arg) {
    auto *x = static_cast<Exchange *>(arg);
    nlmsghdr *hdr = nlmsg_hdr(msg);
    x->done = true;
    if (hdr->nlmsg_len < NLMSG_HDRLEN + sizeof(int))
        return NL_STOP;
    int err = 0;
    std::memcpy(&err, nlmsg_data(hdr), sizeof err);
    if (err < 0) {
        x->kernel_errno = -err;
        if (hdr->nlmsg_flags & NLM_F_ACK_TLVS) {
            std::size_t off = NLMSG_ALIGN(sizeof(int));
            std::size_t payload = hdr->nlmsg_len - NLMSG_HDRLEN;
            if (off < payload)
                parse_extack(x, static_cast<char *>(nlmsg_data(hdr)) + off, payload - off);
        }
    }
    return NL_STOP;
}

// An NLMSG_ERROR with a non-zero error. libnl hands us the nlmsgerr; its nlmsghdr is right
// before it. With NLM_F_ACK_TLVS the TLVs follow the nlmsgerr and the echoed request: only
// its header when NLM_F_CAPPED is set, the whole request otherwise.
int on_error(sockaddr_nl *, nlmsgerr *err, void *arg) {
    auto *x = static_cast<Exchange *>(arg);
    x->done = true;
    x->kernel_errno = -err->error;
    const auto *hdr =
        reinterpret_cast<const nlmsghdr *>(reinterpret_cast<const char *>(err) - NLMSG_HDRLEN);
    if (hdr->nlmsg_flags & NLM_F_ACK_TLVS) {
        std::size_t payload = hdr->nlmsg_len - NLMSG_HDRLEN;
        std::size_t off = sizeof(*err);
        if (!(hdr->nlmsg_flags & NLM_F_CAPPED) && err->msg.nlmsg_len >= NLMSG_HDRLEN)
            off += NLMSG_ALIGN(err->msg.nlmsg_len - NLMSG_HDRLEN);
        if (off < payload)
            parse_extack(x, reinterpret_cast<const char *>(err) + off, payload - off);
    }
    return NL_STOP;
}

Error kernel_error(int err, std::string extack, long bad_attr_offset) {
    std::string message = extack.empty() ? std::string(std::strerror(err)) : extack;
    return Error{std::move(message), err, std::move(extack), bad_attr_offset};
}

Error libnl_error(const std::string &what, int err) {
    return make_error(what + ": " + nl_geterror(err));
}

// A string attribute, tolerating a missing NUL.
std::string get_string(const nlattr *attr) {
    if (!attr)
        return {};
    const char *s = static_cast<const char *>(nla_data(attr));
    return std::string(s, strnlen(s, static_cast<std::size_t>(nla_len(attr))));
}

std::uint32_t get_u8(nlattr *attr) { return attr ? nla_get_u8(attr) : 0; }
std::uint32_t get_u16(nlattr *attr) { return attr ? nla_get_u16(attr) : 0; }
std::uint32_t get_u32(nlattr *attr) { return attr ? nla_get_u32(attr) : 0; }
std::uint64_t get_u64(nlattr *attr) { return attr ? nla_get_u64(attr) : 0; }

template <std::size_t N> using Policy = std::array<nla_policy, N>;

nla_policy policy(int type, std::uint16_t maxlen = 0) {
    nla_policy p{};
    p.type = static_cast<std::uint16_t>(type);
    p.maxlen = maxlen;
    return p;
}

const Policy<KIS_ATTR_MAX + 1> &top_policy() {
    static const Policy<KIS_ATTR_MAX + 1> p = [] {
        Policy<KIS_ATTR_MAX + 1> p{};
        p[KIS_ATTR_PROTO_VERSION] = policy(NLA_U32);
        p[KIS_ATTR_MODULE_VERSION] = policy(NLA_STRING);
        p[KIS_ATTR_TASKS_WATCHED] = policy(NLA_U32);
        p[KIS_ATTR_CELLS] = policy(NLA_NESTED);
        p[KIS_ATTR_CELL] = policy(NLA_NESTED);
        p[KIS_ATTR_CELL_NAME] = policy(NLA_STRING, KIS_CELL_NAME_MAX);
        p[KIS_ATTR_TASK] = policy(NLA_NESTED);
        p[KIS_ATTR_PROFILE_SOURCE] = policy(NLA_U8);
        p[KIS_ATTR_PROFILE_SIZE] = policy(NLA_U32);
        p[KIS_ATTR_PROFILE_CHUNK] = policy(NLA_UNSPEC, KIS_PROFILE_CHUNK_MAX);
        p[KIS_ATTR_EVENT] = policy(NLA_NESTED);
        p[KIS_ATTR_TRACE_SEQ] = policy(NLA_U64);
        p[KIS_ATTR_TRACE_LOST] = policy(NLA_U64);
        p[KIS_ATTR_TRACE_RECORDS] = policy(NLA_UNSPEC);
        p[KIS_ATTR_EVENTS_LOST] = policy(NLA_U64);
        return p;
    }();
    return p;
}

const Policy<KIS_CELL_ATTR_MAX + 1> &cell_policy() {
    static const Policy<KIS_CELL_ATTR_MAX + 1> p = [] {
        Policy<KIS_CELL_ATTR_MAX + 1> p{};
        p[KIS_CELL_ATTR_NAME] = policy(NLA_STRING, KIS_CELL_NAME_MAX);
        p[KIS_CELL_ATTR_PROGRAM] = policy(NLA_STRING, KIS_PROGRAM_MAX);
        p[KIS_CELL_ATTR_ARGS] = policy(NLA_STRING, KIS_ARGS_PATTERN_MAX);
        p[KIS_CELL_ATTR_FOLLOW_EXEC] = policy(NLA_U8);
        p[KIS_CELL_ATTR_MAX_TASKS] = policy(NLA_U32);
        p[KIS_CELL_ATTR_TASKS] = policy(NLA_U32);
        p[KIS_CELL_ATTR_JOINED] = policy(NLA_U64);
        p[KIS_CELL_ATTR_LEFT] = policy(NLA_U64);
        p[KIS_CELL_ATTR_EXECS] = policy(NLA_U64);
        p[KIS_CELL_ATTR_OVER_LIMIT] = policy(NLA_U64);
        p[KIS_CELL_ATTR_SYSCALLS] = policy(NLA_U64);
        p[KIS_CELL_ATTR_ID] = policy(NLA_U32);
        p[KIS_CELL_ATTR_SEQ_K] = policy(NLA_U8);
        p[KIS_CELL_ATTR_SEQ_WINDOW] = policy(NLA_U16);
        p[KIS_CELL_ATTR_SEQ_THRESHOLD] = policy(NLA_U16);
        p[KIS_CELL_ATTR_LEARN_PREFIXES] = policy(NLA_U32);
        p[KIS_CELL_ATTR_LEARN_KGRAMS] = policy(NLA_U32);
        p[KIS_CELL_ATTR_STATE] = policy(NLA_U32);
        p[KIS_CELL_ATTR_LEARNED] = policy(NLA_U64);
        p[KIS_CELL_ATTR_LEARN_DROPPED] = policy(NLA_U64);
        p[KIS_CELL_ATTR_PROFILE_KGRAMS] = policy(NLA_U32);
        p[KIS_CELL_ATTR_ALERTS] = policy(NLA_U64);
        p[KIS_CELL_ATTR_TRACE_LOST] = policy(NLA_U64);
        p[KIS_CELL_ATTR_SEQ_THRESHOLD2] = policy(NLA_U16);
        p[KIS_CELL_ATTR_STAT_INTERVAL] = policy(NLA_U32);
        p[KIS_CELL_ATTR_DANGER_HOLD1] = policy(NLA_U16);
        p[KIS_CELL_ATTR_DANGER_HOLD2] = policy(NLA_U16);
        p[KIS_CELL_ATTR_FILE_TREE] = policy(NLA_U32);
        p[KIS_CELL_ATTR_PARAMS] = policy(NLA_NESTED);
        p[KIS_CELL_ATTR_DANGER] = policy(NLA_U8);
        p[KIS_CELL_ATTR_DANGER_EVENTS] = policy(NLA_U64);
        p[KIS_CELL_ATTR_TRAINING] = policy(NLA_U64);
        p[KIS_CELL_ATTR_STAT_SAMPLES] = policy(NLA_U64);
        p[KIS_CELL_ATTR_FILES_LEARNED] = policy(NLA_U32);
        p[KIS_CELL_ATTR_CONNECTIONS] = policy(NLA_U32);
        p[KIS_CELL_ATTR_LEARN_LEFT_MS] = policy(NLA_U32);
        return p;
    }();
    return p;
}

const Policy<KIS_PARAM_ATTR_MAX + 1> &param_policy() {
    static const Policy<KIS_PARAM_ATTR_MAX + 1> p = [] {
        Policy<KIS_PARAM_ATTR_MAX + 1> p{};
        p[KIS_PARAM_ATTR_ID] = policy(NLA_U8);
        p[KIS_PARAM_ATTR_MULT1] = policy(NLA_U16);
        p[KIS_PARAM_ATTR_MULT2] = policy(NLA_U16);
        p[KIS_PARAM_ATTR_FLOOR] = policy(NLA_U64);
        p[KIS_PARAM_ATTR_EXPECT] = policy(NLA_U64);
        p[KIS_PARAM_ATTR_TOLERANCE] = policy(NLA_U16);
        p[KIS_PARAM_ATTR_SAMPLES] = policy(NLA_U64);
        p[KIS_PARAM_ATTR_MEAN] = policy(NLA_U64);
        p[KIS_PARAM_ATTR_DEV] = policy(NLA_U64);
        p[KIS_PARAM_ATTR_T1] = policy(NLA_U64);
        p[KIS_PARAM_ATTR_T2] = policy(NLA_U64);
        p[KIS_PARAM_ATTR_VALUE] = policy(NLA_U64);
        p[KIS_PARAM_ATTR_LEVEL] = policy(NLA_U8);
        p[KIS_PARAM_ATTR_ARMED] = policy(NLA_U8);
        return p;
    }();
    return p;
}

const Policy<KIS_CONN_ATTR_MAX + 1> &conn_policy() {
    static const Policy<KIS_CONN_ATTR_MAX + 1> p = [] {
        Policy<KIS_CONN_ATTR_MAX + 1> p{};
        p[KIS_CONN_ATTR_CELL] = policy(NLA_STRING, KIS_CELL_NAME_MAX);
        p[KIS_CONN_ATTR_PEER] = policy(NLA_UNSPEC, sizeof(kis_peer));
        p[KIS_CONN_ATTR_PID] = policy(NLA_U32);
        p[KIS_CONN_ATTR_TGID] = policy(NLA_U32);
        p[KIS_CONN_ATTR_RX_BYTES] = policy(NLA_U64);
        p[KIS_CONN_ATTR_TX_BYTES] = policy(NLA_U64);
        p[KIS_CONN_ATTR_LEVEL] = policy(NLA_U8);
        return p;
    }();
    return p;
}

const Policy<KIS_TASK_ATTR_MAX + 1> &task_policy() {
    static const Policy<KIS_TASK_ATTR_MAX + 1> p = [] {
        Policy<KIS_TASK_ATTR_MAX + 1> p{};
        p[KIS_TASK_ATTR_CELL] = policy(NLA_STRING, KIS_CELL_NAME_MAX);
        p[KIS_TASK_ATTR_PID] = policy(NLA_U32);
        p[KIS_TASK_ATTR_TGID] = policy(NLA_U32);
        p[KIS_TASK_ATTR_COMM] = policy(NLA_STRING, KIS_COMM_MAX);
        p[KIS_TASK_ATTR_SYSCALLS] = policy(NLA_U64);
        p[KIS_TASK_ATTR_SCORE] = policy(NLA_U32);
        p[KIS_TASK_ATTR_MAX_SCORE] = policy(NLA_U32);
        return p;
    }();
    return p;
}

const Policy<KIS_EVENT_ATTR_MAX + 1> &event_policy() {
    static const Policy<KIS_EVENT_ATTR_MAX + 1> p = [] {
        Policy<KIS_EVENT_ATTR_MAX + 1> p{};
        p[KIS_EVENT_ATTR_SEQ] = policy(NLA_U64);
        p[KIS_EVENT_ATTR_LOST] = policy(NLA_U64);
        p[KIS_EVENT_ATTR_TIME_NS] = policy(NLA_U64);
        p[KIS_EVENT_ATTR_CELL] = policy(NLA_STRING, KIS_CELL_NAME_MAX);
        p[KIS_EVENT_ATTR_PID] = policy(NLA_U32);
        p[KIS_EVENT_ATTR_TGID] = policy(NLA_U32);
        p[KIS_EVENT_ATTR_COMM] = policy(NLA_STRING, KIS_COMM_MAX);
        p[KIS_EVENT_ATTR_SCORE] = policy(NLA_U32);
        p[KIS_EVENT_ATTR_THRESHOLD] = policy(NLA_U32);
        p[KIS_EVENT_ATTR_CALLS] = policy(NLA_UNSPEC);
        p[KIS_EVENT_ATTR_PARAM] = policy(NLA_U8);
        p[KIS_EVENT_ATTR_LEVEL] = policy(NLA_U8);
        p[KIS_EVENT_ATTR_VALUE] = policy(NLA_U64);
        p[KIS_EVENT_ATTR_MEAN] = policy(NLA_U64);
        p[KIS_EVENT_ATTR_DEV] = policy(NLA_U64);
        p[KIS_EVENT_ATTR_T1] = policy(NLA_U64);
        p[KIS_EVENT_ATTR_T2] = policy(NLA_U64);
        p[KIS_EVENT_ATTR_PEER] = policy(NLA_UNSPEC, sizeof(kis_peer)); // size checked too
        p[KIS_EVENT_ATTR_PATH] = policy(NLA_STRING, KIS_PATH_MAX);
        p[KIS_EVENT_ATTR_EXPECT] = policy(NLA_U64);
        p[KIS_EVENT_ATTR_TOLERANCE] = policy(NLA_U16);
        p[KIS_EVENT_ATTR_CELL_LEVEL] = policy(NLA_U8);
        return p;
    }();
    return p;
}

Error malformed(const std::string &what) {
    return make_error("the kis module sent a malformed " + what +
                      " reply; kisctl and the module do not agree on the protocol (use the "
                      "kisctl built with this module)");
}

using TopAttrs = std::array<nlattr *, KIS_ATTR_MAX + 1>;

Result<TopAttrs> parse_top(const nlmsghdr *hdr, const std::string &what) {
    TopAttrs tb{};
    if (genlmsg_parse(const_cast<nlmsghdr *>(hdr), 0, tb.data(), KIS_ATTR_MAX,
                      top_policy().data()) < 0)
        return malformed(what);
    return tb;
}

using CellAttrs = std::array<nlattr *, KIS_CELL_ATTR_MAX + 1>;

// One KIS_CELL_ATTR_PARAM nest of a dump; nothing if it is malformed.
std::optional<ParamInfo> parse_param(nlattr *nest) {
    std::array<nlattr *, KIS_PARAM_ATTR_MAX + 1> a{};
    if (nla_parse_nested(a.data(), KIS_PARAM_ATTR_MAX, nest, param_policy().data()) < 0 ||
        !a[KIS_PARAM_ATTR_ID] || nla_get_u8(a[KIS_PARAM_ATTR_ID]) >= KIS_PARAM_COUNT)
        return std::nullopt;
    ParamInfo p;
    p.id = get_u8(a[KIS_PARAM_ATTR_ID]);
    p.mult1 = get_u16(a[KIS_PARAM_ATTR_MULT1]);
    p.mult2 = get_u16(a[KIS_PARAM_ATTR_MULT2]);
    p.floor = get_u64(a[KIS_PARAM_ATTR_FLOOR]);
    if (a[KIS_PARAM_ATTR_EXPECT])
        p.expect = get_u64(a[KIS_PARAM_ATTR_EXPECT]);
    p.tolerance = get_u16(a[KIS_PARAM_ATTR_TOLERANCE]);
    p.samples = get_u64(a[KIS_PARAM_ATTR_SAMPLES]);
    p.mean = get_u64(a[KIS_PARAM_ATTR_MEAN]);
    p.dev = get_u64(a[KIS_PARAM_ATTR_DEV]);
    p.t1 = a[KIS_PARAM_ATTR_T1] ? get_u64(a[KIS_PARAM_ATTR_T1]) : KIS_STAT_NEVER;
    p.t2 = a[KIS_PARAM_ATTR_T2] ? get_u64(a[KIS_PARAM_ATTR_T2]) : KIS_STAT_NEVER;
    p.value = get_u64(a[KIS_PARAM_ATTR_VALUE]);
    p.level = get_u8(a[KIS_PARAM_ATTR_LEVEL]);
    p.armed = get_u8(a[KIS_PARAM_ATTR_ARMED]) != 0;
    return p;
}

Result<CellInfo> parse_cell(const CellAttrs &a) {
    CellInfo c;
    c.name = get_string(a[KIS_CELL_ATTR_NAME]);
    c.program = get_string(a[KIS_CELL_ATTR_PROGRAM]);
    c.args = get_string(a[KIS_CELL_ATTR_ARGS]);
    c.follow_exec = a[KIS_CELL_ATTR_FOLLOW_EXEC] ? nla_get_u8(a[KIS_CELL_ATTR_FOLLOW_EXEC]) : true;
    c.max_tasks = get_u32(a[KIS_CELL_ATTR_MAX_TASKS]);
    c.tasks = get_u32(a[KIS_CELL_ATTR_TASKS]);
    c.joined = get_u64(a[KIS_CELL_ATTR_JOINED]);
    c.left = get_u64(a[KIS_CELL_ATTR_LEFT]);
    c.execs = get_u64(a[KIS_CELL_ATTR_EXECS]);
    c.over_limit = get_u64(a[KIS_CELL_ATTR_OVER_LIMIT]);
    c.syscalls = get_u64(a[KIS_CELL_ATTR_SYSCALLS]);
    c.id = get_u32(a[KIS_CELL_ATTR_ID]);
    c.seq_k = get_u8(a[KIS_CELL_ATTR_SEQ_K]);
    c.seq_window = get_u16(a[KIS_CELL_ATTR_SEQ_WINDOW]);
    c.seq_threshold = get_u16(a[KIS_CELL_ATTR_SEQ_THRESHOLD]);
    c.learn_prefixes = get_u32(a[KIS_CELL_ATTR_LEARN_PREFIXES]);
    c.learn_kgrams = get_u32(a[KIS_CELL_ATTR_LEARN_KGRAMS]);
    c.state = get_u32(a[KIS_CELL_ATTR_STATE]);
    c.learned = get_u64(a[KIS_CELL_ATTR_LEARNED]);
    c.learn_dropped = get_u64(a[KIS_CELL_ATTR_LEARN_DROPPED]);
    c.profile_kgrams = get_u32(a[KIS_CELL_ATTR_PROFILE_KGRAMS]);
    c.alerts = get_u64(a[KIS_CELL_ATTR_ALERTS]);
    c.trace_lost = get_u64(a[KIS_CELL_ATTR_TRACE_LOST]);
    c.seq_threshold2 = get_u16(a[KIS_CELL_ATTR_SEQ_THRESHOLD2]);
    c.stat_interval_ms = get_u32(a[KIS_CELL_ATTR_STAT_INTERVAL]);
    c.danger_hold1 = get_u16(a[KIS_CELL_ATTR_DANGER_HOLD1]);
    c.danger_hold2 = get_u16(a[KIS_CELL_ATTR_DANGER_HOLD2]);
    c.file_tree = get_u32(a[KIS_CELL_ATTR_FILE_TREE]);
    c.danger = get_u8(a[KIS_CELL_ATTR_DANGER]);
    c.danger_events = get_u64(a[KIS_CELL_ATTR_DANGER_EVENTS]);
    c.training = get_u64(a[KIS_CELL_ATTR_TRAINING]);
    c.stat_samples = get_u64(a[KIS_CELL_ATTR_STAT_SAMPLES]);
    c.files_learned = get_u32(a[KIS_CELL_ATTR_FILES_LEARNED]);
    c.connections = get_u32(a[KIS_CELL_ATTR_CONNECTIONS]);
    c.learn_left_ms = get_u32(a[KIS_CELL_ATTR_LEARN_LEFT_MS]);
    if (nlattr *params = a[KIS_CELL_ATTR_PARAMS]) {
        nlattr *one = nullptr;
        int rem = 0;
        nla_for_each_nested(one, params, rem) {
            if (nla_type(one) != KIS_CELL_ATTR_PARAM)
                continue;
            std::optional<ParamInfo> p = parse_param(one);
            if (!p)
                return malformed("cell");
            c.params.push_back(*p);
        }
        std::stable_sort(c.params.begin(), c.params.end(),
                         [](const ParamInfo &x, const ParamInfo &y) { return x.id < y.id; });
    }
    return c;
}

// Asks for a socket buffer of `bytes`: SO_*BUFFORCE needs CAP_NET_ADMIN and passes the
// sysctl limits (net.core.[rw]mem_max); plain SO_*BUF is capped by them. The kernel doubles
// the value for its bookkeeping.
void set_socket_buffer(int fd, int force_opt, int opt, std::size_t bytes) {
    int v = static_cast<int>(std::min<std::size_t>(bytes, 1u << 30));
    if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof v) != 0)
        (void)setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v);
}

} // namespace

std::string not_loaded_message() {
    return "the kis module is not loaded (no generic netlink family \"kis\"); load it first: "
           "insmod kis.ko or modprobe kis";
}

bool is_not_loaded(const Error &error) { return error.message == not_loaded_message(); }

std::string protocol_mismatch_message(std::uint32_t module_protocol) {
    return "protocol mismatch: module speaks version " + std::to_string(module_protocol) +
           ", kisctl speaks version " + std::to_string(KIS_GENL_VERSION) +
           "; use the kisctl built with this module";
}

namespace {

// A KIS_CELL_ATTR_PARAMS nest of PARAM nests: the ID and what was given, each.
bool put_params(nl_msg *m, const std::vector<ParamConfig> &params) {
    if (params.empty())
        return true;
    nlattr *all = nla_nest_start(m, KIS_CELL_ATTR_PARAMS | NLA_F_NESTED);
    if (!all)
        return false;
    for (const ParamConfig &p : params) {
        nlattr *one = nla_nest_start(m, KIS_CELL_ATTR_PARAM | NLA_F_NESTED);
        if (!one || nla_put_u8(m, KIS_PARAM_ATTR_ID, static_cast<std::uint8_t>(p.id)) < 0 ||
            (p.mult1 &&
             nla_put_u16(m, KIS_PARAM_ATTR_MULT1, static_cast<std::uint16_t>(*p.mult1)) < 0) ||
            (p.mult2 &&
             nla_put_u16(m, KIS_PARAM_ATTR_MULT2, static_cast<std::uint16_t>(*p.mult2)) < 0) ||
            (p.floor && nla_put_u64(m, KIS_PARAM_ATTR_FLOOR, *p.floor) < 0) ||
            (p.expect && nla_put_u64(m, KIS_PARAM_ATTR_EXPECT, *p.expect) < 0) ||
            (p.tolerance && nla_put_u16(m, KIS_PARAM_ATTR_TOLERANCE,
                                        static_cast<std::uint16_t>(*p.tolerance)) < 0) ||
            nla_nest_end(m, one) < 0)
            return false;
    }
    return nla_nest_end(m, all) >= 0;
}

} // namespace

bool put_cell_config(nl_msg *m, const CellConfig &c) {
    const SequenceConfig &q = c.sequence;
    const StatsConfig &s = c.stats;
    if (nla_put_string(m, KIS_CELL_ATTR_NAME, c.name.c_str()) < 0 ||
        nla_put_string(m, KIS_CELL_ATTR_PROGRAM, c.program.c_str()) < 0 ||
        nla_put_string(m, KIS_CELL_ATTR_ARGS, c.args.c_str()) < 0 ||
        nla_put_u8(m, KIS_CELL_ATTR_FOLLOW_EXEC, c.follow_exec ? 1 : 0) < 0 ||
        nla_put_u32(m, KIS_CELL_ATTR_MAX_TASKS, c.max_tasks) < 0 ||
        nla_put_u8(m, KIS_CELL_ATTR_SEQ_K, static_cast<std::uint8_t>(q.k)) < 0 ||
        nla_put_u16(m, KIS_CELL_ATTR_SEQ_WINDOW, static_cast<std::uint16_t>(q.window)) < 0 ||
        nla_put_u16(m, KIS_CELL_ATTR_SEQ_THRESHOLD, static_cast<std::uint16_t>(q.threshold)) < 0 ||
        nla_put_u16(m, KIS_CELL_ATTR_SEQ_THRESHOLD2, static_cast<std::uint16_t>(q.threshold2)) <
            0 ||
        nla_put_u32(m, KIS_CELL_ATTR_LEARN_PREFIXES, q.learn_prefixes) < 0 ||
        nla_put_u32(m, KIS_CELL_ATTR_LEARN_KGRAMS, q.learn_kgrams) < 0 ||
        nla_put_u32(m, KIS_CELL_ATTR_STAT_INTERVAL, s.interval_ms) < 0 ||
        nla_put_u16(m, KIS_CELL_ATTR_DANGER_HOLD1, static_cast<std::uint16_t>(s.hold1)) < 0 ||
        nla_put_u16(m, KIS_CELL_ATTR_DANGER_HOLD2, static_cast<std::uint16_t>(s.hold2)) < 0 ||
        nla_put_u32(m, KIS_CELL_ATTR_FILE_TREE, s.file_tree) < 0)
        return false;
    if (!s.files.empty()) {
        nlattr *globs = nla_nest_start(m, KIS_CELL_ATTR_FILE_GLOBS | NLA_F_NESTED);
        if (!globs)
            return false;
        for (const std::string &f : s.files)
            if (nla_put_string(m, KIS_CELL_ATTR_FILE_GLOB, f.c_str()) < 0)
                return false;
        if (nla_nest_end(m, globs) < 0)
            return false;
    }
    return put_params(m, s.params);
}

bool put_cell_settings(nl_msg *m, const CellSettings &s) {
    auto put16 = [&](int type, const std::optional<std::uint16_t> &v) {
        return !v || nla_put_u16(m, type, *v) >= 0;
    };
    return put16(KIS_CELL_ATTR_SEQ_WINDOW, s.window) &&
           put16(KIS_CELL_ATTR_SEQ_THRESHOLD, s.threshold) &&
           put16(KIS_CELL_ATTR_SEQ_THRESHOLD2, s.threshold2) &&
           put16(KIS_CELL_ATTR_DANGER_HOLD1, s.hold1) &&
           put16(KIS_CELL_ATTR_DANGER_HOLD2, s.hold2) && put_params(m, s.params);
}

Result<CellInfo> parse_cell_info(const nlattr *nest) {
    CellAttrs a{};
    if (nla_parse_nested(a.data(), KIS_CELL_ATTR_MAX, const_cast<nlattr *>(nest),
                         cell_policy().data()) < 0 ||
        !a[KIS_CELL_ATTR_NAME])
        return malformed("cell");
    return parse_cell(a);
}

Result<Module> Module::connect() {
    nl::SocketPtr sock(nl_socket_alloc());
    if (!sock)
        return make_error("cannot allocate a netlink socket: out of memory");
    if (int err = genl_connect(sock.get()); err < 0)
        return libnl_error("cannot open a generic netlink socket", err);

    int fd = nl_socket_get_fd(sock.get());
    // Extended ACK: the module explains refusals. libnl 3.7 has no helper for it. Old kernels
    // without it still work, with plain errno messages.
    int one = 1;
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    // An error ACK echoes only the request's header, not a profile of megabytes.
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    // Never hang forever if the module does not answer.
    timeval tv{};
    tv.tv_sec = kReceiveTimeoutSeconds;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // Size the receive buffer to each message (error ACKs echo the whole request).
    nl_socket_enable_msg_peek(sock.get());

    int family = genl_ctrl_resolve(sock.get(), KIS_GENL_NAME);
    if (family == -NLE_OBJ_NOTFOUND)
        return make_error(not_loaded_message());
    if (family < 0)
        return libnl_error("cannot look up the generic netlink family \"kis\"", family);
    return Module(std::move(sock), family);
}

Result<std::pair<Module, ModuleInfo>> Module::connect_checked() {
    Result<Module> module = connect();
    if (!module)
        return module.error();
    Result<ModuleInfo> info = module->version();
    if (!info)
        return info.error();
    if (info->protocol != KIS_GENL_VERSION)
        return make_error(protocol_mismatch_message(info->protocol));
    return std::pair<Module, ModuleInfo>(std::move(module).value(), std::move(info).value());
}

Result<nl::MsgPtr> Module::new_request(std::uint8_t cmd, int flags, std::size_t size) {
    nl::MsgPtr msg(size ? nlmsg_alloc_size(size) : nlmsg_alloc());
    if (!msg)
        return make_error("cannot allocate a netlink message: out of memory");
    if (!genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family_, 0, flags, cmd,
                     KIS_GENL_VERSION))
        return make_error("cannot build a netlink message: out of memory");
    return msg;
}

Result<void> Module::transact(nl_msg *request, const ReplyHandler &on_reply) {
    nl::CbPtr cb(nl_cb_alloc(NL_CB_DEFAULT));
    if (!cb)
        return make_error("cannot allocate netlink callbacks: out of memory");
    Exchange x;
    x.on_reply = &on_reply;
    nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_valid, &x);
    nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_ack, &x);
    nl_cb_set(cb.get(), NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &x);
    nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &x);

    // nl_send_auto completes the header with NLM_F_REQUEST | NLM_F_ACK, our port and the
    // next sequence number.
    if (int err = nl_send_auto(sock_.get(), request); err < 0)
        return libnl_error("cannot send a request to the kis module", err);

    while (!x.done) {
        int err = nl_recvmsgs(sock_.get(), cb.get());
        if (x.kernel_errno)
            break;
        if (err == -NLE_AGAIN)
            return make_error("the kis module did not answer within " +
                              std::to_string(kReceiveTimeoutSeconds) + " seconds");
        if (err < 0)
            return libnl_error("cannot receive the kis module's answer", err);
    }
    if (x.kernel_errno)
        return kernel_error(x.kernel_errno, std::move(x.extack), x.bad_attr_offset);
    if (x.reply_error)
        return *x.reply_error;
    return {};
}

Result<ModuleInfo> Module::version() {
    auto msg = new_request(KIS_CMD_VERSION, 0);
    if (!msg)
        return msg.error();
    ModuleInfo info;
    bool got_reply = false;
    Result<void> r = transact(msg->get(), [&](nlmsghdr *hdr) -> Result<void> {
        auto tb = parse_top(hdr, "version");
        if (!tb)
            return tb.error();
        if (!(*tb)[KIS_ATTR_PROTO_VERSION])
            return malformed("version");
        info.protocol = nla_get_u32((*tb)[KIS_ATTR_PROTO_VERSION]);
        info.module_version = get_string((*tb)[KIS_ATTR_MODULE_VERSION]);
        info.tasks_watched = get_u32((*tb)[KIS_ATTR_TASKS_WATCHED]);
        info.events_lost = get_u64((*tb)[KIS_ATTR_EVENTS_LOST]);
        got_reply = true;
        return {};
    });
    if (!r)
        return r.error();
    if (!got_reply)
        return make_error("the kis module acknowledged the version request without answering "
                          "it; use the kisctl built with this module");
    return info;
}

Result<void> Module::load_cells(const std::vector<CellConfig> &cells) {
    // Room for every attribute at its largest, plus headers.
    std::size_t size = 4096;
    for (const CellConfig &c : cells) {
        size += 384 + c.name.size() + c.program.size() + c.args.size();
        for (const std::string &f : c.stats.files)
            size += 8 + f.size();
        size += 64 * c.stats.params.size();
    }
    auto msg = new_request(KIS_CMD_CELL_LOAD, 0, size);
    if (!msg)
        return msg.error();
    nl_msg *m = msg->get();

    auto too_big = make_error("cannot build the load request: the cells do not fit in one "
                              "netlink message; load fewer cells at a time");
    nlattr *all = nla_nest_start(m, KIS_ATTR_CELLS | NLA_F_NESTED);
    if (!all)
        return too_big;
    // Where each cell starts in the request, to name the cell the module blames.
    std::vector<long> starts;
    for (const CellConfig &c : cells) {
        nlattr *one = nla_nest_start(m, KIS_ATTR_CELL | NLA_F_NESTED);
        if (!one)
            return too_big;
        starts.push_back(reinterpret_cast<char *>(one) - reinterpret_cast<char *>(nlmsg_hdr(m)));
        if (!put_cell_config(m, c) || nla_nest_end(m, one) < 0)
            return too_big;
    }
    // A nest's length is 16 bits: all cells must fit in 64 KiB.
    if (nla_nest_end(m, all) < 0)
        return too_big;
    if (Result<void> r = reserve_send_buffer(nlmsg_hdr(m)->nlmsg_len); !r)
        return r;
    Result<void> r = transact(m, nullptr);
    if (r || r.error().bad_attr_offset < 0)
        return r;
    Error e = r.error();
    for (std::size_t i = starts.size(); i-- > 0;) {
        if (starts[i] <= e.bad_attr_offset) {
            const CellConfig &c = cells[i];
            e.message = "cell \"" + c.name + "\" (" + c.file + ":" + std::to_string(c.line) +
                        "): " + e.message;
            break;
        }
    }
    return e;
}

Result<void> Module::unload_cell(const std::string &name) {
    auto msg = new_request(KIS_CMD_CELL_UNLOAD, 0);
    if (!msg)
        return msg.error();
    if (nla_put_string(msg->get(), KIS_ATTR_CELL_NAME, name.c_str()) < 0)
        return make_error("cannot build the unload request: out of memory");
    return transact(msg->get(), nullptr);
}

Result<std::vector<CellInfo>> Module::cells() {
    auto msg = new_request(KIS_CMD_CELL_GET, NLM_F_DUMP);
    if (!msg)
        return msg.error();
    std::vector<CellInfo> cells;
    Result<void> r = transact(msg->get(), [&](nlmsghdr *hdr) -> Result<void> {
        auto tb = parse_top(hdr, "cell");
        if (!tb)
            return tb.error();
        if (!(*tb)[KIS_ATTR_CELL])
            return malformed("cell");
        Result<CellInfo> c = parse_cell_info((*tb)[KIS_ATTR_CELL]);
        if (!c)
            return c.error();
        cells.push_back(std::move(c).value());
        return {};
    });
    if (!r)
        return r.error();
    return cells;
}

Result<std::vector<TaskInfo>> Module::tasks() {
    auto msg = new_request(KIS_CMD_TASK_GET, NLM_F_DUMP);
    if (!msg)
        return msg.error();
    std::vector<TaskInfo> tasks;
    Result<void> r = transact(msg->get(), [&](nlmsghdr *hdr) -> Result<void> {
        auto tb = parse_top(hdr, "task");
        if (!tb)
            return tb.error();
        std::array<nlattr *, KIS_TASK_ATTR_MAX + 1> a{};
        if (!(*tb)[KIS_ATTR_TASK] ||
            nla_parse_nested(a.data(), KIS_TASK_ATTR_MAX, (*tb)[KIS_ATTR_TASK],
                             task_policy().data()) < 0 ||
            !a[KIS_TASK_ATTR_CELL] || !a[KIS_TASK_ATTR_PID])
            return malformed("task");
        TaskInfo t;
        t.cell = get_string(a[KIS_TASK_ATTR_CELL]);
        t.pid = get_u32(a[KIS_TASK_ATTR_PID]);
        t.tgid = a[KIS_TASK_ATTR_TGID] ? get_u32(a[KIS_TASK_ATTR_TGID]) : t.pid;
        t.comm = get_string(a[KIS_TASK_ATTR_COMM]);
        t.syscalls = get_u64(a[KIS_TASK_ATTR_SYSCALLS]);
        t.score = get_u32(a[KIS_TASK_ATTR_SCORE]);
        t.max_score = get_u32(a[KIS_TASK_ATTR_MAX_SCORE]);
        tasks.push_back(std::move(t));
        return {};
    });
    if (!r)
        return r.error();
    return tasks;
}

Result<std::vector<ConnInfo>> Module::connections() {
    auto msg = new_request(KIS_CMD_CONN_GET, NLM_F_DUMP);
    if (!msg)
        return msg.error();
    std::vector<ConnInfo> conns;
    Result<void> r = transact(msg->get(), [&](nlmsghdr *hdr) -> Result<void> {
        auto tb = parse_top(hdr, "connection");
        if (!tb)
            return tb.error();
        std::array<nlattr *, KIS_CONN_ATTR_MAX + 1> a{};
        if (!(*tb)[KIS_ATTR_CONN] ||
            nla_parse_nested(a.data(), KIS_CONN_ATTR_MAX, (*tb)[KIS_ATTR_CONN],
                             conn_policy().data()) < 0 ||
            !a[KIS_CONN_ATTR_CELL] || !a[KIS_CONN_ATTR_PEER] ||
            nla_len(a[KIS_CONN_ATTR_PEER]) != sizeof(kis_peer))
            return malformed("connection");
        ConnInfo c;
        c.cell = get_string(a[KIS_CONN_ATTR_CELL]);
        std::memcpy(&c.peer, nla_data(a[KIS_CONN_ATTR_PEER]), sizeof(kis_peer));
        c.pid = get_u32(a[KIS_CONN_ATTR_PID]);
        c.tgid = get_u32(a[KIS_CONN_ATTR_TGID]);
        c.rx_bytes = get_u64(a[KIS_CONN_ATTR_RX_BYTES]);
        c.tx_bytes = get_u64(a[KIS_CONN_ATTR_TX_BYTES]);
        c.level = std::min<std::uint32_t>(get_u8(a[KIS_CONN_ATTR_LEVEL]), KIS_DANGER_2);
        conns.push_back(std::move(c));
        return {};
    });
    if (!r)
        return r.error();
    return conns;
}

std::string cell_state_text(std::uint32_t state) {
    std::string out;
    auto add = [&](std::uint32_t bit, const char *word) {
        if (state & bit)
            out += (out.empty() ? "" : "+") + std::string(word);
    };
    add(KIS_CELL_LEARNING, "learning");
    add(KIS_CELL_ARMED, "armed");
    add(KIS_CELL_TRACING, "tracing");
    return out.empty() ? "idle" : out;
}

Result<CellInfo> Module::cell(const std::string &name) {
    auto cells = this->cells();
    if (!cells)
        return cells.error();
    for (CellInfo &c : *cells)
        if (c.name == name)
            return std::move(c);
    return Error{"no cell named \"" + name + "\" is loaded (kisctl status lists the loaded cells)",
                 ENOENT,
                 {},
                 -1};
}

Result<void> Module::cell_command(std::uint8_t cmd, const std::string &name) {
    auto msg = new_request(cmd, 0);
    if (!msg)
        return msg.error();
    if (nla_put_string(msg->get(), KIS_ATTR_CELL_NAME, name.c_str()) < 0)
        return make_error("cannot build the request: out of memory");
    return transact(msg->get(), nullptr);
}

Result<void> Module::set_cell(const std::string &name, const CellSettings &settings) {
    auto msg = new_request(KIS_CMD_CELL_SET, 0);
    if (!msg)
        return msg.error();
    nl_msg *m = msg->get();
    if (nla_put_string(m, KIS_ATTR_CELL_NAME, name.c_str()) < 0)
        return make_error("cannot build the request: out of memory");
    nlattr *nest = nla_nest_start(m, KIS_ATTR_CELL | NLA_F_NESTED);
    if (!nest || !put_cell_settings(m, settings) || nla_nest_end(m, nest) < 0)
        return make_error("cannot build the request: out of memory");
    return transact(m, nullptr);
}

Result<void> Module::learn_start(const std::string &name, std::uint32_t for_ms) {
    auto msg = new_request(KIS_CMD_LEARN_START, 0);
    if (!msg)
        return msg.error();
    if (nla_put_string(msg->get(), KIS_ATTR_CELL_NAME, name.c_str()) < 0 ||
        (for_ms && nla_put_u32(msg->get(), KIS_ATTR_LEARN_FOR_MS, for_ms) < 0))
        return make_error("cannot build the request: out of memory");
    return transact(msg->get(), nullptr);
}

Result<void> Module::learn_stop(const std::string &name) {
    return cell_command(KIS_CMD_LEARN_STOP, name);
}

Result<void> Module::profile_unload(const std::string &name) {
    return cell_command(KIS_CMD_PROFILE_UNLOAD, name);
}

Result<void> Module::trace_start(const std::string &name) {
    return cell_command(KIS_CMD_TRACE_START, name);
}

Result<void> Module::trace_stop(const std::string &name) {
    return cell_command(KIS_CMD_TRACE_STOP, name);
}

Result<std::vector<std::uint8_t>> Module::profile_get(const std::string &name,
                                                      kis_profile_source source) {
    // Far above anything a model of KIS_LEARN_CAP_MAX entries needs; a bound on what a
    // confused reply can make kisctl allocate.
    constexpr std::uint64_t kSizeLimit = std::uint64_t{1} << 30;
    auto msg = new_request(KIS_CMD_PROFILE_GET, NLM_F_DUMP);
    if (!msg)
        return msg.error();
    if (nla_put_string(msg->get(), KIS_ATTR_CELL_NAME, name.c_str()) < 0 ||
        nla_put_u8(msg->get(), KIS_ATTR_PROFILE_SOURCE, static_cast<std::uint8_t>(source)) < 0)
        return make_error("cannot build the request: out of memory");
    std::vector<std::uint8_t> blob;
    std::optional<std::uint32_t> size;
    Result<void> r = transact(msg->get(), [&](nlmsghdr *hdr) -> Result<void> {
        auto tb = parse_top(hdr, "profile");
        if (!tb)
            return tb.error();
        nlattr *sz = (*tb)[KIS_ATTR_PROFILE_SIZE];
        nlattr *chunk = (*tb)[KIS_ATTR_PROFILE_CHUNK];
        if (!sz || !chunk)
            return malformed("profile");
        std::uint32_t total = nla_get_u32(sz);
        if (!size) {
            if (total > kSizeLimit)
                return malformed("profile");
            size = total;
            blob.reserve(total);
        } else if (*size != total) {
            return malformed("profile");
        }
        auto len = static_cast<std::size_t>(nla_len(chunk));
        if (blob.size() + len > *size)
            return malformed("profile");
        const auto *data = static_cast<const std::uint8_t *>(nla_data(chunk));
        blob.insert(blob.end(), data, data + len);
        return {};
    });
    if (!r)
        return r.error();
    if (!size)
        return make_error("the kis module sent no profile for cell \"" + name + "\"");
    if (blob.size() != *size)
        return make_error("the kis module sent " + std::to_string(blob.size()) + " of the " +
                          std::to_string(*size) + " bytes of the profile of cell \"" + name +
                          "\"; try again");
    return blob;
}

Result<void> Module::reserve_send_buffer(std::size_t bytes) {
    int fd = nl_socket_get_fd(sock_.get());
    // netlink refuses a message longer than the send buffer minus 32 bytes.
    std::size_t need = bytes + 64;
    if (sndbuf_ == 0) {
        int v = 0;
        socklen_t len = sizeof v;
        if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len) == 0 && v > 0)
            sndbuf_ = static_cast<std::size_t>(v);
    }
    if (sndbuf_ >= need)
        return {};
    set_socket_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, need);
    int v = 0;
    socklen_t len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len) == 0 && v > 0)
        sndbuf_ = static_cast<std::size_t>(v);
    if (sndbuf_ < need)
        return make_error("cannot send a request of " + std::to_string(bytes) +
                          " bytes: the socket's send buffer is limited to " +
                          std::to_string(sndbuf_) +
                          " bytes (net.core.wmem_max); run kisctl as root (CAP_NET_ADMIN lifts "
                          "the limit) or raise net.core.wmem_max");
    return {};
}

Result<void> Module::profile_load(const std::string &name, std::span<const std::uint8_t> blob) {
    if (blob.empty())
        return make_error("the profile is empty");
    if (blob.size() > KIS_PROFILE_SIZE_MAX)
        return make_error("the profile is " + std::to_string(blob.size()) +
                          " bytes; the module takes at most " +
                          std::to_string(KIS_PROFILE_SIZE_MAX) + " (KIS_PROFILE_SIZE_MAX)");
    std::size_t chunks = (blob.size() + KIS_PROFILE_CHUNK_MAX - 1) / KIS_PROFILE_CHUNK_MAX;
    std::size_t size = 4096 + blob.size() + chunks * (NLA_HDRLEN + NLA_ALIGNTO);
    auto msg = new_request(KIS_CMD_PROFILE_LOAD, 0, size);
    if (!msg)
        return msg.error();
    nl_msg *m = msg->get();
    auto oom = make_error("cannot build the profile request: out of memory");
    if (nla_put_string(m, KIS_ATTR_CELL_NAME, name.c_str()) < 0)
        return oom;
    // Chunks at the top level, in order: a nest's 16-bit length would cap the profile at
    // 64 KiB, the message's own length does not.
    for (std::size_t off = 0; off < blob.size(); off += KIS_PROFILE_CHUNK_MAX) {
        std::size_t n = std::min<std::size_t>(KIS_PROFILE_CHUNK_MAX, blob.size() - off);
        if (nla_put(m, KIS_ATTR_PROFILE_CHUNK, static_cast<int>(n), blob.data() + off) < 0)
            return oom;
    }
    if (Result<void> r = reserve_send_buffer(nlmsg_hdr(m)->nlmsg_len); !r)
        return r;
    return transact(m, nullptr);
}

// ---- events ----------------------------------------------------------------------------------

Result<Alert> parse_alert(const nlmsghdr *hdr) {
    auto tb = parse_top(hdr, "alert");
    if (!tb)
        return tb.error();
    std::array<nlattr *, KIS_EVENT_ATTR_MAX + 1> a{};
    if (!(*tb)[KIS_ATTR_EVENT] ||
        nla_parse_nested(a.data(), KIS_EVENT_ATTR_MAX, (*tb)[KIS_ATTR_EVENT],
                         event_policy().data()) < 0 ||
        !a[KIS_EVENT_ATTR_SEQ] || !a[KIS_EVENT_ATTR_CELL] || !a[KIS_EVENT_ATTR_PID])
        return malformed("alert");
    Alert e;
    e.seq = get_u64(a[KIS_EVENT_ATTR_SEQ]);
    e.lost = get_u64(a[KIS_EVENT_ATTR_LOST]);
    e.time_ns = get_u64(a[KIS_EVENT_ATTR_TIME_NS]);
    e.cell = get_string(a[KIS_EVENT_ATTR_CELL]);
    e.pid = get_u32(a[KIS_EVENT_ATTR_PID]);
    e.tgid = a[KIS_EVENT_ATTR_TGID] ? get_u32(a[KIS_EVENT_ATTR_TGID]) : e.pid;
    e.comm = get_string(a[KIS_EVENT_ATTR_COMM]);
    e.score = get_u32(a[KIS_EVENT_ATTR_SCORE]);
    e.threshold = get_u32(a[KIS_EVENT_ATTR_THRESHOLD]);
    if (nlattr *calls = a[KIS_EVENT_ATTR_CALLS]) {
        auto len = static_cast<std::size_t>(nla_len(calls));
        if (len % sizeof(std::uint16_t))
            return malformed("alert");
        e.calls.resize(len / sizeof(std::uint16_t));
        std::memcpy(e.calls.data(), nla_data(calls), len);
    }
    return e;
}

Result<TraceBatch> parse_trace(const nlmsghdr *hdr) {
    auto tb = parse_top(hdr, "trace");
    if (!tb)
        return tb.error();
    nlattr *records = (*tb)[KIS_ATTR_TRACE_RECORDS];
    if (!(*tb)[KIS_ATTR_TRACE_SEQ] || !records ||
        nla_len(records) % static_cast<int>(sizeof(kis_trace_record)))
        return malformed("trace");
    TraceBatch b;
    b.seq = get_u64((*tb)[KIS_ATTR_TRACE_SEQ]);
    b.lost = get_u64((*tb)[KIS_ATTR_TRACE_LOST]);
    b.records.resize(static_cast<std::size_t>(nla_len(records)) / sizeof(kis_trace_record));
    std::memcpy(b.records.data(), nla_data(records), b.records.size() * sizeof(kis_trace_record));
    return b;
}

Result<Subscription> Subscription::open(bool events, bool trace, std::size_t rcvbuf) {
    nl::SocketPtr sock(nl_socket_alloc());
    if (!sock)
        return make_error("cannot allocate a netlink socket: out of memory");
    if (int err = genl_connect(sock.get()); err < 0)
        return libnl_error("cannot open a generic netlink socket", err);
    int family = genl_ctrl_resolve(sock.get(), KIS_GENL_NAME);
    if (family == -NLE_OBJ_NOTFOUND)
        return make_error(not_loaded_message());
    if (family < 0)
        return libnl_error("cannot look up the generic netlink family \"kis\"", family);
    for (auto [want, group] :
         {std::pair{events, KIS_GENL_MCGRP_EVENTS}, std::pair{trace, KIS_GENL_MCGRP_TRACE}}) {
        if (!want)
            continue;
        int id = genl_ctrl_resolve_grp(sock.get(), KIS_GENL_NAME, group);
        if (id < 0)
            return make_error(std::string("the kis module has no multicast group \"") + group +
                              "\"; use the kisctl built with this module");
        if (int err = nl_socket_add_membership(sock.get(), id); err < 0)
            return libnl_error(std::string("cannot join the multicast group \"") + group + "\"",
                               err);
    }
    // Events carry no sequence numbers of ours.
    nl_socket_disable_seq_check(sock.get());
    int fd = nl_socket_get_fd(sock.get());
    set_socket_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf);
    if (int err = nl_socket_set_nonblocking(sock.get()); err < 0)
        return libnl_error("cannot make the netlink socket non-blocking", err);
    Subscription s(std::move(sock), family);
    s.buf_.resize((128 * 1024) / sizeof(std::uint64_t));
    return s;
}

int Subscription::fd() const { return nl_socket_get_fd(sock_.get()); }

Result<void> Subscription::dispatch(const nlmsghdr *hdr, const Handlers &handlers) {
    if (hdr->nlmsg_type != family_ || hdr->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
        return {};
    const auto *g = static_cast<const genlmsghdr *>(NLMSG_DATA(hdr));
    if (g->cmd == KIS_CMD_ALERT && handlers.on_alert) {
        Result<Alert> a = parse_alert(hdr);
        if (!a)
            return a.error();
        handlers.on_alert(*a);
    } else if (g->cmd == KIS_CMD_DANGER && handlers.on_danger) {
        Result<DangerEvent> d = parse_danger(hdr);
        if (!d)
            return d.error();
        handlers.on_danger(*d);
    } else if (g->cmd == KIS_CMD_TRAINING && handlers.on_training) {
        Result<TrainingEvent> t = parse_training(hdr);
        if (!t)
            return t.error();
        handlers.on_training(*t);
    } else if (g->cmd == KIS_CMD_TRACE && handlers.on_trace) {
        Result<TraceBatch> b = parse_trace(hdr);
        if (!b)
            return b.error();
        handlers.on_trace(*b);
    }
    return {};
}

Result<std::size_t> Subscription::receive(const Handlers &handlers, std::size_t max) {
    std::size_t count = 0;
    int fd = this->fd();
    auto overrun = [&] {
        overruns_++;
        if (handlers.on_overrun)
            handlers.on_overrun();
    };
    while (count < max) {
        sockaddr_nl from{};
        iovec iov{buf_.data(), buf_.size() * sizeof(std::uint64_t)};
        msghdr mh{};
        mh.msg_name = &from;
        mh.msg_namelen = sizeof from;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return count;
            if (errno == ENOBUFS) { // the kernel dropped messages: the buffer was full
                overrun();
                continue;
            }
            return make_error(std::string("cannot receive from the kis module: ") +
                              std::strerror(errno));
        }
        if (n == 0)
            return count;
        if (mh.msg_flags & MSG_TRUNC) {
            overrun();
            continue;
        }
        if (from.nl_pid != 0) // only the kernel speaks for the module
            continue;
        count++;
        auto len = static_cast<int>(n);
        for (auto *hdr = reinterpret_cast<const nlmsghdr *>(buf_.data()); NLMSG_OK(hdr, len);
             hdr = NLMSG_NEXT(hdr, len)) {
            if (Result<void> r = dispatch(hdr, handlers); !r)
                return r.error();
        }
    }
    return count;
}

// ---- danger and training events, statistics ------------------------------------------------

namespace {

using EventAttrs = std::array<nlattr *, KIS_EVENT_ATTR_MAX + 1>;

Result<EventAttrs> parse_event_nest(const nlmsghdr *hdr, const std::string &what) {
    auto tb = parse_top(hdr, what);
    if (!tb)
        return tb.error();
    EventAttrs a{};
    if (!(*tb)[KIS_ATTR_EVENT] ||
        nla_parse_nested(a.data(), KIS_EVENT_ATTR_MAX, (*tb)[KIS_ATTR_EVENT],
                         event_policy().data()) < 0)
        return malformed(what);
    return a;
}

} // namespace

Result<DangerEvent> parse_danger(const nlmsghdr *hdr) {
    auto a = parse_event_nest(hdr, "danger event");
    if (!a)
        return a.error();
    const EventAttrs &e = *a;
    if (!e[KIS_EVENT_ATTR_SEQ] || !e[KIS_EVENT_ATTR_CELL] || !e[KIS_EVENT_ATTR_PARAM] ||
        !e[KIS_EVENT_ATTR_LEVEL] || get_u8(e[KIS_EVENT_ATTR_PARAM]) >= KIS_PARAM_COUNT ||
        get_u8(e[KIS_EVENT_ATTR_LEVEL]) > KIS_DANGER_2 ||
        get_u8(e[KIS_EVENT_ATTR_CELL_LEVEL]) > KIS_DANGER_2)
        return malformed("danger event");
    DangerEvent d;
    d.seq = get_u64(e[KIS_EVENT_ATTR_SEQ]);
    d.lost = get_u64(e[KIS_EVENT_ATTR_LOST]);
    d.time_ns = get_u64(e[KIS_EVENT_ATTR_TIME_NS]);
    d.cell = get_string(e[KIS_EVENT_ATTR_CELL]);
    d.pid = get_u32(e[KIS_EVENT_ATTR_PID]);
    d.tgid = e[KIS_EVENT_ATTR_TGID] ? get_u32(e[KIS_EVENT_ATTR_TGID]) : d.pid;
    d.comm = get_string(e[KIS_EVENT_ATTR_COMM]);
    d.param = get_u8(e[KIS_EVENT_ATTR_PARAM]);
    d.level = get_u8(e[KIS_EVENT_ATTR_LEVEL]);
    d.cell_level = e[KIS_EVENT_ATTR_CELL_LEVEL] ? get_u8(e[KIS_EVENT_ATTR_CELL_LEVEL]) : d.level;
    d.value = get_u64(e[KIS_EVENT_ATTR_VALUE]);
    d.mean = get_u64(e[KIS_EVENT_ATTR_MEAN]);
    d.dev = get_u64(e[KIS_EVENT_ATTR_DEV]);
    d.t1 = e[KIS_EVENT_ATTR_T1] ? get_u64(e[KIS_EVENT_ATTR_T1]) : ~std::uint64_t{0};
    d.t2 = e[KIS_EVENT_ATTR_T2] ? get_u64(e[KIS_EVENT_ATTR_T2]) : ~std::uint64_t{0};
    if (nlattr *peer = e[KIS_EVENT_ATTR_PEER]) {
        if (nla_len(peer) != static_cast<int>(sizeof(kis_peer)))
            return malformed("danger event");
        kis_peer p{};
        std::memcpy(&p, nla_data(peer), sizeof p);
        d.peer = p;
    }
    d.path = get_string(e[KIS_EVENT_ATTR_PATH]);
    return d;
}

Result<TrainingEvent> parse_training(const nlmsghdr *hdr) {
    auto a = parse_event_nest(hdr, "training event");
    if (!a)
        return a.error();
    const EventAttrs &e = *a;
    if (!e[KIS_EVENT_ATTR_SEQ] || !e[KIS_EVENT_ATTR_CELL] ||
        (!e[KIS_EVENT_ATTR_PARAM] && !e[KIS_EVENT_ATTR_PATH]) ||
        (e[KIS_EVENT_ATTR_PARAM] && get_u8(e[KIS_EVENT_ATTR_PARAM]) >= KIS_PARAM_COUNT))
        return malformed("training event");
    TrainingEvent t;
    t.seq = get_u64(e[KIS_EVENT_ATTR_SEQ]);
    t.lost = get_u64(e[KIS_EVENT_ATTR_LOST]);
    t.time_ns = get_u64(e[KIS_EVENT_ATTR_TIME_NS]);
    t.cell = get_string(e[KIS_EVENT_ATTR_CELL]);
    if (e[KIS_EVENT_ATTR_PARAM])
        t.param = get_u8(e[KIS_EVENT_ATTR_PARAM]);
    if (e[KIS_EVENT_ATTR_VALUE])
        t.value = get_u64(e[KIS_EVENT_ATTR_VALUE]);
    if (e[KIS_EVENT_ATTR_EXPECT])
        t.expect = get_u64(e[KIS_EVENT_ATTR_EXPECT]);
    if (e[KIS_EVENT_ATTR_TOLERANCE])
        t.tolerance = get_u16(e[KIS_EVENT_ATTR_TOLERANCE]);
    t.path = get_string(e[KIS_EVENT_ATTR_PATH]);
    return t;
}

std::string peer_text(const kis_peer &peer) {
    char addr[INET6_ADDRSTRLEN] = "";
    std::string port = ":" + std::to_string(peer.peer_port);
    if (peer.family == AF_INET && inet_ntop(AF_INET, peer.peer_addr, addr, sizeof addr))
        return addr + port;
    if (peer.family == AF_INET6 && inet_ntop(AF_INET6, peer.peer_addr, addr, sizeof addr))
        return "[" + std::string(addr) + "]" + port;
    return "family" + std::to_string(peer.family) + port;
}

Result<std::vector<std::uint8_t>> Module::stats_get(const std::string &name,
                                                    kis_profile_source source) {
    auto msg = new_request(KIS_CMD_STATS_GET, 0);
    if (!msg)
        return msg.error();
    if (nla_put_string(msg->get(), KIS_ATTR_CELL_NAME, name.c_str()) < 0 ||
        nla_put_u8(msg->get(), KIS_ATTR_PROFILE_SOURCE, static_cast<std::uint8_t>(source)) < 0)
        return make_error("cannot build the request: out of memory");
    std::optional<std::vector<std::uint8_t>> blob;
    Result<void> r = transact(msg->get(), [&](nlmsghdr *hdr) -> Result<void> {
        auto tb = parse_top(hdr, "statistics");
        if (!tb)
            return tb.error();
        nlattr *stats = (*tb)[KIS_ATTR_STATS];
        if (!stats || blob) // one reply with one blob
            return malformed("statistics");
        const auto *data = static_cast<const std::uint8_t *>(nla_data(stats));
        blob.emplace(data, data + nla_len(stats));
        return {};
    });
    if (!r)
        return r.error();
    if (!blob)
        return make_error("the kis module sent no statistics for cell \"" + name +
                          "\"; use the kisctl built with this module");
    return std::move(*blob);
}

Result<void> Module::stats_load(const std::string &name, std::span<const std::uint8_t> blob) {
    // An attribute's length is 16 bits.
    constexpr std::size_t kAttrMax = 0xffff - NLA_HDRLEN;
    if (blob.empty())
        return make_error("the statistics are empty");
    if (blob.size() > kAttrMax)
        return make_error("the statistics are " + std::to_string(blob.size()) +
                          " bytes; one request takes at most " + std::to_string(kAttrMax));
    auto msg = new_request(KIS_CMD_STATS_LOAD, 0, 4096 + blob.size());
    if (!msg)
        return msg.error();
    nl_msg *m = msg->get();
    if (nla_put_string(m, KIS_ATTR_CELL_NAME, name.c_str()) < 0 ||
        nla_put(m, KIS_ATTR_STATS, static_cast<int>(blob.size()), blob.data()) < 0)
        return make_error("cannot build the statistics request: out of memory");
    if (Result<void> r = reserve_send_buffer(nlmsg_hdr(m)->nlmsg_len); !r)
        return r;
    return transact(m, nullptr);
}

} // namespace kis
