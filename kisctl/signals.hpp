// Signals for the long-running commands (trace, monitor): SIGINT, SIGTERM and SIGHUP, and
// optionally SIGCHLD, are blocked and read from a signalfd, so that the main loop polls
// them with its sockets and always ends cleanly (unloading what it loaded).
#pragma once

#include <cstdint>
#include <memory>

#include <signal.h>

#include "result.hpp"

namespace kis {

class StopSignals {
  public:
    // Blocks the signals; the destructor restores the old mask.
    static Result<std::unique_ptr<StopSignals>> create(bool with_sigchld);
    ~StopSignals();
    StopSignals(const StopSignals &) = delete;
    StopSignals &operator=(const StopSignals &) = delete;

    int fd() const { return fd_; }
    // Reads the signals that arrived: the last stop signal (SIGINT, SIGTERM, SIGHUP) or 0.
    // A SIGCHLD only sets child_exited().
    int read();
    // Whether a SIGCHLD arrived since the last call.
    bool child_exited();
    // In a forked child before execve: the mask and dispositions the program expects.
    void restore_in_child() const;

  private:
    StopSignals() = default;
    int fd_ = -1;
    sigset_t old_{};
    bool child_ = false;
};

// Milliseconds of CLOCK_REALTIME (wall time, for logs) and of CLOCK_MONOTONIC (for
// durations).
std::uint64_t realtime_ms();
std::uint64_t monotonic_ms();

} // namespace kis
