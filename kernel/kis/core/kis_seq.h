/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ImSafe sequence model: which system call follows each run of k-1
 * calls, and how often. Learning counts k-grams; monitoring scores each
 * call by how unexpected it is after the previous k-1 calls and smooths
 * the scores over a window. Integer arithmetic only; the caller provides
 * all memory. Documentation/sequence-model.md explains the numbers.
 */
#ifndef KIS_SEQ_H
#define KIS_SEQ_H

#include "kis_core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KIS_SEQ_K_MIN		2
#define KIS_SEQ_K_MAX		16
#define KIS_SEQ_K_DEFAULT	6
#define KIS_SEQ_WINDOW_MAX	128
#define KIS_SEQ_WINDOW_DEFAULT	20
/* Scores are in thousandths: 1000 is "never seen", 0 is "always so". */
#define KIS_SEQ_SCORE_ONE	1000
#define KIS_SEQ_THRESHOLD_DEFAULT 300
/* Returned for calls that have fewer than k-1 predecessors. */
#define KIS_SEQ_NO_SCORE	0xffffffffu
/* A probability of 2^-KIS_SEQ_LOG_SPAN or less scores as never seen. */
#define KIS_SEQ_LOG_SPAN	16

/**
 * struct kis_seq_prefix - a run of k-1 calls seen while learning
 * @hash: hash of the calls
 * @total: how often the run was followed by any call
 * @head: index of its first next-call entry
 * @nnext: number of distinct next calls
 */
struct kis_seq_prefix {
	u32 hash;
	u32 total;
	u32 head;
	u32 nnext;
};

/**
 * struct kis_seq_next - a call seen after a prefix
 * @call: the system call number
 * @score: anomaly of this call after its prefix, set by kis_seq_finish()
 * @count: how often it followed the prefix
 * @link: index of the prefix's next entry, or KIS_SEQ_NONE
 * @succ: index + 1 of the prefix this k-gram ends in (its last k-1 calls),
 *	0 if there is none; set by kis_seq_finish() so that scoring follows an
 *	index instead of hashing the last k-1 calls again
 */
struct kis_seq_next {
	u16 call;
	u16 score;
	u32 count;
	u32 link;
	u32 succ;
};

#define KIS_SEQ_NONE	0xffffffffu

/**
 * struct kis_seq_model - a profile: prefixes, their next calls and counts
 * @k: sequence length
 * @prefix_cap: room for prefixes
 * @next_cap: room for next-call entries
 * @nprefix: prefixes in use
 * @nnext: next-call entries in use
 * @mask: size of @table minus one
 * @dropped: k-grams not learned because the model was full
 * @table: open-addressed hash of prefix index + 1 (0 is empty)
 * @prefixes: the prefixes
 * @calls: the calls of each prefix, k-1 per prefix
 * @nexts: the next-call entries
 */
struct kis_seq_model {
	u32 k;
	u32 prefix_cap;
	u32 next_cap;
	u32 nprefix;
	u32 nnext;
	u32 mask;
	u64 dropped;
	u32 *table;
	struct kis_seq_prefix *prefixes;
	u16 *calls;
	struct kis_seq_next *nexts;
};

/**
 * struct kis_seq_recent - the last calls of a task
 * @calls: the calls: oldest first while fewer than k-1, then a ring whose
 *	oldest entry is at @head (kis_seq_recent_get() gives them in order)
 * @n: how many are filled (at most k-1)
 * @head: index of the oldest call once @n is k-1
 * @prefix: index + 1 of the calls' prefix in the model being scored, 0 if
 *	not known (then it is looked up)
 *
 * A ring, so that a call costs a store rather than a shift of k-1 calls.
 */
struct kis_seq_recent {
	u16 calls[KIS_SEQ_K_MAX - 1];
	u16 n;
	u16 head;
	u32 prefix;
};

/**
 * struct kis_seq_window - moving average of a task's scores
 * @ring: the last scores
 * @size: window size the ring was set up for
 * @pos: next slot of the ring
 * @len: filled slots
 * @sum: sum of the filled slots
 */
struct kis_seq_window {
	u16 ring[KIS_SEQ_WINDOW_MAX];
	u16 size;
	u16 pos;
	u16 len;
	u32 sum;
};

size_t kis_seq_model_bytes(u32 k, u32 prefix_cap, u32 next_cap);
int kis_seq_model_init(struct kis_seq_model *m, void *mem, size_t len, u32 k,
		       u32 prefix_cap, u32 next_cap);
int kis_seq_learn(struct kis_seq_model *m, struct kis_seq_recent *r, u32 call);
int kis_seq_add(struct kis_seq_model *m, const u16 *calls, u32 call,
		u32 count);
void kis_seq_finish(struct kis_seq_model *m);
u32 kis_seq_score(const struct kis_seq_model *m, struct kis_seq_recent *r,
		  u32 call);
u32 kis_seq_smooth(struct kis_seq_window *w, u32 score, u32 window);
u32 kis_seq_window_push(struct kis_seq_window *w, u32 score, u32 window);
u32 kis_seq_recent_get(const struct kis_seq_recent *r, u16 *out);
const struct kis_seq_prefix *kis_seq_find(const struct kis_seq_model *m,
					  const u16 *calls);
u32 kis_seq_log2_q8(u32 x);

size_t kis_seq_blob_size(const struct kis_seq_model *m);
size_t kis_seq_blob_write(const struct kis_seq_model *m, u8 *buf, size_t len);
int kis_seq_blob_check(const u8 *buf, size_t len, u32 *k, u32 *nprefix,
		       u32 *nnext);
int kis_seq_blob_read(struct kis_seq_model *m, const u8 *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* KIS_SEQ_H */
