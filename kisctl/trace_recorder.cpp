#include "trace_recorder.hpp"

namespace kis {

void TraceRecorder::add(const TraceBatch &b) {
    if (batches_ == 0)
        module_lost_first_ = b.lost;
    module_lost_last_ = std::max(module_lost_last_, b.lost);
    batches_++;
    overrun_pending_ = false;
    if (next_seq_ && b.seq > *next_seq_)
        gap_records_ += b.seq - *next_seq_;
    next_seq_ = b.seq + b.records.size();
    if (error_)
        return;
    for (const kis_trace_record &r : b.records) {
        if (r.cell_id != cell_id_)
            continue;
        if (full())
            return;
        if (Result<void> w = sink_(r.pid, r.syscall); !w) {
            error_ = w.error();
            return;
        }
        recorded_++;
        pids_.insert(r.pid);
    }
}

} // namespace kis
