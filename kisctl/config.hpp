// Cell configuration files: TOML with one or more [[cell]] tables. The parser checks
// everything the module would check (names, sizes, ranges, glob syntax with the module's own
// kis_glob_check) so that mistakes are reported with FILE:LINE before anything is loaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <linux/kis.h>

#include "kis_seq.h"
#include "kis_stat.h"

namespace kis {

// threshold2 when the config gives none: halfway from threshold to the highest score.
constexpr std::uint32_t default_threshold2(std::uint32_t threshold) {
    return threshold + (KIS_SEQ_SCORE_ONE - threshold) / 2;
}

// A cell's [cell.sequence] sub-table: the sequence model's settings, with the portable
// core's defaults.
struct SequenceConfig {
    std::uint32_t k = KIS_SEQ_K_DEFAULT;                 // sequence length, for learning
    std::uint32_t window = KIS_SEQ_WINDOW_DEFAULT;       // scores averaged
    std::uint32_t threshold = KIS_SEQ_THRESHOLD_DEFAULT; // alert above, in 1/1000 of the score
    // Danger signal 2 above; by default halfway from threshold to 1000, computed by kisctl
    // and always sent.
    std::uint32_t threshold2 = default_threshold2(KIS_SEQ_THRESHOLD_DEFAULT);
    std::uint32_t learn_prefixes = KIS_LEARN_PREFIXES_DEFAULT; // learning room
    std::uint32_t learn_kgrams = KIS_LEARN_KGRAMS_DEFAULT;     // learning room
};

// Tolerance of an expected value when the config gives none, in percent.
constexpr std::uint32_t kToleranceDefault = 25;

// One parameter's settings, a [cell.stats.PARAM] table (or one --param of kisctl set). Only
// what was given is sent; the module keeps its defaults (kis_stat_param(id)->limits) for the
// rest.
struct ParamConfig {
    std::uint32_t id = 0;                   // enum kis_param
    std::optional<std::uint32_t> mult1;     // tenths of the deviation: 30 is 3.0
    std::optional<std::uint32_t> mult2;     // likewise, at least mult1
    std::optional<std::uint64_t> floor;     // least deviation used, in the parameter's unit
    std::optional<std::uint64_t> expect;    // hard tolerization: the expected value
    std::optional<std::uint32_t> tolerance; // percent; set (default 25) whenever expect is
    int line = 0;                           // of its table, 0 on the command line

    bool empty() const { return !mult1 && !mult2 && !floor && !expect && !tolerance; }
};

// A cell's [cell.stats] sub-table: the APC's resource statistics and danger signals.
struct StatsConfig {
    bool given = false; // the cell has a [cell.stats] table
    std::uint32_t interval_ms = KIS_STAT_INTERVAL_MS_DEFAULT;
    std::uint32_t hold1 = KIS_DANGER_HOLD1_DEFAULT;  // quiet intervals before 1 -> 0
    std::uint32_t hold2 = KIS_DANGER_HOLD2_DEFAULT;  // quiet intervals before 2 -> 1
    std::uint32_t file_tree = KIS_FILE_TREE_DEFAULT; // room for learned files
    std::vector<std::string> files;  // files or file_globs: the expected file tree, absolute globs
    std::vector<ParamConfig> params; // by id, at most one each, none for seq
};

// One [[cell]] table.
struct CellConfig {
    std::string name;
    std::string program;
    std::string args = "*";
    bool follow_exec = true;
    std::uint32_t max_tasks = KIS_CELL_TASKS_DEFAULT;
    SequenceConfig sequence;
    StatsConfig stats;
    std::string file;  // where the cell is defined
    int line = 0;      // line of its [[cell]] header
    int name_line = 0; // line of its name, for messages about the name
};

struct ConfigError {
    std::string file;
    int line = 0; // 0 when the error concerns the whole file (e.g. it cannot be read)
    std::string message;

    // "FILE:LINE: message", or "FILE: message" when line is 0.
    std::string str() const;
};

// What one file holds: its valid cells and every error found in it, sorted by line.
struct FileConfig {
    std::string path;
    std::vector<CellConfig> cells;
    std::vector<ConfigError> errors;

    bool ok() const { return errors.empty(); }
};

// Parses TOML text; path is only used in messages and CellConfig::file.
FileConfig parse_cell_config(std::string_view text, const std::string &path);

// Reads and parses one file.
FileConfig read_cell_file(const std::string &path);

// Reads and parses every file, then reports cells whose names are already defined (in the
// same file or in an earlier one) at the later definition. One result per path, same order.
std::vector<FileConfig> read_cell_files(const std::vector<std::string> &paths);

// Reports duplicate cell names across files (called by read_cell_files).
void check_duplicate_names(std::vector<FileConfig> &files);

// The individual checks, shared with other commands. Each returns an error message or
// nothing.
std::optional<std::string> check_cell_name(std::string_view name);
// what: "program" or "args"; size_max includes the terminating NUL, as in <linux/kis.h>.
std::optional<std::string> check_pattern(std::string_view what, std::string_view pattern,
                                         std::size_t size_max);

// The id of a parameter named in configs and on the command line ("cpu", ...), the names of
// kis_stat_param(); nothing for an unknown name.
std::optional<std::uint32_t> find_param(std::string_view name);

// The name of parameter `id`, "param<ID>" for an unknown one.
std::string stat_param_name(std::uint32_t id);

// A multiplier in tenths as text: 30 -> "3.0".
std::string tenths_text(std::uint32_t tenths);

// A duration ([cell.stats] interval, learn start --for): "500ms", "1s", "1.5s", "2m", "1h",
// "7d", in milliseconds; nothing if it is not one.
std::optional<std::uint64_t> parse_duration_ms(std::string_view text);

// A duration for people: "500ms", "45s", "1m 30s", "2h 5m", "3d 4h" (the two largest units,
// seconds and up rounded down).
std::string duration_text(std::uint64_t ms);

// A --param value of kisctl set, "NAME:mult1=X,mult2=Y,floor=Z" (any of the three, at least
// one): into `out`, or an error message.
std::optional<std::string> parse_param_setting(std::string_view text, ParamConfig &out);

// What `kisctl check` prints about a cell's statistics settings beyond the defaults: nothing
// for a cell without [cell.stats], else lines starting with two spaces.
std::string stats_summary(const CellConfig &cell);

} // namespace kis
