#include "config.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <utility>

#include <toml++/toml.h>

#include "kis_match.h"
#include "kis_seq.h"
#include "kis_stat.h"
#include "text.hpp"
#include "toml_util.hpp"

namespace kis {

namespace {

constexpr std::array<std::string_view, 7> kCellKeys = {
    "name", "program", "args", "follow_exec", "max_tasks", "sequence", "stats"};
constexpr std::array<std::string_view, 6> kSequenceKeys = {
    "k", "window", "threshold", "threshold2", "learn_prefixes", "learn_kgrams"};
// And "files": the expected file tree as an array, the parameter files as a table. A cell that
// needs both writes the array as file_globs.
constexpr std::array<std::string_view, 5> kStatsKeys = {"interval", "hold1", "hold2", "file_tree",
                                                        "file_globs"};
constexpr std::array<std::string_view, 5> kParamKeys = {"mult1", "mult2", "floor", "expect",
                                                        "tolerance"};
// What `kisctl set --param` may change at run time.
constexpr std::array<std::string_view, 3> kParamSetKeys = {"mult1", "mult2", "floor"};

// The parameters a [cell.stats.PARAM] table or --param may name: all but seq, whose
// thresholds are threshold and threshold2 of [cell.sequence].
std::vector<std::string_view> stats_param_names() {
    std::vector<std::string_view> names;
    for (std::uint32_t id = 0; id < KIS_PARAM_COUNT; id++)
        if (id != KIS_PARAM_SEQ)
            if (const kis_stat_param_info *info = kis_stat_param(id); info && info->name)
                names.emplace_back(info->name);
    return names;
}

std::string joined(const std::vector<std::string_view> &words) {
    std::string out;
    for (std::size_t i = 0; i < words.size(); i++)
        out += (i ? (i + 1 == words.size() ? " and " : ", ") : "") + std::string(words[i]);
    return out;
}

std::string suggestion(std::string_view key) {
    std::string_view best = closest(key, kCellKeys);
    if (best.empty())
        return " (a cell has the keys name, program, args, follow_exec and max_tasks, and the "
               "sub-tables [cell.sequence] and [cell.stats])";
    return " (did you mean \"" + std::string(best) + "\"?)";
}

std::string sequence_suggestion(std::string_view key) {
    std::string_view best = closest(key, kSequenceKeys);
    if (best.empty())
        return " ([cell.sequence] has the keys k, window, threshold, threshold2, learn_prefixes "
               "and learn_kgrams)";
    return did_you_mean(best);
}

// The hint for an unknown key or sub-table of [cell.stats].
std::string stats_suggestion(std::string_view key, bool is_table) {
    std::vector<std::string_view> names = stats_param_names();
    std::string_view best = closest(key, names);
    if (best.empty() || !is_table) {
        std::string_view best_key = closest(key, kStatsKeys);
        if (!best_key.empty() && !is_table)
            return did_you_mean(best_key);
    }
    if (!best.empty())
        return did_you_mean(best);
    if (is_table)
        return " (the parameters are " + joined(names) + ")";
    return " ([cell.stats] has the keys interval, hold1, hold2, file_tree and files, and a "
           "sub-table per parameter, e.g. [cell.stats.cpu])";
}

std::string param_suggestion(std::string_view key, std::string_view where) {
    std::string_view best = closest(key, kParamKeys);
    if (best.empty())
        return " (" + std::string(where) +
               " has the keys mult1, mult2, floor, expect and tolerance)";
    return did_you_mean(best);
}

// A number of a config as written: 3.5 as "3.5", 1e300 as "1e+300".
std::string number_text(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

class CellParser {
  public:
    CellParser(FileConfig &out, const toml::table &table, int header_line)
        : out_(out), table_(table), header_line_(header_line) {}

    void parse() {
        std::size_t errors_before = out_.errors.size();
        CellConfig cell;
        cell.file = out_.path;
        cell.line = header_line_;

        parse_name(cell);
        parse_program(cell);
        parse_args(cell);
        parse_follow_exec(cell);
        parse_max_tasks(cell);
        parse_sequence(cell);
        parse_stats(cell);
        check_unknown_keys(cell);

        if (out_.errors.size() == errors_before)
            out_.cells.push_back(std::move(cell));
    }

  private:
    void error(int line, std::string message) {
        out_.errors.push_back({out_.path, line, std::move(message)});
    }

    // Which cell a message is about: by name when the name is usable.
    std::string label() const {
        if (name_ok_)
            return "cell " + quoted(name_);
        return "the [[cell]] at line " + std::to_string(header_line_);
    }

    const toml::node *get(std::string_view key) const { return table_.get(key); }

    // A string value; reports wrong types and NUL bytes.
    std::optional<std::string> string_value(std::string_view key, const toml::node &node) {
        const auto *s = node.as_string();
        if (!s) {
            error(line_of(node), std::string(key) + " must be a string, not " +
                                     std::string(type_phrase(node.type())));
            return std::nullopt;
        }
        const std::string &v = s->get();
        if (v.find('\0') != std::string::npos) {
            error(line_of(node), std::string(key) + " must not contain a NUL character");
            return std::nullopt;
        }
        return v;
    }

    void parse_name(CellConfig &cell) {
        const toml::node *node = get("name");
        if (!node) {
            error(header_line_, "[[cell]] has no name; add name = \"...\" (1 to " +
                                    std::to_string(KIS_CELL_NAME_MAX - 1) +
                                    " letters, digits, '_', '.' or '-')");
            return;
        }
        auto v = string_value("name", *node);
        if (!v)
            return;
        if (auto problem = check_cell_name(*v)) {
            error(line_of(*node), *problem);
            return;
        }
        cell.name = *v;
        cell.name_line = line_of(*node);
        name_ = *v;
        name_ok_ = true;
    }

    void parse_program(CellConfig &cell) {
        const toml::node *node = get("program");
        if (!node) {
            error(header_line_,
                  label() + " has no program; add program = \"...\" (the executable's name, "
                            "e.g. \"httpd\", or a path glob such as \"/usr/sbin/*\")");
            return;
        }
        auto v = string_value("program", *node);
        if (!v)
            return;
        if (auto problem = check_pattern("program", *v, KIS_PROGRAM_MAX)) {
            error(line_of(*node), *problem);
            return;
        }
        cell.program = *v;
    }

    void parse_args(CellConfig &cell) {
        const toml::node *node = get("args");
        if (!node)
            return;
        auto v = string_value("args", *node);
        if (!v)
            return;
        if (auto problem = check_pattern("args", *v, KIS_ARGS_PATTERN_MAX)) {
            error(line_of(*node), *problem);
            return;
        }
        cell.args = *v;
    }

    void parse_follow_exec(CellConfig &cell) {
        const toml::node *node = get("follow_exec");
        if (!node)
            return;
        const auto *b = node->as_boolean();
        if (!b) {
            error(line_of(*node), "follow_exec must be a boolean (true or false), not " +
                                      std::string(type_phrase(node->type())));
            return;
        }
        cell.follow_exec = b->get();
    }

    void parse_max_tasks(CellConfig &cell) {
        const toml::node *node = get("max_tasks");
        if (!node)
            return;
        const auto *i = node->as_integer();
        if (!i) {
            error(line_of(*node),
                  "max_tasks must be an integer, not " + std::string(type_phrase(node->type())));
            return;
        }
        std::int64_t v = i->get();
        if (v < KIS_CELL_TASKS_MIN || v > KIS_CELL_TASKS_MAX) {
            error(line_of(*node), "max_tasks " + std::to_string(v) + " is out of range; use " +
                                      std::to_string(KIS_CELL_TASKS_MIN) + ".." +
                                      std::to_string(KIS_CELL_TASKS_MAX));
            return;
        }
        cell.max_tasks = static_cast<std::uint32_t>(v);
    }

    // An integer in [lo, hi] of a sub-table (`where` is "[cell.sequence]", ...); `what`
    // explains the number.
    std::optional<std::int64_t> table_number(const toml::table &table, std::string_view where,
                                             std::string_view key, std::int64_t lo, std::int64_t hi,
                                             std::string_view what) {
        const toml::node *node = table.get(key);
        if (!node)
            return std::nullopt;
        const auto *i = node->as_integer();
        if (!i) {
            std::string hint;
            if ((key == "threshold" || key == "threshold2") && node->is_floating_point())
                hint = " (in thousandths of the anomaly score: 300 means 0.3)";
            error(line_of(*node), std::string(key) + " in " + std::string(where) + " of " +
                                      label() + " must be an integer, not " +
                                      std::string(type_phrase(node->type())) + hint);
            return std::nullopt;
        }
        std::int64_t v = i->get();
        if (v < lo || v > hi) {
            std::string range = hi == INT64_MAX ? std::to_string(lo) + " or more"
                                                : std::to_string(lo) + ".." + std::to_string(hi);
            error(line_of(*node), std::string(key) + " " + std::to_string(v) + " in " +
                                      std::string(where) + " of " + label() +
                                      " is out of range; use " + range + " (" + std::string(what) +
                                      ")");
            return std::nullopt;
        }
        return v;
    }

    std::optional<std::uint32_t> sequence_number(const toml::table &seq, std::string_view key,
                                                 std::int64_t lo, std::int64_t hi,
                                                 std::string_view what) {
        auto v = table_number(seq, "[cell.sequence]", key, lo, hi, what);
        if (!v)
            return std::nullopt;
        return static_cast<std::uint32_t>(*v);
    }

    void parse_sequence(CellConfig &cell) {
        const toml::node *node = get("sequence");
        if (!node)
            return;
        const toml::table *seq = node->as_table();
        if (!seq) {
            error(line_of(*node), "sequence in " + label() + " must be a table ([cell.sequence] " +
                                      "after the [[cell]]), not " +
                                      std::string(type_phrase(node->type())));
            return;
        }
        SequenceConfig &s = cell.sequence;
        if (auto v = sequence_number(*seq, "k", KIS_SEQ_K_MIN, KIS_SEQ_K_MAX,
                                     "the length of the call sequences learned"))
            s.k = *v;
        if (auto v = sequence_number(*seq, "window", 1, KIS_SEQ_WINDOW_MAX,
                                     "how many calls' scores are averaged"))
            s.window = *v;
        bool threshold_ok = !seq->get("threshold");
        if (auto v = sequence_number(*seq, "threshold", 0, KIS_SEQ_SCORE_ONE,
                                     "thousandths of the anomaly score")) {
            s.threshold = *v;
            threshold_ok = true;
        }
        std::optional<std::uint32_t> threshold2 =
            sequence_number(*seq, "threshold2", 0, KIS_SEQ_SCORE_ONE,
                            "danger signal 2 above this, thousandths of the anomaly score");
        if (threshold2 && threshold_ok && *threshold2 < s.threshold)
            error(line_of(*seq->get("threshold2")),
                  "threshold2 " + std::to_string(*threshold2) + " in [cell.sequence] of " +
                      label() + " is below threshold " + std::to_string(s.threshold) +
                      "; danger signal 2 needs a score at least as high as an alert");
        s.threshold2 = threshold2 ? *threshold2 : default_threshold2(s.threshold);
        if (auto v = sequence_number(*seq, "learn_prefixes", 1, KIS_LEARN_CAP_MAX,
                                     "room for runs of k-1 calls while learning"))
            s.learn_prefixes = *v;
        if (auto v = sequence_number(*seq, "learn_kgrams", 1, KIS_LEARN_CAP_MAX,
                                     "room for k-grams while learning"))
            s.learn_kgrams = *v;
        for (auto &&[key, value] : *seq) {
            std::string_view k = key.str();
            if (std::find(kSequenceKeys.begin(), kSequenceKeys.end(), k) != kSequenceKeys.end())
                continue;
            error(line_of(key, value), "unknown key " + quoted(k) + " in [cell.sequence] of " +
                                           label() + sequence_suggestion(k));
        }
    }

    void parse_interval(const toml::table &st, StatsConfig &s) {
        const toml::node *node = st.get("interval");
        if (!node)
            return;
        std::optional<std::uint64_t> ms;
        std::string shown;
        if (const auto *i = node->as_integer()) {
            shown = std::to_string(i->get());
            if (i->get() >= 0)
                ms = static_cast<std::uint64_t>(i->get());
            else
                ms = 0;
        } else if (const auto *str = node->as_string()) {
            shown = quoted(str->get());
            ms = parse_duration_ms(str->get());
            if (!ms) {
                error(line_of(*node), "interval " + shown + " in [cell.stats] of " + label() +
                                          " is not a duration; write e.g. \"500ms\", \"1s\" or "
                                          "\"2m\", or an integer of milliseconds");
                return;
            }
        } else {
            error(line_of(*node), "interval in [cell.stats] of " + label() +
                                      " must be a duration such as \"1s\" or an integer of "
                                      "milliseconds, not " +
                                      std::string(type_phrase(node->type())));
            return;
        }
        if (*ms < KIS_STAT_INTERVAL_MS_MIN || *ms > KIS_STAT_INTERVAL_MS_MAX) {
            error(line_of(*node), "interval " + shown + " in [cell.stats] of " + label() +
                                      " is out of range; use " +
                                      std::to_string(KIS_STAT_INTERVAL_MS_MIN) + "ms.." +
                                      std::to_string(KIS_STAT_INTERVAL_MS_MAX) +
                                      "ms (how often the cell's resources are sampled)");
            return;
        }
        s.interval_ms = static_cast<std::uint32_t>(*ms);
    }

    // The expected file tree: files = [...], or file_globs = [...] next to the parameter's
    // table [cell.stats.files].
    void parse_files(const toml::table &st, StatsConfig &s) {
        const toml::node *files_node = st.get("files");
        if (files_node && files_node->is_table())
            files_node = nullptr; // the parameter
        const toml::node *globs_node = st.get("file_globs");
        if (files_node && globs_node) {
            error(line_of(*globs_node), "file_globs and files in [cell.stats] of " + label() +
                                            " both give the expected file tree; keep one "
                                            "(file_globs is for a cell that also has the table "
                                            "[cell.stats.files])");
            return;
        }
        const toml::node *node = files_node ? files_node : globs_node;
        if (!node)
            return;
        std::string key = files_node ? "files" : "file_globs";
        const toml::array *files = node->as_array();
        if (!files) {
            std::string table =
                files_node ? ", or the table [cell.stats.files] of the parameter" : "";
            error(line_of(*node), key + " in [cell.stats] of " + label() +
                                      " must be an array of path globs, e.g. " + key +
                                      " = [\"/var/www/*\"]" + table + ", not " +
                                      std::string(type_phrase(node->type())));
            return;
        }
        if (files->size() > KIS_FILE_GLOBS_MAX) {
            error(line_of(*node), key + " in [cell.stats] of " + label() + " has " +
                                      std::to_string(files->size()) + " globs; at most " +
                                      std::to_string(KIS_FILE_GLOBS_MAX) + " are allowed");
            return;
        }
        std::vector<std::string> globs;
        bool ok = true;
        for (const toml::node &element : *files) {
            int line = line_of(element) > 0 ? line_of(element) : line_of(*node);
            const auto *str = element.as_string();
            if (!str) {
                error(line, key + " in [cell.stats] of " + label() +
                                " must hold strings (path globs), not " +
                                std::string(type_phrase(element.type())));
                ok = false;
                continue;
            }
            const std::string &v = str->get();
            if (v.empty() || v[0] != '/') {
                error(line, "file glob " + quoted(v) + " in [cell.stats] of " + label() +
                                " is not an absolute path; the expected file tree is given "
                                "as globs starting with '/', e.g. \"/var/www/*\"");
                ok = false;
                continue;
            }
            if (auto problem = check_pattern("file glob", v, KIS_PROGRAM_MAX)) {
                error(line, *problem);
                ok = false;
                continue;
            }
            globs.push_back(v);
        }
        if (ok)
            s.files = std::move(globs);
    }

    // A multiplier of the deviation: a number 0..1000.0, in tenths.
    std::optional<std::uint32_t> mult_value(const toml::table &t, std::string_view where,
                                            std::string_view key, std::string_view what) {
        const toml::node *node = t.get(key);
        if (!node)
            return std::nullopt;
        double v = 0;
        if (const auto *f = node->as_floating_point()) {
            v = f->get();
        } else if (const auto *i = node->as_integer()) {
            v = static_cast<double>(i->get());
        } else {
            error(line_of(*node), std::string(key) + " in " + std::string(where) + " of " +
                                      label() +
                                      " must be a number of deviations such as 3.0, not " +
                                      std::string(type_phrase(node->type())));
            return std::nullopt;
        }
        if (!(v >= 0 && v <= KIS_MULT_MAX / 10.0)) {
            error(line_of(*node), std::string(key) + " " + number_text(v) + " in " +
                                      std::string(where) + " of " + label() +
                                      " is out of range; use 0.0.." + tenths_text(KIS_MULT_MAX) +
                                      " (" + std::string(what) + ")");
            return std::nullopt;
        }
        return static_cast<std::uint32_t>(std::llround(v * 10));
    }

    void parse_param(std::uint32_t id, const toml::key &key, const toml::node &node,
                     StatsConfig &s) {
        std::string name = stat_param_name(id);
        std::string where = "[cell.stats." + name + "]";
        const toml::table *t = node.as_table();
        if (!t) {
            error(line_of(key, node), name + " in [cell.stats] of " + label() +
                                          " must be a table (" + where + "), not " +
                                          std::string(type_phrase(node.type())));
            return;
        }
        const kis_stat_param_info *info = kis_stat_param(id);
        std::string unit = info && info->unit ? info->unit : "";
        std::size_t errors_before = out_.errors.size();
        ParamConfig p;
        p.id = id;
        p.line = line_of(key, node);
        p.mult1 = mult_value(*t, where, "mult1", "deviations above the mean for danger signal 1");
        p.mult2 = mult_value(*t, where, "mult2", "deviations above the mean for danger signal 2");
        if (auto v = table_number(*t, where, "floor", 0, INT64_MAX,
                                  "the least deviation used, in " + unit))
            p.floor = static_cast<std::uint64_t>(*v);
        if (auto v = table_number(*t, where, "expect", 0, INT64_MAX,
                                  "the expected value while learning, in " + unit))
            p.expect = static_cast<std::uint64_t>(*v);
        if (auto v = table_number(*t, where, "tolerance", 0, KIS_TOLERANCE_MAX,
                                  "percent of the expected value"))
            p.tolerance = static_cast<std::uint32_t>(*v);
        if (t->get("tolerance") && !t->get("expect"))
            error(line_of(*t->get("tolerance")),
                  "tolerance in " + where + " of " + label() +
                      " needs expect: it is how far, in percent, a sample learned may be from "
                      "the expected value");
        if (p.expect && !p.tolerance)
            p.tolerance = kToleranceDefault;
        // Compared when every multiplier given is good, with the defaults for the others.
        bool mults_ok = (!t->get("mult1") || p.mult1) && (!t->get("mult2") || p.mult2);
        if ((p.mult1 || p.mult2) && mults_ok && info) {
            std::uint32_t m1 = p.mult1.value_or(info->limits.mult1);
            std::uint32_t m2 = p.mult2.value_or(info->limits.mult2);
            if (m2 < m1) {
                const toml::node *at = p.mult2 ? t->get("mult2") : t->get("mult1");
                error(line_of(*at), "mult2 " + tenths_text(m2) + (p.mult2 ? "" : " (the default)") +
                                        " in " + where + " of " + label() + " is below mult1 " +
                                        tenths_text(m1) + (p.mult1 ? "" : " (the default)") +
                                        "; danger signal 2 needs at least as many deviations "
                                        "as danger signal 1");
            }
        }
        for (auto &&[k, value] : *t) {
            std::string_view ks = k.str();
            if (std::find(kParamKeys.begin(), kParamKeys.end(), ks) != kParamKeys.end())
                continue;
            error(line_of(k, value), "unknown key " + quoted(ks) + " in " + where + " of " +
                                         label() + param_suggestion(ks, where));
        }
        if (out_.errors.size() == errors_before)
            s.params.push_back(p);
    }

    void parse_stats(CellConfig &cell) {
        const toml::node *node = get("stats");
        if (!node)
            return;
        const toml::table *st = node->as_table();
        if (!st) {
            error(line_of(*node), "stats in " + label() + " must be a table ([cell.stats] after " +
                                      "the [[cell]]), not " +
                                      std::string(type_phrase(node->type())));
            return;
        }
        StatsConfig &s = cell.stats;
        s.given = true;
        parse_interval(*st, s);
        if (auto v = table_number(*st, "[cell.stats]", "hold1", 0, KIS_DANGER_HOLD_MAX,
                                  "quiet intervals before danger signal 1 ends"))
            s.hold1 = static_cast<std::uint32_t>(*v);
        if (auto v = table_number(*st, "[cell.stats]", "hold2", 0, KIS_DANGER_HOLD_MAX,
                                  "quiet intervals before danger signal 2 falls to 1"))
            s.hold2 = static_cast<std::uint32_t>(*v);
        if (auto v = table_number(*st, "[cell.stats]", "file_tree", 1, KIS_FILE_TREE_MAX,
                                  "room for the files and directories learned"))
            s.file_tree = static_cast<std::uint32_t>(*v);
        parse_files(*st, s);
        for (auto &&[key, value] : *st) {
            std::string_view k = key.str();
            if (std::find(kStatsKeys.begin(), kStatsKeys.end(), k) != kStatsKeys.end())
                continue;
            if (k == "files" && !value.is_table())
                continue; // the expected file tree, parse_files
            auto id = find_param(k);
            if (id && *id != KIS_PARAM_SEQ) {
                parse_param(*id, key, value, s);
                continue;
            }
            if (id) {
                error(line_of(key, value),
                      "seq in [cell.stats] of " + label() +
                          ": the thresholds of the sequence anomaly are threshold and "
                          "threshold2 in [cell.sequence]");
                continue;
            }
            if (value.is_table())
                error(line_of(key, value), "unknown parameter " + quoted(k) +
                                               " in [cell.stats] of " + label() +
                                               stats_suggestion(k, true));
            else
                error(line_of(key, value), "unknown key " + quoted(k) + " in [cell.stats] of " +
                                               label() + stats_suggestion(k, false));
        }
        std::sort(s.params.begin(), s.params.end(),
                  [](const ParamConfig &a, const ParamConfig &b) { return a.id < b.id; });
    }

    void check_unknown_keys(const CellConfig &) {
        for (auto &&[key, node] : table_) {
            std::string_view k = key.str();
            if (std::find(kCellKeys.begin(), kCellKeys.end(), k) != kCellKeys.end())
                continue;
            std::string hint =
                node.is_table()
                    ? std::string(" (a cell has only the sub-tables [cell.sequence] and "
                                  "[cell.stats])")
                    : suggestion(k);
            error(line_of(key, node), "unknown key " + quoted(k) + " in " + label() + hint);
        }
    }

    FileConfig &out_;
    const toml::table &table_;
    int header_line_;
    std::string name_;
    bool name_ok_ = false;
};

void parse_cells_node(FileConfig &out, const toml::key &key, const toml::node &node) {
    int line = line_of(key, node);
    if (node.is_table()) {
        out.errors.push_back(
            {out.path, line, "\"cell\" must be an array of tables: write [[cell]], not [cell]"});
        return;
    }
    const toml::array *cells = node.as_array();
    if (!cells) {
        out.errors.push_back({out.path, line,
                              "\"cell\" must be an array of tables, not " +
                                  std::string(type_phrase(node.type())) +
                                  "; write each cell as a [[cell]] table"});
        return;
    }
    if (cells->empty()) {
        out.errors.push_back({out.path, line,
                              "no cells: \"cell\" is an empty array; "
                              "write each cell as a [[cell]] table"});
        return;
    }
    for (const toml::node &element : *cells) {
        const toml::table *table = element.as_table();
        if (!table) {
            out.errors.push_back({out.path, line_of(element),
                                  "\"cell\" must be an array of tables, but it holds " +
                                      std::string(type_phrase(element.type())) +
                                      "; write each cell as a [[cell]] table"});
            continue;
        }
        int header_line = line_of(*table);
        CellParser(out, *table, header_line > 0 ? header_line : line).parse();
    }
}

} // namespace

std::string ConfigError::str() const {
    if (line > 0)
        return file + ":" + std::to_string(line) + ": " + message;
    return file + ": " + message;
}

std::optional<std::string> check_cell_name(std::string_view name) {
    if (name.empty())
        return "cell name must not be empty";
    if (name.size() > KIS_CELL_NAME_MAX - 1)
        return "cell name " + quoted(name) + " is " + std::to_string(name.size()) +
               " bytes long; at most " + std::to_string(KIS_CELL_NAME_MAX - 1) + " are allowed";
    for (std::size_t i = 0; i < name.size(); i++) {
        char c = name[i];
        bool good = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
        if (!good)
            return "cell name " + quoted(name) + " has a bad character " +
                   quoted(std::string_view(&name[i], 1)) + " at offset " + std::to_string(i) +
                   "; use only letters, digits, '_', '.' and '-'";
    }
    return std::nullopt;
}

std::optional<std::string> check_pattern(std::string_view what, std::string_view pattern,
                                         std::size_t size_max) {
    std::string w(what);
    if (pattern.empty()) {
        if (what == "args")
            return "args \"\" is ambiguous (the module reads it as \"any arguments\"); write "
                   "\"*\" to match any arguments or leave args out";
        return w + " must not be empty; give the executable's name (e.g. \"httpd\") or a path "
                   "glob (e.g. \"/usr/sbin/*\")";
    }
    if (pattern.size() >= size_max)
        return w + " is " + std::to_string(pattern.size()) + " bytes long; at most " +
               std::to_string(size_max - 1) + " are allowed";
    if (pattern.find('\0') != std::string_view::npos)
        return w + " must not contain a NUL character";
    std::string p(pattern);
    std::size_t pos = 0;
    if (kis_glob_check(p.c_str(), &pos) != 0) {
        std::string where = " at offset " + std::to_string(pos);
        if (pos < p.size() && p[pos] == '\\')
            return w + " " + quoted(p) + " is not a valid glob: trailing backslash" + where +
                   "; a backslash escapes the next character (write \\\\ for a literal one, "
                   "\"\\\\\\\\\" in a TOML string)";
        return w + " " + quoted(p) + " is not a valid glob: unterminated '['" + where +
               "; close the bracket expression with ']' or escape a literal '[' as \\[ "
               "(\"\\\\[\" in a TOML string)";
    }
    return std::nullopt;
}

std::optional<std::uint32_t> find_param(std::string_view name) {
    std::string n(name);
    if (n.find('\0') != std::string::npos)
        return std::nullopt;
    int id = kis_stat_param_find(n.c_str());
    if (id < 0 || id >= KIS_PARAM_COUNT)
        return std::nullopt;
    return static_cast<std::uint32_t>(id);
}

std::string stat_param_name(std::uint32_t id) {
    const kis_stat_param_info *info = kis_stat_param(id);
    if (!info || !info->name)
        return "param" + std::to_string(id);
    return info->name;
}

std::string tenths_text(std::uint32_t tenths) {
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

std::string duration_text(std::uint64_t ms) {
    if (ms < 1000)
        return std::to_string(ms) + "ms";
    static const struct {
        std::uint64_t s;
        const char *unit;
    } units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
    std::uint64_t secs = ms / 1000;
    for (std::size_t i = 0; i < std::size(units); i++) {
        if (secs < units[i].s)
            continue;
        std::string out = std::to_string(secs / units[i].s) + units[i].unit;
        if (i + 1 < std::size(units)) {
            std::uint64_t rest = secs % units[i].s / units[i + 1].s;
            if (rest)
                out += " " + std::to_string(rest) + units[i + 1].unit;
        }
        return out;
    }
    return "0s"; // not reached: ms >= 1000
}

std::optional<std::uint64_t> parse_duration_ms(std::string_view text) {
    // NUMBER[.FRACTION]UNIT, UNIT one of ms, s, m, h, d; a whole number of milliseconds.
    std::size_t digits = 0;
    while (digits < text.size() &&
           ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.'))
        digits++;
    std::string_view number = text.substr(0, digits);
    std::string_view unit = text.substr(digits);
    std::uint64_t unit_ms = 0;
    if (unit == "ms")
        unit_ms = 1;
    else if (unit == "s")
        unit_ms = 1000;
    else if (unit == "m")
        unit_ms = 60000;
    else if (unit == "h")
        unit_ms = 3600000;
    else if (unit == "d")
        unit_ms = 86400000;
    else
        return std::nullopt;
    std::size_t dot = number.find('.');
    std::string_view whole = number.substr(0, dot);
    std::string_view frac =
        dot == std::string_view::npos ? std::string_view() : number.substr(dot + 1);
    if (whole.empty() || whole.size() > 9 || frac.size() > 3 ||
        (dot != std::string_view::npos && frac.empty()) || frac.find('.') != std::string_view::npos)
        return std::nullopt;
    std::uint64_t w = 0, f = 0, scale = 1;
    std::from_chars(whole.data(), whole.data() + whole.size(), w);
    if (!frac.empty())
        std::from_chars(frac.data(), frac.data() + frac.size(), f);
    for (std::size_t i = 0; i < frac.size(); i++)
        scale *= 10;
    std::uint64_t scaled = (w * scale + f) * unit_ms; // milliseconds times scale
    if (scaled % scale)
        return std::nullopt; // not a whole number of milliseconds
    return scaled / scale;
}

namespace {

std::string unit_of(std::uint32_t id) {
    const kis_stat_param_info *info = kis_stat_param(id);
    return info && info->unit ? info->unit : "units";
}

// A decimal number of deviations, "3", "3.5", in tenths (rounded); nothing if it is not one or
// above KIS_MULT_MAX.
std::optional<std::uint32_t> parse_mult(std::string_view text) {
    if (text.empty() || text.size() > 16 || text.front() == '.' || text.back() == '.' ||
        std::count(text.begin(), text.end(), '.') > 1 ||
        text.find_first_not_of("0123456789.") != std::string_view::npos)
        return std::nullopt;
    double v = std::strtod(std::string(text).c_str(), nullptr);
    if (!(v >= 0 && v <= KIS_MULT_MAX / 10.0))
        return std::nullopt;
    return static_cast<std::uint32_t>(std::llround(v * 10));
}

} // namespace

std::optional<std::string> parse_param_setting(std::string_view text, ParamConfig &out) {
    std::size_t colon = text.find(':');
    std::vector<std::string_view> names = stats_param_names();
    if (colon == std::string_view::npos)
        return "--param " + quoted(text) +
               " must be NAME:KEY=VALUE,..., e.g. cpu:mult1=4,mult2=8,floor=1000";
    std::string_view name = text.substr(0, colon);
    auto id = find_param(name);
    if (id && *id == KIS_PARAM_SEQ)
        return "--param seq: the thresholds of the sequence anomaly are set with --threshold and "
               "--threshold2";
    if (!id) {
        std::string_view best = closest(name, names);
        return "--param: unknown parameter " + quoted(name) +
               (best.empty() ? "" : did_you_mean(best)) + "; the parameters are " + joined(names);
    }
    ParamConfig p;
    p.id = *id;
    std::string_view rest = text.substr(colon + 1);
    std::string label = "--param " + std::string(name);
    if (rest.empty())
        return label + ": nothing to set; give mult1=X, mult2=Y and/or floor=Z";
    std::vector<std::string_view> items;
    for (;;) {
        std::size_t comma = rest.find(',');
        items.push_back(rest.substr(0, comma));
        if (comma == std::string_view::npos)
            break;
        rest = rest.substr(comma + 1);
    }
    for (std::string_view item : items) {
        std::size_t eq = item.find('=');
        std::string_view key = item.substr(0, eq);
        std::string_view value =
            eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
        if (key == "expect" || key == "tolerance")
            return label + ": " + std::string(key) +
                   " is fixed when the cell is loaded ([cell.stats." + std::string(name) +
                   "] of its config); set mult1, mult2 or floor";
        if (std::find(kParamSetKeys.begin(), kParamSetKeys.end(), key) == kParamSetKeys.end()) {
            std::string_view best = closest(key, kParamSetKeys);
            return label + ": unknown key " + quoted(key) +
                   (best.empty() ? "" : did_you_mean(best)) + "; use mult1, mult2 and floor";
        }
        if (value.empty())
            return label + ": " + std::string(key) + " needs a value: " + std::string(key) + "=N";
        if ((key == "mult1" && p.mult1) || (key == "mult2" && p.mult2) ||
            (key == "floor" && p.floor))
            return label + ": " + std::string(key) + " is given twice";
        if (key == "floor") {
            std::uint64_t n = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc() || end != value.data() + value.size())
                return label + ": floor must be a whole number of " + unit_of(*id) +
                       ", 0 or more, not " + quoted(value);
            p.floor = n;
            continue;
        }
        auto m = parse_mult(value);
        if (!m)
            return label + ": " + std::string(key) + " must be a number of deviations from 0 to " +
                   tenths_text(KIS_MULT_MAX) + " such as 3 or 4.5, not " + quoted(value);
        (key == "mult1" ? p.mult1 : p.mult2) = *m;
    }
    if (p.mult1 && p.mult2 && *p.mult2 < *p.mult1)
        return label + ": mult2 " + tenths_text(*p.mult2) + " is below mult1 " +
               tenths_text(*p.mult1) +
               "; danger signal 2 needs at least as many deviations as danger signal 1";
    out = p;
    return std::nullopt;
}

std::string stats_summary(const CellConfig &cell) {
    const StatsConfig &s = cell.stats;
    if (!s.given)
        return {};
    std::string out =
        "  cell " + cell.name + ": threshold2 " + std::to_string(cell.sequence.threshold2) +
        ", interval " + std::to_string(s.interval_ms) + "ms, hold1 " + std::to_string(s.hold1) +
        ", hold2 " + std::to_string(s.hold2) + ", file-tree " + std::to_string(s.file_tree) + "\n";
    if (!s.files.empty()) {
        out += "    files";
        for (std::size_t i = 0; i < s.files.size(); i++)
            out += (i ? ", " : " ") + quoted(s.files[i]);
        out += "\n";
    }
    for (const ParamConfig &p : s.params) {
        std::string line;
        auto add = [&](const std::string &item) { line += (line.empty() ? "" : ", ") + item; };
        if (p.mult1)
            add("mult1 " + tenths_text(*p.mult1));
        if (p.mult2)
            add("mult2 " + tenths_text(*p.mult2));
        if (p.floor)
            add("floor " + std::to_string(*p.floor));
        if (p.expect)
            add("expect " + std::to_string(*p.expect));
        if (p.tolerance)
            add("tolerance " + std::to_string(*p.tolerance) + "%");
        out += "    " + stat_param_name(p.id) + ": " + (line.empty() ? "defaults" : line) + "\n";
    }
    return out;
}

FileConfig parse_cell_config(std::string_view text, const std::string &path) {
    FileConfig out;
    out.path = path;

    auto parsed = parse_toml(text, path);
    if (auto *err = std::get_if<TomlSyntaxError>(&parsed)) {
        out.errors.push_back({path, err->line, err->message});
        return out;
    }
    const toml::table &root = std::get<toml::table>(parsed);
    bool saw_cell = false;
    for (auto &&[key, node] : root) {
        if (key.str() == "cell") {
            saw_cell = true;
            parse_cells_node(out, key, node);
            continue;
        }
        out.errors.push_back({path, line_of(key, node),
                              "unknown top-level key " + quoted(key.str()) +
                                  "; a cell file holds only [[cell]] tables"});
    }
    if (!saw_cell)
        out.errors.push_back({path, 1,
                              "no [[cell]] table; a cell file needs at least one [[cell]] with "
                              "a name and a program"});

    std::stable_sort(out.errors.begin(), out.errors.end(),
                     [](const ConfigError &a, const ConfigError &b) { return a.line < b.line; });
    return out;
}

FileConfig read_cell_file(const std::string &path) {
    Result<std::string> text = read_text_file(path, "cell");
    if (!text) {
        FileConfig out;
        out.path = path;
        out.errors.push_back({path, 0, text.error().message});
        return out;
    }
    return parse_cell_config(*text, path);
}

void check_duplicate_names(std::vector<FileConfig> &files) {
    std::map<std::string, std::pair<std::string, int>, std::less<>> seen; // name -> file, line
    for (FileConfig &file : files) {
        std::vector<CellConfig> kept;
        for (CellConfig &cell : file.cells) {
            auto [it, inserted] = seen.try_emplace(cell.name, cell.file, cell.name_line);
            if (inserted) {
                kept.push_back(std::move(cell));
                continue;
            }
            file.errors.push_back({file.path, cell.name_line,
                                   "cell " + quoted(cell.name) + " is already defined at " +
                                       it->second.first + ":" + std::to_string(it->second.second) +
                                       "; cell names must be unique"});
        }
        file.cells = std::move(kept);
        std::stable_sort(
            file.errors.begin(), file.errors.end(),
            [](const ConfigError &a, const ConfigError &b) { return a.line < b.line; });
    }
}

std::vector<FileConfig> read_cell_files(const std::vector<std::string> &paths) {
    std::vector<FileConfig> files;
    files.reserve(paths.size());
    for (const std::string &path : paths)
        files.push_back(read_cell_file(path));
    check_duplicate_names(files);
    return files;
}

} // namespace kis
