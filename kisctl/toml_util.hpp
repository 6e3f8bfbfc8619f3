// Helpers for the TOML files kisctl reads (cell configs, signature files): the line of a node
// or key for FILE:LINE messages, type names for "must be X, not Y", "did you mean" hints, and
// reading a file whole.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include <toml++/toml.h>

#include "result.hpp"

namespace kis {

// A TOML syntax error: its line (at least 1) and "TOML syntax error: ...".
struct TomlSyntaxError {
    int line = 1;
    std::string message;
};

// Parses a TOML document named `path` (for toml++'s source positions).
std::variant<toml::table, TomlSyntaxError> parse_toml(std::string_view text,
                                                      const std::string &path);

// The line a node starts on.
int line_of(const toml::node &node);
// The line of a key, or of its value when the key has no source (e.g. inline tables).
int line_of(const toml::key &key, const toml::node &node);

// "a string", "an integer", ... for "X must be a string, not an integer".
std::string_view type_phrase(toml::node_type type);

// Levenshtein distance.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The word of `keys` closest to `key`, if it is a close misspelling (distance below 3);
// empty otherwise.
template <typename Keys> std::string_view closest(std::string_view key, const Keys &keys) {
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

// " (did you mean \"BEST\"?)"
std::string did_you_mean(std::string_view best);

// The whole content of a file. Errors read "cannot open: ...", "cannot read: ..." or, for a
// directory, "is a directory; give the WHAT files in it, e.g. PATH/*.toml", without the path.
Result<std::string> read_text_file(const std::string &path, std::string_view what);

} // namespace kis
