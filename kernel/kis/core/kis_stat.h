/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The APC's resource statistics: for each parameter of a cell a running
 * mean and mean absolute deviation learned from samples, two thresholds
 * derived from them, expected values for hard tolerization, and the danger
 * level with its decay. Also the file tree: a bounded set of the files and
 * directories a cell touches. Integer arithmetic only; the caller provides
 * all memory. Documentation/statistics.md explains the rules.
 */
#ifndef KIS_STAT_H
#define KIS_STAT_H

#include "kis_core.h"
#include <linux/kis.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Means and deviations are kept in sixteenths of the parameter's unit. */
#define KIS_STAT_SCALE		16
/* Larger samples are clamped, so that no sum overflows. */
#define KIS_STAT_SAMPLE_MAX	0x10000000000ULL	/* 2^40 */
/* "Never": the threshold of a parameter that has nothing learned. */
#define KIS_STAT_NEVER		(~0ULL)
/* A multiplier of 10 is 1.0 deviations. */
#define KIS_STAT_MULT_ONE	10

/**
 * struct kis_stat - what was learned of one parameter
 * @n: samples learned
 * @mean: running mean, in 1/KIS_STAT_SCALE units
 * @dev: running mean absolute deviation, in 1/KIS_STAT_SCALE units
 * @max: largest sample learned
 */
struct kis_stat {
	u64 n;
	u64 mean;
	u64 dev;
	u64 max;
};

/**
 * struct kis_stat_limits - how a parameter's thresholds are derived
 * @mult1: threshold 1 is the mean plus @mult1 tenths of the deviation
 * @mult2: threshold 2 likewise, with @mult2 (at least @mult1)
 * @floor: the deviation used is at least this (and at least mean/8)
 */
struct kis_stat_limits {
	u32 mult1;
	u32 mult2;
	u64 floor;
};

/**
 * struct kis_stat_expect - hard tolerization: what the config expects
 * @set: whether an expected value is given
 * @value: the expected value
 * @tolerance: percent of @value a sample may differ by and still be learned
 */
struct kis_stat_expect {
	bool set;
	u64 value;
	u32 tolerance;
};

/**
 * struct kis_stat_param_info - fixed facts about a parameter
 * @name: name in configs, status and events ("cpu", "files_outside", ...)
 * @unit: unit of its samples, for people ("us", "pages", "bytes", ...)
 * @per_conn: a sample is one connection rather than one interval
 * @limits: default thresholds rule
 */
struct kis_stat_param_info {
	const char *name;
	const char *unit;
	bool per_conn;
	struct kis_stat_limits limits;
};

const struct kis_stat_param_info *kis_stat_param(u32 id);
int kis_stat_param_find(const char *name);

void kis_stat_learn(struct kis_stat *s, u64 x);
u64 kis_stat_mean(const struct kis_stat *s);
u64 kis_stat_dev(const struct kis_stat *s);
void kis_stat_thresholds(const struct kis_stat *s,
			 const struct kis_stat_limits *l, u64 *t1, u64 *t2);
u32 kis_stat_level(u64 x, u64 t1, u64 t2);
bool kis_stat_expected(const struct kis_stat_expect *e, u64 x);

/**
 * struct kis_danger_state - the danger signal of one parameter
 * @level: enum kis_danger now
 * @quiet: intervals in a row with samples below the current level
 */
struct kis_danger_state {
	u8 level;
	u16 quiet;
};

bool kis_danger_step(struct kis_danger_state *d, u32 sample_level,
		     u32 hold1, u32 hold2);

/* Kinds of file tree entries. */
#define KIS_FTREE_FILE		1	/* this path was opened */
#define KIS_FTREE_DIR		2	/* files of this directory were opened */
#define KIS_FTREE_DIR_ALL	3	/* everything below the directory */
/* Distinct files in a directory after which the directory is learned. */
#define KIS_FTREE_COLLAPSE	8

/**
 * struct kis_ftree_entry - one file or directory of the tree
 * @hash: hash of the path; a directory's path ends in '/'
 * @kind: KIS_FTREE_FILE, KIS_FTREE_DIR or KIS_FTREE_DIR_ALL; 0 is empty
 * @children: distinct files learned directly in a directory
 */
struct kis_ftree_entry {
	u64 hash;
	u32 kind;
	u32 children;
};

/**
 * struct kis_ftree - the files and directories a cell touches
 * @cap: most entries
 * @n: entries in use
 * @mask: size of @slots minus one (open addressing)
 * @dropped: paths not learned because the tree was full
 * @slots: the hash table
 */
struct kis_ftree {
	u32 cap;
	u32 n;
	u32 mask;
	u64 dropped;
	struct kis_ftree_entry *slots;
};

size_t kis_ftree_bytes(u32 cap);
int kis_ftree_init(struct kis_ftree *t, void *mem, size_t len, u32 cap);
void kis_ftree_clear(struct kis_ftree *t);
int kis_ftree_learn(struct kis_ftree *t, const char *path, size_t len);
bool kis_ftree_contains(const struct kis_ftree *t, const char *path,
			size_t len);

size_t kis_stat_blob_size(const struct kis_ftree *t);
size_t kis_stat_blob_write(const struct kis_stat *stats,
			   const struct kis_ftree *t, u8 *buf, size_t len);
int kis_stat_blob_check(const u8 *buf, size_t len, u32 *nfiles);
int kis_stat_blob_read(struct kis_stat *stats, struct kis_ftree *t,
		       const u8 *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* KIS_STAT_H */
