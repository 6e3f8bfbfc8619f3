#include "monitor_log.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <sstream>

#include "config.hpp"
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

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
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
                              "THRESHOLD [alert SEQ TGID COMM CALLS]");
        };
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

std::vector<std::string> alert_environment(const Alert &a, const char *const *base) {
    std::vector<std::pair<std::string, std::string>> ours = {
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
    std::vector<std::string> env;
    for (const char *const *p = base; p && *p; p++) {
        std::string_view v = *p;
        std::string_view name = v.substr(0, v.find('='));
        bool replaced = false;
        for (const auto &[n, value] : ours)
            if (n == name)
                replaced = true;
        if (!replaced)
            env.emplace_back(v);
    }
    for (const auto &[n, value] : ours)
        env.push_back(n + "=" + value);
    return env;
}

std::optional<MissedAlerts> AlertGaps::see(const Alert &a) {
    std::optional<MissedAlerts> missed;
    std::uint64_t dropped = a.lost >= last_lost_ ? a.lost - last_lost_ : 0;
    if (last_seq_ && a.seq > *last_seq_ + 1) {
        MissedAlerts m;
        m.count = a.seq - *last_seq_ - 1;
        m.first_seq = *last_seq_ + 1;
        m.last_seq = a.seq - 1;
        m.dropped_by_module = std::min(dropped, m.count);
        missed = m;
    } else if (!last_seq_ && dropped) {
        MissedAlerts m;
        m.count = dropped;
        m.dropped_by_module = dropped;
        missed = m;
    }
    last_seq_ = a.seq;
    last_lost_ = a.lost;
    return missed;
}

Result<PlotScript> gnuplot_script(const std::vector<LogRecord> &records, const PlotSelection &sel) {
    std::vector<const LogRecord *> chosen;
    for (const LogRecord &r : records)
        if ((!sel.cell || r.cell == *sel.cell) && (!sel.pid || r.pid == *sel.pid))
            chosen.push_back(&r);
    if (chosen.empty()) {
        std::string what = "no records";
        if (sel.cell)
            what += " of cell " + *sel.cell;
        if (sel.pid)
            what += " of pid " + std::to_string(*sel.pid);
        return make_error(what + " in the log");
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

} // namespace kis
