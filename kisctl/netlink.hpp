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

    bool learning() const { return state & KIS_CELL_LEARNING; }
    bool armed() const { return state & KIS_CELL_ARMED; }
    bool tracing() const { return state & KIS_CELL_TRACING; }
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
    // The cell of that name from the cell dump; an error naming it if it is not loaded.
    Result<CellInfo> cell(const std::string &name);

    // KIS_CMD_CELL_SET: the settings that change at run time; at least one.
    Result<void> set_cell(const std::string &name, std::optional<std::uint16_t> window,
                          std::optional<std::uint16_t> threshold);
    Result<void> learn_start(const std::string &name);
    Result<void> learn_stop(const std::string &name);
    // KIS_CMD_PROFILE_GET: the exchange blob, reassembled and checked against its size.
    Result<std::vector<std::uint8_t>> profile_get(const std::string &name,
                                                  kis_profile_source source);
    // KIS_CMD_PROFILE_LOAD: the blob in one request, as KIS_ATTR_PROFILE_CHUNKs in order.
    Result<void> profile_load(const std::string &name, std::span<const std::uint8_t> blob);
    Result<void> profile_unload(const std::string &name);
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

// Parses a KIS_CMD_ALERT / KIS_CMD_TRACE message (the genetlink header included).
Result<Alert> parse_alert(const nlmsghdr *hdr);
Result<TraceBatch> parse_trace(const nlmsghdr *hdr);

} // namespace kis
