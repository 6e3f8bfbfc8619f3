// System-call trace files (Documentation/file-formats.md): reading the ImSafe format
// (`INDEX PID SYSCALL`) and the stide format (`PID SYSCALL`, the UNM data sets), plain or
// gzip-compressed, and writing the ImSafe format. Lines of several processes interleave; the
// reader splits them into one trace per PID.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace kis {

enum class TraceFormat {
    empty,  // no line with calls: nothing to tell the format by
    imsafe, // INDEX PID SYSCALL
    stide,  // PID SYSCALL
};

// "ImSafe (INDEX PID SYSCALL)", "stide (PID SYSCALL)", "empty".
std::string_view trace_format_name(TraceFormat format);

// The calls of one process (one task), in order.
struct Trace {
    std::string file; // where it was read from
    std::uint32_t pid = 0;
    std::vector<std::uint16_t> calls;
};

// What one file holds.
struct TraceFile {
    std::string path;
    TraceFormat format = TraceFormat::empty;
    std::vector<Trace> traces; // one per PID, in the order PIDs first appear
    std::uint64_t calls = 0;   // lines with a call, all PIDs
};

// Parses trace text. `path` names the source in messages ("PATH:LINE: ...") and in
// Trace::file. Format auto-detected from the first line that is not blank; every other line
// must have the same number of columns. Blank lines are ignored; anything else is an error.
Result<TraceFile> parse_traces(std::string_view text, const std::string &path);

// Reads a trace file, plain or gzip-compressed (told by its content, not its name).
Result<TraceFile> read_trace_file(const std::string &path);

// Reads several files; the first error stops it.
Result<std::vector<TraceFile>> read_trace_files(const std::vector<std::string> &paths);

// Writes the ImSafe format, `INDEX PID SYSCALL` with INDEX counting from 1; gzip-compressed
// when the name ends in ".gz". Output is buffered: call close() (or flush()) and check its
// result; the destructor writes what is buffered and closes, without reporting errors.
class TraceWriter {
  public:
    // Creates `path`. Refuses an existing file (O_EXCL) unless `force`, which truncates it.
    static Result<TraceWriter> open(const std::string &path, bool force = false);

    TraceWriter(TraceWriter &&) noexcept;
    TraceWriter &operator=(TraceWriter &&) noexcept;
    TraceWriter(const TraceWriter &) = delete;
    TraceWriter &operator=(const TraceWriter &) = delete;
    ~TraceWriter();

    // Appends one call. `pid` should be the task (thread) id: one trace per task is what the
    // kernel learns from.
    Result<void> write(std::uint32_t pid, std::uint32_t syscall);
    // Writes out the buffer (and, compressed, a gzip flush point).
    Result<void> flush();
    // Flushes and closes; further writes fail.
    Result<void> close();

    std::uint64_t written() const { return index_; }
    const std::string &path() const { return path_; }

  private:
    struct Impl;
    TraceWriter() = default;
    Result<void> drain();

    std::string path_;
    std::unique_ptr<Impl> impl_;
    std::string buf_;
    std::uint64_t index_ = 0;
};

} // namespace kis
