/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The signature automaton: one deterministic automaton over bytes that
 * matches all signatures of a cell at once, so that the cost per byte does
 * not grow with the number of signatures. kisctl compiles it into a blob;
 * the core checks the untrusted blob, loads it into caller memory and runs
 * it. Plain C, no allocation. Documentation/signatures.md describes the
 * blob and the matching semantics.
 */
#ifndef KIS_DFA_H
#define KIS_DFA_H

#include "kis_core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KIS_DFA_MAGIC		0x4146444bu	/* "KDFA" little-endian */
#define KIS_DFA_VERSION		1u
#define KIS_DFA_HEADER		48u
/* Most signatures of one automaton. */
#define KIS_DFA_SIGS_MAX	65536u
/* Largest blob. */
#define KIS_DFA_SIZE_MAX	(16u << 20)
/* Bit 31 of a transition: its target state accepts. */
#define KIS_DFA_ACCEPT		0x80000000u
/* The state from which no signature can match any more. */
#define KIS_DFA_DEAD		0u

/**
 * struct kis_dfa - a loaded automaton; arrays in native byte order
 * @nstates: number of states, state 0 is KIS_DFA_DEAD
 * @nclasses: number of byte classes
 * @start: the state a message starts in
 * @nsigs: number of signatures
 * @naccept: entries of @acc
 * @classes: byte b belongs to class @classes[b]
 * @next: transitions, @next[state * @nclasses + class]: the target state,
 *	with KIS_DFA_ACCEPT set if the target accepts
 * @acc_off: @nstates + 1 offsets into @acc
 * @acc: the signatures state s accepts are @acc[@acc_off[s] ..
 *	@acc_off[s + 1]), increasing
 */
struct kis_dfa {
	u32 nstates;
	u32 nclasses;
	u32 start;
	u32 nsigs;
	u32 naccept;
	u8 classes[256];
	const u32 *next;
	const u32 *acc_off;
	const u32 *acc;
};

int kis_dfa_check(const u8 *blob, size_t len, size_t *mem_bytes);
int kis_dfa_load(struct kis_dfa *d, void *mem, size_t mem_len, const u8 *blob,
		 size_t len);
size_t kis_dfa_feed(const struct kis_dfa *d, u32 *state, const u8 *data,
		    size_t len);
const u32 *kis_dfa_accepts(const struct kis_dfa *d, u32 state, u32 *n);

#ifdef __cplusplus
}
#endif

#endif /* KIS_DFA_H */
