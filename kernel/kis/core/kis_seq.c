// SPDX-License-Identifier: GPL-2.0
/*
 * The ImSafe sequence model on plain integers. See kis_seq.h.
 */
#include "kis_seq.h"

/* Largest model: keeps every size computation inside 32 bits. */
#define KIS_SEQ_CAP_MAX		0x400000u
#define KIS_SEQ_BLOB_MAGIC	0x5145534bu	/* "KSEQ" little-endian */
#define KIS_SEQ_BLOB_VERSION	1u
#define KIS_SEQ_BLOB_HEADER	20u

static u32 seq_hash(const u16 *calls, u32 n)
{
	u32 h = 2166136261u;
	u32 i;

	for (i = 0; i < n; i++) {
		h ^= calls[i];
		h *= 16777619u;
	}
	return h ^ (h >> 15);
}

static u32 seq_table_size(u32 prefix_cap)
{
	u32 size = 16;

	while (size < 2 * prefix_cap)
		size <<= 1;
	return size;
}

static size_t seq_align(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/**
 * kis_seq_model_bytes() - memory needed for a model
 * @k: sequence length, KIS_SEQ_K_MIN..KIS_SEQ_K_MAX
 * @prefix_cap: most distinct runs of k-1 calls
 * @next_cap: most distinct k-grams
 *
 * Return: bytes for kis_seq_model_init(), or 0 if a parameter is out of
 * range.
 */
size_t kis_seq_model_bytes(u32 k, u32 prefix_cap, u32 next_cap)
{
	if (k < KIS_SEQ_K_MIN || k > KIS_SEQ_K_MAX || !prefix_cap ||
	    !next_cap || prefix_cap > KIS_SEQ_CAP_MAX ||
	    next_cap > KIS_SEQ_CAP_MAX)
		return 0;
	return seq_align((size_t)seq_table_size(prefix_cap) * sizeof(u32)) +
	       seq_align((size_t)prefix_cap * sizeof(struct kis_seq_prefix)) +
	       seq_align((size_t)next_cap * sizeof(struct kis_seq_next)) +
	       seq_align((size_t)prefix_cap * (k - 1) * sizeof(u16));
}

/**
 * kis_seq_model_init() - lay out an empty model in caller memory
 * @m: the model
 * @mem: memory, 8-byte aligned
 * @len: its size, at least kis_seq_model_bytes()
 * @k: sequence length
 * @prefix_cap: most distinct runs of k-1 calls
 * @next_cap: most distinct k-grams
 *
 * Return: 0, or -EINVAL for bad parameters or too little memory.
 */
int kis_seq_model_init(struct kis_seq_model *m, void *mem, size_t len, u32 k,
		       u32 prefix_cap, u32 next_cap)
{
	size_t need = kis_seq_model_bytes(k, prefix_cap, next_cap);
	u8 *p = mem;
	u32 tsize;

	if (!need || len < need)
		return -EINVAL;
	tsize = seq_table_size(prefix_cap);
	memset(m, 0, sizeof(*m));
	m->k = k;
	m->prefix_cap = prefix_cap;
	m->next_cap = next_cap;
	m->mask = tsize - 1;
	m->table = (u32 *)p;
	p += seq_align((size_t)tsize * sizeof(u32));
	m->prefixes = (struct kis_seq_prefix *)p;
	p += seq_align((size_t)prefix_cap * sizeof(struct kis_seq_prefix));
	m->nexts = (struct kis_seq_next *)p;
	p += seq_align((size_t)next_cap * sizeof(struct kis_seq_next));
	m->calls = (u16 *)p;
	memset(m->table, 0, (size_t)tsize * sizeof(u32));
	return 0;
}

/* Slot of @calls in the table: its entry, or the empty slot to use. */
static u32 seq_slot(const struct kis_seq_model *m, const u16 *calls, u32 hash)
{
	u32 n = m->k - 1;
	u32 i = hash & m->mask;

	for (;;) {
		u32 idx = m->table[i];
		const struct kis_seq_prefix *p;

		if (!idx)
			return i;
		p = &m->prefixes[idx - 1];
		if (p->hash == hash &&
		    !memcmp(&m->calls[(size_t)(idx - 1) * n], calls,
			    n * sizeof(u16)))
			return i;
		i = (i + 1) & m->mask;
	}
}

/**
 * kis_seq_find() - the prefix entry of a run of k-1 calls
 * @m: the model
 * @calls: k-1 calls, oldest first
 *
 * Return: the prefix, or NULL if the run was never seen.
 */
const struct kis_seq_prefix *kis_seq_find(const struct kis_seq_model *m,
					  const u16 *calls)
{
	u32 idx = m->table[seq_slot(m, calls, seq_hash(calls, m->k - 1))];

	return idx ? &m->prefixes[idx - 1] : NULL;
}

/*
 * Halves the counts of a prefix whose total would overflow, rounding up so
 * that no seen call drops to 0: the ratios, and so the scores, stay about
 * the same. @count, about to be added, is halved too.
 */
static void seq_halve(struct kis_seq_model *m, struct kis_seq_prefix *p,
		      u32 *count)
{
	struct kis_seq_next *x;
	u32 i;

	p->total = 0;
	for (i = p->head; i != KIS_SEQ_NONE; i = x->link) {
		x = &m->nexts[i];
		x->count = x->count / 2 + (x->count & 1);
		p->total += x->count;
	}
	*count = *count / 2 + (*count & 1);
}

/*
 * Adds @count sightings of @call after @calls. With @fresh the pair must
 * be new (a profile lists each k-gram once). -ENOSPC when full.
 */
static int seq_add(struct kis_seq_model *m, const u16 *calls, u32 call,
		   u32 count, bool fresh)
{
	u32 n = m->k - 1;
	u32 hash = seq_hash(calls, n);
	u32 slot = seq_slot(m, calls, hash);
	struct kis_seq_prefix *p;
	struct kis_seq_next *x;
	u32 i;

	if (!m->table[slot]) {
		if (m->nprefix == m->prefix_cap || m->nnext == m->next_cap)
			goto full;
		p = &m->prefixes[m->nprefix];
		p->hash = hash;
		p->total = 0;
		p->head = KIS_SEQ_NONE;
		p->nnext = 0;
		memcpy(&m->calls[(size_t)m->nprefix * n], calls,
		       n * sizeof(u16));
		m->table[slot] = ++m->nprefix;
	}
	p = &m->prefixes[m->table[slot] - 1];
	for (i = p->head; i != KIS_SEQ_NONE; i = m->nexts[i].link) {
		x = &m->nexts[i];
		if (x->call != call)
			continue;
		if (fresh)
			return -EINVAL;
		goto add;
	}
	if (m->nnext == m->next_cap)
		goto full;
	x = &m->nexts[m->nnext];
	x->call = call;
	x->score = KIS_SEQ_SCORE_ONE;
	x->count = 0;
	x->succ = 0;
	x->link = p->head;
	p->head = m->nnext++;
	p->nnext++;
add:
	/* At most two rounds: the first brings the total near 2^31. */
	while (count > 0xffffffffu - p->total)
		seq_halve(m, p, &count);
	x->count += count;
	p->total += count;
	return 0;
full:
	m->dropped++;
	return -ENOSPC;
}

/**
 * kis_seq_add() - count a k-gram several times, e.g. to merge profiles
 * @m: the model
 * @calls: the k-1 calls of the prefix, oldest first
 * @call: the next call, 0..65535
 * @count: how often, at least 1
 *
 * A prefix whose total would pass 2^32 - 1 has its counts halved first.
 *
 * Return: 0, -EINVAL for a bad @call or @count, or -ENOSPC when the model
 * is full (counted in @m->dropped).
 */
int kis_seq_add(struct kis_seq_model *m, const u16 *calls, u32 call,
		u32 count)
{
	if (call > 0xffff || !count)
		return -EINVAL;
	return seq_add(m, calls, call, count, false);
}

/* Appends @call to the recent calls; returns false while filling up. */
/* Appends a call, dropping the oldest once there are @n; true if full. */
static bool seq_push(struct kis_seq_recent *r, u32 n, u16 call)
{
	if (r->n < n) {
		r->calls[r->n++] = call;
		r->head = 0;
		return false;
	}
	r->calls[r->head] = call;
	if (++r->head >= n)
		r->head = 0;
	return true;
}

/**
 * kis_seq_recent_get() - a task's last calls, oldest first
 * @r: the task's calls
 * @out: room for KIS_SEQ_K_MAX - 1 calls
 *
 * Return: the number of calls written, r->n.
 */
u32 kis_seq_recent_get(const struct kis_seq_recent *r, u16 *out)
{
	u32 i, j = r->head;

	for (i = 0; i < r->n && i < KIS_SEQ_K_MAX - 1; i++) {
		out[i] = r->calls[j];
		if (++j >= r->n)
			j = 0;
	}
	return i;
}

/**
 * kis_seq_learn() - count one call of a task into the model
 * @m: the model being learned
 * @r: the task's recent calls (zeroed at the task's start)
 * @call: system call number, 0..65535
 *
 * The first k-1 calls of a task only fill @r.
 *
 * Return: 0, -EINVAL for a call number out of range, or -ENOSPC when the
 * model is full (counted in @m->dropped).
 */
int kis_seq_learn(struct kis_seq_model *m, struct kis_seq_recent *r, u32 call)
{
	u32 n = m->k - 1;
	int err = 0;

	if (call > 0xffff)
		return -EINVAL;
	if (r->n == n) {
		u16 calls[KIS_SEQ_K_MAX - 1];

		kis_seq_recent_get(r, calls);
		err = seq_add(m, calls, call, 1, false);
	}
	seq_push(r, n, call);
	return err;
}

/**
 * kis_seq_log2_q8() - base-2 logarithm with 8 fractional bits
 * @x: a number, at least 1
 *
 * Return: floor(256 * log2(@x)) up to rounding of the last bit; 0 for 0.
 */
u32 kis_seq_log2_q8(u32 x)
{
	u32 n = 0, m, frac = 0, i;

	if (!x)
		return 0;
	for (i = 16; i; i >>= 1) {
		if (x >> (n + i))
			n += i;
	}
	/* Mantissa in [1, 2) as Q15; squaring doubles the log. */
	m = n >= 15 ? x >> (n - 15) : x << (15 - n);
	for (i = 0; i < 8; i++) {
		m = (m * m) >> 15;
		if (m >= 1u << 16) {
			m >>= 1;
			frac |= 0x80u >> i;
		}
	}
	return (n << 8) | frac;
}

/* Anomaly of a k-gram seen @count times out of @total for its prefix. */
static u16 seq_anomaly(u32 count, u32 total)
{
	u32 lt = kis_seq_log2_q8(total), lc = kis_seq_log2_q8(count);
	u32 bits = lt > lc ? lt - lc : 0;
	u32 score;

	if (!count || !total)
		return KIS_SEQ_SCORE_ONE;
	score = bits * KIS_SEQ_SCORE_ONE / (KIS_SEQ_LOG_SPAN * 256);
	return score > KIS_SEQ_SCORE_ONE ? KIS_SEQ_SCORE_ONE : score;
}

/**
 * kis_seq_finish() - compute the score of every learned k-gram
 * @m: the model; call again after more learning
 *
 * A k-gram that followed its prefix with probability p scores
 * 1000 * log2(1/p) / KIS_SEQ_LOG_SPAN, at most 1000.
 */
void kis_seq_finish(struct kis_seq_model *m)
{
	u16 next[KIS_SEQ_K_MAX - 1];
	u32 n = m->k - 1;
	u32 i, j;

	for (i = 0; i < m->nprefix; i++) {
		const struct kis_seq_prefix *p = &m->prefixes[i];

		/* The prefix a k-gram leads to: its last k-1 calls. */
		if (n > 1)
			memcpy(next, &m->calls[(size_t)i * n + 1],
			       (n - 1) * sizeof(u16));
		for (j = p->head; j != KIS_SEQ_NONE; j = m->nexts[j].link) {
			struct kis_seq_next *x = &m->nexts[j];

			x->score = seq_anomaly(x->count, p->total);
			next[n - 1] = x->call;
			x->succ = m->table[seq_slot(m, next, seq_hash(next, n))];
		}
	}
}

/**
 * kis_seq_score() - score one call of a task against a finished model
 * @m: the model
 * @r: the task's recent calls (zeroed at the task's start)
 * @call: system call number
 *
 * Return: the anomaly of @call after the task's last k-1 calls, 0..1000,
 * or KIS_SEQ_NO_SCORE while the task has made fewer than k-1 calls.
 */
u32 kis_seq_score(const struct kis_seq_model *m, struct kis_seq_recent *r,
		  u32 call)
{
	u32 n = m->k - 1;
	u32 score = KIS_SEQ_SCORE_ONE;
	const struct kis_seq_prefix *p;
	u32 i, succ = 0;

	if (r->n < n) {
		seq_push(r, n, call > 0xffff ? 0xffff : call);
		r->prefix = 0;
		return KIS_SEQ_NO_SCORE;
	}
	if (call <= 0xffff) {
		/* A state used with another model must not index past it. */
		if (r->prefix && r->prefix <= m->nprefix) {
			p = &m->prefixes[r->prefix - 1];
		} else {
			u16 calls[KIS_SEQ_K_MAX - 1];

			kis_seq_recent_get(r, calls);
			p = kis_seq_find(m, calls);
		}
		for (i = p ? p->head : KIS_SEQ_NONE; i != KIS_SEQ_NONE;
		     i = m->nexts[i].link) {
			if (m->nexts[i].call == call) {
				score = m->nexts[i].score;
				succ = m->nexts[i].succ;
				break;
			}
		}
	}
	seq_push(r, n, call > 0xffff ? 0xffff : call);
	/* Unknown successor: the next call looks the prefix up. */
	r->prefix = succ;
	return score;
}

/**
 * kis_seq_window_push() - add a score to a task's moving window
 * @w: the task's window (zeroed at the task's start)
 * @score: the newest score, 0..1000
 * @window: number of scores averaged, 1..KIS_SEQ_WINDOW_MAX; a change
 *	restarts the window
 *
 * Return: the sum of the last @window scores (missing ones count as 0);
 * the smoothed anomaly is this divided by w->size. The kernel compares
 * sums with thresholds times w->size, and divides only to report.
 */
u32 kis_seq_window_push(struct kis_seq_window *w, u32 score, u32 window)
{
	/*
	 * The common case of a normal task: a full window of zeros stays one
	 * whichever slot the zero goes into.
	 */
	if (!score && !w->sum && w->len == window && w->size == window)
		return 0;
	if (window < 1)
		window = 1;
	if (window > KIS_SEQ_WINDOW_MAX)
		window = KIS_SEQ_WINDOW_MAX;
	if (window != w->size) {
		w->size = window;
		w->pos = 0;
		w->len = 0;
		w->sum = 0;
	}
	if (w->len == w->size)
		w->sum -= w->ring[w->pos];
	else
		w->len++;
	w->ring[w->pos] = score;
	w->sum += score;
	if (++w->pos == w->size)
		w->pos = 0;
	return w->sum;
}

/**
 * kis_seq_smooth() - moving average of a task's scores
 * @w: the task's window (zeroed at the task's start)
 * @score: the newest score, 0..1000
 * @window: number of scores averaged, 1..KIS_SEQ_WINDOW_MAX; a change
 *	restarts the average
 *
 * Return: the sum of the last @window scores divided by @window: while a
 * task has made fewer calls, the missing ones count as normal (0), so that
 * the first calls of a task weigh no more than later ones.
 */
u32 kis_seq_smooth(struct kis_seq_window *w, u32 score, u32 window)
{
	return kis_seq_window_push(w, score, window) / w->size;
}

static void put16(u8 *p, u32 v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

static void put32(u8 *p, u32 v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static u32 get16(const u8 *p)
{
	return p[0] | (u32)p[1] << 8;
}

static u32 get32(const u8 *p)
{
	return get16(p) | get16(p + 2) << 16;
}

/**
 * kis_seq_blob_size() - size of a model in the exchange format
 * @m: the model
 *
 * Return: bytes kis_seq_blob_write() writes.
 */
size_t kis_seq_blob_size(const struct kis_seq_model *m)
{
	return KIS_SEQ_BLOB_HEADER +
	       (size_t)m->nprefix * ((m->k - 1) * 2 + 4) +
	       (size_t)m->nnext * 6;
}

/**
 * kis_seq_blob_write() - write a model in the exchange format
 * @m: the model
 * @buf: destination
 * @len: its size
 *
 * The format, little-endian: "KSEQ", version, k, prefixes, k-grams; then
 * per prefix its k-1 calls (u16), its number of next calls (u32) and per
 * next call the call (u16) and its count (u32).
 *
 * Return: bytes written, or 0 if @len is too small.
 */
size_t kis_seq_blob_write(const struct kis_seq_model *m, u8 *buf, size_t len)
{
	u32 n = m->k - 1;
	size_t size = kis_seq_blob_size(m);
	u8 *p = buf;
	u32 i, j, c;

	if (len < size)
		return 0;
	put32(p, KIS_SEQ_BLOB_MAGIC);
	put32(p + 4, KIS_SEQ_BLOB_VERSION);
	put32(p + 8, m->k);
	put32(p + 12, m->nprefix);
	put32(p + 16, m->nnext);
	p += KIS_SEQ_BLOB_HEADER;
	for (i = 0; i < m->nprefix; i++) {
		const struct kis_seq_prefix *x = &m->prefixes[i];

		for (c = 0; c < n; c++, p += 2)
			put16(p, m->calls[(size_t)i * n + c]);
		put32(p, x->nnext);
		p += 4;
		for (j = x->head; j != KIS_SEQ_NONE; j = m->nexts[j].link) {
			put16(p, m->nexts[j].call);
			put32(p + 2, m->nexts[j].count);
			p += 6;
		}
	}
	return size;
}

/**
 * kis_seq_blob_check() - check a model in the exchange format
 * @buf: the bytes, untrusted
 * @len: their number
 * @k: set to the sequence length
 * @nprefix: set to the number of prefixes
 * @nnext: set to the number of k-grams
 *
 * Checks every size and count so that kis_seq_blob_read() into a model of
 * that size cannot fail for lack of room or read out of bounds.
 * Duplicate entries are found by kis_seq_blob_read().
 *
 * Return: 0, or -EINVAL for anything malformed.
 */
int kis_seq_blob_check(const u8 *buf, size_t len, u32 *k, u32 *nprefix,
		       u32 *nnext)
{
	const u8 *p = buf, *end = buf + len;
	u32 i, j, n, seen = 0;

	if (len < KIS_SEQ_BLOB_HEADER || get32(p) != KIS_SEQ_BLOB_MAGIC ||
	    get32(p + 4) != KIS_SEQ_BLOB_VERSION)
		return -EINVAL;
	*k = get32(p + 8);
	*nprefix = get32(p + 12);
	*nnext = get32(p + 16);
	if (*k < KIS_SEQ_K_MIN || *k > KIS_SEQ_K_MAX ||
	    *nprefix > KIS_SEQ_CAP_MAX || *nnext > KIS_SEQ_CAP_MAX ||
	    *nprefix > *nnext)
		return -EINVAL;
	n = *k - 1;
	p += KIS_SEQ_BLOB_HEADER;
	for (i = 0; i < *nprefix; i++) {
		u64 total = 0;
		u32 cnt;

		if ((size_t)(end - p) < n * 2 + 4)
			return -EINVAL;
		p += n * 2;
		cnt = get32(p);
		p += 4;
		if (!cnt || cnt > *nnext - seen)
			return -EINVAL;
		seen += cnt;
		if ((size_t)(end - p) < (size_t)cnt * 6)
			return -EINVAL;
		for (j = 0; j < cnt; j++, p += 6) {
			u32 count = get32(p + 2);

			total += count;
			if (!count || total > 0xffffffffu)
				return -EINVAL;
		}
	}
	if (p != end || seen != *nnext)
		return -EINVAL;
	return 0;
}

/**
 * kis_seq_blob_read() - load a model from the exchange format
 * @m: an empty model with k and room at least as given by
 *	kis_seq_blob_check()
 * @buf: the bytes, untrusted
 * @len: their number
 *
 * Return: 0 with @m finished, -EINVAL for a malformed or duplicate entry,
 * -ENOSPC if @m is too small.
 */
int kis_seq_blob_read(struct kis_seq_model *m, const u8 *buf, size_t len)
{
	u16 calls[KIS_SEQ_K_MAX - 1];
	u32 k, np, nn, i, j, c, cnt;
	const u8 *p = buf;
	int err;

	err = kis_seq_blob_check(buf, len, &k, &np, &nn);
	if (err)
		return err;
	if (k != m->k || m->nprefix || m->nnext)
		return -EINVAL;
	if (np > m->prefix_cap || nn > m->next_cap)
		return -ENOSPC;
	p += KIS_SEQ_BLOB_HEADER;
	for (i = 0; i < np; i++) {
		for (c = 0; c < k - 1; c++, p += 2)
			calls[c] = get16(p);
		/* A prefix listed twice would merge: refuse it. */
		if (kis_seq_find(m, calls))
			return -EINVAL;
		cnt = get32(p);
		p += 4;
		for (j = 0; j < cnt; j++, p += 6) {
			err = seq_add(m, calls, get16(p), get32(p + 2), true);
			if (err)
				return err;
		}
	}
	kis_seq_finish(m);
	return 0;
}
