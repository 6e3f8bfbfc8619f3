// Signature files: TOML with one or more [[signature]] tables (Documentation/signatures.md,
// "Signature files and kisctl sig"). Each signature has an id, a pattern of the KIS subset
// (sig_pattern.hpp), a type (2: acts always; 1: only while the cell or connection holds danger
// signal 1), the cells it applies to, a response and optional flags. A file is validated whole:
// every error is reported as FILE:LINE, and a file with errors yields no signatures at all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "sig_automaton.hpp"
#include "sig_pattern.hpp"

namespace kis {

enum class SigResponse : std::uint8_t { deny, drop, delay, kill, log };

// "deny", "drop", ...
std::string_view sig_response_name(SigResponse r);

inline constexpr std::size_t kSigIdMax = 63;
inline constexpr const char *kSigAllCells = "*";

struct Signature {
    std::string id;
    SigPattern pattern;             // text and nocase
    std::uint32_t type = 2;         // 1 or 2
    std::vector<std::string> cells; // cell names, or "*" for every cell
    SigResponse response = SigResponse::log;
    std::string description; // empty if none
    int line = 0;            // of its [[signature]] header
    int pattern_line = 0;    // of its pattern key

    // Names `cell`, or "*".
    bool applies_to(std::string_view cell) const;
    // Names "*".
    bool all_cells() const;
};

struct SigFile {
    std::string path;
    std::vector<Signature> signatures; // in file order; empty when there are errors
    std::vector<ConfigError> errors;   // sorted by line

    bool ok() const { return errors.empty(); }

    // The cells the signatures name, in order of first mention, "*" left out.
    std::vector<std::string> named_cells() const;
    // The signatures that apply to `cell` (those naming it or "*"), in file order; with an
    // empty `cell`, all of them.
    std::vector<const Signature *> for_cell(std::string_view cell) const;
};

// Parses TOML text; path is only used in messages.
SigFile parse_sig_file(std::string_view text, const std::string &path);

// Reads and parses one file.
SigFile read_sig_file(const std::string &path);

// Compiles signatures (signature s of the automaton is sigs[s]); `cell` names the set in the
// error about the size limit.
Result<SigAutomaton> compile_sig_set(const std::vector<const Signature *> &sigs,
                                     const std::string &cell, const SigCompileLimits &limits = {});

} // namespace kis
