// The signature automaton compiler: the patterns of a cell's signatures in, the core's DFA
// blob (kernel/kis/core/kis_dfa.h, Documentation/signatures.md) out. Signature s is the
// pattern at index s. The patterns become one Thompson NFA over bytes (anchored patterns hang
// off the start, floating ones off a loop on any byte), the subset construction over byte
// equivalence classes turns it into a DFA, and the states are numbered in BFS order from the
// start (dead state 0 first), so that the same list always gives the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kis_dfa.h"
#include "result.hpp"
#include "sig_pattern.hpp"

namespace kis {

struct SigCompileLimits {
    // Largest blob; the tests lower it.
    std::size_t max_bytes = KIS_DFA_SIZE_MAX;
};

struct SigAutomaton {
    std::vector<std::uint8_t> blob; // what the module loads
    std::uint32_t nstates = 0;      // dead state included
    std::uint32_t nclasses = 0;
    std::uint32_t naccept = 0;
};

// The automaton of already parsed patterns (1..KIS_DFA_SIGS_MAX of them). `cell` names the
// cell in the error about the size limit.
Result<SigAutomaton> build_sig_automaton(std::span<const ParsedPattern> patterns,
                                         const std::string &cell,
                                         const SigCompileLimits &limits = {});

// Parses every pattern (errors name them "pattern <index>") and builds their automaton.
Result<SigAutomaton> compile_signatures(std::span<const SigPattern> patterns,
                                        const std::string &cell,
                                        const SigCompileLimits &limits = {});

} // namespace kis
