// What `kisctl monitor` writes and `kisctl plot` reads, kept apart from the commands so
// that it can be tested without the module: the log format, the text and JSON lines of
// alerts and samples, the environment of --exec-on-alert programs, and the gnuplot script.
//
// The log: whitespace-separated columns, one record a line, '#' starts a comment line.
//   TIME_MS CELL PID SCORE THRESHOLD                                  a sample
//   TIME_MS CELL PID SCORE THRESHOLD alert SEQ TGID COMM CALLS        an alert
// TIME_MS: milliseconds since the epoch (CLOCK_REALTIME); PID: the task (thread) id; SCORE:
// its average anomaly over the window, 0..1000; THRESHOLD: the cell's at that time. COMM is
// escaped (see escape_word), CALLS the system call numbers joined by ',' ("-" for none).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "netlink.hpp"
#include "result.hpp"

namespace kis {

inline constexpr std::string_view kMonitorLogHeader =
    "# kisctl monitor log: TIME_MS CELL PID SCORE THRESHOLD [alert SEQ TGID COMM CALLS]";

// A task's score at one time.
struct Sample {
    std::uint64_t time_ms = 0;
    std::string cell;
    std::uint32_t pid = 0;
    std::uint32_t tgid = 0;
    std::string comm;
    std::uint32_t score = 0;
    std::uint32_t max_score = 0;
    std::uint32_t threshold = 0;
};

// A word for a whitespace-separated column: bytes other than printable ASCII, and '\',
// become \xNN; spaces too. The empty string becomes "-".
std::string escape_word(std::string_view s);
std::string unescape_word(std::string_view s);

// Log lines, each ending in '\n'.
std::string log_sample_line(const Sample &s);
std::string log_alert_line(const Alert &a);

// One line of a log.
struct LogRecord {
    int line = 0;
    std::uint64_t time_ms = 0;
    std::string cell;
    std::uint32_t pid = 0;
    std::uint32_t score = 0;
    std::uint32_t threshold = 0;
    bool alert = false;
    // Alerts only.
    std::uint64_t seq = 0;
    std::uint32_t tgid = 0;
    std::string comm;
    std::vector<std::uint16_t> calls;
};

// Parses a log; `path` names it in messages ("PATH:LINE: ..."). Blank and '#' lines are
// skipped; anything else that is not a record is an error.
Result<std::vector<LogRecord>> parse_monitor_log(std::string_view text, const std::string &path);

// "2026-11-23T12:30:28.123Z": UTC, milliseconds.
std::string format_time_ms(std::uint64_t time_ms);

// The terminal lines of `kisctl monitor`.
std::string format_alert(const Alert &a);
// One line for the tasks of a cell: "TIME cell C threshold T: PID=SCORE ...".
std::string format_samples(const std::vector<Sample> &samples);

// The JSON lines of `kisctl monitor --json` ("type": "alert", "sample", "lost").
nlohmann::ordered_json alert_json(const Alert &a);
nlohmann::ordered_json sample_json(const Sample &s);

// The environment of an --exec-on-alert program: `base` (a NULL-terminated array like
// environ; may be null) without variables of the names set here, then KIS_CELL, KIS_PID,
// KIS_TGID, KIS_COMM, KIS_SCORE, KIS_THRESHOLD, KIS_SEQ, KIS_CALLS (numbers separated by
// spaces), KIS_TIME (format_time_ms) and KIS_TIME_NS.
std::vector<std::string> alert_environment(const Alert &a, const char *const *base);

// Alerts lost before reaching kisctl monitor.
struct MissedAlerts {
    std::uint64_t count = 0;
    std::uint64_t first_seq = 0; // the event numbers missing, 0 when not known
    std::uint64_t last_seq = 0;
    std::uint64_t dropped_by_module = 0; // of them, dropped by the module (its queue was full)
};

// Finds lost alerts: event numbers are shared by all cells and count dropped alerts too, so
// a gap is a loss; before the first alert, the growth of the module's count of dropped
// alerts is all there is to go by. An event number that goes back (the module was reloaded)
// starts afresh.
class AlertGaps {
  public:
    // module_lost: KIS_ATTR_EVENTS_LOST when monitoring started.
    explicit AlertGaps(std::uint64_t module_lost) : last_lost_(module_lost) {}
    std::optional<MissedAlerts> see(const Alert &a);

  private:
    std::optional<std::uint64_t> last_seq_;
    std::uint64_t last_lost_;
};

// What `kisctl plot` draws.
struct PlotSelection {
    std::optional<std::string> cell;
    std::optional<std::uint32_t> pid;
    std::size_t max_series = 24; // the tasks with the highest scores are kept
};

struct PlotScript {
    std::string script;             // for gnuplot's stdin; the PNG goes to its stdout
    std::size_t series = 0;         // tasks drawn
    std::size_t dropped_series = 0; // tasks left out beyond max_series
    std::size_t samples = 0;
    std::size_t alerts = 0;
};

// The gnuplot script for the selected records: one line per task (score over time), the
// threshold of each cell as a dashed step line, alerts as points. Fails when nothing is
// selected.
Result<PlotScript> gnuplot_script(const std::vector<LogRecord> &records,
                                  const PlotSelection &selection);

} // namespace kis
