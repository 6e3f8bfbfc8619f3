// Talking to the kis module over generic netlink (the contract is <linux/kis.h>). Every libnl
// object is owned by a unique_ptr; every request asks for an ACK and waits for it, and the
// module's extended ACK message is reported to the user.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <netlink/genl/genl.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <linux/kis.h>

#include "config.hpp"
#include "result.hpp"

namespace kis {

// Reply to KIS_CMD_VERSION.
struct ModuleInfo {
    std::uint32_t protocol = 0;
    std::string module_version;
    std::uint32_t tasks_watched = 0;
    std::uint64_t events_lost = 0; // alerts the module dropped so far (its ring was full)
};

// One KIS_CELL_ATTR_PARAM nest of the KIS_CMD_CELL_GET dump: a parameter's settings and
// state. Means, deviations and thresholds are in the parameter's unit.
struct ParamInfo {
    std::uint32_t id = 0;    // enum kis_param
    std::uint32_t mult1 = 0; // tenths of the deviation
    std::uint32_t mult2 = 0;
    std::uint64_t floor = 0;
    std::optional<std::uint64_t> expect; // hard tolerization, if the config gave it
    std::uint32_t tolerance = 0;         // percent, with expect
    std::uint64_t samples = 0;           // learned
    std::uint64_t mean = 0;
    std::uint64_t dev = 0;             // mean absolute deviation
    std::uint64_t t1 = KIS_STAT_NEVER; // thresholds while armed; KIS_STAT_NEVER: never
    std::uint64_t t2 = KIS_STAT_NEVER;
    std::uint64_t value = 0;               // last sample
    std::uint32_t level = KIS_DANGER_NONE; // its danger signal now
    bool armed = false;                    // judged against t1 and t2
};

// One message of the KIS_CMD_CELL_GET dump.
struct CellInfo {
    std::string name;
    std::string program;
    std::string args;
    bool follow_exec = true;
    std::uint32_t max_tasks = 0;
    std::uint32_t tasks = 0;
    std::uint64_t joined = 0;
    std::uint64_t left = 0;
    std::uint64_t execs = 0;
    std::uint64_t over_limit = 0;
    std::uint64_t syscalls = 0;
    // The sequence model.
    std::uint32_t id = 0; // in trace records
    std::uint32_t seq_k = 0;
    std::uint32_t seq_window = 0;
    std::uint32_t seq_threshold = 0;
    std::uint32_t learn_prefixes = 0;
    std::uint32_t learn_kgrams = 0;
    std::uint32_t state = 0; // KIS_CELL_LEARNING | KIS_CELL_ARMED | KIS_CELL_TRACING
    std::uint64_t learned = 0;
    std::uint64_t learn_dropped = 0;
    std::uint32_t profile_kgrams = 0;
    std::uint64_t alerts = 0;
    std::uint64_t trace_lost = 0;
    // The APC's statistics and danger signals.
    std::uint32_t seq_threshold2 = 0;
    std::uint32_t stat_interval_ms = 0;
    std::uint32_t danger_hold1 = 0;
    std::uint32_t danger_hold2 = 0;
    std::uint32_t file_tree = 0;            // room for learned files
    std::uint32_t danger = KIS_DANGER_NONE; // the cell's level now
    std::uint64_t danger_events = 0;
    std::uint64_t training = 0;      // suspected training samples not learned
    std::uint64_t stat_samples = 0;  // intervals sampled
    std::uint32_t learn_left_ms = 0; // learning stops by itself in, 0 if not timed
    std::uint32_t files_learned = 0;
    std::uint32_t connections = 0; // tracked now
    std::vector<ParamInfo> params; // as the module sends them, by id

    bool learning() const { return state & KIS_CELL_LEARNING; }
    bool armed() const { return state & KIS_CELL_ARMED; }
    bool tracing() const { return state & KIS_CELL_TRACING; }
};

// What KIS_CMD_CELL_SET changes: at least one.
struct CellSettings {
    std::optional<std::uint16_t> window;
    std::optional<std::uint16_t> threshold;
    std::optional<std::uint16_t> threshold2;
    std::optional<std::uint16_t> hold1;
    std::optional<std::uint16_t> hold2;
    std::vector<ParamConfig> params; // MULT1, MULT2 and FLOOR only

    bool empty() const {
        return !window && !threshold && !threshold2 && !hold1 && !hold2 && params.empty();
    }
};

// The state bits as words: "learning+armed+tracing", or "idle" without any.
std::string cell_state_text(std::uint32_t state);

// One message of the KIS_CMD_TASK_GET dump.
struct TaskInfo {
    std::string cell;
    std::uint32_t pid = 0;
    std::uint32_t tgid = 0;
    std::string comm;
    std::uint64_t syscalls = 0;
    std::uint32_t score = 0;     // smoothed anomaly after its last call, 0..1000
    std::uint32_t max_score = 0; // highest since the cell was armed
};

// A TCP connection a cell tracks (KIS_CMD_CONN_GET).
struct ConnInfo {
    std::string cell;
    kis_peer peer{};
    std::uint32_t pid = 0;
    std::uint32_t tgid = 0;
    std::uint64_t rx_bytes = 0; // received so far
    std::uint64_t tx_bytes = 0; // sent so far
    std::uint32_t level = 0;    // highest danger of its per-connection parameters
};

// A KIS_CMD_ALERT event.
struct Alert {
    std::uint64_t seq = 0;     // from 1, dropped alerts included
    std::uint64_t lost = 0;    // alerts the module dropped so far
    std::uint64_t time_ns = 0; // CLOCK_REALTIME
    std::string cell;
    std::uint32_t pid = 0;
    std::uint32_t tgid = 0;
    std::string comm;
    std::uint32_t score = 0;
    std::uint32_t threshold = 0;
    std::vector<std::uint16_t> calls; // oldest first, the crossing call last
};

// A KIS_CMD_DANGER event: the danger level of one parameter of a cell rose or decayed.
// Alerts, danger and training events share one stream of event numbers.
struct DangerEvent {
    std::uint64_t seq = 0;
    std::uint64_t lost = 0; // events the module dropped so far
    std::uint64_t time_ns = 0;
    std::string cell;
    std::uint32_t pid = 0; // the task, when one is known; 0 when not
    std::uint32_t tgid = 0;
    std::string comm;
    std::uint32_t param = 0;      // enum kis_param
    std::uint32_t level = 0;      // enum kis_danger: this parameter's new level
    std::uint32_t cell_level = 0; // the cell's level after it
    std::uint64_t value = 0;      // the sample, in the parameter's unit
    std::uint64_t mean = 0;
    std::uint64_t dev = 0;
    std::uint64_t t1 = 0; // thresholds; KIS_STAT_NEVER (~0) when there is none
    std::uint64_t t2 = 0;
    std::optional<kis_peer> peer; // per-connection and connection parameters
    std::string path;             // files_outside: the file
};

// A KIS_CMD_TRAINING event: while learning with expected values, a sample far from what
// the config expects (or a file outside the expected tree) was not learned.
struct TrainingEvent {
    std::uint64_t seq = 0;
    std::uint64_t lost = 0;
    std::uint64_t time_ns = 0;
    std::string cell;
    std::optional<std::uint32_t> param; // enum kis_param
    std::optional<std::uint64_t> value;
    std::optional<std::uint64_t> expect;
    std::optional<std::uint32_t> tolerance; // percent
    std::string path;                       // a file outside the expected tree
};

// A KIS_CMD_TRACE message: records seq, seq+1, ... in order.
struct TraceBatch {
    std::uint64_t seq = 0;  // number of the first record
    std::uint64_t lost = 0; // records the module dropped so far, all cells
    std::vector<kis_trace_record> records;
};

namespace nl {

struct SocketDeleter {
    void operator()(nl_sock *sock) const noexcept { nl_socket_free(sock); }
};
struct MsgDeleter {
    void operator()(nl_msg *msg) const noexcept { nlmsg_free(msg); }
};
struct CbDeleter {
    void operator()(nl_cb *cb) const noexcept { nl_cb_put(cb); }
};

using SocketPtr = std::unique_ptr<nl_sock, SocketDeleter>;
using MsgPtr = std::unique_ptr<nl_msg, MsgDeleter>;
using CbPtr = std::unique_ptr<nl_cb, CbDeleter>;

} // namespace nl

// The messages kisctl prints for the common connection problems.
std::string not_loaded_message();
std::string protocol_mismatch_message(std::uint32_t module_protocol);
bool is_not_loaded(const Error &error);

// A connection to the "kis" generic netlink family.
class Module {
  public:
    // Opens a socket and resolves the family. Fails with not_loaded_message() when the
    // module is not loaded.
    static Result<Module> connect();

    // Connects, asks KIS_CMD_VERSION and checks the protocol version.
    static Result<std::pair<Module, ModuleInfo>> connect_checked();

    Result<ModuleInfo> version();
    // One KIS_CMD_CELL_LOAD with every cell: the module adds all or none.
    Result<void> load_cells(const std::vector<CellConfig> &cells);
    Result<void> unload_cell(const std::string &name);
    Result<std::vector<CellInfo>> cells();
    Result<std::vector<TaskInfo>> tasks();
    Result<std::vector<ConnInfo>> connections();
    // The cell of that name from the cell dump; an error naming it if it is not loaded.
    Result<CellInfo> cell(const std::string &name);

    // KIS_CMD_CELL_SET: the settings that change at run time; at least one.
    Result<void> set_cell(const std::string &name, const CellSettings &settings);
    // for_ms: the module stops learning by itself after that long; 0 for no limit.
    Result<void> learn_start(const std::string &name, std::uint32_t for_ms = 0);
    Result<void> learn_stop(const std::string &name);
    // KIS_CMD_PROFILE_GET: the exchange blob, reassembled and checked against its size.
    Result<std::vector<std::uint8_t>> profile_get(const std::string &name,
                                                  kis_profile_source source);
    // KIS_CMD_PROFILE_LOAD: the blob in one request, as KIS_ATTR_PROFILE_CHUNKs in order.
    Result<void> profile_load(const std::string &name, std::span<const std::uint8_t> blob);
    Result<void> profile_unload(const std::string &name);
    // KIS_CMD_STATS_GET: the cell's statistics blob (kis_stat.h), learned or armed. Fails
    // with kernel_errno ENODATA when the cell has no statistics of that source, EBUSY while
    // it learns.
    Result<std::vector<std::uint8_t>> stats_get(const std::string &name, kis_profile_source source);
    // KIS_CMD_STATS_LOAD: arms the cell's statistics with the blob.
    Result<void> stats_load(const std::string &name, std::span<const std::uint8_t> blob);
    Result<void> trace_start(const std::string &name);
    // Returns once every record queued before it was sent to the trace group.
    Result<void> trace_stop(const std::string &name);

  private:
    // Called for each reply message; an error stops the parsing of later replies.
    using ReplyHandler = std::function<Result<void>(nlmsghdr *)>;

    Module(nl::SocketPtr sock, int family) : sock_(std::move(sock)), family_(family) {}

    Result<nl::MsgPtr> new_request(std::uint8_t cmd, int flags, std::size_t size = 0);
    // Sends the request and receives until its ACK (or NLMSG_DONE for dumps) or an error.
    Result<void> transact(nl_msg *request, const ReplyHandler &on_reply);
    // A request that names a cell and nothing else.
    Result<void> cell_command(std::uint8_t cmd, const std::string &name);
    // Makes sure the socket can send a message of `bytes`.
    Result<void> reserve_send_buffer(std::size_t bytes);

    nl::SocketPtr sock_;
    int family_ = 0;
    std::size_t sndbuf_ = 0; // what reserve_send_buffer set, 0 if nothing yet
};

// Listens to the module's multicast groups on a socket of its own. Reading is non-blocking:
// poll fd() for input, then call receive(). Lost messages are detected and counted: the
// kernel drops what does not fit in the socket's receive buffer and says so with ENOBUFS.
class Subscription {
  public:
    struct Handlers {
        std::function<void(const Alert &)> on_alert;
        std::function<void(const DangerEvent &)> on_danger;
        std::function<void(const TrainingEvent &)> on_training;
        std::function<void(const TraceBatch &)> on_trace;
        // The socket overflowed (ENOBUFS) or a message was cut short: messages were lost.
        std::function<void()> on_overrun;
    };

    // Joins "events" and/or "trace". rcvbuf: the receive buffer to ask for, in bytes (set
    // with SO_RCVBUFFORCE when allowed, else SO_RCVBUF, which the kernel may cap).
    static Result<Subscription> open(bool events, bool trace, std::size_t rcvbuf = 1 << 20);

    int fd() const;
    // Reads and dispatches the messages waiting, at most `max` (so that a flood cannot keep
    // the caller from its signals and timers); returns how many were read, 0 when none was
    // waiting. A malformed message is an error; so is a socket error other than an overrun.
    Result<std::size_t> receive(const Handlers &handlers, std::size_t max = 1024);
    std::uint64_t overruns() const { return overruns_; }

  private:
    Subscription(nl::SocketPtr sock, int family) : sock_(std::move(sock)), family_(family) {}
    Result<void> dispatch(const nlmsghdr *hdr, const Handlers &handlers);

    nl::SocketPtr sock_;
    int family_ = 0;
    std::uint64_t overruns_ = 0;
    std::vector<std::uint64_t> buf_; // 8-byte aligned
};

// The attributes of one cell in a KIS_CMD_CELL_LOAD request (inside its KIS_ATTR_CELL nest).
// False when the message is full.
bool put_cell_config(nl_msg *msg, const CellConfig &cell);

// The attributes of a KIS_CMD_CELL_SET request's KIS_ATTR_CELL nest. False when full.
bool put_cell_settings(nl_msg *msg, const CellSettings &settings);

// Parses a KIS_ATTR_CELL nest of the KIS_CMD_CELL_GET dump.
Result<CellInfo> parse_cell_info(const nlattr *nest);

// Parses a KIS_CMD_ALERT / KIS_CMD_TRACE message (the genetlink header included).
Result<Alert> parse_alert(const nlmsghdr *hdr);
Result<TraceBatch> parse_trace(const nlmsghdr *hdr);

// Parses a KIS_CMD_DANGER / KIS_CMD_TRAINING message (the genetlink header included).
Result<DangerEvent> parse_danger(const nlmsghdr *hdr);
Result<TrainingEvent> parse_training(const nlmsghdr *hdr);

// "10.0.0.2:51234", "[2001:db8::1]:443": the peer of a connection in events.
std::string peer_text(const kis_peer &peer);

} // namespace kis
