// What `kisctl monitor` writes and `kisctl plot` reads, kept apart from the commands so
// that it can be tested without the module: the log format, the text and JSON lines of
// alerts, danger and training events and samples, the environment of --exec-on-alert
// programs, and the gnuplot scripts.
//
// The log: whitespace-separated columns, one record a line, '#' starts a comment line.
//   TIME_MS CELL PID SCORE THRESHOLD                                  a task's score
//   TIME_MS CELL PID SCORE THRESHOLD alert SEQ TGID COMM CALLS        an alert
//   TIME_MS CELL param NAME VALUE T1 T2 LEVEL                         a parameter's sample
//   TIME_MS CELL danger NAME LEVEL CELL_LEVEL VALUE MEAN DEV T1 T2 SEQ PID TGID COMM PEER PATH
//   TIME_MS CELL training NAME SEQ VALUE EXPECT TOLERANCE PATH
// TIME_MS: milliseconds since the epoch (CLOCK_REALTIME); PID: the task (thread) id; SCORE:
// its average anomaly over the window, 0..1000; THRESHOLD: the cell's at that time. COMM is
// escaped (see escape_word), CALLS the system call numbers joined by ',' ("-" for none).
// The third column of a task line is a number; of the others, a word: a reader of the first
// two kinds only refuses the others (wrong column count) rather than misreading them.
// NAME: a parameter (kis_stat_param, "cpu", "files_outside", ...); VALUE: its last sample,
// in its unit; T1, T2: its thresholds of danger 1 and 2, "-" when it is not armed or has
// none; LEVEL, CELL_LEVEL: danger levels 0..2 of the parameter and of the cell. A danger
// line is written for each change of a level (rise or decay); PID and TGID are 0 and COMM
// "-" when no task is known, PEER is "ADDR:PORT" ("[ADDR]:PORT" for IPv6) or "-", PATH an
// escaped path or "-". In training lines, "-" stands for a value the event did not carry.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "netlink.hpp"
#include "result.hpp"

namespace kis {

inline constexpr std::string_view kMonitorLogHeader =
    "# kisctl monitor log: TIME_MS CELL PID SCORE THRESHOLD [alert SEQ TGID COMM CALLS]\n"
    "#   TIME_MS CELL param NAME VALUE T1 T2 LEVEL\n"
    "#   TIME_MS CELL danger NAME LEVEL CELL_LEVEL VALUE MEAN DEV T1 T2 SEQ PID TGID COMM PEER "
    "PATH\n"
    "#   TIME_MS CELL training NAME SEQ VALUE EXPECT TOLERANCE PATH";

// The unit of a parameter (kis_stat_param), "" for an unknown id; stat_param_name() in
// config.hpp gives its name.
std::string param_unit(std::uint32_t id);

// One parameter of a cell at one time, as the monitor reads it from the cell dump.
struct ParamSample {
    std::uint64_t time_ms = 0;
    std::string cell;
    std::string param; // its name
    std::uint64_t value = 0;
    std::optional<std::uint64_t> t1; // the thresholds, when armed
    std::optional<std::uint64_t> t2;
    std::uint32_t level = 0; // enum kis_danger
};

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
std::string log_param_line(const ParamSample &p);
std::string log_danger_line(const DangerEvent &d);
std::string log_training_line(const TrainingEvent &t);

// One line of a log.
struct LogRecord {
    enum class Kind {
        task,     // a task's score, or an alert (`alert`)
        param,    // a parameter's sample
        danger,   // a danger event
        training, // a suspected training event
    };
    Kind kind = Kind::task;
    int line = 0;
    std::uint64_t time_ms = 0;
    std::string cell;
    std::uint32_t pid = 0; // tasks, alerts, danger events (0: no task)
    std::uint32_t score = 0;
    std::uint32_t threshold = 0;
    bool alert = false;
    // Alerts, danger and training events.
    std::uint64_t seq = 0;
    std::uint32_t tgid = 0;
    std::string comm;
    std::vector<std::uint16_t> calls;
    // Parameters, danger and training events. value: absent only in training events.
    std::string param;
    std::optional<std::uint64_t> value;
    std::optional<std::uint64_t> t1;
    std::optional<std::uint64_t> t2;
    std::uint32_t level = 0;
    // Danger events.
    std::uint32_t cell_level = 0;
    std::uint64_t mean = 0;
    std::uint64_t dev = 0;
    std::string peer; // "ADDR:PORT", empty when none
    std::string path; // danger and training events, empty when none
    // Training events.
    std::optional<std::uint64_t> expect;
    std::optional<std::uint32_t> tolerance;
};

// Parses a log; `path` names it in messages ("PATH:LINE: ..."). Blank and '#' lines are
// skipped; anything else that is not a record is an error.
Result<std::vector<LogRecord>> parse_monitor_log(std::string_view text, const std::string &path);

// "2026-11-23T12:30:28.123Z": UTC, milliseconds.
std::string format_time_ms(std::uint64_t time_ms);

// The terminal lines of `kisctl monitor`. A danger event reads "DANGER 1" or "DANGER 2" when
// its level rose, "danger 1 (decayed)" or "danger cleared" when it fell.
std::string format_alert(const Alert &a);
std::string format_danger(const DangerEvent &d, bool rising);
std::string format_training(const TrainingEvent &t);
// One line for the tasks of a cell: "TIME cell C threshold T: PID=SCORE ...".
std::string format_samples(const std::vector<Sample> &samples);

// The JSON lines of `kisctl monitor --json` ("type": "alert", "danger", "training", "sample",
// "param", "lost"). Fields that an event does not carry are null, never left out.
nlohmann::ordered_json alert_json(const Alert &a);
nlohmann::ordered_json danger_json(const DangerEvent &d, bool rising);
nlohmann::ordered_json training_json(const TrainingEvent &t);
nlohmann::ordered_json sample_json(const Sample &s);
nlohmann::ordered_json param_json(const ParamSample &p);

// The environment of an --exec-on-alert program: `base` (a NULL-terminated array like
// environ; may be null) without variables of any name kisctl sets for alerts or danger
// events, then for an alert KIS_EVENT=alert, KIS_CELL, KIS_PID, KIS_TGID, KIS_COMM,
// KIS_SCORE, KIS_THRESHOLD, KIS_SEQ, KIS_CALLS (numbers separated by spaces), KIS_TIME
// (format_time_ms) and KIS_TIME_NS.
std::vector<std::string> alert_environment(const Alert &a, const char *const *base);
// For a danger event: KIS_EVENT=danger, KIS_CELL, KIS_PARAM (its name), KIS_UNIT, KIS_LEVEL,
// KIS_CELL_LEVEL, KIS_VALUE, KIS_MEAN, KIS_DEV, KIS_T1, KIS_T2 (empty when none), KIS_PEER
// (peer_text), KIS_PATH, KIS_PID, KIS_TGID, KIS_COMM (empty when not known), KIS_SEQ,
// KIS_TIME and KIS_TIME_NS.
std::vector<std::string> danger_environment(const DangerEvent &d, const char *const *base);

// Tells the rise of a danger signal from its decay: an event carries only the new level of
// its parameter. Level 2 is a rise and 0 a decay; 1 is a decay after 2 and a rise
// otherwise (also when the level before is not known, or events were lost).
class DangerLevels {
  public:
    // The level of a parameter when monitoring started (from the cell dump).
    void set(const std::string &cell, std::uint32_t param, std::uint32_t level);
    // Whether the event raises its parameter's level; remembers the new level.
    bool rises(const DangerEvent &d);

  private:
    std::map<std::pair<std::string, std::uint32_t>, std::uint32_t> levels_;
};

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
    std::optional<MissedAlerts> see(const Alert &a) { return see(a.seq, a.lost); }
    // Any event: alerts, danger and training events share the numbers.
    std::optional<MissedAlerts> see(std::uint64_t seq, std::uint64_t lost);

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
    std::size_t dangers = 0; // danger events drawn (--param)
};

// The gnuplot script for the selected records: one line per task (score over time), the
// threshold of each cell as a dashed step line, alerts as points. Fails when nothing is
// selected.
Result<PlotScript> gnuplot_script(const std::vector<LogRecord> &records,
                                  const PlotSelection &selection);

// The gnuplot script of one parameter: its value over time for each cell (series: cells
// drawn), with the cell's thresholds 1 and 2 as dashed step lines and its danger events of
// that parameter as points. selection.pid must be empty. Fails, naming the parameters the
// log has, when it has no sample of `param`.
Result<PlotScript> gnuplot_param_script(const std::vector<LogRecord> &records,
                                        const std::string &param, const PlotSelection &selection);

} // namespace kis
