// Signature patterns: the regular-expression subset of KIS (Documentation/signatures.md,
// "Patterns"). A pattern is checked twice: PCRE2 first, so that a syntax error gets PCRE2's
// message and offset, then the subset parser below, which refuses what a DFA over bytes cannot
// do (backreferences, lookaround, \b, $, lazy and possessive quantifiers, ...) and builds the
// syntax tree the automaton compiler (sig_automaton.hpp) works from. Matching is on raw
// bytes: no UTF, `.` is any byte including newline, case folding is ASCII only.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "result.hpp"

namespace kis {

// Largest n and m of a bounded repeat {n}, {n,}, {n,m}.
inline constexpr unsigned kSigRepeatMax = 255;
// Most byte positions one pattern may have once its repeats are expanded (x{3} is three,
// x{2,} is three: two plus the loop). Bounds the automaton compiler's memory and time.
inline constexpr std::uint64_t kSigPositionsMax = 10000;

// One signature's pattern as the user wrote it.
struct SigPattern {
    std::string text;
    // Case-insensitive (ASCII letters only). The same as a leading "(?i)" in the text; for
    // a flag field of a signature file.
    bool nocase = false;
};

// A node of a parsed pattern. Byte sets are final: escapes resolved, classes negated, case
// folded when the pattern is case-insensitive.
struct SigNode {
    enum class Kind : std::uint8_t {
        Empty,  // matches the empty string: "()", an empty alternative
        Bytes,  // one byte of `bytes`
        Concat, // kids in order
        Alt,    // one of kids
        Repeat, // kids[0], min..max times
    };
    static constexpr unsigned kUnbounded = ~0u;

    Kind kind = Kind::Empty;
    std::bitset<256> bytes;      // Bytes
    std::vector<SigNode> kids;   // Concat, Alt: two or more; Repeat: one
    unsigned min = 0;            // Repeat
    unsigned max = 0;            // Repeat: kUnbounded for *, +, {n,}
    std::size_t offset = 0;      // where the node starts in the pattern text
    std::uint64_t positions = 0; // byte positions once repeats are expanded
};

struct ParsedPattern {
    bool anchored = false; // leading ^: matches only at message start
    bool nocase = false;
    SigNode root;
};

// Checks one pattern (PCRE2 syntax, then the KIS subset, then that it cannot match the empty
// string) and parses it. `what` names the pattern at the start of error messages, e.g.
// "pattern 3" or "signature web-shell"; a message reads
//   pattern 3: "(?=x)" at offset 0: lookahead is not in the KIS subset (...)
Result<ParsedPattern> parse_sig_pattern(const SigPattern &pattern, const std::string &what);

} // namespace kis
