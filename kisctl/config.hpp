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

namespace kis {

// A cell's [cell.sequence] sub-table: the sequence model's settings, with the portable
// core's defaults.
struct SequenceConfig {
    std::uint32_t k = KIS_SEQ_K_DEFAULT;                 // sequence length, for learning
    std::uint32_t window = KIS_SEQ_WINDOW_DEFAULT;       // scores averaged
    std::uint32_t threshold = KIS_SEQ_THRESHOLD_DEFAULT; // alert above, in 1/1000 of the score
    std::uint32_t learn_prefixes = KIS_LEARN_PREFIXES_DEFAULT; // learning room
    std::uint32_t learn_kgrams = KIS_LEARN_KGRAMS_DEFAULT;     // learning room
};

// One [[cell]] table. A plain struct: later work adds fields for the sub-tables.
struct CellConfig {
    std::string name;
    std::string program;
    std::string args = "*";
    bool follow_exec = true;
    std::uint32_t max_tasks = KIS_CELL_TASKS_DEFAULT;
    SequenceConfig sequence;
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

} // namespace kis
