#include "sig_automaton.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>
#include <utility>

namespace kis {

namespace {

constexpr std::uint32_t kNone = ~0u;

// Most byte positions of all patterns of one automaton together (kSigPositionsMax each).
constexpr std::uint64_t kSetPositionsMax = 1u << 22;

// A Thompson NFA state: a byte transition (a byte of sets[set] leads to next), up to two
// epsilon transitions, or the end of signature `sig`. Only the loop of the floating branch
// has a byte transition and an epsilon one.
struct NfaState {
    std::uint32_t set = kNone;
    std::uint32_t next = kNone;
    std::uint32_t e1 = kNone;
    std::uint32_t e2 = kNone;
    std::uint32_t sig = kNone;
};

using ByteSetKey = std::array<std::uint64_t, 4>;

ByteSetKey key_of(const std::bitset<256> &s) {
    ByteSetKey k{};
    for (unsigned b = 0; b < 256; ++b)
        if (s.test(b))
            k[b / 64] |= 1ull << (b % 64);
    return k;
}

class Nfa {
  public:
    std::vector<NfaState> states;
    std::vector<std::bitset<256>> sets; // distinct byte sets of the transitions

    std::uint32_t add(NfaState s) {
        states.push_back(s);
        return static_cast<std::uint32_t>(states.size() - 1);
    }
    std::uint32_t split(std::uint32_t a, std::uint32_t b) {
        NfaState s;
        s.e1 = a;
        s.e2 = b;
        return add(s);
    }
    std::uint32_t set_id(const std::bitset<256> &s) {
        auto [it, inserted] = set_ids_.emplace(key_of(s), static_cast<std::uint32_t>(sets.size()));
        if (inserted)
            sets.push_back(s);
        return it->second;
    }

    // The fragment for `n` that continues to `next`; returns its entry. Built backwards, so
    // no patching. Recursion depth follows the pattern's nesting (PCRE2 limits it to 250).
    std::uint32_t build(const SigNode &n, std::uint32_t next) {
        switch (n.kind) {
        case SigNode::Kind::Empty:
            return next;
        case SigNode::Kind::Bytes: {
            NfaState s;
            s.set = set_id(n.bytes);
            s.next = next;
            return add(s);
        }
        case SigNode::Kind::Concat:
            for (std::size_t i = n.kids.size(); i-- > 0;)
                next = build(n.kids[i], next);
            return next;
        case SigNode::Kind::Alt: {
            std::uint32_t cur = build(n.kids.back(), next);
            for (std::size_t i = n.kids.size() - 1; i-- > 0;)
                cur = split(build(n.kids[i], next), cur);
            return cur;
        }
        case SigNode::Kind::Repeat: {
            const SigNode &kid = n.kids[0];
            std::uint32_t cur = next;
            if (n.max == SigNode::kUnbounded) {
                std::uint32_t loop = add(NfaState{});
                std::uint32_t body = build(kid, loop);
                states[loop].e1 = body;
                states[loop].e2 = next;
                cur = loop;
            } else {
                // x{0,k}: (x(x(...)?)?)?, each optional copy may leave for `next`.
                for (unsigned k = 0; k < n.max - n.min; ++k)
                    cur = split(build(kid, cur), next);
            }
            for (unsigned k = 0; k < n.min; ++k)
                cur = build(kid, cur);
            return cur;
        }
        }
        return next;
    }

  private:
    std::map<ByteSetKey, std::uint32_t> set_ids_;
};

// A DFA state: the NFA states X ∪ T[tf] ∪ F (see Builder), X and T[tf] disjoint, X sorted.
struct Key {
    std::uint32_t tf = 0;
    std::vector<std::uint32_t> x;
    bool operator==(const Key &) const = default;
};

struct KeyHash {
    std::size_t operator()(const Key &k) const {
        std::uint64_t h = 0xcbf29ce484222325ull ^ k.tf;
        for (std::uint32_t x : k.x) {
            h ^= x;
            h *= 0x100000001b3ull;
        }
        return static_cast<std::size_t>(h ^ (h >> 29));
    }
};

void put32(std::vector<std::uint8_t> &out, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::size_t align4(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

struct Layout {
    std::size_t classes, next, acc_off, acc, total;
};

Layout layout(std::uint64_t nstates, std::uint64_t nclasses, std::uint64_t naccept) {
    Layout l{};
    l.classes = align4(KIS_DFA_HEADER);
    l.next = align4(l.classes + 256);
    l.acc_off = align4(l.next + 4 * nstates * nclasses);
    l.acc = align4(l.acc_off + 4 * (nstates + 1));
    l.total = l.acc + 4 * naccept;
    return l;
}

// The subset construction. A DFA state is a set of "important" NFA states (byte transitions
// and signature ends) closed under epsilon transitions. With floating signatures, every set
// holds the closure F of the floating loop, and every set reached by a byte of class c holds
// T[c], the closure of F's moves on c: one step into each floating signature that can start
// with that byte. Both grow with the number of signatures, so a key leaves them out: it is
// (tf, X), the set being X ∪ T[tf] ∪ F, where tf numbers the distinct T[c] (0: the empty
// one, for the start state and for automata without floating signatures). The moves of
// T[tf] are precomputed too, so that the cost of a state follows the signatures under way in
// it, not all of them. Two keys can, rarely, stand for one set (reached by bytes of classes
// with different T); the two states then behave the same, the automaton is only larger.
class Builder {
  public:
    Builder(Nfa &nfa, std::uint32_t loop, std::vector<std::uint32_t> anchored_starts,
            std::uint32_t nsigs, const std::string &cell, const SigCompileLimits &limits)
        : nfa_(nfa), loop_(loop), anchored_(std::move(anchored_starts)), nsigs_(nsigs), cell_(cell),
          limits_(limits), mark_(nfa.states.size(), 0), in_f_(nfa.states.size(), false) {}

    Result<SigAutomaton> run() {
        compute_classes();
        compute_floating();

        // State 0: dead. With floating signatures it is never reached, but it is there.
        static const Key dead;
        keys_.push_back(&dead);
        acc_off_.push_back(0);
        acc_off_.push_back(0);
        if (loop_ == kNone)
            ids_.emplace(dead, 0);

        Key start;
        closure(anchored_, start.x);
        std::sort(start.x.begin(), start.x.end());
        if (Result<std::uint32_t> s = state_of(std::move(start)); !s)
            return s.error();

        next_.assign(nclasses_, 0); // row of the dead state
        std::vector<std::vector<std::uint32_t>> buckets(nclasses_);
        std::vector<std::uint32_t> moved;
        for (std::uint32_t id = 1; id < keys_.size(); ++id) {
            moves(keys_[id]->x, buckets);
            std::uint32_t tf = keys_[id]->tf;
            for (std::uint32_t c = 0; c < nclasses_; ++c) {
                Key target;
                target.tf = tf_of_class_[c];
                moved.clear();
                closure(buckets[c], moved);
                std::sort(moved.begin(), moved.end());
                without(moved, t_[target.tf]);
                const std::vector<std::uint32_t> &pre = t_moves_[tf][c];
                target.x.resize(moved.size() + pre.size());
                auto end = std::set_union(moved.begin(), moved.end(), pre.begin(), pre.end(),
                                          target.x.begin());
                target.x.erase(end, target.x.end());
                Result<std::uint32_t> t = state_of(std::move(target));
                if (!t)
                    return t.error();
                std::uint32_t v = *t;
                if (acc_off_[v + 1] > acc_off_[v])
                    v |= KIS_DFA_ACCEPT;
                next_.push_back(v);
            }
        }
        return blob();
    }

  private:
    Nfa &nfa_;
    std::uint32_t loop_; // the floating branch's loop, kNone without floating signatures
    std::vector<std::uint32_t> anchored_;
    std::uint32_t nsigs_;
    const std::string &cell_;
    const SigCompileLimits &limits_;

    std::array<std::uint8_t, 256> class_of_{};
    std::uint32_t nclasses_ = 0;
    std::vector<std::vector<std::uint32_t>> set_classes_; // per byte set, its classes

    std::vector<std::uint32_t> mark_;
    std::uint32_t generation_ = 0;
    std::vector<std::uint32_t> stack_;
    std::vector<bool> in_f_;
    std::vector<std::uint32_t> f_sigs_;
    std::vector<std::uint32_t> tf_of_class_;         // per class c: the tf of T[c]
    std::vector<std::vector<std::uint32_t>> t_;      // per tf: T[tf], sorted
    std::vector<std::vector<std::uint32_t>> t_sigs_; // per tf: the signatures ending in T[tf]
    // Per tf and class c: the closure of T[tf]'s moves on c, minus T[c], sorted.
    std::vector<std::vector<std::vector<std::uint32_t>>> t_moves_;

    std::unordered_map<Key, std::uint32_t, KeyHash> ids_;
    std::vector<const Key *> keys_; // by state
    std::vector<std::uint32_t> next_;
    std::vector<std::uint32_t> acc_off_;
    std::vector<std::uint32_t> acc_;

    // Byte equivalence classes: bytes no transition tells apart share a class. Refined set by
    // set, numbered by their smallest byte (canonical).
    void compute_classes() {
        std::array<std::uint32_t, 256> cls{};
        std::uint32_t n = 1;
        std::vector<std::int32_t> in, out;
        for (const std::bitset<256> &s : nfa_.sets) {
            in.assign(n, -1);
            out.assign(n, -1);
            std::uint32_t m = 0;
            for (unsigned b = 0; b < 256; ++b) {
                std::int32_t &id = s.test(b) ? in[cls[b]] : out[cls[b]];
                if (id < 0)
                    id = static_cast<std::int32_t>(m++);
                cls[b] = static_cast<std::uint32_t>(id);
            }
            n = m;
        }
        nclasses_ = n;
        std::vector<unsigned> rep(n, 256);
        for (unsigned b = 0; b < 256; ++b) {
            class_of_[b] = static_cast<std::uint8_t>(cls[b]);
            rep[cls[b]] = std::min(rep[cls[b]], b);
        }
        set_classes_.resize(nfa_.sets.size());
        for (std::size_t i = 0; i < nfa_.sets.size(); ++i)
            for (std::uint32_t c = 0; c < n; ++c)
                if (nfa_.sets[i].test(rep[c]))
                    set_classes_[i].push_back(c);
    }

    // Appends the important states of the epsilon closure of `seeds` to `out`, leaving out
    // F (closed, so nothing beyond it is lost).
    void closure(const std::vector<std::uint32_t> &seeds, std::vector<std::uint32_t> &out) {
        if (++generation_ == 0) {
            std::fill(mark_.begin(), mark_.end(), 0);
            generation_ = 1;
        }
        std::vector<std::uint32_t> &stack = stack_;
        stack.assign(seeds.begin(), seeds.end());
        while (!stack.empty()) {
            std::uint32_t s = stack.back();
            stack.pop_back();
            if (mark_[s] == generation_ || in_f_[s])
                continue;
            mark_[s] = generation_;
            const NfaState &st = nfa_.states[s];
            if (st.set != kNone || st.sig != kNone)
                out.push_back(s);
            if (st.e2 != kNone)
                stack.push_back(st.e2);
            if (st.e1 != kNone)
                stack.push_back(st.e1);
        }
    }

    // The targets of the byte transitions of `states`, by class.
    void moves(const std::vector<std::uint32_t> &states,
               std::vector<std::vector<std::uint32_t>> &buckets) const {
        for (auto &b : buckets)
            b.clear();
        for (std::uint32_t s : states) {
            const NfaState &st = nfa_.states[s];
            if (st.set != kNone)
                for (std::uint32_t c : set_classes_[st.set])
                    buckets[c].push_back(st.next);
        }
    }

    // Removes from sorted `v` what sorted `minus` holds.
    static void without(std::vector<std::uint32_t> &v, const std::vector<std::uint32_t> &minus) {
        if (minus.empty())
            return;
        v.erase(std::remove_if(v.begin(), v.end(),
                               [&](std::uint32_t s) {
                                   return std::binary_search(minus.begin(), minus.end(), s);
                               }),
                v.end());
    }

    std::vector<std::uint32_t> sigs_of(const std::vector<std::uint32_t> &states) const {
        std::vector<std::uint32_t> sigs;
        for (std::uint32_t s : states)
            if (nfa_.states[s].sig != kNone)
                sigs.push_back(nfa_.states[s].sig);
        return sigs;
    }

    // F, the T[c] and their moves.
    void compute_floating() {
        t_.assign(1, {}); // tf 0: empty
        tf_of_class_.assign(nclasses_, 0);
        std::vector<std::vector<std::uint32_t>> buckets(nclasses_);
        if (loop_ != kNone) {
            std::vector<std::uint32_t> f;
            closure({loop_}, f);
            // closure() only reports important states; mark the whole closure as F.
            std::vector<std::uint32_t> stack{loop_};
            while (!stack.empty()) {
                std::uint32_t s = stack.back();
                stack.pop_back();
                if (in_f_[s])
                    continue;
                in_f_[s] = true;
                const NfaState &st = nfa_.states[s];
                if (st.e1 != kNone)
                    stack.push_back(st.e1);
                if (st.e2 != kNone)
                    stack.push_back(st.e2);
            }
            f_sigs_ = sigs_of(f);
            moves(f, buckets);
            std::map<std::vector<std::uint32_t>, std::uint32_t> tf_ids;
            tf_ids.emplace(std::vector<std::uint32_t>{}, 0);
            for (std::uint32_t c = 0; c < nclasses_; ++c) {
                std::vector<std::uint32_t> t;
                closure(buckets[c], t);
                std::sort(t.begin(), t.end());
                auto [it, inserted] =
                    tf_ids.emplace(std::move(t), static_cast<std::uint32_t>(t_.size()));
                if (inserted)
                    t_.push_back(it->first);
                tf_of_class_[c] = it->second;
            }
        }
        t_sigs_.resize(t_.size());
        t_moves_.resize(t_.size());
        for (std::size_t tf = 0; tf < t_.size(); ++tf) {
            t_sigs_[tf] = sigs_of(t_[tf]);
            moves(t_[tf], buckets);
            t_moves_[tf].resize(nclasses_);
            for (std::uint32_t c = 0; c < nclasses_; ++c) {
                std::vector<std::uint32_t> &m = t_moves_[tf][c];
                closure(buckets[c], m);
                std::sort(m.begin(), m.end());
                without(m, t_[tf_of_class_[c]]);
            }
        }
    }

    // The state of a key, new (numbered next, so BFS order) if it was not seen yet.
    Result<std::uint32_t> state_of(Key key) {
        auto found = ids_.find(key);
        if (found != ids_.end())
            return found->second;
        std::uint32_t id = static_cast<std::uint32_t>(keys_.size());
        std::vector<std::uint32_t> sigs = sigs_of(key.x);
        sigs.insert(sigs.end(), t_sigs_[key.tf].begin(), t_sigs_[key.tf].end());
        sigs.insert(sigs.end(), f_sigs_.begin(), f_sigs_.end());
        std::sort(sigs.begin(), sigs.end());
        sigs.erase(std::unique(sigs.begin(), sigs.end()), sigs.end());
        std::uint64_t naccept = acc_.size() + sigs.size();
        if (layout(id + 1ull, nclasses_, naccept).total > limits_.max_bytes)
            return make_error("the signatures of cell " + cell_ + " need more than " +
                              std::to_string(id) + " states, more than the automaton limit (" +
                              std::to_string(limits_.max_bytes) +
                              " bytes); simplify or split them");
        acc_.insert(acc_.end(), sigs.begin(), sigs.end());
        acc_off_.push_back(static_cast<std::uint32_t>(acc_.size()));
        auto inserted = ids_.emplace(std::move(key), id).first;
        keys_.push_back(&inserted->first);
        return id;
    }

    SigAutomaton blob() const {
        SigAutomaton a;
        a.nstates = static_cast<std::uint32_t>(keys_.size());
        a.nclasses = nclasses_;
        a.naccept = static_cast<std::uint32_t>(acc_.size());
        Layout l = layout(a.nstates, a.nclasses, a.naccept);
        std::vector<std::uint8_t> &out = a.blob;
        out.assign(l.total, 0);
        put32(out, 0, KIS_DFA_MAGIC);
        put32(out, 4, KIS_DFA_VERSION);
        put32(out, 8, KIS_DFA_HEADER);
        put32(out, 12, a.nstates);
        put32(out, 16, a.nclasses);
        put32(out, 20, 1); // the start state is the first one found
        put32(out, 24, nsigs_);
        put32(out, 28, a.naccept);
        put32(out, 32, static_cast<std::uint32_t>(l.total));
        put32(out, 36, static_cast<std::uint32_t>(std::uint64_t{l.total} >> 32));
        // 40: flags, 44: reserved, both 0
        for (unsigned b = 0; b < 256; ++b)
            out[l.classes + b] = class_of_[b];
        for (std::size_t i = 0; i < next_.size(); ++i)
            put32(out, l.next + 4 * i, next_[i]);
        for (std::size_t i = 0; i < acc_off_.size(); ++i)
            put32(out, l.acc_off + 4 * i, acc_off_[i]);
        for (std::size_t i = 0; i < acc_.size(); ++i)
            put32(out, l.acc + 4 * i, acc_[i]);
        return a;
    }
};

} // namespace

Result<SigAutomaton> build_sig_automaton(std::span<const ParsedPattern> patterns,
                                         const std::string &cell, const SigCompileLimits &limits) {
    if (patterns.empty())
        return make_error("cell " + cell + " has no signatures to compile");
    if (patterns.size() > KIS_DFA_SIGS_MAX)
        return make_error("cell " + cell + " has " + std::to_string(patterns.size()) +
                          " signatures, more than the automaton limit of " +
                          std::to_string(KIS_DFA_SIGS_MAX) + "; split them");
    std::uint64_t positions = 0;
    for (const ParsedPattern &p : patterns)
        positions += p.root.positions;
    if (positions > kSetPositionsMax)
        return make_error("the signatures of cell " + cell + " expand to " +
                          std::to_string(positions) + " byte positions, more than the " +
                          "automaton limit of " + std::to_string(kSetPositionsMax) +
                          "; simplify or split them");

    Nfa nfa;
    std::vector<std::uint32_t> anchored, floating;
    for (std::size_t i = 0; i < patterns.size(); ++i) {
        NfaState end;
        end.sig = static_cast<std::uint32_t>(i);
        std::uint32_t entry = nfa.build(patterns[i].root, nfa.add(end));
        (patterns[i].anchored ? anchored : floating).push_back(entry);
    }
    std::uint32_t loop = kNone;
    if (!floating.empty()) {
        // The floating branch: a loop on any byte that starts every floating pattern anew.
        std::uint32_t fan = floating.back();
        for (std::size_t i = floating.size() - 1; i-- > 0;)
            fan = nfa.split(floating[i], fan);
        NfaState l;
        l.set = nfa.set_id(std::bitset<256>().set());
        l.e1 = fan;
        loop = nfa.add(l);
        nfa.states[loop].next = loop;
        anchored.push_back(loop);
    }
    Builder b(nfa, loop, std::move(anchored), static_cast<std::uint32_t>(patterns.size()), cell,
              limits);
    return b.run();
}

Result<SigAutomaton> compile_signatures(std::span<const SigPattern> patterns,
                                        const std::string &cell, const SigCompileLimits &limits) {
    std::vector<ParsedPattern> parsed;
    parsed.reserve(patterns.size());
    for (std::size_t i = 0; i < patterns.size(); ++i) {
        Result<ParsedPattern> p = parse_sig_pattern(patterns[i], "pattern " + std::to_string(i));
        if (!p)
            return p.error();
        parsed.push_back(std::move(*p));
    }
    return build_sig_automaton(parsed, cell, limits);
}

} // namespace kis
