// SPDX-License-Identifier: GPL-2.0
/*
 * The signature automaton: checking, loading and running it. See kis_dfa.h
 * and Documentation/signatures.md.
 */
#include "kis_dfa.h"

/* Offsets of the header fields. */
#define DFA_H_MAGIC	0
#define DFA_H_VERSION	4
#define DFA_H_HSIZE	8
#define DFA_H_NSTATES	12
#define DFA_H_NCLASSES	16
#define DFA_H_START	20
#define DFA_H_NSIGS	24
#define DFA_H_NACCEPT	28
#define DFA_H_TOTAL	32
#define DFA_H_FLAGS	40
#define DFA_H_RESERVED	44

/*
 * The class map follows the header. Each section starts at the next
 * multiple of 4 from the end of the previous one; with a 48-byte header, a
 * 256-byte map and three arrays of u32 every section already ends on a
 * multiple of 4, so version 1 has no padding at all: the transitions, the
 * accept offsets and the accept lists are one run of u32 from DFA_MAP_END
 * to the end of the blob.
 */
#define DFA_MAP_END	(KIS_DFA_HEADER + 256u)

/**
 * struct dfa_layout - what the header says, checked
 * @nstates: number of states
 * @nclasses: number of byte classes
 * @start: start state
 * @nsigs: number of signatures
 * @naccept: entries of the accept lists
 * @ntrans: entries of the transition table
 * @off: offset of the accept offsets in the blob
 * @acc: offset of the accept lists in the blob
 */
struct dfa_layout {
	u32 nstates;
	u32 nclasses;
	u32 start;
	u32 nsigs;
	u32 naccept;
	u32 ntrans;
	size_t off;
	size_t acc;
};

static u32 get32(const u8 *p)
{
	return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 get64(const u8 *p)
{
	return get32(p) | (u64)get32(p + 4) << 32;
}

/* Reads and checks the header and the sizes it implies. */
static int dfa_header(const u8 *b, size_t len, struct dfa_layout *l)
{
	u64 ntrans, total;

	if (len < KIS_DFA_HEADER || len > KIS_DFA_SIZE_MAX)
		return -EINVAL;
	if (get32(b + DFA_H_MAGIC) != KIS_DFA_MAGIC ||
	    get32(b + DFA_H_VERSION) != KIS_DFA_VERSION ||
	    get32(b + DFA_H_HSIZE) != KIS_DFA_HEADER ||
	    get32(b + DFA_H_FLAGS) || get32(b + DFA_H_RESERVED))
		return -EINVAL;
	l->nstates = get32(b + DFA_H_NSTATES);
	l->nclasses = get32(b + DFA_H_NCLASSES);
	l->start = get32(b + DFA_H_START);
	l->nsigs = get32(b + DFA_H_NSIGS);
	l->naccept = get32(b + DFA_H_NACCEPT);
	if (l->nstates < 2 || !l->nclasses || l->nclasses > 256 ||
	    !l->start || l->start >= l->nstates ||
	    !l->nsigs || l->nsigs > KIS_DFA_SIGS_MAX)
		return -EINVAL;
	/*
	 * In 64 bits every term is below 2^43, so the sum cannot wrap; once
	 * it is known to be at most KIS_DFA_SIZE_MAX, every count and offset
	 * below fits in 32 bits.
	 */
	ntrans = (u64)l->nstates * l->nclasses;
	total = DFA_MAP_END + ntrans * 4 + ((u64)l->nstates + 1) * 4 +
		(u64)l->naccept * 4;
	if (total > KIS_DFA_SIZE_MAX || total != get64(b + DFA_H_TOTAL) ||
	    total != len)
		return -EINVAL;
	l->ntrans = (u32)ntrans;
	l->off = DFA_MAP_END + (size_t)l->ntrans * 4;
	l->acc = l->off + ((size_t)l->nstates + 1) * 4;
	return 0;
}

/* Every byte's class is below @nclasses and every class has a byte. */
static int dfa_check_classes(const u8 *map, u32 nclasses)
{
	u32 used[256 / 32] = { 0 };
	u32 b, c, n = 0;

	for (b = 0; b < 256; b++) {
		c = map[b];
		if (c >= nclasses)
			return -EINVAL;
		if (!(used[c / 32] & 1u << c % 32)) {
			used[c / 32] |= 1u << c % 32;
			n++;
		}
	}
	return n == nclasses ? 0 : -EINVAL;
}

/* The accept offsets and lists. */
static int dfa_check_accepts(const u8 *b, const struct dfa_layout *l)
{
	const u8 *off = b + l->off, *acc = b + l->acc;
	u32 s, i, lo, hi, sig, prev = 0;

	/* off[0] = 0 and the dead state accepts nothing: off[1] = 0. */
	if (get32(off) || get32(off + 4) ||
	    get32(off + (size_t)l->nstates * 4) != l->naccept)
		return -EINVAL;
	for (s = 1; s < l->nstates; s++) {
		lo = get32(off + (size_t)s * 4);
		hi = get32(off + (size_t)s * 4 + 4);
		if (hi < lo || hi > l->naccept)
			return -EINVAL;
		for (i = lo; i < hi; i++) {
			sig = get32(acc + (size_t)i * 4);
			if (sig >= l->nsigs || (i > lo && sig <= prev))
				return -EINVAL;
			prev = sig;
		}
	}
	return 0;
}

/* Whether state @s accepts; the accept offsets are checked. */
static bool dfa_accepting(const u8 *off, u32 s)
{
	return get32(off + (size_t)s * 4) != get32(off + (size_t)s * 4 + 4);
}

/* The transitions; the accept offsets are checked. */
static int dfa_check_next(const u8 *b, const struct dfa_layout *l)
{
	const u8 *p = b + DFA_MAP_END, *off = b + l->off;
	u32 i, v, t;

	/* Row 0: the dead state stays dead. */
	for (i = 0; i < l->nclasses; i++, p += 4) {
		if (get32(p))
			return -EINVAL;
	}
	for (; i < l->ntrans; i++, p += 4) {
		v = get32(p);
		t = v & ~KIS_DFA_ACCEPT;
		if (t >= l->nstates ||
		    !(v & KIS_DFA_ACCEPT) != !dfa_accepting(off, t))
			return -EINVAL;
	}
	return 0;
}

static int dfa_check(const u8 *blob, size_t len, struct dfa_layout *l)
{
	int err;

	err = dfa_header(blob, len, l);
	if (!err)
		err = dfa_check_classes(blob + KIS_DFA_HEADER, l->nclasses);
	if (!err)
		err = dfa_check_accepts(blob, l);
	if (!err)
		err = dfa_check_next(blob, l);
	return err;
}

/**
 * kis_dfa_check() - check an automaton blob
 * @blob: the bytes, untrusted, any alignment
 * @len: their number
 * @mem_bytes: set to the memory kis_dfa_load() needs for its native copy
 *
 * Checks every field, so that an automaton loaded from a blob that passes
 * can be run on any data without reading out of bounds: the header
 * (magic, version, header size, counts in range, total length equal to
 * @len and at most KIS_DFA_SIZE_MAX, flags and reserved 0), the class map
 * (every class below nclasses and used), the transitions (targets below
 * nstates, bit 31 set exactly when the target accepts, the dead state's
 * row all 0), the accept offsets (from 0, non-decreasing, ending at
 * naccept, none for the dead state) and the accept lists (signatures below
 * nsigs, strictly increasing within a state).
 *
 * Return: 0, or -EINVAL for anything malformed.
 */
int kis_dfa_check(const u8 *blob, size_t len, size_t *mem_bytes)
{
	struct dfa_layout l;
	int err;

	err = dfa_check(blob, len, &l);
	if (err)
		return err;
	*mem_bytes = len - DFA_MAP_END;
	return 0;
}

/**
 * kis_dfa_load() - load an automaton blob into caller memory
 * @d: the automaton, filled in
 * @mem: memory for its arrays, 4-byte aligned; @d points into it
 * @mem_len: its size, at least the mem_bytes of kis_dfa_check()
 * @blob: the bytes, untrusted, any alignment
 * @len: their number
 *
 * Checks @blob again (as kis_dfa_check()), then copies the transitions
 * and accept lists into @mem in native byte order. @blob is not needed
 * afterwards.
 *
 * Return: 0, or -EINVAL for a malformed blob, too little or misaligned
 * memory.
 */
int kis_dfa_load(struct kis_dfa *d, void *mem, size_t mem_len, const u8 *blob,
		 size_t len)
{
	struct dfa_layout l;
	const u8 *p = blob + DFA_MAP_END;
	u32 *m = mem;
	size_t i, n;
	int err;

	err = dfa_check(blob, len, &l);
	if (err)
		return err;
	n = (len - DFA_MAP_END) / 4;
	if (!mem || mem_len < n * 4 || ((unsigned long)mem & 3))
		return -EINVAL;
	for (i = 0; i < n; i++, p += 4)
		m[i] = get32(p);
	d->nstates = l.nstates;
	d->nclasses = l.nclasses;
	d->start = l.start;
	d->nsigs = l.nsigs;
	d->naccept = l.naccept;
	memcpy(d->classes, blob + KIS_DFA_HEADER, sizeof(d->classes));
	d->next = m;
	d->acc_off = m + l.ntrans;
	d->acc = d->acc_off + l.nstates + 1;
	return 0;
}

/**
 * kis_dfa_feed() - run the automaton over bytes until it accepts
 * @d: the automaton
 * @state: the state before the bytes (the start state for a new message),
 *	set to the state after the bytes consumed; a state of nstates or more
 *	counts as KIS_DFA_DEAD
 * @data: the bytes
 * @len: their number
 *
 * Stops after the first byte that reaches an accepting state, or when the
 * automaton dies: from KIS_DFA_DEAD nothing can match any more, so the
 * rest of @data is not read and @state is KIS_DFA_DEAD. To go on after a
 * match, call again with the rest of @data.
 *
 * Return: the number of bytes consumed up to and including the one that
 * reached an accepting state (1..@len), or 0 if no byte did.
 */
size_t kis_dfa_feed(const struct kis_dfa *d, u32 *state, const u8 *data,
		    size_t len)
{
	const u32 *next = d->next;
	const u8 *classes = d->classes;
	u32 nclasses = d->nclasses;
	u32 s = *state;
	size_t i;
	u32 t;

	if (s == KIS_DFA_DEAD || s >= d->nstates) {
		*state = KIS_DFA_DEAD;
		return 0;
	}
	for (i = 0; i < len; i++) {
		t = next[s * nclasses + classes[data[i]]];
		s = t & ~KIS_DFA_ACCEPT;
		/*
		 * One test for both rare cases: t - 1 wraps for t = 0, the
		 * dead state, and is at least KIS_DFA_ACCEPT - 1 when bit 31
		 * is set. Bit 31 is never set on a transition to the dead
		 * state, so t != 0 means a match.
		 */
		if (t - 1 >= KIS_DFA_ACCEPT - 1) {
			*state = s;
			return t ? i + 1 : 0;
		}
	}
	*state = s;
	return 0;
}

/**
 * kis_dfa_accepts() - the signatures a state accepts
 * @d: the automaton
 * @state: the state; nstates or more counts as KIS_DFA_DEAD
 * @n: set to their number
 *
 * Return: the signature numbers that have a match ending where the
 * automaton reached @state, increasing; @n of them.
 */
const u32 *kis_dfa_accepts(const struct kis_dfa *d, u32 state, u32 *n)
{
	if (state >= d->nstates)
		state = KIS_DFA_DEAD;
	*n = d->acc_off[state + 1] - d->acc_off[state];
	return d->acc + d->acc_off[state];
}
