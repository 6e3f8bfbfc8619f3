// The bookkeeping of `kisctl trace`, apart from its sockets so that it can be tested: which
// records of the trace group belong to the traced cell, and how many were lost on the way.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>

#include "netlink.hpp"
#include "result.hpp"

namespace kis {

class TraceRecorder {
  public:
    // Called for each record of the cell, in order; an error stops the recording.
    using Sink = std::function<Result<void>(std::uint32_t pid, std::uint16_t syscall)>;

    // cell_id: KIS_CELL_ATTR_ID of the traced cell; limit: most records to keep (0: all).
    TraceRecorder(std::uint32_t cell_id, std::uint64_t limit, Sink sink)
        : cell_id_(cell_id), limit_(limit), sink_(std::move(sink)) {}

    // A KIS_CMD_TRACE message. Records are numbered without gaps across all cells, so a gap
    // between two messages is records lost on the way (kisctl's socket buffer was full).
    void add(const TraceBatch &batch);
    // The socket overflowed: messages were lost; the next batch's gap says how many records.
    void overrun() { overrun_pending_ = true; }

    bool full() const { return limit_ && recorded_ >= limit_; }
    std::uint64_t recorded() const { return recorded_; }
    std::size_t tasks() const { return pids_.size(); }
    std::uint64_t batches() const { return batches_; }
    // Records missing between batches (any cell's: the gap does not tell whose).
    std::uint64_t gap_records() const { return gap_records_; }
    // Growth of KIS_ATTR_TRACE_LOST (records the module dropped, all cells) between the first
    // and the last batch.
    std::uint64_t module_lost() const { return module_lost_last_ - module_lost_first_; }
    // An overrun with no batch after it: an unknown number of records at the end is missing.
    bool overrun_pending() const { return overrun_pending_; }
    const std::optional<Error> &error() const { return error_; }

  private:
    std::uint32_t cell_id_;
    std::uint64_t limit_;
    Sink sink_;
    std::uint64_t recorded_ = 0;
    std::set<std::uint32_t> pids_;
    std::uint64_t batches_ = 0;
    std::optional<std::uint64_t> next_seq_;
    std::uint64_t gap_records_ = 0;
    std::uint64_t module_lost_first_ = 0;
    std::uint64_t module_lost_last_ = 0;
    bool overrun_pending_ = false;
    std::optional<Error> error_;
};

} // namespace kis
