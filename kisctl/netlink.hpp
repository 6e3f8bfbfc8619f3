// Talking to the kis module over generic netlink (the contract is <linux/kis.h>). Every libnl
// object is owned by a unique_ptr; every request asks for an ACK and waits for it, and the
// module's extended ACK message is reported to the user.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
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
};

// One message of the KIS_CMD_TASK_GET dump.
struct TaskInfo {
    std::string cell;
    std::uint32_t pid = 0;
    std::uint32_t tgid = 0;
    std::string comm;
    std::uint64_t syscalls = 0;
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

  private:
    // Called for each reply message; an error stops the parsing of later replies.
    using ReplyHandler = std::function<Result<void>(nlmsghdr *)>;

    Module(nl::SocketPtr sock, int family) : sock_(std::move(sock)), family_(family) {}

    Result<nl::MsgPtr> new_request(std::uint8_t cmd, int flags, std::size_t size = 0);
    // Sends the request and receives until its ACK (or NLMSG_DONE for dumps) or an error.
    Result<void> transact(nl_msg *request, const ReplyHandler &on_reply);

    nl::SocketPtr sock_;
    int family_ = 0;
};

} // namespace kis
