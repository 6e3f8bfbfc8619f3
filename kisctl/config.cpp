#include "config.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>

#include "kis_match.h"
#include "kis_seq.h"
#include "text.hpp"

namespace kis {

namespace {

constexpr std::array<std::string_view, 6> kCellKeys = {"name",        "program",   "args",
                                                       "follow_exec", "max_tasks", "sequence"};
constexpr std::array<std::string_view, 5> kSequenceKeys = {"k", "window", "threshold",
                                                           "learn_prefixes", "learn_kgrams"};

int line_of(const toml::node &node) { return static_cast<int>(node.source().begin.line); }

int line_of(const toml::key &key, const toml::node &node) {
    int line = static_cast<int>(key.source().begin.line);
    return line > 0 ? line : line_of(node);
}

// "a string", "an integer", ... for "X must be a string, not an integer".
std::string_view type_phrase(toml::node_type type) {
    switch (type) {
    case toml::node_type::table:
        return "a table";
    case toml::node_type::array:
        return "an array";
    case toml::node_type::string:
        return "a string";
    case toml::node_type::integer:
        return "an integer";
    case toml::node_type::floating_point:
        return "a floating-point number";
    case toml::node_type::boolean:
        return "a boolean";
    case toml::node_type::date:
        return "a date";
    case toml::node_type::time:
        return "a time";
    case toml::node_type::date_time:
        return "a date-time";
    default:
        return "nothing";
    }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); j++)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); i++) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); j++) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
            diag = up;
        }
    }
    return row[b.size()];
}

template <std::size_t N>
std::string_view closest(std::string_view key, const std::array<std::string_view, N> &keys) {
    std::string_view best;
    std::size_t best_distance = 3; // suggest only close misspellings
    for (std::string_view known : keys) {
        std::size_t d = edit_distance(key, known);
        if (d < best_distance) {
            best = known;
            best_distance = d;
        }
    }
    return best;
}

std::string suggestion(std::string_view key) {
    std::string_view best = closest(key, kCellKeys);
    if (best.empty())
        return " (a cell has the keys name, program, args, follow_exec and max_tasks, and the "
               "sub-table [cell.sequence])";
    return " (did you mean \"" + std::string(best) + "\"?)";
}

std::string sequence_suggestion(std::string_view key) {
    std::string_view best = closest(key, kSequenceKeys);
    if (best.empty())
        return " ([cell.sequence] has the keys k, window, threshold, learn_prefixes and "
               "learn_kgrams)";
    return " (did you mean \"" + std::string(best) + "\"?)";
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

    // An integer in [lo, hi] of the [cell.sequence] table; `what` explains the number.
    std::optional<std::uint32_t> sequence_number(const toml::table &seq, std::string_view key,
                                                 std::int64_t lo, std::int64_t hi,
                                                 std::string_view what) {
        const toml::node *node = seq.get(key);
        if (!node)
            return std::nullopt;
        const auto *i = node->as_integer();
        if (!i) {
            std::string hint;
            if (key == "threshold" && node->is_floating_point())
                hint = " (in thousandths of the anomaly score: 300 means 0.3)";
            error(line_of(*node), std::string(key) + " in [cell.sequence] of " + label() +
                                      " must be an integer, not " +
                                      std::string(type_phrase(node->type())) + hint);
            return std::nullopt;
        }
        std::int64_t v = i->get();
        if (v < lo || v > hi) {
            error(line_of(*node), std::string(key) + " " + std::to_string(v) +
                                      " in [cell.sequence] of " + label() +
                                      " is out of range; use " + std::to_string(lo) + ".." +
                                      std::to_string(hi) + " (" + std::string(what) + ")");
            return std::nullopt;
        }
        return static_cast<std::uint32_t>(v);
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
        if (auto v = sequence_number(*seq, "threshold", 0, KIS_SEQ_SCORE_ONE,
                                     "thousandths of the anomaly score"))
            s.threshold = *v;
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

    void check_unknown_keys(const CellConfig &) {
        for (auto &&[key, node] : table_) {
            std::string_view k = key.str();
            if (std::find(kCellKeys.begin(), kCellKeys.end(), k) != kCellKeys.end())
                continue;
            std::string hint = node.is_table()
                                   ? std::string(" (a cell has only the sub-table [cell.sequence])")
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

FileConfig parse_cell_config(std::string_view text, const std::string &path) {
    FileConfig out;
    out.path = path;

    toml::parse_result result = toml::parse(text, path);
    if (!result) {
        const toml::parse_error &err = result.error();
        int line = static_cast<int>(err.source().begin.line);
        out.errors.push_back(
            {path, line > 0 ? line : 1, "TOML syntax error: " + std::string(err.description())});
        return out;
    }

    const toml::table &root = result.table();
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
    auto fail = [&](const std::string &message) {
        FileConfig out;
        out.path = path;
        out.errors.push_back({path, 0, message});
        return out;
    };

    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        return fail("is a directory; give the cell files in it, e.g. " + path + "/*.toml");
    }
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            ::close(fd);
            return fail(std::string("cannot read: ") + std::strerror(saved));
        }
        if (n == 0)
            break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return parse_cell_config(text, path);
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
