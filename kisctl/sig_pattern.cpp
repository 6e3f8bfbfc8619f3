#include "sig_pattern.hpp"

#include <pcre2.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string_view>
#include <utility>

#include "text.hpp"

namespace kis {

namespace {

constexpr const char *kSubsetDoc = "(Documentation/signatures.md)";

std::bitset<256> byte_set(unsigned char b) {
    std::bitset<256> s;
    s.set(b);
    return s;
}

std::bitset<256> range_set(unsigned lo, unsigned hi) {
    std::bitset<256> s;
    for (unsigned b = lo; b <= hi; ++b)
        s.set(b);
    return s;
}

// PCRE2's default character tables (the "C" locale), which the checks with PCRE2 use too.
std::bitset<256> digit_set() { return range_set('0', '9'); }
std::bitset<256> word_set() {
    return range_set('0', '9') | range_set('A', 'Z') | range_set('a', 'z') | byte_set('_');
}
std::bitset<256> space_set() { return range_set('\t', '\r') | byte_set(' '); }

// ASCII case folding: a letter in the set brings the other case in.
std::bitset<256> fold_case(std::bitset<256> s) {
    for (unsigned c = 'A'; c <= 'Z'; ++c) {
        if (s.test(c) || s.test(c + 32)) {
            s.set(c);
            s.set(c + 32);
        }
    }
    return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

bool nullable(const SigNode &n) {
    switch (n.kind) {
    case SigNode::Kind::Empty:
        return true;
    case SigNode::Kind::Bytes:
        return false;
    case SigNode::Kind::Concat:
        return std::all_of(n.kids.begin(), n.kids.end(), nullable);
    case SigNode::Kind::Alt:
        return std::any_of(n.kids.begin(), n.kids.end(), nullable);
    case SigNode::Kind::Repeat:
        return n.min == 0 || nullable(n.kids[0]);
    }
    return false;
}

std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
    if (a != 0 && b > UINT64_MAX / a)
        return UINT64_MAX;
    return a * b;
}

// A parse error: where, and what (without the pattern and offset prefix).
struct ParseError {
    std::size_t offset;
    std::string message;
};

// Recursive descent over the KIS subset. Runs after PCRE2 has accepted the pattern, so
// syntax errors are mostly PCRE2's to report; the parser still refuses anything it does not
// understand rather than guess. Nesting depth is bounded by PCRE2's parentheses limit (250).
class Parser {
  public:
    Parser(std::string_view text, bool nocase) : s_(text), nocase_(nocase) {}

    // The whole pattern, after an optional leading "(?i)" and "^" (the caller's job).
    std::optional<SigNode> parse(std::size_t start) {
        pos_ = start;
        SigNode root = alternation();
        if (error_)
            return std::nullopt;
        if (pos_ < s_.size()) // an unmatched ')': PCRE2 reports it first
            return fail(pos_, "unmatched closing parenthesis");
        return root;
    }

    const std::optional<ParseError> &error() const { return error_; }
    // Offset of the first '|' outside any group, if any.
    std::optional<std::size_t> top_bar() const { return top_bar_; }

  private:
    std::string_view s_;
    bool nocase_;
    std::size_t pos_ = 0;
    std::optional<ParseError> error_;
    unsigned depth_ = 0; // groups open
    std::optional<std::size_t> top_bar_;

    bool at_end() const { return pos_ >= s_.size(); }
    char peek(std::size_t ahead = 0) const {
        return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0';
    }
    bool has(std::size_t ahead) const { return pos_ + ahead < s_.size(); }

    std::nullopt_t fail(std::size_t offset, std::string message) {
        if (!error_)
            error_ = ParseError{offset, std::move(message)};
        return std::nullopt;
    }
    std::nullopt_t unsupported(std::size_t offset, const std::string &what) {
        return fail(offset, what + " is not in the KIS subset " + kSubsetDoc);
    }

    SigNode bytes_node(std::bitset<256> set, std::size_t offset) const {
        SigNode n;
        n.kind = SigNode::Kind::Bytes;
        n.bytes = nocase_ ? fold_case(set) : set;
        n.offset = offset;
        n.positions = 1;
        return n;
    }

    // alternation := concatenation ('|' concatenation)*
    SigNode alternation() {
        std::size_t start = pos_;
        std::vector<SigNode> branches;
        branches.push_back(concatenation());
        while (!error_ && peek() == '|' && has(0)) {
            if (depth_ == 0 && !top_bar_)
                top_bar_ = pos_;
            ++pos_;
            branches.push_back(concatenation());
        }
        if (branches.size() == 1)
            return std::move(branches[0]);
        SigNode n;
        n.kind = SigNode::Kind::Alt;
        n.offset = start;
        for (const SigNode &b : branches)
            n.positions += b.positions;
        n.kids = std::move(branches);
        check_size(n, start);
        return n;
    }

    // concatenation := (atom quantifier?)*
    SigNode concatenation() {
        std::size_t start = pos_;
        std::vector<SigNode> items;
        std::uint64_t positions = 0;
        while (!error_ && !at_end() && peek() != '|' && peek() != ')') {
            std::size_t atom_start = pos_;
            std::optional<SigNode> a = atom();
            if (!a)
                break;
            std::optional<SigNode> q = quantified(std::move(*a), atom_start);
            if (!q)
                break;
            positions += q->positions;
            if (positions > kSigPositionsMax) {
                too_large(atom_start);
                break;
            }
            if (q->kind != SigNode::Kind::Empty)
                items.push_back(std::move(*q));
        }
        SigNode n;
        n.offset = start;
        n.positions = positions;
        if (items.size() == 1)
            return std::move(items[0]);
        if (!items.empty()) {
            n.kind = SigNode::Kind::Concat;
            n.kids = std::move(items);
        }
        return n;
    }

    void too_large(std::size_t offset) {
        fail(offset, "the pattern expands to more than " + std::to_string(kSigPositionsMax) +
                         " byte positions (repeats count once per copy), more than the KIS "
                         "limit; simplify it");
    }
    void check_size(const SigNode &n, std::size_t offset) {
        if (n.positions > kSigPositionsMax)
            too_large(offset);
    }

    // Parses the digits of a {} bound; nullopt if there are none.
    std::optional<unsigned long> number(std::size_t &p) const {
        std::size_t begin = p;
        unsigned long v = 0;
        while (p < s_.size() && is_digit(s_[p])) {
            if (v < 1000000)
                v = v * 10 + static_cast<unsigned long>(s_[p] - '0');
            ++p;
        }
        if (p == begin)
            return std::nullopt;
        return v;
    }

    // At '{': a quantifier {n}, {n,}, {n,m}? Sets min and max and the end if so.
    bool brace_quantifier(unsigned long &min, unsigned long &max, std::size_t &end) const {
        std::size_t p = pos_ + 1;
        std::optional<unsigned long> n = number(p);
        if (!n)
            return false;
        min = max = *n;
        if (p < s_.size() && s_[p] == ',') {
            ++p;
            std::optional<unsigned long> m = number(p);
            max = m ? *m : SigNode::kUnbounded;
        }
        if (p >= s_.size() || s_[p] != '}')
            return false;
        end = p + 1;
        return true;
    }

    bool at_quantifier() const {
        char c = peek();
        if (at_end())
            return false;
        if (c == '*' || c == '+' || c == '?')
            return true;
        unsigned long a, b;
        std::size_t e;
        return c == '{' && brace_quantifier(a, b, e);
    }

    // An atom followed by an optional quantifier.
    std::optional<SigNode> quantified(SigNode a, std::size_t atom_start) {
        if (!at_quantifier())
            return a;
        std::size_t qpos = pos_;
        unsigned long min = 0, max = 0;
        char c = peek();
        if (c == '*') {
            max = SigNode::kUnbounded;
            ++pos_;
        } else if (c == '+') {
            min = 1;
            max = SigNode::kUnbounded;
            ++pos_;
        } else if (c == '?') {
            max = 1;
            ++pos_;
        } else {
            std::size_t end = 0;
            brace_quantifier(min, max, end);
            if (min > kSigRepeatMax || (max != SigNode::kUnbounded && max > kSigRepeatMax))
                return fail(qpos, "a repeat count above " + std::to_string(kSigRepeatMax) +
                                      " is not in the KIS subset " + kSubsetDoc);
            if (max < min)
                return fail(qpos, "numbers out of order in {} quantifier");
            pos_ = end;
        }
        if (!at_end() && peek() == '?')
            return unsupported(pos_, "a lazy quantifier");
        if (!at_end() && peek() == '+')
            return unsupported(pos_, "a possessive quantifier");
        if (at_quantifier())
            return fail(pos_, "quantifier does not follow a repeatable item");
        SigNode n;
        n.kind = SigNode::Kind::Repeat;
        n.min = static_cast<unsigned>(min);
        n.max = static_cast<unsigned>(max);
        n.offset = atom_start;
        std::uint64_t copies = n.max == SigNode::kUnbounded ? n.min + 1ull : n.max;
        n.positions = saturating_mul(a.positions, copies);
        n.kids.push_back(std::move(a));
        if (n.positions > kSigPositionsMax) {
            too_large(qpos);
            return std::nullopt;
        }
        return n;
    }

    std::optional<SigNode> atom() {
        std::size_t start = pos_;
        char c = peek();
        switch (c) {
        case '(':
            return group();
        case '[':
            return char_class();
        case '.':
            ++pos_;
            return bytes_node(std::bitset<256>().set(), start);
        case '^':
            return fail(start, "^ is only allowed at the very start of a pattern (after an "
                               "optional (?i)), where it anchors the signature at message "
                               "start " +
                                   std::string(kSubsetDoc));
        case '$':
            return unsupported(start, "the end anchor $");
        case '\\': {
            std::optional<std::bitset<256>> set = escape(false);
            if (!set)
                return std::nullopt;
            return bytes_node(*set, start);
        }
        case '*':
        case '+':
        case '?':
            return fail(start, "quantifier does not follow a repeatable item");
        case '{':
            if (at_quantifier())
                return fail(start, "quantifier does not follow a repeatable item");
            return fail(start, "a literal { must be escaped as \\{ in the KIS subset " +
                                   std::string(kSubsetDoc));
        default:
            ++pos_;
            return bytes_node(byte_set(static_cast<unsigned char>(c)), start);
        }
    }

    // At '(': a group, or one of the (? and (* constructs the subset refuses.
    std::optional<SigNode> group() {
        std::size_t start = pos_;
        if (peek(1) == '*' && has(1))
            return unsupported(start, "a (*...) verb or option");
        if (peek(1) == '?' && has(1)) {
            char k = peek(2);
            char k2 = peek(3);
            if (!has(2))
                return fail(start, "unterminated (? group");
            switch (k) {
            case ':':
                pos_ += 3;
                break;
            case '=':
                return unsupported(start, "lookahead");
            case '!':
                return unsupported(start, "negative lookahead");
            case '*':
                return unsupported(start, "non-atomic lookahead");
            case '<':
                if (k2 == '=')
                    return unsupported(start, "lookbehind");
                if (k2 == '!')
                    return unsupported(start, "negative lookbehind");
                if (k2 == '*')
                    return unsupported(start, "non-atomic lookbehind");
                return unsupported(start, "a named group (write (...) or (?:...))");
            case '\'':
                return unsupported(start, "a named group (write (...) or (?:...))");
            case 'P':
                if (k2 == '<')
                    return unsupported(start, "a named group (write (...) or (?:...))");
                if (k2 == '=')
                    return unsupported(start, "a backreference");
                return unsupported(start, "a subroutine call");
            case '>':
                return unsupported(start, "an atomic group");
            case '|':
                return unsupported(start, "a branch reset group");
            case '#':
                return unsupported(start, "a comment group");
            case '(':
                return unsupported(start, "a conditional group");
            case 'C':
                return unsupported(start, "a callout");
            case 'R':
            case '&':
            case '+':
                return unsupported(start, "recursion or a subroutine call");
            default:
                if (is_digit(k) || (k == '-' && is_digit(k2)))
                    return unsupported(start, "recursion or a subroutine call");
                if (s_.substr(start, 4) == "(?i)")
                    return fail(start, "(?i) is only allowed at the very start of a pattern " +
                                           std::string(kSubsetDoc));
                return unsupported(start, "an inline option group (only a leading (?i) is)");
            }
        } else {
            ++pos_;
        }
        ++depth_;
        SigNode inner = alternation();
        --depth_;
        if (error_)
            return std::nullopt;
        if (at_end() || peek() != ')')
            return fail(pos_, "missing closing parenthesis");
        ++pos_;
        inner.offset = start;
        return inner;
    }

    // At '['.
    std::optional<SigNode> char_class() {
        std::size_t start = pos_;
        ++pos_;
        bool negate = false;
        if (peek() == '^' && has(0)) {
            negate = true;
            ++pos_;
        }
        std::bitset<256> set;
        bool first = true;
        bool after_range = false;
        for (;;) {
            if (at_end())
                return fail(start, "missing terminating ] for character class");
            char c = peek();
            if (c == ']' && !first)
                break;
            first = false;
            std::size_t item = pos_;
            if (c == '-' && after_range && peek(1) != ']')
                return fail(item, "a '-' right after a range must be escaped as \\- in the "
                                  "KIS subset " +
                                      std::string(kSubsetDoc));
            after_range = false;
            if (c == '[' && (peek(1) == ':' || peek(1) == '.' || peek(1) == '=') && has(1))
                return unsupported(item, "POSIX class syntax (write a range, or \\[)");
            std::optional<std::bitset<256>> lo = class_item();
            if (!lo)
                return std::nullopt;
            bool single = lo->count() == 1 && !class_escape_;
            if (peek() == '-' && has(1) && peek(1) != ']') {
                if (!single)
                    return fail(pos_, "invalid range in character class");
                ++pos_;
                std::size_t hi_pos = pos_;
                if (peek() == '[' && (peek(1) == ':' || peek(1) == '.' || peek(1) == '='))
                    return unsupported(hi_pos, "POSIX class syntax (write a range, or \\[)");
                std::optional<std::bitset<256>> hi = class_item();
                if (!hi)
                    return std::nullopt;
                if (hi->count() != 1 || class_escape_)
                    return fail(hi_pos, "invalid range in character class");
                unsigned a = 0, b = 0;
                while (!lo->test(a))
                    ++a;
                while (!hi->test(b))
                    ++b;
                if (b < a)
                    return fail(hi_pos, "range out of order in character class");
                set |= range_set(a, b);
                after_range = true;
            } else {
                set |= *lo;
            }
        }
        ++pos_; // ']'
        if (nocase_)
            set = fold_case(set);
        if (negate)
            set.flip();
        SigNode n;
        n.kind = SigNode::Kind::Bytes;
        n.bytes = set; // already folded: bytes_node would fold the negation again
        n.offset = start;
        n.positions = 1;
        return n;
    }

    bool class_escape_ = false; // the last class_item was \d, \w, \s or a negation

    std::optional<std::bitset<256>> class_item() {
        class_escape_ = false;
        if (peek() == '\\')
            return escape(true);
        unsigned char c = static_cast<unsigned char>(peek());
        ++pos_;
        return byte_set(c);
    }

    // At '\': one byte or a class escape. Sets class_escape_ for \d \w \s and negations.
    std::optional<std::bitset<256>> escape(bool in_class) {
        std::size_t start = pos_;
        if (!has(1))
            return fail(start, "\\ at end of pattern");
        char c = peek(1);
        pos_ += 2;
        std::string esc = std::string("\\") + c;
        switch (c) {
        case 'x': {
            if (peek() == '{' && has(0))
                return unsupported(start, "\\x{...} (write \\xHH)");
            int h1 = has(0) ? hex_value(peek()) : -1;
            int h2 = has(1) ? hex_value(peek(1)) : -1;
            if (h1 < 0 || h2 < 0)
                return fail(start, "\\x takes exactly two hex digits in the KIS subset "
                                   "(\\xHH) " +
                                       std::string(kSubsetDoc));
            pos_ += 2;
            return byte_set(static_cast<unsigned char>(h1 * 16 + h2));
        }
        case 'n':
            return byte_set('\n');
        case 'r':
            return byte_set('\r');
        case 't':
            return byte_set('\t');
        case '0':
            if (has(0) && peek() >= '0' && peek() <= '7')
                return unsupported(start, "an octal escape (write \\xHH)");
            return byte_set(0);
        case 'd':
        case 'D':
        case 'w':
        case 'W':
        case 's':
        case 'S': {
            class_escape_ = true;
            char lower = static_cast<char>(c | 0x20);
            std::bitset<256> set = lower == 'd'   ? digit_set()
                                   : lower == 'w' ? word_set()
                                                  : space_set();
            return c == lower ? set : ~set;
        }
        case 'b':
            if (in_class)
                return unsupported(start, "\\b in a class (write \\x08)");
            return unsupported(start, "the word boundary assertion \\b");
        case 'B':
            return unsupported(start, "the assertion \\B");
        case 'A':
        case 'z':
        case 'Z':
        case 'G':
            return unsupported(start, "the anchor " + esc +
                                          " (a leading ^ anchors at "
                                          "message start)");
        case 'K':
            return unsupported(start, "\\K");
        case 'g':
        case 'k':
            return unsupported(start, "a backreference");
        case 'p':
        case 'P':
        case 'X':
            return unsupported(start, "a Unicode property " + esc);
        case 'Q':
        case 'E':
            return unsupported(start, "quoting with \\Q...\\E (escape each metacharacter)");
        case 'h':
        case 'H':
        case 'v':
        case 'V':
        case 'R':
        case 'N':
        case 'C':
            return unsupported(start, "the escape " + esc);
        default:
            break;
        }
        if (c >= '1' && c <= '9')
            return unsupported(start, "a backreference or octal escape " + esc);
        if (is_alnum(c))
            return unsupported(start, "the escape " + esc + " (write the byte as \\xHH)");
        return byte_set(static_cast<unsigned char>(c)); // escaped metacharacter
    }
};

// The pattern in messages: as written, in double quotes, control bytes as \xNN; nothing else
// is escaped, so that offsets count the characters shown.
std::string shown(std::string_view text) { return "\"" + printable(text) + "\""; }

std::string error_prefix(const std::string &what, std::string_view text, std::size_t offset) {
    return what + ": " + shown(text) + " at offset " + std::to_string(offset) + ": ";
}

// PCRE2's verdict on the syntax, with its message and offset.
Result<void> pcre2_check(const std::string &what, std::string_view text, bool nocase) {
    int code = 0;
    PCRE2_SIZE offset = 0;
    std::uint32_t options = PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C |
                            PCRE2_DOTALL | (nocase ? PCRE2_CASELESS : 0);
    pcre2_code *re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), options,
                                   &code, &offset, nullptr);
    if (re) {
        pcre2_code_free(re);
        return {};
    }
    PCRE2_UCHAR buf[256];
    if (pcre2_get_error_message(code, buf, sizeof buf) < 0)
        std::snprintf(reinterpret_cast<char *>(buf), sizeof buf, "PCRE2 error %d", code);
    return make_error(error_prefix(what, text, offset) + reinterpret_cast<const char *>(buf));
}

} // namespace

Result<ParsedPattern> parse_sig_pattern(const SigPattern &pattern, const std::string &what) {
    std::string_view text = pattern.text;
    if (Result<void> r = pcre2_check(what, text, pattern.nocase); !r)
        return r.error();

    ParsedPattern p;
    std::size_t pos = 0;
    p.nocase = pattern.nocase;
    if (text.substr(0, 4) == "(?i)") {
        p.nocase = true;
        pos = 4;
    }
    if (pos < text.size() && text[pos] == '^') {
        p.anchored = true;
        ++pos;
    }
    Parser parser(text, p.nocase);
    std::optional<SigNode> root = parser.parse(pos);
    if (!root) {
        const ParseError &e = *parser.error();
        return make_error(error_prefix(what, text, e.offset) + e.message);
    }
    if (p.anchored && parser.top_bar()) {
        // PCRE2 reads ^a|b as (?:^a)|b; a signature is anchored or not as a whole.
        return make_error(error_prefix(what, text, *parser.top_bar()) +
                          "a leading ^ anchors only the first alternative of a top-level |; "
                          "write ^(?:...|...) to anchor them all, or make separate "
                          "signatures");
    }
    if (nullable(*root))
        return make_error(what + ": " + shown(text) +
                          " can match the empty string, so it would match every message; "
                          "make it need at least one byte");
    p.root = std::move(*root);
    return p;
}

} // namespace kis
