#include "monitor_log.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "config.hpp"
#include "kis_stat.h"
#include "options.hpp"
#include "text.hpp"

namespace kis {

namespace {

std::string calls_text(const std::vector<std::uint16_t> &calls, char sep) {
    std::string s;
    for (std::uint16_t c : calls) {
        if (!s.empty())
            s += sep;
        s += std::to_string(c);
    }
    return s;
}

std::vector<std::string_view> split_words(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            i++;
        std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t')
            i++;
        if (i > start)
            words.push_back(line.substr(start, i - start));
    }
    return words;
}

// A threshold column: "-" for none.
std::string threshold_word(const std::optional<std::uint64_t> &t) {
    return t ? std::to_string(*t) : std::string("-");
}

// A threshold of an event: KIS_STAT_NEVER is none.
std::optional<std::uint64_t> threshold(std::uint64_t t) {
    return t == KIS_STAT_NEVER ? std::nullopt : std::optional<std::uint64_t>(t);
}

template <typename T> nlohmann::ordered_json or_null(const std::optional<T> &v) {
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json string_or_null(const std::string &s) {
    return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
}

// A parameter name as a log word: lower-case letters, digits and '_'.
bool is_param_word(std::string_view w) {
    if (w.empty())
        return false;
    for (char c : w)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

// The variables of an --exec-on-alert program: the base environment without any name
// kisctl sets for an event of any kind (so that none leaks from kisctl's own environment
// into a program run for another kind), then ours.
const char *const kEventVariables[] = {
    "KIS_EVENT",     "KIS_CELL",  "KIS_PID",        "KIS_TGID",  "KIS_COMM",    "KIS_SCORE",
    "KIS_THRESHOLD", "KIS_SEQ",   "KIS_CALLS",      "KIS_TIME",  "KIS_TIME_NS", "KIS_PARAM",
    "KIS_UNIT",      "KIS_LEVEL", "KIS_CELL_LEVEL", "KIS_VALUE", "KIS_MEAN",    "KIS_DEV",
    "KIS_T1",        "KIS_T2",    "KIS_PEER",       "KIS_PATH",
};

std::vector<std::string>
event_environment(const std::vector<std::pair<std::string, std::string>> &ours,
                  const char *const *base) {
    std::vector<std::string> env;
    for (const char *const *p = base; p && *p; p++) {
        std::string_view v = *p;
        std::string_view name = v.substr(0, v.find('='));
        bool replaced = false;
        for (const char *n : kEventVariables)
            if (name == n)
                replaced = true;
        if (!replaced)
            env.emplace_back(v);
    }
    for (const auto &[n, value] : ours)
        env.push_back(n + "=" + value);
    return env;
}

// A comm in a gnuplot string: only characters that need no quoting anywhere.
std::string plot_safe(const std::string &s) {
    std::string out;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-' || c == ' ' || c == ':' || c == '/';
        out += ok ? c : '?';
    }
    return out;
}

} // namespace

std::string escape_word(std::string_view s) {
    if (s.empty())
        return "-";
    std::string out;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '\\' || (c == '-' && s.size() == 1)) {
            append_hex_escape(out, u);
        } else {
            out += c;
        }
    }
    return out;
}

std::string unescape_word(std::string_view s) {
    if (s == "-")
        return {};
    std::string out;
    for (std::size_t i = 0; i < s.size(); i++) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && hex_value(s[i + 2]) >= 0 &&
            hex_value(s[i + 3]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 2]) * 16 + hex_value(s[i + 3]));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string log_sample_line(const Sample &s) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%" PRIu64 " ", s.time_ms);
    std::string line = buf + s.cell;
    std::snprintf(buf, sizeof buf, " %" PRIu32 " %" PRIu32 " %" PRIu32 "\n", s.pid, s.score,
                  s.threshold);
    return line + buf;
}

std::string log_alert_line(const Alert &a) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%" PRIu64 " ", a.time_ns / 1000000);
    std::string line = buf + a.cell;
    std::snprintf(buf, sizeof buf,
                  " %" PRIu32 " %" PRIu32 " %" PRIu32 " alert %" PRIu64 " %" PRIu32 " ", a.pid,
                  a.score, a.threshold, a.seq, a.tgid);
    line += buf + escape_word(a.comm) + " ";
    line += a.calls.empty() ? std::string("-") : calls_text(a.calls, ',');
    return line + "\n";
}

std::string param_unit(std::uint32_t id) {
    const kis_stat_param_info *info = kis_stat_param(id);
    return info ? info->unit : "";
}

std::string log_param_line(const ParamSample &p) {
    return std::to_string(p.time_ms) + " " + p.cell + " param " + p.param + " " +
           std::to_string(p.value) + " " + threshold_word(p.t1) + " " + threshold_word(p.t2) + " " +
           std::to_string(p.level) + "\n";
}

std::string log_danger_line(const DangerEvent &d) {
    std::string line = std::to_string(d.time_ns / 1000000) + " " + d.cell + " danger " +
                       stat_param_name(d.param) + " " + std::to_string(d.level) + " " +
                       std::to_string(d.cell_level) + " " + std::to_string(d.value) + " " +
                       std::to_string(d.mean) + " " + std::to_string(d.dev) + " " +
                       threshold_word(threshold(d.t1)) + " " + threshold_word(threshold(d.t2)) +
                       " " + std::to_string(d.seq) + " ";
    if (d.pid)
        line += std::to_string(d.pid) + " " + std::to_string(d.tgid) + " " + escape_word(d.comm);
    else
        line += "0 0 -";
    line += " " + (d.peer ? peer_text(*d.peer) : std::string("-")) + " " + escape_word(d.path);
    return line + "\n";
}

std::string log_training_line(const TrainingEvent &t) {
    auto opt = [](const auto &v) { return v ? std::to_string(*v) : std::string("-"); };
    return std::to_string(t.time_ns / 1000000) + " " + t.cell + " training " +
           (t.param ? stat_param_name(*t.param) : std::string("-")) + " " + std::to_string(t.seq) +
           " " + opt(t.value) + " " + opt(t.expect) + " " + opt(t.tolerance) + " " +
           escape_word(t.path) + "\n";
}

namespace {

// The lines of the kinds with a word in the third column.
Result<LogRecord> parse_param_record(const std::vector<std::string_view> &w, LogRecord r,
                                     const std::function<Error(const std::string &)> &bad) {
    auto number = [](std::string_view v, std::uint64_t hi = UINT64_MAX) {
        return parse_number(v, 0, hi);
    };
    // "-" or a number.
    auto optional = [&](std::string_view v, std::uint64_t hi,
                        std::optional<std::uint64_t> &out) -> bool {
        if (v == "-")
            return true;
        out = number(v, hi);
        return out.has_value();
    };
    const std::string_view kind = w[2];
    if (kind == "param") {
        if (w.size() != 8)
            return bad("a param line has 8 columns (TIME_MS CELL param NAME VALUE T1 T2 LEVEL), "
                       "found " +
                       std::to_string(w.size()));
        r.kind = LogRecord::Kind::param;
        auto value = number(w[4]);
        auto level = number(w[7], KIS_DANGER_2);
        if (!is_param_word(w[3]) || !value || !optional(w[5], UINT64_MAX, r.t1) ||
            !optional(w[6], UINT64_MAX, r.t2) || !level)
            return bad("a param line has a parameter name, VALUE, T1 and T2 (numbers or \"-\") "
                       "and LEVEL 0..2");
        r.param = std::string(w[3]);
        r.value = *value;
        r.level = static_cast<std::uint32_t>(*level);
        return r;
    }
    if (kind == "danger") {
        if (w.size() != 17)
            return bad("a danger line has 17 columns (TIME_MS CELL danger NAME LEVEL CELL_LEVEL "
                       "VALUE MEAN DEV T1 T2 SEQ PID TGID COMM PEER PATH), found " +
                       std::to_string(w.size()));
        r.kind = LogRecord::Kind::danger;
        auto level = number(w[4], KIS_DANGER_2);
        auto cell_level = number(w[5], KIS_DANGER_2);
        auto value = number(w[6]);
        auto mean = number(w[7]);
        auto dev = number(w[8]);
        auto seq = number(w[11]);
        auto pid = number(w[12], UINT32_MAX);
        auto tgid = number(w[13], UINT32_MAX);
        if (!is_param_word(w[3]) || !level || !cell_level || !value || !mean || !dev ||
            !optional(w[9], UINT64_MAX, r.t1) || !optional(w[10], UINT64_MAX, r.t2) || !seq ||
            !pid || !tgid)
            return bad("a danger line has a parameter name, LEVEL and CELL_LEVEL 0..2, numbers "
                       "VALUE MEAN DEV, T1 and T2 (numbers or \"-\"), numbers SEQ PID TGID");
        r.param = std::string(w[3]);
        r.level = static_cast<std::uint32_t>(*level);
        r.cell_level = static_cast<std::uint32_t>(*cell_level);
        r.value = *value;
        r.mean = *mean;
        r.dev = *dev;
        r.seq = *seq;
        r.pid = static_cast<std::uint32_t>(*pid);
        r.tgid = static_cast<std::uint32_t>(*tgid);
        r.comm = unescape_word(w[14]);
        r.peer = w[15] == "-" ? std::string() : std::string(w[15]);
        r.path = unescape_word(w[16]);
        return r;
    }
    if (kind == "training") {
        if (w.size() != 9)
            return bad("a training line has 9 columns (TIME_MS CELL training NAME SEQ VALUE "
                       "EXPECT TOLERANCE PATH), found " +
                       std::to_string(w.size()));
        r.kind = LogRecord::Kind::training;
        auto seq = number(w[4]);
        std::optional<std::uint64_t> tolerance;
        if (!(w[3] == "-" || is_param_word(w[3])) || !seq || !optional(w[5], UINT64_MAX, r.value) ||
            !optional(w[6], UINT64_MAX, r.expect) || !optional(w[7], UINT32_MAX, tolerance))
            return bad("a training line has a parameter name or \"-\", a number SEQ, and VALUE, "
                       "EXPECT and TOLERANCE (numbers or \"-\")");
        r.param = w[3] == "-" ? std::string() : std::string(w[3]);
        r.seq = *seq;
        if (tolerance)
            r.tolerance = static_cast<std::uint32_t>(*tolerance);
        r.path = unescape_word(w[8]);
        return r;
    }
    return bad("\"" + std::string(kind) + "\" is not a kind of line");
}

} // namespace

Result<std::vector<LogRecord>> parse_monitor_log(std::string_view text, const std::string &path) {
    std::vector<LogRecord> records;
    int lineno = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        lineno++;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        std::vector<std::string_view> w = split_words(line);
        if (w.empty() || w[0][0] == '#')
            continue;
        auto bad = [&](const std::string &why) {
            return make_error(path + ":" + std::to_string(lineno) + ": " + why +
                              "; a kisctl monitor log has lines TIME_MS CELL PID SCORE "
                              "THRESHOLD [alert SEQ TGID COMM CALLS], and TIME_MS CELL "
                              "param|danger|training ...");
        };
        if (w.size() >= 3 && (w[2] == "param" || w[2] == "danger" || w[2] == "training")) {
            LogRecord r;
            r.line = lineno;
            auto time = parse_number(w[0], 0, UINT64_MAX);
            if (!time)
                return bad("TIME_MS must be a number");
            if (check_cell_name(w[1]))
                return bad("\"" + std::string(w[1]) + "\" is not a cell name");
            r.time_ms = *time;
            r.cell = std::string(w[1]);
            auto rec = parse_param_record(w, std::move(r), bad);
            if (!rec)
                return rec.error();
            records.push_back(std::move(*rec));
            continue;
        }
        if (w.size() != 5 && !(w.size() == 10 && w[5] == "alert"))
            return bad("expected 5 or 10 columns, found " + std::to_string(w.size()));
        LogRecord r;
        r.line = lineno;
        auto time = parse_number(w[0], 0, UINT64_MAX);
        auto pid = parse_number(w[2], 0, UINT32_MAX);
        auto score = parse_number(w[3], 0, UINT32_MAX);
        auto threshold = parse_number(w[4], 0, UINT32_MAX);
        if (!time || !pid || !score || !threshold)
            return bad("TIME_MS, PID, SCORE and THRESHOLD must be numbers");
        if (check_cell_name(w[1]))
            return bad("\"" + std::string(w[1]) + "\" is not a cell name");
        r.time_ms = *time;
        r.cell = std::string(w[1]);
        r.pid = static_cast<std::uint32_t>(*pid);
        r.score = static_cast<std::uint32_t>(*score);
        r.threshold = static_cast<std::uint32_t>(*threshold);
        if (w.size() == 10) {
            r.alert = true;
            auto seq = parse_number(w[6], 0, UINT64_MAX);
            auto tgid = parse_number(w[7], 0, UINT32_MAX);
            if (!seq || !tgid)
                return bad("SEQ and TGID of an alert must be numbers");
            r.seq = *seq;
            r.tgid = static_cast<std::uint32_t>(*tgid);
            r.comm = unescape_word(w[8]);
            if (w[9] != "-") {
                std::string_view calls = w[9];
                while (!calls.empty()) {
                    std::size_t comma = calls.find(',');
                    auto c = parse_number(calls.substr(0, comma), 0, UINT16_MAX);
                    if (!c)
                        return bad("CALLS of an alert must be numbers joined by ','");
                    r.calls.push_back(static_cast<std::uint16_t>(*c));
                    if (comma == std::string_view::npos)
                        break;
                    calls.remove_prefix(comma + 1);
                    if (calls.empty())
                        return bad("CALLS of an alert must be numbers joined by ','");
                }
            }
        }
        records.push_back(std::move(r));
    }
    return records;
}

std::string format_time_ms(std::uint64_t time_ms) {
    std::time_t t = static_cast<std::time_t>(time_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<unsigned>(time_ms % 1000));
    return buf;
}

std::string format_alert(const Alert &a) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  " ALERT #%" PRIu64 " cell %s pid %" PRIu32 " (tgid %" PRIu32 ", ", a.seq,
                  a.cell.c_str(), a.pid, a.tgid);
    std::string line = format_time_ms(a.time_ns / 1000000) + buf + printable(a.comm);
    std::snprintf(buf, sizeof buf, "): score %" PRIu32 " > threshold %" PRIu32, a.score,
                  a.threshold);
    line += buf;
    if (!a.calls.empty())
        line += "; last calls " + calls_text(a.calls, ' ');
    return line + "\n";
}

std::string format_danger(const DangerEvent &d, bool rising) {
    std::string what;
    if (d.level == KIS_DANGER_NONE)
        what = "danger cleared";
    else if (rising)
        what = "DANGER " + std::to_string(d.level);
    else
        what = "danger " + std::to_string(d.level) + " (decayed)";
    std::string unit = param_unit(d.param);
    std::string u = unit.empty() ? "" : " " + unit;
    auto t = [](std::uint64_t v) { return threshold(v) ? std::to_string(v) : std::string("none"); };
    std::string line = format_time_ms(d.time_ns / 1000000) + " " + what + " #" +
                       std::to_string(d.seq) + " cell " + d.cell + ": " + stat_param_name(d.param) +
                       " " + std::to_string(d.value) + u + " vs mean " + std::to_string(d.mean) +
                       " +- " + std::to_string(d.dev) + u + ", thresholds " + t(d.t1) + " and " +
                       t(d.t2);
    if (d.peer)
        line += "; peer " + peer_text(*d.peer) + " (local port " +
                std::to_string(d.peer->local_port) + ")";
    if (!d.path.empty())
        line += "; file " + printable(d.path);
    if (d.pid)
        line += "; pid " + std::to_string(d.pid) + " (tgid " + std::to_string(d.tgid) + ", " +
                printable(d.comm) + ")";
    line += d.cell_level ? "; cell at danger " + std::to_string(d.cell_level) : "; cell cleared";
    return line + "\n";
}

std::string format_training(const TrainingEvent &t) {
    std::string line = format_time_ms(t.time_ns / 1000000) + " suspected training #" +
                       std::to_string(t.seq) + " cell " + t.cell + ": ";
    if (!t.path.empty())
        return line + "file " + printable(t.path) + " is outside the expected tree, not learned\n";
    std::string unit = t.param ? param_unit(*t.param) : "";
    std::string u = unit.empty() ? "" : " " + unit;
    line += t.param ? stat_param_name(*t.param) : std::string("a sample");
    if (t.value)
        line += " " + std::to_string(*t.value) + u;
    line += " not learned";
    if (t.expect) {
        line += ", expected " + std::to_string(*t.expect) + u;
        if (t.tolerance)
            line += " +- " + std::to_string(*t.tolerance) + "%";
    }
    return line + "\n";
}

std::string format_samples(const std::vector<Sample> &samples) {
    if (samples.empty())
        return {};
    const Sample &first = samples.front();
    std::string line = format_time_ms(first.time_ms) + " cell " + first.cell + " threshold " +
                       std::to_string(first.threshold) + ":";
    for (const Sample &s : samples)
        line += " " + std::to_string(s.pid) + "=" + std::to_string(s.score);
    return line + "\n";
}

nlohmann::ordered_json alert_json(const Alert &a) {
    return {{"type", "alert"},
            {"time", format_time_ms(a.time_ns / 1000000)},
            {"time_ns", a.time_ns},
            {"seq", a.seq},
            {"lost", a.lost},
            {"cell", a.cell},
            {"pid", a.pid},
            {"tgid", a.tgid},
            {"comm", a.comm},
            {"score", a.score},
            {"threshold", a.threshold},
            {"calls", a.calls}};
}

nlohmann::ordered_json sample_json(const Sample &s) {
    return {{"type", "sample"},
            {"time", format_time_ms(s.time_ms)},
            {"time_ms", s.time_ms},
            {"cell", s.cell},
            {"pid", s.pid},
            {"tgid", s.tgid},
            {"comm", s.comm},
            {"score", s.score},
            {"max_score", s.max_score},
            {"threshold", s.threshold}};
}

nlohmann::ordered_json danger_json(const DangerEvent &d, bool rising) {
    bool task = d.pid != 0;
    return {{"type", "danger"},
            {"time", format_time_ms(d.time_ns / 1000000)},
            {"time_ns", d.time_ns},
            {"seq", d.seq},
            {"lost", d.lost},
            {"cell", d.cell},
            {"param", stat_param_name(d.param)},
            {"unit", param_unit(d.param)},
            {"level", d.level},
            {"rising", rising},
            {"cell_level", d.cell_level},
            {"value", d.value},
            {"mean", d.mean},
            {"dev", d.dev},
            {"t1", or_null(threshold(d.t1))},
            {"t2", or_null(threshold(d.t2))},
            {"pid", task ? nlohmann::ordered_json(d.pid) : nlohmann::ordered_json(nullptr)},
            {"tgid", task ? nlohmann::ordered_json(d.tgid) : nlohmann::ordered_json(nullptr)},
            {"comm", task ? nlohmann::ordered_json(d.comm) : nlohmann::ordered_json(nullptr)},
            {"peer",
             d.peer ? nlohmann::ordered_json(peer_text(*d.peer)) : nlohmann::ordered_json(nullptr)},
            {"local_port",
             d.peer ? nlohmann::ordered_json(d.peer->local_port) : nlohmann::ordered_json(nullptr)},
            {"path", string_or_null(d.path)}};
}

nlohmann::ordered_json training_json(const TrainingEvent &t) {
    return {{"type", "training"},
            {"time", format_time_ms(t.time_ns / 1000000)},
            {"time_ns", t.time_ns},
            {"seq", t.seq},
            {"lost", t.lost},
            {"cell", t.cell},
            {"param", t.param ? nlohmann::ordered_json(stat_param_name(*t.param))
                              : nlohmann::ordered_json(nullptr)},
            {"unit", t.param ? nlohmann::ordered_json(param_unit(*t.param))
                             : nlohmann::ordered_json(nullptr)},
            {"value", or_null(t.value)},
            {"expect", or_null(t.expect)},
            {"tolerance", or_null(t.tolerance)},
            {"path", string_or_null(t.path)}};
}

nlohmann::ordered_json param_json(const ParamSample &p) {
    int id = kis_stat_param_find(p.param.c_str());
    return {{"type", "param"},
            {"time", format_time_ms(p.time_ms)},
            {"time_ms", p.time_ms},
            {"cell", p.cell},
            {"param", p.param},
            {"unit", id >= 0 ? param_unit(static_cast<std::uint32_t>(id)) : std::string()},
            {"value", p.value},
            {"t1", or_null(p.t1)},
            {"t2", or_null(p.t2)},
            {"level", p.level}};
}

std::vector<std::string> alert_environment(const Alert &a, const char *const *base) {
    std::vector<std::pair<std::string, std::string>> ours = {
        {"KIS_EVENT", "alert"},
        {"KIS_CELL", a.cell},
        {"KIS_PID", std::to_string(a.pid)},
        {"KIS_TGID", std::to_string(a.tgid)},
        {"KIS_COMM", a.comm},
        {"KIS_SCORE", std::to_string(a.score)},
        {"KIS_THRESHOLD", std::to_string(a.threshold)},
        {"KIS_SEQ", std::to_string(a.seq)},
        {"KIS_CALLS", calls_text(a.calls, ' ')},
        {"KIS_TIME", format_time_ms(a.time_ns / 1000000)},
        {"KIS_TIME_NS", std::to_string(a.time_ns)},
    };
    return event_environment(ours, base);
}

std::vector<std::string> danger_environment(const DangerEvent &d, const char *const *base) {
    auto t = [](std::uint64_t v) { return threshold(v) ? std::to_string(v) : std::string(); };
    std::vector<std::pair<std::string, std::string>> ours = {
        {"KIS_EVENT", "danger"},
        {"KIS_CELL", d.cell},
        {"KIS_PARAM", stat_param_name(d.param)},
        {"KIS_UNIT", param_unit(d.param)},
        {"KIS_LEVEL", std::to_string(d.level)},
        {"KIS_CELL_LEVEL", std::to_string(d.cell_level)},
        {"KIS_VALUE", std::to_string(d.value)},
        {"KIS_MEAN", std::to_string(d.mean)},
        {"KIS_DEV", std::to_string(d.dev)},
        {"KIS_T1", t(d.t1)},
        {"KIS_T2", t(d.t2)},
        {"KIS_PEER", d.peer ? peer_text(*d.peer) : std::string()},
        {"KIS_PATH", d.path},
        {"KIS_PID", d.pid ? std::to_string(d.pid) : std::string()},
        {"KIS_TGID", d.pid ? std::to_string(d.tgid) : std::string()},
        {"KIS_COMM", d.pid ? d.comm : std::string()},
        {"KIS_SEQ", std::to_string(d.seq)},
        {"KIS_TIME", format_time_ms(d.time_ns / 1000000)},
        {"KIS_TIME_NS", std::to_string(d.time_ns)},
    };
    return event_environment(ours, base);
}

void DangerLevels::set(const std::string &cell, std::uint32_t param, std::uint32_t level) {
    levels_[{cell, param}] = level;
}

bool DangerLevels::rises(const DangerEvent &d) {
    std::uint32_t &level = levels_[{d.cell, d.param}]; // 0 when not known
    bool rise = d.level == KIS_DANGER_2 || (d.level == KIS_DANGER_1 && level != KIS_DANGER_2);
    level = d.level;
    return rise;
}

std::optional<MissedAlerts> AlertGaps::see(std::uint64_t seq, std::uint64_t lost) {
    std::optional<MissedAlerts> missed;
    std::uint64_t dropped = lost >= last_lost_ ? lost - last_lost_ : 0;
    if (last_seq_ && seq > *last_seq_ + 1) {
        MissedAlerts m;
        m.count = seq - *last_seq_ - 1;
        m.first_seq = *last_seq_ + 1;
        m.last_seq = seq - 1;
        m.dropped_by_module = std::min(dropped, m.count);
        missed = m;
    } else if (!last_seq_ && dropped) {
        MissedAlerts m;
        m.count = dropped;
        m.dropped_by_module = dropped;
        missed = m;
    }
    last_seq_ = seq;
    last_lost_ = lost;
    return missed;
}

Result<PlotScript> gnuplot_script(const std::vector<LogRecord> &records, const PlotSelection &sel) {
    std::vector<const LogRecord *> chosen;
    bool params = false;
    for (const LogRecord &r : records) {
        if (r.kind != LogRecord::Kind::task) {
            params = params || r.kind == LogRecord::Kind::param;
            continue;
        }
        if ((!sel.cell || r.cell == *sel.cell) && (!sel.pid || r.pid == *sel.pid))
            chosen.push_back(&r);
    }
    if (chosen.empty()) {
        std::string what = "no records";
        if (sel.cell)
            what += " of cell " + *sel.cell;
        if (sel.pid)
            what += " of pid " + std::to_string(*sel.pid);
        what += " in the log";
        if (params && !sel.pid)
            what += "; it has parameter samples: draw one with --param NAME";
        return make_error(what);
    }
    std::stable_sort(chosen.begin(), chosen.end(), [](const LogRecord *a, const LogRecord *b) {
        return a->time_ms < b->time_ms;
    });
    std::uint64_t t0 = chosen.front()->time_ms;

    // Series per task, ordered by cell and pid; the highest scores win when there are many.
    using Key = std::pair<std::string, std::uint32_t>;
    std::map<Key, std::vector<const LogRecord *>> tasks;
    std::map<std::string, std::vector<const LogRecord *>> cells;
    std::vector<const LogRecord *> alerts;
    // Lines are drawn through the samples; alerts (often of tasks that lived too short to be
    // sampled) are points of their own.
    std::map<Key, std::string> comms;
    for (const LogRecord *r : chosen) {
        cells[r->cell].push_back(r);
        if (r->alert) {
            alerts.push_back(r);
            if (!r->comm.empty())
                comms[{r->cell, r->pid}] = r->comm;
        } else {
            tasks[{r->cell, r->pid}].push_back(r);
        }
    }
    std::vector<std::pair<std::uint32_t, Key>> by_max;
    for (const auto &[key, recs] : tasks) {
        std::uint32_t m = 0;
        for (const LogRecord *r : recs)
            m = std::max(m, r->score);
        by_max.push_back({m, key});
    }
    std::stable_sort(by_max.begin(), by_max.end(),
                     [](const auto &a, const auto &b) { return a.first > b.first; });
    std::set<Key> kept;
    for (std::size_t i = 0; i < by_max.size() && i < sel.max_series; i++)
        kept.insert(by_max[i].second);

    PlotScript out;
    out.dropped_series = tasks.size() - kept.size();
    out.alerts = alerts.size();
    std::ostringstream s;
    auto secs = [&](std::uint64_t t) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(t - t0) / 1000.0);
        return std::string(buf);
    };
    std::string title = "KIS normality";
    if (sel.cell)
        title += ", cell " + *sel.cell;
    if (sel.pid)
        title += ", pid " + std::to_string(*sel.pid);
    s << "# kisctl plot\n"
      << "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
      << "    set terminal pngcairo size 1200,640 noenhanced font ',10'\n"
      << "} else {\n"
      << "    set terminal png size 1200,640 noenhanced\n"
      << "}\n"
      << "set title '" << title << "' noenhanced\n"
      << "set xlabel 'seconds since " << format_time_ms(t0) << "'\n"
      << "set ylabel 'anomaly: average score over the window (0..1000)'\n"
      << "set yrange [0:1050]\n"
      << "set grid\n"
      << "set key outside right top noenhanced\n";

    std::vector<std::string> plots;
    std::size_t n = 0;
    for (const auto &[key, recs] : tasks) {
        if (!kept.count(key))
            continue;
        n++;
        s << "$task" << n << " << EOD\n";
        for (const LogRecord *r : recs)
            s << secs(r->time_ms) << " " << r->score << "\n";
        out.samples += recs.size();
        s << "EOD\n";
        std::string label = key.first + " pid " + std::to_string(key.second);
        if (auto it = comms.find(key); it != comms.end())
            label += " (" + plot_safe(it->second) + ")";
        plots.push_back("$task" + std::to_string(n) +
                        " using 1:2 with linespoints lw 2 pt 7 ps 0.6 title '" + label + "'");
    }
    out.series = n;
    std::size_t c = 0;
    for (const auto &[cell, recs] : cells) {
        c++;
        s << "$threshold" << c << " << EOD\n";
        for (const LogRecord *r : recs)
            s << secs(r->time_ms) << " " << r->threshold << "\n";
        s << "EOD\n";
        plots.push_back("$threshold" + std::to_string(c) +
                        " using 1:2 with steps dt 2 lw 2 lc rgb 'red' title 'threshold " + cell +
                        "'");
    }
    if (!alerts.empty()) {
        // Each alert labelled with its task, while that stays readable.
        bool labels = alerts.size() <= 20;
        s << "$alerts << EOD\n";
        for (const LogRecord *r : alerts) {
            s << secs(r->time_ms) << " " << r->score;
            if (labels) {
                std::string comm = plot_safe(r->comm);
                std::replace(comm.begin(), comm.end(), ' ', '_');
                s << " " << (comm.empty() ? "" : comm + ":") << r->pid;
            }
            s << "\n";
        }
        s << "EOD\n";
        plots.push_back("$alerts using 1:2 with points pt 7 ps 1.5 lc rgb 'red' title 'alerts'");
        if (labels)
            plots.push_back("$alerts using 1:2:3 with labels left offset 1,0.5 font ',8' "
                            "notitle");
    }
    s << "plot ";
    for (std::size_t i = 0; i < plots.size(); i++)
        s << (i ? ", \\\n     " : "") << plots[i];
    s << "\n";
    out.script = s.str();
    return out;
}

namespace {

std::string join(const std::vector<std::string> &words, const std::string &sep) {
    std::string out;
    for (const std::string &w : words)
        out += (out.empty() ? "" : sep) + w;
    return out;
}

} // namespace

Result<PlotScript> gnuplot_param_script(const std::vector<LogRecord> &records,
                                        const std::string &param, const PlotSelection &sel) {
    using Kind = LogRecord::Kind;
    std::map<std::string, std::vector<const LogRecord *>> samples, dangers; // by cell
    std::set<std::string> present; // parameters with samples, of the selected cells
    for (const LogRecord &r : records) {
        if (r.kind != Kind::param && r.kind != Kind::danger)
            continue;
        if (sel.cell && r.cell != *sel.cell)
            continue;
        if (r.kind == Kind::param)
            present.insert(r.param);
        if (r.param != param)
            continue;
        (r.kind == Kind::param ? samples : dangers)[r.cell].push_back(&r);
    }
    std::string of_cell = sel.cell ? " of cell " + *sel.cell : "";
    if (samples.empty()) {
        std::string msg = "no samples of parameter " + param + of_cell + " in the log";
        if (present.empty())
            return make_error(msg + "; it has no parameter samples at all (kisctl monitor --log "
                                    "writes them for the cells of a module that keeps "
                                    "statistics)");
        return make_error(msg + "; it has samples of " +
                          join(std::vector<std::string>(present.begin(), present.end()), ", "));
    }
    auto by_time = [](const LogRecord *a, const LogRecord *b) { return a->time_ms < b->time_ms; };
    std::uint64_t t0 = UINT64_MAX;
    for (auto *m : {&samples, &dangers})
        for (auto &[cell, recs] : *m) {
            std::stable_sort(recs.begin(), recs.end(), by_time);
            t0 = std::min(t0, recs.front()->time_ms);
        }
    auto secs = [&](std::uint64_t t) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(t - t0) / 1000.0);
        return std::string(buf);
    };
    int id = kis_stat_param_find(param.c_str());
    std::string unit = id >= 0 ? param_unit(static_cast<std::uint32_t>(id)) : "";
    std::string label = param + (unit.empty() ? "" : " (" + unit + ")");

    PlotScript out;
    std::ostringstream s;
    s << "# kisctl plot --param " << param << "\n"
      << "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
      << "    set terminal pngcairo size 1200,640 noenhanced font ',10'\n"
      << "} else {\n"
      << "    set terminal png size 1200,640 noenhanced\n"
      << "}\n"
      << "set title 'KIS parameter " << label << (sel.cell ? ", cell " + *sel.cell : "")
      << "' noenhanced\n"
      << "set xlabel 'seconds since " << format_time_ms(t0) << "'\n"
      << "set ylabel '" << label << "'\n"
      << "set yrange [0:*]\n"
      << "set grid\n"
      << "set key outside right top noenhanced\n";
    std::vector<std::string> plots;
    std::size_t c = 0;
    for (const auto &[cell, recs] : samples) {
        c++;
        std::string n = std::to_string(c);
        s << "$value" << n << " << EOD\n";
        for (const LogRecord *r : recs)
            s << secs(r->time_ms) << " " << *r->value << "\n";
        s << "EOD\n";
        out.samples += recs.size();
        // A cell's thresholds in its line's colour: dotted 1, dashed 2.
        plots.push_back("$value" + n + " using 1:2 with linespoints lw 2 pt 7 ps 0.6 lc " + n +
                        " title '" + cell + " " + param + "'");
        // The thresholds where the parameter was armed; a re-arm shows as a step.
        for (int which = 1; which <= 2; which++) {
            std::string block;
            for (const LogRecord *r : recs) {
                const std::optional<std::uint64_t> &t = which == 1 ? r->t1 : r->t2;
                if (t)
                    block += secs(r->time_ms) + " " + std::to_string(*t) + "\n";
            }
            if (block.empty())
                continue;
            std::string name = "$t" + std::to_string(which) + "_" + n;
            s << name << " << EOD\n" << block << "EOD\n";
            plots.push_back(name + " using 1:2 with steps dt " + (which == 1 ? "3" : "2") +
                            " lw 2 lc " + n + " title 'threshold " + std::to_string(which) + " " +
                            cell + "'");
        }
    }
    out.series = c;
    std::vector<const LogRecord *> points;
    for (const auto &[cell, recs] : dangers)
        if (samples.count(cell))
            points.insert(points.end(), recs.begin(), recs.end());
    if (!points.empty()) {
        std::stable_sort(points.begin(), points.end(), by_time);
        bool labels = points.size() <= 20;
        s << "$danger << EOD\n";
        for (const LogRecord *r : points) {
            s << secs(r->time_ms) << " " << *r->value;
            if (labels)
                s << " " << r->cell << ":" << r->level;
            s << "\n";
        }
        s << "EOD\n";
        plots.push_back("$danger using 1:2 with points pt 7 ps 1.5 lc rgb 'red' title 'danger "
                        "signals (cell:level)'");
        if (labels)
            plots.push_back("$danger using 1:2:3 with labels left offset 1,0.5 font ',8' "
                            "notitle");
    }
    out.dangers = points.size();
    s << "plot ";
    for (std::size_t i = 0; i < plots.size(); i++)
        s << (i ? ", \\\n     " : "") << plots[i];
    s << "\n";
    out.script = s.str();
    return out;
}

} // namespace kis
