// The signature pattern compiler of kisctl (kisctl/sig_pattern, kisctl/sig_automaton) against
// PCRE2: random patterns of the subset compiled alone and in sets, run by the portable core's
// matcher (kis_dfa_feed, the code the module runs), whole, byte by byte and in random chunks;
// a match of signature s ends at e iff PCRE2 matches (?:P)\z on data[0..e) (anchored at 0 for
// ^ patterns). Also: the exact blob of a small set, canonical output, the size limits, every
// refusal of the subset with its message, the empty match, case-insensitive patterns.
#include <boost/test/unit_test.hpp>

#include <pcre2.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kis_dfa.h"
#include "sig_automaton.hpp"
#include "sig_pattern.hpp"

namespace kis::test {

namespace {

using Bytes = std::vector<std::uint8_t>;
using Sigs = std::vector<std::uint32_t>;

// A blob checked and loaded by the core.
struct Loaded {
    std::vector<std::uint32_t> mem;
    kis_dfa d{};

    explicit Loaded(const Bytes &blob) {
        std::size_t bytes = 0;
        BOOST_REQUIRE_EQUAL(kis_dfa_check(blob.data(), blob.size(), &bytes), 0);
        mem.resize(bytes / 4 + 1);
        BOOST_REQUIRE_EQUAL(kis_dfa_load(&d, mem.data(), mem.size() * 4, blob.data(), blob.size()),
                            0);
    }

    // The match ends (offsets after the byte) of the whole message, found with kis_dfa_feed
    // on the given chunks (sizes adding up to data.size()).
    std::vector<std::size_t> ends(const std::string &data,
                                  const std::vector<std::size_t> &chunks) const {
        std::vector<std::size_t> out;
        std::uint32_t state = d.start;
        std::size_t at = 0;
        for (std::size_t len : chunks) {
            const auto *p = reinterpret_cast<const std::uint8_t *>(data.data()) + at;
            std::size_t left = len;
            while (left > 0) {
                std::size_t k = kis_dfa_feed(&d, &state, p, left);
                if (k == 0)
                    break;
                p += k;
                left -= k;
                out.push_back(at + len - left);
            }
            at += len;
        }
        return out;
    }

    // The accept set after each byte (index e-1 for offset e), fed one byte at a time.
    std::vector<Sigs> accepts(const std::string &data) const {
        std::vector<Sigs> out;
        std::uint32_t state = d.start;
        for (char c : data) {
            auto b = static_cast<std::uint8_t>(c);
            std::size_t k = kis_dfa_feed(&d, &state, &b, 1);
            std::uint32_t n = 0;
            const std::uint32_t *acc = kis_dfa_accepts(&d, state, &n);
            if ((k == 1) != (n > 0))
                BOOST_ERROR("kis_dfa_feed and the accept list disagree");
            out.emplace_back(acc, acc + n);
        }
        return out;
    }
};

// PCRE2's side: does a match of the pattern end exactly at e?
class Reference {
  public:
    explicit Reference(const SigPattern &p, bool anchored) : anchored_(anchored) {
        std::string wrapped = "(?:" + p.text + ")\\z";
        int code = 0;
        PCRE2_SIZE offset = 0;
        re_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(wrapped.data()), wrapped.size(),
                            PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_DOTALL |
                                (p.nocase ? PCRE2_CASELESS : 0),
                            &code, &offset, nullptr);
        BOOST_REQUIRE_MESSAGE(re_, "PCRE2 refuses " << wrapped);
        md_ = pcre2_match_data_create_from_pattern(re_, nullptr);
        // Inputs are short: a lower match limit than the default (10 million) lets the
        // pathological cases go to the DFA matcher sooner.
        mc_ = pcre2_match_context_create(nullptr);
        pcre2_set_match_limit(mc_, 100000);
    }
    ~Reference() {
        pcre2_match_context_free(mc_);
        pcre2_match_data_free(md_);
        pcre2_code_free(re_);
    }
    Reference(const Reference &) = delete;
    Reference &operator=(const Reference &) = delete;

    bool ends_at(const std::string &data, std::size_t e) const {
        auto subject = reinterpret_cast<PCRE2_SPTR>(data.data());
        std::uint32_t options = anchored_ ? PCRE2_ANCHORED : 0;
        int rc = pcre2_match(re_, subject, e, 0, options, md_, mc_);
        if (rc == PCRE2_ERROR_MATCHLIMIT) {
            // Nested quantifiers can make backtracking exponential; PCRE2's DFA matcher
            // answers the same question without backtracking.
            ++dfa_fallbacks;
            int ws[1000];
            rc = pcre2_dfa_match(re_, subject, e, 0, options, md_, nullptr, ws, 1000);
        }
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
            BOOST_ERROR("pcre2_match failed: " << rc);
        return rc >= 0;
    }

    static inline std::size_t dfa_fallbacks = 0;

    // Every e in 1..n where a match ends; the first is PCRE2's earliest match end.
    std::vector<std::size_t> ends(const std::string &data) const {
        std::vector<std::size_t> out;
        for (std::size_t e = 1; e <= data.size(); ++e)
            if (ends_at(data, e))
                out.push_back(e);
        return out;
    }

  private:
    bool anchored_;
    pcre2_code *re_ = nullptr;
    pcre2_match_data *md_ = nullptr;
    pcre2_match_context *mc_ = nullptr;
};

// Random patterns of the subset over a small alphabet, and inputs over the same bytes.
class Generator {
  public:
    explicit Generator(std::uint32_t seed) : rng_(seed) {}

    struct Case {
        SigPattern pattern;
        bool anchored = false;
    };

    Case pattern() {
        Case c;
        std::string body = alternation(0);
        if (chance(25)) {
            c.anchored = true;
            body = body.find('|') == std::string::npos ? "^" + body : "^(?:" + body + ")";
        }
        if (chance(10))
            body = "(?i)" + body;
        else if (chance(10))
            c.pattern.nocase = true;
        c.pattern.text = body;
        return c;
    }

    std::string input() {
        static const char alphabet[] = {'a',  'b',    'c', 'a', 'b',   'A',
                                        '\0', '\xff', ' ', '5', '\x0b'};
        std::string s(uniform(0, 12), 'a');
        for (char &ch : s)
            ch = alphabet[uniform(0, sizeof alphabet - 1)];
        return s;
    }

    // Random chunk sizes adding up to n.
    std::vector<std::size_t> chunks(std::size_t n) {
        std::vector<std::size_t> out;
        while (n > 0) {
            std::size_t k = std::min<std::size_t>(n, uniform(0, 4));
            out.push_back(k); // empty chunks included on purpose
            n -= k;
        }
        return out;
    }

    std::size_t uniform(std::size_t lo, std::size_t hi) {
        return std::uniform_int_distribution<std::size_t>(lo, hi)(rng_);
    }
    bool chance(unsigned percent) { return uniform(0, 99) < percent; }

  private:
    std::mt19937 rng_;

    template <std::size_t N> const char *pick(const char *const (&items)[N]) {
        return items[uniform(0, N - 1)];
    }

    std::string literal() {
        static const char *const lits[] = {"a", "b",     "c",       "a",     "b",
                                           "A", "\\x00", "\\xff",   "\\x61", " ",
                                           "5", "\\t",   "(?:\\0)", "\\.",   "\\*"};
        return pick(lits);
    }

    std::string char_class() {
        // Class members in byte order, as written, so that ranges can be drawn in order.
        static const char *const members[] = {"\\x00", " ", "5", "A", "a", "b", "c", "\\xff"};
        static const char *const escapes[] = {"\\w", "\\W", "\\s", "\\S", "\\d", "\\D"};
        std::string s = chance(30) ? "[^" : "[";
        std::size_t n = uniform(1, 3);
        for (std::size_t i = 0; i < n; ++i) {
            std::size_t k = uniform(0, 9);
            if (k < 5) {
                s += members[uniform(0, 7)];
            } else if (k < 8) {
                std::size_t a = uniform(0, 7), b = uniform(0, 7);
                s += std::string(members[std::min(a, b)]) + "-" + members[std::max(a, b)];
            } else {
                s += pick(escapes);
            }
        }
        return s + "]";
    }

    std::string quantifier() {
        if (chance(60))
            return "";
        std::size_t n = uniform(0, 2), m = n + uniform(0, 2);
        switch (uniform(0, 5)) {
        case 0:
            return "*";
        case 1:
            return "+";
        case 2:
            return "?";
        case 3:
            return "{" + std::to_string(n) + "}";
        case 4:
            return "{" + std::to_string(n) + ",}";
        default:
            return "{" + std::to_string(n) + "," + std::to_string(m) + "}";
        }
    }

    std::string atom(int depth) {
        static const char *const escapes[] = {"\\w", "\\W", "\\s", "\\S", "\\d", "\\D"};
        std::size_t k = uniform(0, depth < 3 ? 11 : 8);
        if (k < 4)
            return literal();
        if (k < 6)
            return char_class();
        if (k == 6)
            return ".";
        if (k < 9)
            return k == 7 ? pick(escapes) : literal() + literal();
        return (chance(50) ? "(" : "(?:") + alternation(depth + 1) + ")";
    }

    std::string concatenation(int depth) {
        std::string s;
        std::size_t n = uniform(1, 3);
        for (std::size_t i = 0; i < n; ++i)
            s += atom(depth) + quantifier();
        return s;
    }

    std::string alternation(int depth) {
        std::string s = concatenation(depth);
        if (chance(30)) {
            std::size_t n = uniform(1, 2);
            for (std::size_t i = 0; i < n; ++i)
                s += "|" + (chance(5) ? std::string() : concatenation(depth));
        }
        return s;
    }
};

std::string show(const std::string &s) {
    std::string out;
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

std::string show(const SigPattern &p) { return show(p.text) + (p.nocase ? " (nocase)" : ""); }

std::string show(const std::vector<std::size_t> &v) {
    std::string out = "{";
    for (std::size_t x : v)
        out += " " + std::to_string(x);
    return out + " }";
}

Result<SigAutomaton> compile(const std::vector<SigPattern> &ps, const SigCompileLimits &l = {}) {
    return compile_signatures(ps, "test", l);
}

Result<SigAutomaton> compile(const std::string &text) { return compile({SigPattern{text}}); }

// The error of compiling one pattern (fails the test if it compiles).
std::string error_of(const std::string &text, bool nocase = false) {
    Result<SigAutomaton> r = compile({SigPattern{text, nocase}});
    BOOST_CHECK_MESSAGE(!r, "\"" << show(text) << "\" compiled");
    return r ? std::string() : r.error().message;
}

// The match ends of one pattern over one input, with the whole input fed at once.
std::vector<std::size_t> dfa_ends(const std::string &pattern, const std::string &data,
                                  bool nocase = false) {
    Result<SigAutomaton> r = compile({SigPattern{pattern, nocase}});
    BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    Loaded l(r->blob);
    return l.ends(data, {data.size()});
}

bool contains(const std::string &s, const std::string &part) {
    return s.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sig_automaton)

// One floating "a": dead, start (nothing under way) and "just saw a"; classes {not a, a}.
BOOST_AUTO_TEST_CASE(exact_blob_of_one_signature) {
    Result<SigAutomaton> r = compile("a");
    BOOST_REQUIRE(r);
    Bytes expect(KIS_DFA_HEADER + 256, 0);
    auto put = [&](std::size_t at, std::uint32_t v) {
        for (int i = 0; i < 4; ++i)
            expect[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
    };
    auto push = [&](std::uint32_t v) {
        expect.resize(expect.size() + 4);
        put(expect.size() - 4, v);
    };
    const std::uint32_t A = KIS_DFA_ACCEPT;
    for (std::uint32_t v : {0u, 0u, 1u, 2u | A, 1u, 2u | A}) // transitions
        push(v);
    for (std::uint32_t v : {0u, 0u, 0u, 1u}) // accept offsets
        push(v);
    push(0); // accept list of state 2
    put(0, KIS_DFA_MAGIC);
    put(4, KIS_DFA_VERSION);
    put(8, KIS_DFA_HEADER);
    put(12, 3); // nstates
    put(16, 2); // nclasses
    put(20, 1); // start
    put(24, 1); // nsigs
    put(28, 1); // naccept
    put(32, static_cast<std::uint32_t>(expect.size()));
    expect[KIS_DFA_HEADER + 'a'] = 1;
    BOOST_CHECK(r->blob == expect);
    BOOST_CHECK_EQUAL(r->nstates, 3u);
    BOOST_CHECK_EQUAL(r->nclasses, 2u);
}

// Anchored only: the dead state is reached, and feeding stops there.
BOOST_AUTO_TEST_CASE(anchored_signature_dies) {
    Result<SigAutomaton> r = compile("^ab");
    BOOST_REQUIRE(r);
    Loaded l(r->blob);
    std::uint32_t state = l.d.start;
    const std::uint8_t data[] = {'a', 'c', 'a', 'b'};
    BOOST_CHECK_EQUAL(kis_dfa_feed(&l.d, &state, data, sizeof data), 0u);
    BOOST_CHECK_EQUAL(state, KIS_DFA_DEAD);
    BOOST_CHECK(l.ends("abab", {4}) == std::vector<std::size_t>{2});
    BOOST_CHECK(l.ends("xab", {3}).empty());
}

BOOST_AUTO_TEST_CASE(canonical_output) {
    Generator g(7);
    for (int i = 0; i < 50; ++i) {
        std::vector<SigPattern> ps;
        for (std::size_t k = g.uniform(1, 5); ps.size() < k;) {
            SigPattern p = g.pattern().pattern;
            if (parse_sig_pattern(p, "p"))
                ps.push_back(p);
        }
        Result<SigAutomaton> a = compile(ps), b = compile(ps);
        BOOST_REQUIRE(a && b);
        BOOST_CHECK(a->blob == b->blob);
    }
    // The same list in another order is another automaton (signature numbers), but the same
    // patterns give the same bytes however they are spelled.
    Result<SigAutomaton> x = compile("(?i)ab"), y = compile({SigPattern{"ab", true}}),
                         z = compile("[aA][bB]");
    BOOST_REQUIRE(x && y && z);
    BOOST_CHECK(x->blob == y->blob);
    BOOST_CHECK(x->blob == z->blob);
}

// Single patterns: the automaton's match ends (the first being where the first match ends)
// equal PCRE2's, fed whole and in random chunks.
BOOST_AUTO_TEST_CASE(random_patterns_against_pcre2) {
    Generator g(20240611);
    std::size_t patterns = 0, nullable = 0, cases = 0, matched = 0, too_big = 0, states = 0;
    while (patterns < 3000) {
        Generator::Case c = g.pattern();
        Reference ref(c.pattern, c.anchored);
        Result<SigAutomaton> r = compile({c.pattern}, SigCompileLimits{256 << 10});
        if (!r && contains(r.error().message, "need more than")) {
            ++too_big;
            continue;
        }
        if (!r) {
            // The generator only writes subset patterns: the one refusal is the empty match.
            BOOST_REQUIRE_MESSAGE(contains(r.error().message, "can match the empty string"),
                                  show(c.pattern) << ": " << r.error().message);
            BOOST_REQUIRE_MESSAGE(ref.ends_at("", 0),
                                  show(c.pattern) << " refused, but PCRE2 finds no empty match");
            ++nullable;
            continue;
        }
        BOOST_REQUIRE_MESSAGE(!ref.ends_at("", 0),
                              show(c.pattern) << " compiled, but it matches the empty string");
        ++patterns;
        states += r->nstates;
        Loaded l(r->blob);
        for (int i = 0; i < 20; ++i) {
            std::string data = g.input();
            std::vector<std::size_t> expect = ref.ends(data);
            std::vector<std::size_t> whole = l.ends(data, {data.size()});
            std::vector<std::size_t> chunked = l.ends(data, g.chunks(data.size()));
            ++cases;
            matched += !expect.empty();
            if (whole != expect || chunked != expect)
                BOOST_ERROR(show(c.pattern)
                            << " on \"" << show(data) << "\": PCRE2 " << show(expect) << ", whole "
                            << show(whole) << ", chunked " << show(chunked));
            for (const Sigs &acc : l.accepts(data))
                if (!acc.empty() && acc != Sigs{0})
                    BOOST_ERROR("accept list other than {0} for one signature");
        }
    }
    BOOST_TEST_MESSAGE("sig_automaton: " << patterns << " patterns (" << states << " states), "
                                         << cases << " inputs (" << matched << " with a match), "
                                         << nullable << " empty-match patterns refused, " << too_big
                                         << " over 256 KiB skipped");
    BOOST_CHECK_LT(too_big, patterns / 100);
    BOOST_CHECK_GT(matched, cases / 5);
    BOOST_CHECK_GT(cases - matched, cases / 5);
}

// Sets: the accept set after each byte is the set of signatures whose match ends there.
BOOST_AUTO_TEST_CASE(random_sets_against_pcre2) {
    Generator g(99);
    std::size_t cases = 0, multi = 0, sets = 0, too_big = 0, states = 0;
    while (sets < 400) {
        std::vector<Generator::Case> cs;
        std::vector<SigPattern> ps;
        for (std::size_t n = g.uniform(2, 8); ps.size() < n;) {
            Generator::Case c = g.pattern();
            if (!parse_sig_pattern(c.pattern, "p"))
                continue;
            cs.push_back(c);
            ps.push_back(c.pattern);
        }
        std::vector<std::unique_ptr<Reference>> refs;
        for (const Generator::Case &c : cs)
            refs.push_back(std::make_unique<Reference>(c.pattern, c.anchored));
        // Some random sets need many states (x.{2,}y and the like): a lower limit keeps the
        // test fast; they are counted.
        Result<SigAutomaton> r = compile(ps, SigCompileLimits{256 << 10});
        if (!r) {
            BOOST_REQUIRE_MESSAGE(contains(r.error().message, "need more than"), r.error().message);
            ++too_big;
            continue;
        }
        ++sets;
        states += r->nstates;
        Loaded l(r->blob);
        for (int i = 0; i < 20; ++i) {
            std::string data = g.input();
            std::vector<Sigs> got = l.accepts(data);
            ++cases;
            for (std::size_t e = 1; e <= data.size(); ++e) {
                Sigs expect;
                for (std::uint32_t s = 0; s < refs.size(); ++s)
                    if (refs[s]->ends_at(data, e))
                        expect.push_back(s);
                multi += expect.size() > 1;
                if (got[e - 1] != expect) {
                    std::string msg;
                    for (const SigPattern &p : ps)
                        msg += " \"" + show(p) + "\"";
                    BOOST_ERROR("set" << msg << " on \"" << show(data) << "\" at " << e
                                      << ": accept set differs");
                }
            }
        }
    }
    BOOST_TEST_MESSAGE("sig_automaton: " << Reference::dfa_fallbacks
                                         << " PCRE2 answers from pcre2_dfa_match (match limit)");
    BOOST_TEST_MESSAGE("sig_automaton: " << sets << " sets (" << states << " states), " << cases
                                         << " inputs, " << multi
                                         << " offsets with several matches; " << too_big
                                         << " sets over 256 KiB skipped");
    BOOST_CHECK_GT(multi, 100u);
    BOOST_CHECK_LT(too_big, sets / 10);
}

BOOST_AUTO_TEST_CASE(case_insensitive) {
    using V = std::vector<std::size_t>;
    BOOST_CHECK(dfa_ends("(?i)abc", "xAbCabc") == (V{4, 7}));
    BOOST_CHECK(dfa_ends("abc", "xAbCabc", true) == (V{4, 7}));
    BOOST_CHECK(dfa_ends("abc", "xAbCabc") == (V{7}));
    BOOST_CHECK(dfa_ends("(?i)[a-c]", "B") == (V{1}));
    BOOST_CHECK(dfa_ends("(?i)[^a]", "aAb") == (V{3}));
    BOOST_CHECK(dfa_ends("(?i)\\x4b", "k") == (V{1}));
    // Bytes, not Unicode: only ASCII letters fold.
    BOOST_CHECK(dfa_ends("(?i)\\xe9", "\xc9\xe9") == (V{2}));
    BOOST_CHECK(dfa_ends("(?i)^GET ", "get /") == (V{4}));
}

BOOST_AUTO_TEST_CASE(dot_matches_every_byte) {
    std::string all;
    for (int b = 0; b < 256; ++b)
        all += static_cast<char>(b);
    BOOST_CHECK_EQUAL(dfa_ends(".", all).size(), 256u);
    BOOST_CHECK(dfa_ends("a.b", "a\nb") == std::vector<std::size_t>{3});
}

BOOST_AUTO_TEST_CASE(size_limit) {
    // A lowered limit: "abc" needs 5 states of 4 classes, 304 + 4 * (5 * 4 + 6 + 1) bytes.
    Result<SigAutomaton> ok = compile({SigPattern{"abc"}});
    BOOST_REQUIRE(ok);
    BOOST_CHECK_EQUAL(ok->nstates, 5u);
    BOOST_CHECK_EQUAL(ok->nclasses, 4u);
    BOOST_CHECK_EQUAL(ok->blob.size(), 412u);
    Result<SigAutomaton> r = compile({SigPattern{"abc"}}, SigCompileLimits{ok->blob.size() - 1});
    BOOST_REQUIRE(!r);
    BOOST_CHECK_EQUAL(r.error().message, "the signatures of cell test need more than " +
                                             std::to_string(ok->nstates - 1) +
                                             " states, more than the automaton limit (" +
                                             std::to_string(ok->blob.size() - 1) +
                                             " bytes); simplify or split them");
    BOOST_CHECK(compile({SigPattern{"abc"}}, SigCompileLimits{ok->blob.size()}));

    // The real limit: every byte its own class (the anchored alternatives), and a floating
    // "a" followed by 14 any-bytes, which needs 2^15 states (1 KiB each) to remember where
    // the last 15 a's were.
    std::string every = "^(?:";
    for (int b = 0; b < 256; ++b) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%s\\x%02x\\x%02x", b ? "|" : "", b, b);
        every += buf;
    }
    every += ")";
    r = compile({SigPattern{every}, SigPattern{"a.{14}"}});
    BOOST_REQUIRE(!r);
    BOOST_CHECK(contains(r.error().message, "need more than"));
    BOOST_CHECK(contains(r.error().message, "(16777216 bytes); simplify or split them"));
    // Half of it fits.
    r = compile({SigPattern{every}, SigPattern{"a.{12}"}});
    BOOST_REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
    BOOST_CHECK_EQUAL(r->nclasses, 256u);
    BOOST_CHECK_LE(r->blob.size(), KIS_DFA_SIZE_MAX);
    Loaded l(r->blob);
    BOOST_CHECK(l.ends("xa0123456789abc", {15}) == std::vector<std::size_t>{14});
}

BOOST_AUTO_TEST_CASE(signature_count_limits) {
    BOOST_CHECK_EQUAL(compile(std::vector<SigPattern>{}).error().message,
                      "cell test has no signatures to compile");
    Result<ParsedPattern> p = parse_sig_pattern(SigPattern{"a"}, "p");
    BOOST_REQUIRE(p);
    std::vector<ParsedPattern> many(KIS_DFA_SIGS_MAX + 1, *p);
    Result<SigAutomaton> r = build_sig_automaton(many, "web");
    BOOST_REQUIRE(!r);
    BOOST_CHECK_EQUAL(r.error().message,
                      "cell web has 65537 signatures, more than the automaton limit of 65536; "
                      "split them");
    // 2000 signatures: one automaton, each its own accept list.
    std::vector<SigPattern> ps;
    for (int i = 0; i < 2000; ++i)
        ps.push_back(SigPattern{"x" + std::to_string(i) + "y"});
    Result<SigAutomaton> big = compile(ps);
    BOOST_REQUIRE(big);
    Loaded l(big->blob);
    std::vector<Sigs> acc = l.accepts("ax1234yx12yx7");
    BOOST_CHECK(acc[6] == Sigs{1234});
    BOOST_CHECK(acc[10] == Sigs{12});
    BOOST_CHECK(acc[12].empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sig_pattern)

BOOST_AUTO_TEST_CASE(error_message_format) {
    Result<SigAutomaton> r =
        compile({SigPattern{"ok"}, SigPattern{"fine"}, SigPattern{"a"}, SigPattern{"(?=x)"}});
    BOOST_REQUIRE(!r);
    BOOST_CHECK_EQUAL(r.error().message, "pattern 3: \"(?=x)\" at offset 0: lookahead is not in "
                                         "the KIS subset (Documentation/signatures.md)");
    // PCRE2's own message and offset for syntax errors.
    BOOST_CHECK_EQUAL(error_of("a(b"),
                      "pattern 0: \"a(b\" at offset 3: missing closing parenthesis");
    BOOST_CHECK_EQUAL(error_of("[a"),
                      "pattern 0: \"[a\" at offset 2: missing terminating ] for character class");
    BOOST_CHECK_EQUAL(error_of("x{3,2}"),
                      "pattern 0: \"x{3,2}\" at offset 5: numbers out of order in {} quantifier");
    // Control bytes of the pattern are shown escaped.
    BOOST_CHECK_EQUAL(error_of("\n$"), "pattern 0: \"\\x0a$\" at offset 1: the end anchor $ is "
                                       "not in the KIS subset (Documentation/signatures.md)");
    // The name the caller gives.
    Result<ParsedPattern> p = parse_sig_pattern(SigPattern{"(a)\\1"}, "signature web-shell");
    BOOST_REQUIRE(!p);
    BOOST_CHECK(p.error().message.starts_with("signature web-shell: \"(a)\\1\" at offset 3: "));
}

// Everything the subset refuses: the message says what, and where.
BOOST_AUTO_TEST_CASE(outside_the_subset) {
    struct Case {
        const char *pattern;
        std::size_t offset;
        const char *what;
    };
    const Case cases[] = {
        {"(?=x)", 0, "lookahead is not in the KIS subset"},
        {"a(?!b)", 1, "negative lookahead is not in the KIS subset"},
        {"(?<=a)b", 0, "lookbehind is not in the KIS subset"},
        {"(?<!a)b", 0, "negative lookbehind is not in the KIS subset"},
        {"(?*a)b", 0, "non-atomic lookahead is not in the KIS subset"},
        {"(a)\\1", 3, "a backreference or octal escape \\1 is not in the KIS subset"},
        {"(a)\\g1", 3, "a backreference is not in the KIS subset"},
        {"(?<n>a)\\k<n>", 0, "a named group (write (...) or (?:...)) is not in the KIS subset"},
        {"(?P<n>a)", 0, "a named group"},
        {"(?'n'a)", 0, "a named group"},
        {"(?P<n>a)(?P=n)", 0, "a named group"},
        {"(?>ab)", 0, "an atomic group is not in the KIS subset"},
        {"(?|a|b)", 0, "a branch reset group is not in the KIS subset"},
        {"(?#note)a", 0, "a comment group is not in the KIS subset"},
        {"(a)(?(1)b|c)", 3, "a conditional group is not in the KIS subset"},
        {"a(?R)?", 1, "recursion or a subroutine call is not in the KIS subset"},
        {"(a)(?1)", 3, "recursion or a subroutine call is not in the KIS subset"},
        {"(?<n>a)", 0, "a named group"},
        {"(?C1)a", 0, "a callout is not in the KIS subset"},
        {"(*ACCEPT)a", 0, "a (*...) verb or option is not in the KIS subset"},
        {"(?s)a", 0, "an inline option group (only a leading (?i) is) is not in the KIS subset"},
        {"(?i:a)b", 0, "an inline option group"},
        {"a(?i)b", 1, "(?i) is only allowed at the very start of a pattern"},
        {"^(?i)b", 1, "(?i) is only allowed at the very start of a pattern"},
        {"a*?b", 2, "a lazy quantifier is not in the KIS subset"},
        {"a+?", 2, "a lazy quantifier"},
        {"a??b", 2, "a lazy quantifier"},
        {"a{1,2}?", 6, "a lazy quantifier"},
        {"a*+b", 2, "a possessive quantifier is not in the KIS subset"},
        {"a++", 2, "a possessive quantifier"},
        {"a?+b", 2, "a possessive quantifier"},
        {"a{2}+", 4, "a possessive quantifier"},
        {"\\bfoo", 0, "the word boundary assertion \\b is not in the KIS subset"},
        {"foo\\B", 3, "the assertion \\B is not in the KIS subset"},
        {"foo$", 3, "the end anchor $ is not in the KIS subset"},
        {"\\Afoo", 0, "the anchor \\A (a leading ^ anchors at message start) is not in"},
        {"foo\\z", 3, "the anchor \\z"},
        {"foo\\Z", 3, "the anchor \\Z"},
        {"\\Gfoo", 0, "the anchor \\G"},
        {"a\\Kb", 1, "\\K is not in the KIS subset"},
        {"a^b", 1, "^ is only allowed at the very start of a pattern"},
        {"(^a)", 1, "^ is only allowed at the very start of a pattern"},
        {"\\p{L}", 0, "a Unicode property \\p is not in the KIS subset"},
        {"\\P{L}", 0, "a Unicode property \\P"},
        {"\\X", 0, "a Unicode property \\X"},
        {"\\x{41}", 0, "\\x{...} (write \\xHH) is not in the KIS subset"},
        {"\\x4", 0, "\\x takes exactly two hex digits in the KIS subset (\\xHH)"},
        {"\\xg", 0, "\\x takes exactly two hex digits"},
        {"\\012", 0, "an octal escape (write \\xHH) is not in the KIS subset"},
        {"\\o{12}", 0, "the escape \\o (write the byte as \\xHH) is not in the KIS subset"},
        {"\\cA", 0, "the escape \\c (write the byte as \\xHH)"},
        {"\\f", 0, "the escape \\f (write the byte as \\xHH)"},
        {"\\e", 0, "the escape \\e (write the byte as \\xHH)"},
        {"\\a", 0, "the escape \\a (write the byte as \\xHH)"},
        {"\\h", 0, "the escape \\h is not in the KIS subset"},
        {"\\v", 0, "the escape \\v is not in the KIS subset"},
        {"\\R", 0, "the escape \\R is not in the KIS subset"},
        {"\\N", 0, "the escape \\N is not in the KIS subset"},
        {"\\Qa.b\\E", 0, "quoting with \\Q...\\E (escape each metacharacter)"},
        {"[[:alpha:]]", 1, "POSIX class syntax (write a range, or \\[) is not in the KIS subset"},
        {"[\\b]", 1, "\\b in a class (write \\x08) is not in the KIS subset"},
        {"[a-c-e]", 4, "a '-' right after a range must be escaped as \\- in the KIS subset"},
        {"a{,3}", 1, "a literal { must be escaped as \\{ in the KIS subset"},
        {"a{1, 2}", 1, "a literal { must be escaped as \\{"},
        {"{", 0, "a literal { must be escaped as \\{"},
        {"a{256}", 1, "a repeat count above 255 is not in the KIS subset"},
        {"a{1,300}", 1, "a repeat count above 255"},
        {"a{300,}", 1, "a repeat count above 255"},
        {"(a{200}){60}", 8, "the pattern expands to more than 10000 byte positions"},
        {"^ab|c", 3, "a leading ^ anchors only the first alternative of a top-level |"},
        {"(?i)^a|(b)|c", 6, "a leading ^ anchors only the first alternative"},
    };
    for (const Case &c : cases) {
        std::string msg = error_of(c.pattern);
        std::string where = "at offset " + std::to_string(c.offset) + ": ";
        BOOST_CHECK_MESSAGE(contains(msg, where + c.what), "\"" << c.pattern << "\": got: " << msg);
    }
    // Refused by PCRE2 already (its messages).
    for (const char *p :
         {"a**", "a{2}{3}", "*a", "^*a", "(*UTF)a", "\\C", "[\\d-z]", "[z-a]", "[a-[:digit:]]"}) {
        std::string msg = error_of(p);
        BOOST_CHECK_MESSAGE(contains(msg, "at offset "), p << ": " << msg);
    }
}

BOOST_AUTO_TEST_CASE(empty_match_is_refused) {
    for (const char *p : {"", "a*", "(a|)", "()", "(?:)", "^b?", "(?i)", "^", "a{0}", "(a*)+",
                          "[ab]{0,3}", "(a|b*)c?"}) {
        std::string msg = error_of(p);
        BOOST_CHECK_MESSAGE(contains(msg, "can match the empty string, so it would match every "
                                          "message"),
                            "\"" << p << "\": " << msg);
    }
    BOOST_CHECK(compile("a*b"));
    BOOST_CHECK(compile("(a|)b"));
    BOOST_CHECK(compile("^a{0}b"));
}

// What the subset accepts, and what it means.
BOOST_AUTO_TEST_CASE(subset_features) {
    using V = std::vector<std::size_t>;
    BOOST_CHECK(dfa_ends("\\x00\\xff", std::string("a\0\xff", 3)) == (V{3}));
    BOOST_CHECK(dfa_ends("\\n\\r\\t\\0", std::string("\n\r\t\0", 4)) == (V{4}));
    BOOST_CHECK(dfa_ends("\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\\\/\\-",
                         ".*+?()[]{}|^$\\/-") == (V{16}));
    BOOST_CHECK(dfa_ends("\\d\\D\\w\\W\\s\\S", "1a_ \tx") == (V{6}));
    BOOST_CHECK(dfa_ends("\\s", "\x0b") == (V{1})); // VT is space, as in PCRE2
    BOOST_CHECK(dfa_ends("[]a]", "]") == (V{1}));
    BOOST_CHECK(dfa_ends("[^]a]", "]ab") == (V{3}));
    BOOST_CHECK(dfa_ends("[a-]", "-") == (V{1}));
    BOOST_CHECK(dfa_ends("[\\x00-\\x1f\\d]", "a\x01"
                                             "5") == (V{2, 3}));
    BOOST_CHECK(dfa_ends("[^\\W]", "_") == (V{1}));
    BOOST_CHECK(dfa_ends("a{2,3}", "aaaa") == (V{2, 3, 4}));
    BOOST_CHECK(dfa_ends("^a{2,}", "aaaab") == (V{2, 3, 4}));
    BOOST_CHECK(dfa_ends("^x[^\\n]{255}", "x" + std::string(255, 'y')) == (V{256}));
    BOOST_CHECK(dfa_ends("(?:ab|cd)+e", "abcde") == (V{5}));
    BOOST_CHECK(dfa_ends("(ab|(c))*d", "abcdd") == (V{4, 5}));
    BOOST_CHECK(dfa_ends("a}b]", "a}b]") == (V{4}));
    BOOST_CHECK(dfa_ends("a b#", "a b#") == (V{4}));
    BOOST_CHECK(dfa_ends("[^\\x00-\\xff]|z", "az") == (V{2})); // an empty class
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
