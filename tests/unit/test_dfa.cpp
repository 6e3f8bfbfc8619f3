// The signature automaton of the portable core (kernel/kis/core/kis_dfa.c): the blob layout,
// matching (whole, byte by byte, in chunks) against a brute-force matcher, the dead state,
// every malformation the check must refuse, and random mutations of valid blobs checked
// against an independent validator and run on random data.
#include <boost/test/unit_test.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bitset>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kis_dfa.h"

namespace kis::test {

namespace {

using Bytes = std::vector<std::uint8_t>;
using Sigs = std::vector<std::uint32_t>;

constexpr std::size_t kMap = KIS_DFA_HEADER;        // offset of the class map
constexpr std::size_t kNext = KIS_DFA_HEADER + 256; // offset of the transitions

// Header field offsets.
constexpr std::size_t kMagic = 0, kVersion = 4, kHsize = 8, kNstates = 12, kNclasses = 16,
                      kStart = 20, kNsigs = 24, kNaccept = 28, kTotal = 32, kFlags = 40,
                      kReserved = 44;

std::uint32_t get32(const Bytes &b, std::size_t o) {
    return b[o] | std::uint32_t(b[o + 1]) << 8 | std::uint32_t(b[o + 2]) << 16 |
           std::uint32_t(b[o + 3]) << 24;
}

void put32(Bytes &b, std::size_t o, std::uint32_t v) {
    for (int i = 0; i < 4; i++)
        b[o + i] = std::uint8_t(v >> (8 * i));
}

void put64(Bytes &b, std::size_t o, std::uint64_t v) {
    put32(b, o, std::uint32_t(v));
    put32(b, o + 4, std::uint32_t(v >> 32));
}

void append32(Bytes &b, std::uint32_t v) {
    b.resize(b.size() + 4);
    put32(b, b.size() - 4, v);
}

// An automaton as plain tables, written into a blob by blob().
struct Automaton {
    std::uint32_t nclasses = 1;
    std::uint8_t map[256] = {};
    std::uint32_t start = 1;
    std::uint32_t nsigs = 1;
    std::vector<std::vector<std::uint32_t>> next; // target states, without bit 31
    std::vector<Sigs> acc;                        // accept list of each state

    // The map of a set of "special" bytes: other bytes are class 0, the special ones 1, 2, ...
    // in the order given (which must be increasing for the canonical numbering).
    void classes(const std::string &special) {
        std::memset(map, 0, sizeof(map));
        nclasses = 1;
        for (unsigned char c : special)
            map[c] = std::uint8_t(nclasses++);
    }
};

// The blob of an automaton: bit 31 of each transition set from the accept lists, unless
// raw (then next[] is written as given).
Bytes blob(const Automaton &a, bool raw = false) {
    std::uint32_t ns = std::uint32_t(a.next.size());
    std::uint32_t naccept = 0;
    for (const auto &l : a.acc)
        naccept += std::uint32_t(l.size());
    Bytes b(KIS_DFA_HEADER, 0);
    put32(b, kMagic, KIS_DFA_MAGIC);
    put32(b, kVersion, KIS_DFA_VERSION);
    put32(b, kHsize, KIS_DFA_HEADER);
    put32(b, kNstates, ns);
    put32(b, kNclasses, a.nclasses);
    put32(b, kStart, a.start);
    put32(b, kNsigs, a.nsigs);
    put32(b, kNaccept, naccept);
    b.resize(kNext);
    std::memcpy(b.data() + kMap, a.map, 256);
    for (const auto &row : a.next)
        for (std::uint32_t t : row) {
            bool acc = t < a.acc.size() && !a.acc[t].empty();
            append32(b, raw || !acc ? t : t | KIS_DFA_ACCEPT);
        }
    std::uint32_t off = 0;
    append32(b, 0);
    for (const auto &l : a.acc)
        append32(b, off += std::uint32_t(l.size()));
    for (const auto &l : a.acc)
        for (std::uint32_t s : l)
            append32(b, s);
    put64(b, kTotal, b.size());
    return b;
}

// Where the sections of a blob start, from its header.
struct Layout {
    std::uint32_t ns, nc, naccept;
    std::size_t next, off, acc;
    explicit Layout(const Bytes &b)
        : ns(get32(b, kNstates)), nc(get32(b, kNclasses)), naccept(get32(b, kNaccept)), next(kNext),
          off(kNext + std::size_t(ns) * nc * 4), acc(off + (std::size_t(ns) + 1) * 4) {}
    std::size_t trans(std::uint32_t s, std::uint32_t c) const {
        return next + (std::size_t(s) * nc + c) * 4;
    }
    std::size_t offset(std::uint32_t s) const { return off + std::size_t(s) * 4; }
    std::size_t sig(std::uint32_t i) const { return acc + std::size_t(i) * 4; }
};

// kis_dfa_check on an exact-size heap copy, so that ASan sees any read past the end.
int check(const Bytes &b, std::size_t *mem = nullptr) {
    std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[b.size()]);
    if (!b.empty())
        std::memcpy(copy.get(), b.data(), b.size());
    std::size_t m = 0;
    int err = kis_dfa_check(copy.get(), b.size(), &m);
    if (mem)
        *mem = m;
    return err;
}

// A loaded automaton in exact-size memory.
struct Loaded {
    std::unique_ptr<std::uint32_t[]> mem;
    kis_dfa d{};

    explicit Loaded(const Bytes &b) {
        std::size_t bytes = 0;
        BOOST_REQUIRE_EQUAL(check(b, &bytes), 0);
        BOOST_REQUIRE(bytes > 0 && bytes % 4 == 0);
        mem.reset(new std::uint32_t[bytes / 4]);
        std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[b.size()]);
        std::memcpy(copy.get(), b.data(), b.size());
        BOOST_REQUIRE_EQUAL(kis_dfa_load(&d, mem.get(), bytes, copy.get(), b.size()), 0);
    }
    const kis_dfa *get() const { return &d; }
    Sigs accepts(std::uint32_t state) const {
        std::uint32_t n = 0;
        const std::uint32_t *p = kis_dfa_accepts(&d, state, &n);
        return Sigs(p, p + n);
    }
};

// A match end: the offset after the byte (1-based) and the signatures that end there.
struct Event {
    std::size_t end;
    Sigs sigs;
    bool operator==(const Event &) const = default;
};

// "5:{0} 8:{0,2}": what the checks print.
std::string show(const std::vector<Event> &v) {
    std::string out;
    for (const auto &e : v) {
        out += (out.empty() ? "" : " ") + std::to_string(e.end) + ":{";
        for (std::size_t i = 0; i < e.sigs.size(); i++)
            out += (i ? "," : "") + std::to_string(e.sigs[i]);
        out += "}";
    }
    return out;
}

// Runs a message through the automaton in chunks of the sizes chunk() gives (0 is allowed),
// continuing after each match; every match end with its accept set. *final is the state after.
std::vector<Event> run(const Loaded &l, const Bytes &data,
                       const std::function<std::size_t()> &chunk, std::uint32_t state,
                       std::uint32_t *final = nullptr) {
    std::vector<Event> out;
    std::size_t pos = 0;
    while (pos < data.size()) {
        std::size_t len = std::min(chunk(), data.size() - pos);
        std::size_t done = 0;
        while (done < len) {
            std::size_t k = kis_dfa_feed(l.get(), &state, data.data() + pos + done, len - done);
            BOOST_REQUIRE(k <= len - done);
            BOOST_REQUIRE(state < l.d.nstates);
            if (!k)
                break;
            done += k;
            Sigs s = l.accepts(state);
            BOOST_REQUIRE(!s.empty());
            out.push_back({pos + done, s});
        }
        pos += len;
    }
    if (final)
        *final = state;
    return out;
}

std::vector<Event> run_whole(const Loaded &l, const Bytes &data) {
    return run(
        l, data, [&] { return data.size(); }, l.d.start);
}

std::vector<Event> run_bytes(const Loaded &l, const Bytes &data) {
    return run(
        l, data, [] { return std::size_t(1); }, l.d.start);
}

std::vector<Event> run_random(const Loaded &l, const Bytes &data, std::mt19937 &rng) {
    return run(
        l, data, [&] { return std::size_t(rng() % 9); }, l.d.start);
}

Bytes bytes(const std::string &s) { return Bytes(s.begin(), s.end()); }

// ---- a reference compiler for literal signatures -----------------------------------------------
// A pattern is a string of bytes, '.' meaning any byte, with a leading '^' for anchored ones.
// The automaton is the subset construction over (signature, matched length) pairs, states
// numbered breadth-first from the start state visiting classes in increasing order, classes
// numbered by their smallest byte: the canonical layout of the shared spec.

struct Pattern {
    std::vector<std::bitset<256>> pos;
    bool anchored = false;
};

Pattern parse(const std::string &s) {
    Pattern p;
    std::size_t i = 0;
    if (!s.empty() && s[0] == '^') {
        p.anchored = true;
        i = 1;
    }
    for (; i < s.size(); i++) {
        std::bitset<256> set;
        if (s[i] == '.')
            set.set();
        else
            set.set((unsigned char)s[i]);
        p.pos.push_back(set);
    }
    BOOST_REQUIRE(!p.pos.empty());
    return p;
}

Automaton compile(const std::vector<std::string> &patterns) {
    std::vector<Pattern> ps;
    for (const auto &s : patterns)
        ps.push_back(parse(s));
    bool any_anchored = false, any_floating = false;
    for (const auto &p : ps)
        (p.anchored ? any_anchored : any_floating) = true;

    Automaton a;
    a.nsigs = std::uint32_t(ps.size());
    // Classes: bytes with the same membership in every pattern position.
    std::map<std::vector<bool>, std::uint32_t> class_of;
    std::vector<std::uint8_t> rep;
    for (unsigned b = 0; b < 256; b++) {
        std::vector<bool> key;
        for (const auto &p : ps)
            for (const auto &set : p.pos)
                key.push_back(set[b]);
        auto [it, fresh] = class_of.emplace(key, std::uint32_t(rep.size()));
        if (fresh)
            rep.push_back(std::uint8_t(b));
        a.map[b] = std::uint8_t(it->second);
    }
    a.nclasses = std::uint32_t(rep.size());

    using Key = std::pair<bool, std::vector<std::pair<std::uint32_t, std::uint32_t>>>;
    std::map<Key, std::uint32_t> id;
    std::vector<Key> keys;
    keys.push_back({false, {}}); // state 0, dead
    if (!any_floating)
        id[keys[0]] = 0; // with nothing floating, "nothing partial" is dead
    Key start{any_anchored, {}};
    auto intern = [&](const Key &k) {
        auto [it, fresh] = id.emplace(k, std::uint32_t(keys.size()));
        if (fresh)
            keys.push_back(k);
        return it->second;
    };
    a.start = intern(start);
    a.next.assign(1, std::vector<std::uint32_t>(a.nclasses, 0));
    for (std::size_t q = 1; q < keys.size(); q++) {
        Key k = keys[q]; // copy: keys grows
        std::vector<std::uint32_t> row;
        for (std::uint32_t c = 0; c < a.nclasses; c++) {
            std::uint8_t b = rep[c];
            std::set<std::pair<std::uint32_t, std::uint32_t>> out;
            for (auto [s, j] : k.second)
                if (j < ps[s].pos.size() && ps[s].pos[j][b])
                    out.insert({s, j + 1});
            for (std::uint32_t s = 0; s < ps.size(); s++)
                if ((!ps[s].anchored || k.first) && ps[s].pos[0][b])
                    out.insert({s, 1});
            row.push_back(intern({false, {out.begin(), out.end()}}));
        }
        a.next.push_back(row);
    }
    for (const auto &k : keys) {
        Sigs acc;
        for (auto [s, j] : k.second)
            if (j == ps[s].pos.size())
                acc.push_back(s);
        a.acc.push_back(acc);
    }
    return a;
}

// Every match end, by trying each signature at each end offset.
std::vector<Event> brute(const std::vector<std::string> &patterns, const Bytes &data) {
    std::vector<Pattern> ps;
    for (const auto &s : patterns)
        ps.push_back(parse(s));
    std::vector<Event> out;
    for (std::size_t e = 1; e <= data.size(); e++) {
        Sigs m;
        for (std::uint32_t s = 0; s < ps.size(); s++) {
            std::size_t n = ps[s].pos.size();
            if (n > e || (ps[s].anchored && e != n))
                continue;
            bool ok = true;
            for (std::size_t j = 0; j < n && ok; j++)
                ok = ps[s].pos[j][data[e - n + j]];
            if (ok)
                m.push_back(s);
        }
        if (!m.empty())
            out.push_back({e, m});
    }
    return out;
}

// ---- an independent validator, straight from the spec --------------------------------------

bool valid(const Bytes &b) {
    if (b.size() < 48 || b.size() > KIS_DFA_SIZE_MAX)
        return false;
    if (get32(b, 0) != 0x4146444bu || get32(b, 4) != 1 || get32(b, 8) != 48 || get32(b, 40) ||
        get32(b, 44))
        return false;
    std::uint64_t ns = get32(b, 12), nc = get32(b, 16), start = get32(b, 20), nsigs = get32(b, 24),
                  naccept = get32(b, 28), total = get32(b, 32) | std::uint64_t(get32(b, 36)) << 32;
    if (ns < 2 || nc < 1 || nc > 256 || start < 1 || start >= ns || nsigs < 1 || nsigs > 65536)
        return false;
    std::uint64_t need = 48 + 256 + ns * nc * 4 + (ns + 1) * 4 + naccept * 4;
    if (need != b.size() || total != need)
        return false;
    std::set<unsigned> used;
    for (unsigned i = 0; i < 256; i++) {
        if (b[48 + i] >= nc)
            return false;
        used.insert(b[48 + i]);
    }
    if (used.size() != nc)
        return false;
    std::size_t t0 = 304, o0 = t0 + ns * nc * 4, a0 = o0 + (ns + 1) * 4;
    std::vector<std::uint32_t> off(ns + 1), acc(naccept);
    for (std::size_t s = 0; s <= ns; s++)
        off[s] = get32(b, o0 + 4 * s);
    for (std::size_t i = 0; i < naccept; i++)
        acc[i] = get32(b, a0 + 4 * i);
    if (off[0] != 0 || off[1] != 0 || off[ns] != naccept)
        return false;
    for (std::size_t s = 0; s < ns; s++)
        if (off[s + 1] < off[s])
            return false;
    for (std::size_t s = 0; s < ns; s++) {
        for (std::size_t i = off[s]; i < off[s + 1]; i++)
            if (acc[i] >= nsigs || (i > off[s] && acc[i - 1] >= acc[i]))
                return false;
    }
    for (std::size_t s = 0; s < ns; s++)
        for (std::size_t c = 0; c < nc; c++) {
            std::uint32_t v = get32(b, t0 + 4 * (s * nc + c)), t = v & 0x7fffffffu;
            if (s == 0) {
                if (v)
                    return false;
                continue;
            }
            if (t >= ns || bool(v >> 31) != (off[t + 1] > off[t]))
                return false;
        }
    return true;
}

// ---- hand-built automata ----------------------------------------------------------------------

// "abc", floating. Classes: other 0, 'a' 1, 'b' 2, 'c' 3. States: 1 start, 2 "a", 3 "ab",
// 4 "abc" (accepts 0).
Automaton hand_abc() {
    Automaton a;
    a.classes("abc");
    a.start = 1;
    a.nsigs = 1;
    a.next = {{0, 0, 0, 0}, {1, 2, 1, 1}, {1, 2, 3, 1}, {1, 2, 1, 4}, {1, 2, 1, 1}};
    a.acc = {{}, {}, {}, {}, {0}};
    return a;
}

// "^GET", anchored. Classes: other 0, 'E' 1, 'G' 2, 'T' 3. States: 1 start, 2 "G", 3 "GE",
// 4 "GET" (accepts 0); everything else is dead.
Automaton hand_get() {
    Automaton a;
    a.classes("EGT");
    a.start = 1;
    a.nsigs = 1;
    a.next = {{0, 0, 0, 0}, {0, 0, 2, 0}, {0, 3, 0, 0}, {0, 0, 0, 4}, {0, 0, 0, 0}};
    a.acc = {{}, {}, {}, {}, {0}};
    return a;
}

// "abc" (0) and "abd" (1), floating, sharing the prefix "ab". Classes: other, a, b, c, d.
Automaton hand_abc_abd() {
    Automaton a;
    a.classes("abcd");
    a.start = 1;
    a.nsigs = 2;
    a.next = {{0, 0, 0, 0, 0}, {1, 2, 1, 1, 1}, {1, 2, 3, 1, 1},
              {1, 2, 1, 4, 5}, {1, 2, 1, 1, 1}, {1, 2, 1, 1, 1}};
    a.acc = {{}, {}, {}, {}, {0}, {1}};
    return a;
}

// The signatures of the malformation tests: an anchored one, and a state accepting two
// ("abc" ends "bc" too).
const std::vector<std::string> kBase = {"^GET", "abc", "bc", "abd"};

// A state of b accepting at least n signatures, and one accepting none (other than 0).
std::uint32_t state_accepting(const Bytes &b, std::uint32_t n) {
    Layout l(b);
    for (std::uint32_t s = 1; s < l.ns; s++)
        if (get32(b, l.offset(s + 1)) - get32(b, l.offset(s)) >= n)
            return s;
    BOOST_FAIL("no such state");
    return 0;
}

std::uint32_t state_not_accepting(const Bytes &b) {
    Layout l(b);
    for (std::uint32_t s = 1; s < l.ns; s++)
        if (get32(b, l.offset(s + 1)) == get32(b, l.offset(s)))
            return s;
    BOOST_FAIL("no such state");
    return 0;
}

// A transition (offset in the blob) of a live state into state t.
std::size_t transition_into(const Bytes &b, std::uint32_t t) {
    Layout l(b);
    for (std::uint32_t s = 1; s < l.ns; s++)
        for (std::uint32_t c = 0; c < l.nc; c++)
            if ((get32(b, l.trans(s, c)) & ~KIS_DFA_ACCEPT) == t)
                return l.trans(s, c);
    BOOST_FAIL("no such transition");
    return 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(dfa)

BOOST_AUTO_TEST_CASE(layout_of_hand_built_blobs) {
    // The header and the section offsets of "abc", byte for byte.
    Bytes b = blob(hand_abc());
    BOOST_TEST(b.size() == 48u + 256 + 5 * 4 * 4 + 6 * 4 + 1 * 4);
    BOOST_TEST(get32(b, kMagic) == 0x4146444bu);
    BOOST_TEST(std::memcmp(b.data(), "KDFA", 4) == 0);
    BOOST_TEST(get32(b, kNstates) == 5u);
    BOOST_TEST(get32(b, kNclasses) == 4u);
    BOOST_TEST(get32(b, kNaccept) == 1u);
    BOOST_TEST(get32(b, kTotal) == b.size());
    BOOST_TEST(b[kMap + 'a'] == 1);
    BOOST_TEST(b[kMap + 'z'] == 0);
    BOOST_TEST(get32(b, kNext + (3 * 4 + 3) * 4) == (4u | KIS_DFA_ACCEPT)); // "ab" + 'c'
    BOOST_TEST(get32(b, kNext + (3 * 4 + 1) * 4) == 2u);
    std::size_t mem = 0;
    BOOST_TEST(check(b, &mem) == 0);
    BOOST_TEST(mem == b.size() - kNext); // v1 has no padding: the arrays are the rest

    // The reference compiler gives the same bytes: canonical numbering.
    BOOST_TEST(blob(compile({"abc"})) == b);
    BOOST_TEST(blob(compile({"^GET"})) == blob(hand_get()));
    BOOST_TEST(blob(compile({"abc", "abd"})) == blob(hand_abc_abd()));
    BOOST_TEST(check(blob(hand_get())) == 0);
    BOOST_TEST(check(blob(hand_abc_abd())) == 0);
}

BOOST_AUTO_TEST_CASE(floating_signature) {
    Loaded l(blob(hand_abc()));
    BOOST_TEST(l.d.nstates == 5u);
    BOOST_TEST(l.d.start == 1u);
    BOOST_TEST(l.d.nsigs == 1u);

    Bytes data = bytes("xxabcabcaabcab");
    std::vector<Event> want = {{5, {0}}, {8, {0}}, {12, {0}}};
    BOOST_TEST(show(run_whole(l, data)) == show(want));
    BOOST_TEST(show(run_bytes(l, data)) == show(want));

    // One call stops at the first match end; the state accepts; going on finds the next.
    std::uint32_t s = l.d.start;
    BOOST_TEST(kis_dfa_feed(l.get(), &s, data.data(), data.size()) == 5u);
    BOOST_TEST(s == 4u);
    BOOST_TEST(l.accepts(s) == Sigs{0});
    BOOST_TEST(kis_dfa_feed(l.get(), &s, data.data() + 5, data.size() - 5) == 3u);
    // No match: all consumed, 0, the state where the bytes left it (a partial "ab").
    s = l.d.start;
    BOOST_TEST(kis_dfa_feed(l.get(), &s, data.data(), 4) == 0u);
    BOOST_TEST(s == 3u);
    BOOST_TEST(kis_dfa_feed(l.get(), &s, data.data() + 4, 1) == 1u); // "c" across the chunks
    BOOST_TEST(s == 4u);
    // Nothing fed: nothing changes.
    s = 3;
    BOOST_TEST(kis_dfa_feed(l.get(), &s, data.data(), 0) == 0u);
    BOOST_TEST(s == 3u);
    // Accept sets of states that do not accept, and of the dead state, are empty.
    BOOST_TEST(l.accepts(1).empty());
    BOOST_TEST(l.accepts(KIS_DFA_DEAD).empty());
}

BOOST_AUTO_TEST_CASE(anchored_signature_and_dead_state) {
    Loaded l(blob(hand_get()));
    BOOST_TEST(show(run_whole(l, bytes("GET / HTTP/1.0"))) == "3:{0}");
    BOOST_TEST(show(run_whole(l, bytes("GETGET"))) == "3:{0}");
    BOOST_TEST(run_whole(l, bytes(" GET")).empty());
    BOOST_TEST(run_bytes(l, bytes("GE")).empty());

    // After the match any byte kills it; a mismatch kills it at once.
    std::uint32_t s = l.d.start;
    Bytes d = bytes("GET /");
    BOOST_TEST(kis_dfa_feed(l.get(), &s, d.data(), d.size()) == 3u);
    BOOST_TEST(kis_dfa_feed(l.get(), &s, d.data() + 3, 2) == 0u);
    BOOST_TEST(s == KIS_DFA_DEAD);
    s = l.d.start;
    d = bytes("GEX");
    BOOST_TEST(kis_dfa_feed(l.get(), &s, d.data(), d.size()) == 0u);
    BOOST_TEST(s == KIS_DFA_DEAD);
    // Dead stays dead, and so is any state out of range.
    d = bytes("GET");
    BOOST_TEST(kis_dfa_feed(l.get(), &s, d.data(), d.size()) == 0u);
    BOOST_TEST(s == KIS_DFA_DEAD);
    for (std::uint32_t bad : {5u, 6u, 0x7fffffffu, KIS_DFA_ACCEPT | 4u, 0xffffffffu}) {
        s = bad;
        BOOST_TEST(kis_dfa_feed(l.get(), &s, d.data(), d.size()) == 0u);
        BOOST_TEST(s == KIS_DFA_DEAD);
        BOOST_TEST(l.accepts(bad).empty());
    }
}

BOOST_AUTO_TEST_CASE(dead_state_stops_early) {
    // The bytes after the one that kills the automaton are on a page that faults when read.
    long page = sysconf(_SC_PAGESIZE);
    void *p = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    BOOST_REQUIRE(p != MAP_FAILED);
    auto *base = static_cast<std::uint8_t *>(p);
    BOOST_REQUIRE(mprotect(base + page, page, PROT_NONE) == 0);
    std::uint8_t *guard = base + page;
    std::memcpy(guard - 3, "GEX", 3);

    Loaded l(blob(hand_get()));
    std::uint32_t s = l.d.start;
    BOOST_TEST(kis_dfa_feed(l.get(), &s, guard - 3, 3 + page) == 0u);
    BOOST_TEST(s == KIS_DFA_DEAD);
    // From the dead state (or one out of range) nothing is read at all.
    for (std::uint32_t from : {KIS_DFA_DEAD, 5u, 0xffffffffu}) {
        s = from;
        BOOST_TEST(kis_dfa_feed(l.get(), &s, guard, page) == 0u);
        BOOST_TEST(s == KIS_DFA_DEAD);
    }
    // A match stops there too.
    std::memcpy(guard - 3, "GET", 3);
    s = l.d.start;
    BOOST_TEST(kis_dfa_feed(l.get(), &s, guard - 3, 3 + page) == 3u);
    BOOST_TEST(s == 4u);
    munmap(p, 2 * page);
}

BOOST_AUTO_TEST_CASE(shared_prefix) {
    Loaded l(blob(hand_abc_abd()));
    Bytes data = bytes("abdabcabxabd");
    std::vector<Event> want = {{3, {1}}, {6, {0}}, {12, {1}}};
    BOOST_TEST(show(run_whole(l, data)) == show(want));
    BOOST_TEST(show(run_bytes(l, data)) == show(want));

    // Two signatures ending at the same byte: one accept set of both, increasing.
    Loaded two(blob(compile({"abc", "bc", "^ab"})));
    BOOST_TEST(show(run_whole(two, bytes("abcbc"))) == "2:{2} 3:{0,1} 5:{1}");
}

BOOST_AUTO_TEST_CASE(random_signatures_against_brute_force) {
    std::mt19937 rng(20240611);
    const std::string alphabet = "abcx";
    int matches = 0, dead = 0;
    for (int iter = 0; iter < 400; iter++) {
        std::vector<std::string> pats(1 + rng() % 5);
        for (auto &p : pats) {
            if (rng() % 3 == 0)
                p = "^";
            std::size_t n = 1 + rng() % 5;
            for (std::size_t i = 0; i < n; i++)
                p += rng() % 8 == 0 ? '.' : alphabet[rng() % 3];
        }
        Automaton a = compile(pats);
        Bytes b = blob(a);
        BOOST_REQUIRE(valid(b));
        Loaded l(b);
        for (int m = 0; m < 10; m++) {
            Bytes data(rng() % 200);
            for (auto &c : data)
                c = m == 9 ? std::uint8_t(rng()) : std::uint8_t(alphabet[rng() % 4]);
            std::vector<Event> want = brute(pats, data);
            BOOST_TEST_CONTEXT("patterns " << pats.size() << " first " << pats[0]) {
                std::uint32_t fin;
                std::vector<Event> whole = run(
                    l, data, [&] { return data.size(); }, l.d.start, &fin);
                BOOST_TEST(show(whole) == show(want));
                BOOST_TEST(show(run_bytes(l, data)) == show(want));
                BOOST_TEST(show(run_random(l, data, rng)) == show(want));
                if (!want.empty()) {
                    // The first match end is what one call from the start state returns.
                    std::uint32_t s = l.d.start;
                    BOOST_TEST(kis_dfa_feed(l.get(), &s, data.data(), data.size()) == want[0].end);
                }
                matches += int(want.size());
                dead += fin == KIS_DFA_DEAD;
            }
        }
    }
    BOOST_TEST_MESSAGE("dfa random: " << matches << " matches, " << dead << " dead runs");
    BOOST_TEST(matches > 1000);
    BOOST_TEST(dead > 100);
}

BOOST_AUTO_TEST_CASE(valid_variations_are_accepted) {
    Bytes base = blob(compile(kBase));
    BOOST_REQUIRE(check(base) == 0);
    BOOST_REQUIRE(valid(base));

    // More signature numbers than used, up to the limit.
    for (std::uint32_t n : {5u, 1000u, KIS_DFA_SIGS_MAX}) {
        Bytes b = base;
        put32(b, kNsigs, n);
        BOOST_TEST(check(b) == 0);
    }
    // Any start state but the dead one.
    for (std::uint32_t s = 1; s < get32(base, kNstates); s++) {
        Bytes b = base;
        put32(b, kStart, s);
        BOOST_TEST(check(b) == 0);
    }
    // Any transition target, with bit 31 right.
    Layout l(base);
    for (std::uint32_t t = 0; t < l.ns; t++) {
        Bytes b = base;
        bool acc = get32(base, l.offset(t + 1)) != get32(base, l.offset(t));
        put32(b, l.trans(1, 0), acc ? t | KIS_DFA_ACCEPT : t);
        BOOST_TEST(check(b) == 0);
    }
    // No accepting state at all; two states; one class.
    Automaton a;
    a.next = {{0}, {1}};
    a.acc = {{}, {}};
    BOOST_TEST(check(blob(a)) == 0);
    a.nsigs = 0; // but a signature, even if it can never match
    BOOST_TEST(check(blob(a)) == -EINVAL);
    // All 256 classes.
    Automaton all;
    for (unsigned i = 0; i < 256; i++)
        all.map[i] = std::uint8_t(i);
    all.nclasses = 256;
    all.next = {std::vector<std::uint32_t>(256, 0), std::vector<std::uint32_t>(256, 1)};
    all.next[1]['!'] = 2;
    all.next.push_back(all.next[1]);
    all.acc = {{}, {}, {0}};
    Loaded la(blob(all));
    BOOST_TEST(show(run_whole(la, bytes("a!b!!"))) == "2:{0} 4:{0} 5:{0}");
}

BOOST_AUTO_TEST_CASE(malformations_are_rejected) {
    const Bytes base = blob(compile(kBase));
    BOOST_REQUIRE(check(base) == 0);
    const Layout l(base);
    const std::uint32_t ns = l.ns, nc = l.nc;
    const std::uint32_t two = state_accepting(base, 2), one = state_accepting(base, 1),
                        none = state_not_accepting(base);
    const std::uint32_t two_at = get32(base, l.offset(two));
    BOOST_REQUIRE(l.naccept >= 3);

    using Mut = std::function<void(Bytes &)>;
    auto field = [](std::size_t off, std::uint32_t v) {
        return [=](Bytes &b) { put32(b, off, v); };
    };
    std::vector<std::pair<std::string, Mut>> cases = {
        // header
        {"magic", field(kMagic, KIS_DFA_MAGIC ^ 1)},
        {"magic byte-swapped", field(kMagic, 0x4b444641u)},
        {"version 0", field(kVersion, 0)},
        {"version 2", field(kVersion, 2)},
        {"header size 0", field(kHsize, 0)},
        {"header size 44", field(kHsize, 44)},
        {"header size 52", field(kHsize, 52)},
        {"nstates 0", field(kNstates, 0)},
        {"nstates 1", field(kNstates, 1)},
        {"nstates - 1", field(kNstates, ns - 1)},
        {"nstates + 1", field(kNstates, ns + 1)},
        {"nstates huge", field(kNstates, 0xffffffffu)},
        {"nclasses 0", field(kNclasses, 0)},
        {"nclasses - 1", field(kNclasses, nc - 1)},
        {"nclasses + 1", field(kNclasses, nc + 1)},
        {"nclasses 257", field(kNclasses, 257)},
        {"nclasses huge", field(kNclasses, 0xffffffffu)},
        {"start dead", field(kStart, 0)},
        {"start nstates", field(kStart, ns)},
        {"start huge", field(kStart, 0xffffffffu)},
        {"nsigs 0", field(kNsigs, 0)},
        {"nsigs too few for the lists", field(kNsigs, 3)},
        {"nsigs over the limit", field(kNsigs, KIS_DFA_SIGS_MAX + 1)},
        {"nsigs huge", field(kNsigs, 0xffffffffu)},
        {"naccept - 1", field(kNaccept, l.naccept - 1)},
        {"naccept + 1", field(kNaccept, l.naccept + 1)},
        {"naccept huge", field(kNaccept, 0xffffffffu)},
        {"total - 4", field(kTotal, std::uint32_t(base.size() - 4))},
        {"total + 4", field(kTotal, std::uint32_t(base.size() + 4))},
        {"total 0", field(kTotal, 0)},
        {"total high word", field(kTotal + 4, 1)},
        {"flags bit 0", field(kFlags, 1)},
        {"flags bit 31", field(kFlags, 0x80000000u)},
        {"reserved", field(kReserved, 1)},
        {"reserved high byte", field(kReserved, 0x01000000u)},
        // class map
        {"class = nclasses", [&](Bytes &b) { b[kMap + 'z'] = std::uint8_t(nc); }},
        {"class 255", [&](Bytes &b) { b[kMap + 0] = 255; }},
        {"class of 'a' out of range", [&](Bytes &b) { b[kMap + 'a'] = std::uint8_t(nc + 3); }},
        {"a class unused", [&](Bytes &b) { b[kMap + 'G'] = b[kMap + 'E']; }},
        // transitions
        {"target nstates", field(l.trans(1, 0), ns)},
        {"target nstates, bit 31", field(l.trans(1, 0), ns | KIS_DFA_ACCEPT)},
        {"target 2^31 - 1", field(l.trans(1, 1), 0x7fffffffu)},
        {"target huge, bit 31", field(l.trans(ns - 1, nc - 1), 0xffffffffu)},
        {"bit 31 on a non-accepting target", field(l.trans(1, 0), none | KIS_DFA_ACCEPT)},
        {"bit 31 missing on an accepting target",
         [&](Bytes &b) {
             std::size_t o = transition_into(b, one);
             put32(b, o, get32(b, o) & ~KIS_DFA_ACCEPT);
         }},
        {"bit 31 on the dead target", field(l.trans(1, 0), KIS_DFA_ACCEPT)},
        {"dead row to the start", field(l.trans(0, 0), 1)},
        {"dead row, last class", field(l.trans(0, nc - 1), none)},
        {"dead row to an accepting state", field(l.trans(0, 1), one | KIS_DFA_ACCEPT)},
        {"dead row, bit 31 alone", field(l.trans(0, 2), KIS_DFA_ACCEPT)},
        // accept offsets
        {"off[0] = 1", field(l.offset(0), 1)},
        {"dead state accepts", [&](Bytes &b) { put32(b, l.offset(1), 1); }},
        {"off decreasing",
         [&](Bytes &b) { put32(b, l.offset(two + 1), get32(b, l.offset(two)) - 1); }},
        {"off[nstates] = naccept - 1", field(l.offset(ns), l.naccept - 1)},
        {"off[nstates] = naccept + 1", field(l.offset(ns), l.naccept + 1)},
        {"off beyond naccept", field(l.offset(ns - 1), l.naccept + 1)},
        {"off huge", field(l.offset(2), 0xffffffffu)},
        // accept lists
        {"signatures unsorted",
         [&](Bytes &b) {
             std::uint32_t x = get32(b, l.sig(two_at)), y = get32(b, l.sig(two_at + 1));
             put32(b, l.sig(two_at), y);
             put32(b, l.sig(two_at + 1), x);
         }},
        {"signature duplicate",
         [&](Bytes &b) { put32(b, l.sig(two_at + 1), get32(b, l.sig(two_at))); }},
        {"signature = nsigs", field(l.sig(0), 4)},
        {"signature huge", field(l.sig(l.naccept - 1), 0xffffffffu)},
        {"signature 2^31", field(l.sig(two_at + 1), 0x80000000u)},
        // length
        {"trailing byte", [](Bytes &b) { b.push_back(0); }},
        {"trailing word", [](Bytes &b) { append32(b, 0); }},
        {"trailing word, total too", [](Bytes &b) { append32(b, 0); put64(b, kTotal, b.size()); }},
        {"last word missing", [](Bytes &b) { b.resize(b.size() - 4); }},
        {"last word missing, total too",
         [](Bytes &b) { b.resize(b.size() - 4); put64(b, kTotal, b.size()); }},
    };
    for (const auto &[name, mut] : cases) {
        BOOST_TEST_CONTEXT(name) {
            Bytes b = base;
            mut(b);
            BOOST_TEST(b != base);
            BOOST_TEST(check(b) == -EINVAL);
            BOOST_TEST(!valid(b));
            // kis_dfa_load refuses it too, whatever the memory.
            if (b.size() >= kNext) {
                std::vector<std::uint32_t> mem(b.size());
                kis_dfa d{};
                BOOST_TEST(kis_dfa_load(&d, mem.data(), mem.size() * 4, b.data(), b.size()) ==
                           -EINVAL);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(truncations_are_rejected) {
    for (const Bytes &base : {blob(compile(kBase)), blob(hand_abc())}) {
        for (std::size_t n = 0; n < base.size(); n++) {
            Bytes b(base.begin(), base.begin() + n);
            BOOST_TEST_CONTEXT("length " << n) {
                BOOST_TEST(check(b) == -EINVAL);
                if (n >= kTotal + 8) {
                    put64(b, kTotal, n); // even when the header agrees
                    BOOST_TEST(check(b) == -EINVAL);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_class_must_be_used) {
    // One class more than the map uses, the table sized for it: refused; used: accepted.
    Automaton a = hand_abc();
    a.nclasses = 5;
    for (auto &row : a.next)
        row.push_back(row[0]);
    BOOST_TEST(check(blob(a)) == -EINVAL);
    a.map['d'] = 4;
    BOOST_TEST(check(blob(a)) == 0);
}

BOOST_AUTO_TEST_CASE(sizes_do_not_wrap) {
    // Counts whose sizes wrap in 32 bits to the length given: 2^30 states of 4 classes need
    // 2^34 + 2^32 + 308 bytes, which is 308 in 32 bits.
    Bytes b = blob(hand_abc());
    b.resize(308);
    put32(b, kNstates, 0x40000000u);
    put32(b, kNclasses, 4);
    put32(b, kNaccept, 0);
    put64(b, kTotal, 308);
    BOOST_TEST(check(b) == -EINVAL);
    // Or wrap in 64 bits: the total field cannot be made to agree, but try the largest.
    put32(b, kNstates, 0xffffffffu);
    put32(b, kNclasses, 256);
    put32(b, kNaccept, 0xffffffffu);
    put64(b, kTotal, ~0ull);
    BOOST_TEST(check(b) == -EINVAL);
}

BOOST_AUTO_TEST_CASE(size_limit) {
    // One class, nstates states all going to state 1, state 2 accepting signature 0: the total
    // is 304 + 8 nstates + 4 + 4 naccept. 2097113 states and 1 entry make exactly 16 MiB.
    auto make = [](std::uint32_t ns, std::uint32_t naccept) {
        Bytes b(kNext, 0);
        put32(b, kMagic, KIS_DFA_MAGIC);
        put32(b, kVersion, KIS_DFA_VERSION);
        put32(b, kHsize, KIS_DFA_HEADER);
        put32(b, kNstates, ns);
        put32(b, kNclasses, 1);
        put32(b, kStart, 1);
        put32(b, kNsigs, naccept);
        put32(b, kNaccept, naccept);
        std::size_t total = kNext + std::size_t(ns) * 8 + 4 + std::size_t(naccept) * 4;
        b.resize(total);
        std::size_t p = kNext;
        for (std::uint32_t s = 0; s < ns; s++, p += 4)
            put32(b, p, s ? 1 : 0);
        for (std::uint32_t s = 0; s <= ns; s++, p += 4)
            put32(b, p, s <= 2 ? 0 : naccept);
        for (std::uint32_t i = 0; i < naccept; i++, p += 4)
            put32(b, p, i);
        put64(b, kTotal, total);
        return b;
    };
    Bytes max = make(2097113, 1);
    BOOST_REQUIRE(max.size() == KIS_DFA_SIZE_MAX);
    std::size_t mem = 0;
    BOOST_TEST(check(max, &mem) == 0);
    BOOST_TEST(mem == KIS_DFA_SIZE_MAX - kNext);
    {
        Loaded l(max);
        BOOST_TEST(l.d.nstates == 2097113u);
        BOOST_TEST(l.accepts(2) == Sigs{0});
        BOOST_TEST(run_whole(l, bytes("anything")).empty());
    }
    BOOST_TEST(check(make(2097113, 2)) == -EINVAL); // 4 bytes over
    BOOST_TEST(check(make(2097114, 1)) == -EINVAL); // 8 bytes over
}

BOOST_AUTO_TEST_CASE(load_needs_memory) {
    Bytes b = blob(hand_abc());
    std::size_t mem = 0;
    BOOST_REQUIRE(check(b, &mem) == 0);
    std::vector<std::uint32_t> buf(mem / 4 + 2);
    kis_dfa d{};
    BOOST_TEST(kis_dfa_load(&d, buf.data(), mem - 4, b.data(), b.size()) == -EINVAL);
    BOOST_TEST(kis_dfa_load(&d, nullptr, mem, b.data(), b.size()) == -EINVAL);
    auto *odd = reinterpret_cast<std::uint8_t *>(buf.data()) + 2;
    BOOST_TEST(kis_dfa_load(&d, odd, mem, b.data(), b.size()) == -EINVAL);
    // An unaligned blob is fine, and the blob is not needed after loading.
    Bytes shifted(b.size() + 1);
    std::memcpy(shifted.data() + 1, b.data(), b.size());
    BOOST_TEST(kis_dfa_check(shifted.data() + 1, b.size(), &mem) == 0);
    BOOST_TEST(kis_dfa_load(&d, buf.data(), mem, shifted.data() + 1, b.size()) == 0);
    std::fill(shifted.begin(), shifted.end(), 0xee);
    BOOST_TEST(d.nstates == 5u);
    BOOST_TEST(d.next[3 * 4 + 3] == (4u | KIS_DFA_ACCEPT));
    BOOST_TEST(d.acc_off[5] == 1u);
    BOOST_TEST(d.acc[0] == 0u);
    BOOST_TEST(d.classes['c'] == 3);
    std::uint32_t s = d.start;
    Bytes data = bytes("zabc");
    BOOST_TEST(kis_dfa_feed(&d, &s, data.data(), data.size()) == 4u);
}

BOOST_AUTO_TEST_CASE(random_mutations) {
    std::mt19937 rng(4242);
    std::vector<Bytes> bases;
    for (const auto &pats : std::vector<std::vector<std::string>>{
             kBase, {"abc"}, {"^GET"}, {"abc", "abd"}, {"^a.c", "b", "cc"}, {"^ab", "^ac", "^b"}})
        bases.push_back(blob(compile(pats)));
    bases.push_back(blob(hand_abc()));

    const int iterations = 300000;
    int accepted = 0, disagree = 0, fed = 0;
    for (int iter = 0; iter < iterations; iter++) {
        Bytes b = bases[rng() % bases.size()];
        std::uint32_t ns = get32(b, kNstates);
        int nmut = 1 + rng() % 3;
        for (int m = 0; m < nmut && !b.empty(); m++) {
            std::size_t words = b.size() / 4;
            switch (rng() % 9) {
            case 0: // flip a bit
                b[rng() % b.size()] ^= std::uint8_t(1u << (rng() % 8));
                break;
            case 1: // a random byte
                b[rng() % b.size()] = std::uint8_t(rng());
                break;
            case 2: // a small word, maybe with bit 31
                if (words)
                    put32(b, 4 * (rng() % words),
                          std::uint32_t(rng() % (ns + 2)) | (rng() % 2 ? KIS_DFA_ACCEPT : 0));
                break;
            case 3: { // a transition to another state, bit 31 right: often still valid
                if (b.size() < kNext + 4 || get32(b, kNstates) != ns || ns < 2)
                    break;
                Layout l(b);
                if (l.nc < 1 || l.nc > 256 || l.acc > b.size())
                    break;
                std::uint32_t s = 1 + rng() % (ns - 1), c = rng() % l.nc, t = rng() % ns;
                bool acc = get32(b, l.offset(t + 1)) != get32(b, l.offset(t));
                put32(b, l.trans(s, c), acc ? t | KIS_DFA_ACCEPT : t);
                break;
            }
            case 4: // truncate
                b.resize(rng() % (b.size() + 1));
                break;
            case 5: // append
                for (int n = 1 + rng() % 8; n > 0; n--)
                    b.push_back(std::uint8_t(rng() % 3 ? 0 : rng()));
                if (rng() % 2 && b.size() >= kTotal + 8)
                    put64(b, kTotal, b.size());
                break;
            case 6: { // a header field to an interesting value
                static const std::uint32_t vals[] = {
                    0,   1,     2,     3,     4,           5,           255,         256,
                    257, 65535, 65536, 65537, 0x7fffffffu, 0x80000000u, 0xffffffffu, 0x40000000u};
                if (b.size() >= kNext)
                    put32(b, 4 * (rng() % 12), vals[rng() % std::size(vals)]);
                break;
            }
            case 7: // swap two words
                if (words >= 2)
                    for (int i = 0; i < 4; i++)
                        std::swap(b[4 * (rng() % words) + i], b[4 * (rng() % words) + i]);
                break;
            case 8: // a class map byte
                if (b.size() >= kNext)
                    b[kMap + rng() % 256] = std::uint8_t(rng() % 8);
                break;
            }
        }
        int err = check(b);
        BOOST_REQUIRE(err == 0 || err == -EINVAL);
        if ((err == 0) != valid(b)) {
            if (++disagree <= 5)
                BOOST_ERROR("mutation " << iter << ": check " << err << ", validator " << valid(b));
            continue;
        }
        if (err)
            continue;
        accepted++;
        // Accepted: run it on random data from random states in exact-size memory.
        Loaded l(b);
        const kis_dfa *d = l.get();
        Bytes data(rng() % 48);
        for (auto &c : data)
            c = std::uint8_t(rng() % 4 ? "abcdEGTx"[rng() % 8] : rng());
        std::uint32_t from = rng() % 4 == 0 ? rng() : d->start;
        if (rng() % 4 == 0)
            from = rng() % d->nstates;
        std::uint32_t f1, f2;
        auto whole = run(
            l, data, [&] { return data.size(); }, from, &f1);
        auto chunks = run(
            l, data, [&] { return std::size_t(rng() % 5); }, from, &f2);
        BOOST_REQUIRE(whole == chunks);
        BOOST_REQUIRE(f1 == f2);
        for (const auto &e : whole)
            for (std::uint32_t s : e.sigs)
                BOOST_REQUIRE(s < d->nsigs);
        for (std::uint32_t s = 0; s < d->nstates + 2; s++) {
            std::uint32_t n = 0;
            const std::uint32_t *p = kis_dfa_accepts(d, s, &n);
            BOOST_REQUIRE(n <= d->naccept);
            BOOST_REQUIRE(p >= d->acc && p + n <= d->acc + d->naccept);
        }
        fed++;
    }
    BOOST_TEST(disagree == 0);
    BOOST_TEST_MESSAGE("dfa mutations: " << iterations << ", accepted " << accepted << ", fed "
                                         << fed);
    BOOST_TEST(accepted > 10000);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
