// SPDX-License-Identifier: GPL-2.0
/*
 * The APC's resource statistics on plain integers. See kis_stat.h and
 * Documentation/statistics.md.
 */
#include "kis_stat.h"

/*
 * Default multipliers of the deviation, in tenths: 5.0 and 10.0. The
 * deviation is the mean absolute one (about 0.8 standard deviations for a
 * normal distribution) and per-interval samples have long tails: 3.0 gave
 * a false danger signal every minute or so on a paced web workload.
 */
#define STAT_MULT1		50
#define STAT_MULT2		100
/* Means and deviations are kept in 1/16 units: a shift of 4. */
#define STAT_SCALE_SHIFT	4
/* The deviation used is at least the mean / 2^3. */
#define STAT_MEAN_SHIFT		3

/* 64-bit FNV-1a. */
#define FTREE_FNV_OFFSET	0xcbf29ce484222325ULL
#define FTREE_FNV_PRIME		0x100000001b3ULL
#define FTREE_SLOTS_MIN		16u

#define STAT_BLOB_MAGIC		0x4154534bu	/* "KSTA" little-endian */
#define STAT_BLOB_VERSION	1u
#define STAT_BLOB_HEADER	20u
#define STAT_BLOB_PARAM		32u	/* n, mean, dev, max */
#define STAT_BLOB_FILE		16u	/* hash, kind, children */

static const struct kis_stat_param_info stat_params[KIS_PARAM_COUNT] = {
	[KIS_PARAM_SEQ] = {
		.name = "seq", .unit = "per-mille",
		.limits = { 0, 0, 0 },
	},
	[KIS_PARAM_CPU] = {
		.name = "cpu", .unit = "us",
		.limits = { STAT_MULT1, STAT_MULT2, 5000 },
	},
	[KIS_PARAM_VM_PAGES] = {
		.name = "vm_pages", .unit = "pages",
		.limits = { STAT_MULT1, STAT_MULT2, 64 },
	},
	[KIS_PARAM_RSS_PAGES] = {
		.name = "rss_pages", .unit = "pages",
		.limits = { STAT_MULT1, STAT_MULT2, 64 },
	},
	[KIS_PARAM_FILES] = {
		.name = "files", .unit = "files",
		.limits = { STAT_MULT1, STAT_MULT2, 4 },
	},
	[KIS_PARAM_FILES_OUTSIDE] = {
		.name = "files_outside", .unit = "files",
		.limits = { 0, 50, 1 },
	},
	[KIS_PARAM_SYSCALLS] = {
		.name = "syscalls", .unit = "calls",
		.limits = { STAT_MULT1, STAT_MULT2, 200 },
	},
	[KIS_PARAM_FORKS] = {
		.name = "forks", .unit = "tasks",
		.limits = { STAT_MULT1, STAT_MULT2, 2 },
	},
	[KIS_PARAM_EXECS] = {
		.name = "execs", .unit = "execs",
		.limits = { STAT_MULT1, STAT_MULT2, 2 },
	},
	[KIS_PARAM_CONNECTIONS] = {
		.name = "connections", .unit = "connections",
		.limits = { STAT_MULT1, STAT_MULT2, 2 },
	},
	[KIS_PARAM_RX_BYTES] = {
		.name = "rx_bytes", .unit = "bytes",
		.limits = { STAT_MULT1, STAT_MULT2, 4096 },
	},
	[KIS_PARAM_TX_BYTES] = {
		.name = "tx_bytes", .unit = "bytes",
		.limits = { STAT_MULT1, STAT_MULT2, 4096 },
	},
	[KIS_PARAM_RX_MSGS] = {
		.name = "rx_msgs", .unit = "messages",
		.limits = { STAT_MULT1, STAT_MULT2, 4 },
	},
	[KIS_PARAM_TX_MSGS] = {
		.name = "tx_msgs", .unit = "messages",
		.limits = { STAT_MULT1, STAT_MULT2, 4 },
	},
	[KIS_PARAM_CONN_RX_BYTES] = {
		.name = "conn_rx_bytes", .unit = "bytes", .per_conn = true,
		.limits = { STAT_MULT1, STAT_MULT2, 1024 },
	},
	[KIS_PARAM_CONN_TX_BYTES] = {
		.name = "conn_tx_bytes", .unit = "bytes", .per_conn = true,
		.limits = { STAT_MULT1, STAT_MULT2, 4096 },
	},
	[KIS_PARAM_CONN_RATIO] = {
		.name = "conn_ratio", .unit = "percent", .per_conn = true,
		.limits = { STAT_MULT1, STAT_MULT2, 200 },
	},
};

/**
 * kis_stat_param() - fixed facts about a parameter
 * @id: enum kis_param
 *
 * Return: the parameter's name, unit, kind and default limits, or NULL if
 * @id is out of range.
 */
const struct kis_stat_param_info *kis_stat_param(u32 id)
{
	return id < KIS_PARAM_COUNT ? &stat_params[id] : NULL;
}

/**
 * kis_stat_param_find() - a parameter by name
 * @name: NUL-terminated name, as in configs ("cpu", "files_outside", ...)
 *
 * Return: the enum kis_param, or -ENOENT for an unknown name or NULL.
 */
int kis_stat_param_find(const char *name)
{
	int i;

	if (!name)
		return -ENOENT;
	for (i = 0; i < KIS_PARAM_COUNT; i++) {
		if (!strcmp(stat_params[i].name, name))
			return i;
	}
	return -ENOENT;
}

/* @v moved towards @target by (@target - @v) / @n, rounded towards @v. */
static u64 stat_step(u64 v, u64 target, u64 n)
{
	if (target >= v)
		return v + kis_div64(target - v, n);
	return v - kis_div64(v - target, n);
}

/**
 * kis_stat_learn() - learn one sample
 * @s: the statistics of the parameter
 * @x: the sample, in the parameter's unit; larger than
 *	KIS_STAT_SAMPLE_MAX counts as KIS_STAT_SAMPLE_MAX
 *
 * With xs = 16 @x and d = |xs - mean| (the mean before this sample), the
 * n-th sample moves the mean by (xs - mean) / n and the deviation by
 * (d - dev) / n, each quotient rounded towards zero: a running mean and
 * a running mean absolute deviation, both in sixteenths. The first sample
 * sets the mean to xs and the deviation to 0.
 */
void kis_stat_learn(struct kis_stat *s, u64 x)
{
	u64 xs, d;

	if (x > KIS_STAT_SAMPLE_MAX)
		x = KIS_STAT_SAMPLE_MAX;
	xs = x << STAT_SCALE_SHIFT;
	if (x > s->max)
		s->max = x;
	s->n++;
	if (s->n == 1) {
		s->mean = xs;
		s->dev = 0;
		return;
	}
	d = xs >= s->mean ? xs - s->mean : s->mean - xs;
	s->mean = stat_step(s->mean, xs, s->n);
	s->dev = stat_step(s->dev, d, s->n);
}

/**
 * kis_stat_mean() - the learned mean
 * @s: the statistics
 *
 * Return: the mean in the parameter's unit, rounded down; 0 if nothing
 * was learned.
 */
u64 kis_stat_mean(const struct kis_stat *s)
{
	return s->mean >> STAT_SCALE_SHIFT;
}

/**
 * kis_stat_dev() - the learned mean absolute deviation
 * @s: the statistics
 *
 * Return: the deviation in the parameter's unit, rounded down.
 */
u64 kis_stat_dev(const struct kis_stat *s)
{
	return s->dev >> STAT_SCALE_SHIFT;
}

/* @a * @b, or KIS_STAT_NEVER if the product does not fit. */
static u64 stat_mul(u64 a, u64 b)
{
	if (b && a > kis_div64(KIS_STAT_NEVER, b))
		return KIS_STAT_NEVER;
	return a * b;
}

/* @a + @b, or KIS_STAT_NEVER if the sum does not fit. */
static u64 stat_add(u64 a, u64 b)
{
	return a > KIS_STAT_NEVER - b ? KIS_STAT_NEVER : a + b;
}

/*
 * ceil(mean / 16 + mult * dev / 10) for a mean in sixteenths and a
 * deviation in units: ceil((10 mean + 16 mult dev) / 160), exactly.
 * KIS_STAT_NEVER when it does not fit.
 */
static u64 stat_threshold(u64 mean, u64 dev, u32 mult)
{
	u64 num, t;

	num = stat_add(stat_mul(mean, KIS_STAT_MULT_ONE),
		       stat_mul(stat_mul(dev, KIS_STAT_SCALE), mult));
	if (num == KIS_STAT_NEVER)
		return KIS_STAT_NEVER;
	t = kis_div64(num, KIS_STAT_MULT_ONE * KIS_STAT_SCALE);
	if (t * (KIS_STAT_MULT_ONE * KIS_STAT_SCALE) != num)
		t++;
	return t;
}

/**
 * kis_stat_thresholds() - the thresholds of danger signals 1 and 2
 * @s: the learned statistics
 * @l: the rule
 * @t1: set to threshold 1: a sample above it is danger 1
 * @t2: set to threshold 2: a sample above it is danger 2
 *
 * The deviation used, dev', is the largest of the learned deviation
 * (rounded up to a whole unit), @l->floor and mean / 128 (the mean in
 * units divided by 8, rounded down). Then
 * t1 = ceil(mean + @l->mult1 * dev' / 10) and t2 likewise with the larger
 * of @l->mult2 and @l->mult1, computed exactly from the mean in sixteenths
 * and rounded up once. If @l->mult2 > @l->mult1 but the two thresholds
 * came out equal, t2 is t1 + 1. A result that does not fit in 64 bits is
 * KIS_STAT_NEVER. Both are KIS_STAT_NEVER if nothing was learned.
 */
void kis_stat_thresholds(const struct kis_stat *s,
			 const struct kis_stat_limits *l, u64 *t1, u64 *t2)
{
	u64 dev, least;
	u32 mult2 = l->mult2 > l->mult1 ? l->mult2 : l->mult1;

	if (!s->n) {
		*t1 = KIS_STAT_NEVER;
		*t2 = KIS_STAT_NEVER;
		return;
	}
	dev = (s->dev >> STAT_SCALE_SHIFT) +
	      ((s->dev & (KIS_STAT_SCALE - 1)) != 0);
	if (dev < l->floor)
		dev = l->floor;
	least = s->mean >> (STAT_SCALE_SHIFT + STAT_MEAN_SHIFT);
	if (dev < least)
		dev = least;
	*t1 = stat_threshold(s->mean, dev, l->mult1);
	*t2 = stat_threshold(s->mean, dev, mult2);
	if (*t2 <= *t1 && l->mult2 > l->mult1 && *t1 != KIS_STAT_NEVER)
		*t2 = *t1 + 1;
}

/**
 * kis_stat_level() - the danger level of one sample
 * @x: the sample
 * @t1: threshold 1
 * @t2: threshold 2
 *
 * Return: KIS_DANGER_2 if @x > @t2, KIS_DANGER_1 if @x > @t1, else
 * KIS_DANGER_NONE. A threshold of KIS_STAT_NEVER is never crossed.
 */
u32 kis_stat_level(u64 x, u64 t1, u64 t2)
{
	if (x > t2)
		return KIS_DANGER_2;
	if (x > t1)
		return KIS_DANGER_1;
	return KIS_DANGER_NONE;
}

/**
 * kis_stat_expected() - whether a sample agrees with the config
 * @e: what the config expects (hard tolerization)
 * @x: the sample
 *
 * With a tolerance of 0 the sample must equal the expected value. With a
 * tolerance, it may differ by value * tolerance / 100 (rounded down), and
 * by at least 1.
 *
 * Return: true if nothing is expected or @x is close enough, so that it
 * may be learned; false for a suspected training sample.
 */
bool kis_stat_expected(const struct kis_stat_expect *e, u64 x)
{
	u64 q, r, slack, diff;

	if (!e->set)
		return true;
	diff = x >= e->value ? x - e->value : e->value - x;
	if (!e->tolerance)
		return !diff;
	/* value * tolerance / 100 without overflow: (100 q + r) t / 100. */
	q = kis_div64(e->value, 100);
	r = e->value - q * 100;
	slack = stat_add(stat_mul(q, e->tolerance),
			 kis_div64(r * e->tolerance, 100));
	if (slack < 1)
		slack = 1;
	return diff <= slack;
}

/**
 * kis_danger_step() - the danger signal after one more sample
 * @d: the signal
 * @sample_level: the level of the sample (kis_stat_level()); above
 *	KIS_DANGER_2 counts as KIS_DANGER_2
 * @hold1: quiet samples before danger 1 decays to none
 * @hold2: quiet samples before danger 2 decays to 1
 *
 * A sample at or above the current level sets the level to its own and
 * restarts the hold. A sample below it is quiet: after @hold2 quiet
 * samples in a row a level 2 decays to 1, and after @hold1 more to none;
 * one step at a time, so a 2 needs @hold2 + @hold1 quiet samples to reach
 * none. A sample of level 1 is quiet for a level 2. A hold of 0 decays at
 * the first quiet sample; holds above 65535 count as 65535.
 *
 * Return: true if the level changed.
 */
bool kis_danger_step(struct kis_danger_state *d, u32 sample_level,
		     u32 hold1, u32 hold2)
{
	if (sample_level > KIS_DANGER_2)
		sample_level = KIS_DANGER_2;
	if (hold1 > 0xffff)
		hold1 = 0xffff;
	if (hold2 > 0xffff)
		hold2 = 0xffff;
	if (sample_level >= d->level) {
		bool changed = sample_level != d->level;

		d->level = (u8)sample_level;
		d->quiet = 0;
		return changed;
	}
	if (d->quiet < 0xffff)
		d->quiet++;
	if (d->level == KIS_DANGER_2 && d->quiet >= hold2) {
		d->level = KIS_DANGER_1;
		d->quiet = 0;
		return true;
	}
	if (d->level == KIS_DANGER_1 && d->quiet >= hold1) {
		d->level = KIS_DANGER_NONE;
		d->quiet = 0;
		return true;
	}
	return false;
}

static u32 ftree_slots(u32 cap)
{
	u32 size = FTREE_SLOTS_MIN;

	while (size < 2 * cap)
		size <<= 1;
	return size;
}

/**
 * kis_ftree_bytes() - memory needed for a file tree
 * @cap: most entries (files and directories), 1..KIS_FILE_TREE_MAX
 *
 * The hash table has the smallest power of two of slots that is at least
 * 2 @cap, and at least 16.
 *
 * Return: bytes for kis_ftree_init(), or 0 if @cap is out of range.
 */
size_t kis_ftree_bytes(u32 cap)
{
	if (!cap || cap > KIS_FILE_TREE_MAX)
		return 0;
	return (size_t)ftree_slots(cap) * sizeof(struct kis_ftree_entry);
}

/**
 * kis_ftree_init() - lay out an empty file tree in caller memory
 * @t: the tree
 * @mem: memory, 8-byte aligned
 * @len: its size, at least kis_ftree_bytes(@cap)
 * @cap: most entries
 *
 * Return: 0, or -EINVAL for a bad @cap or too little memory.
 */
int kis_ftree_init(struct kis_ftree *t, void *mem, size_t len, u32 cap)
{
	size_t need = kis_ftree_bytes(cap);

	if (!need || len < need)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->cap = cap;
	t->mask = ftree_slots(cap) - 1;
	t->slots = mem;
	memset(t->slots, 0, need);
	return 0;
}

/**
 * kis_ftree_clear() - forget every entry
 * @t: the tree
 *
 * Also resets @t->dropped: the tree is as after kis_ftree_init().
 */
void kis_ftree_clear(struct kis_ftree *t)
{
	memset(t->slots, 0, ((size_t)t->mask + 1) * sizeof(*t->slots));
	t->n = 0;
	t->dropped = 0;
}

/* Key of a path hashed so far: 0 is never a key. */
static u64 ftree_key(u64 h)
{
	return h ? h : 1;
}

/* Slot of @hash: its entry, or the empty slot where it would go. */
static u32 ftree_slot(const struct kis_ftree *t, u64 hash)
{
	u32 i = (u32)hash & t->mask;

	/* The table is at most half full: an empty slot ends the probe. */
	while (t->slots[i].kind && t->slots[i].hash != hash)
		i = (i + 1) & t->mask;
	return i;
}

static u32 ftree_kind(const struct kis_ftree *t, u64 hash)
{
	return t->slots[ftree_slot(t, hash)].kind;
}

/*
 * Hashes the @len bytes of @path, checking each directory above it (each
 * prefix ending in '/', short of the whole path). Returns true as soon as
 * one of them is KIS_FTREE_DIR_ALL; else sets *@hash to the key of the
 * whole path and *@parent to that of the nearest directory above it (0
 * for "/").
 */
static bool ftree_walk(const struct kis_ftree *t, const char *path,
		       size_t len, u64 *hash, u64 *parent)
{
	u64 h = FTREE_FNV_OFFSET;
	size_t i;

	*parent = 0;
	for (i = 0; i < len; i++) {
		h ^= (u8)path[i];
		h *= FTREE_FNV_PRIME;
		if (path[i] != '/' || i + 1 == len)
			continue;
		*parent = ftree_key(h);
		if (ftree_kind(t, *parent) == KIS_FTREE_DIR_ALL)
			return true;
	}
	*hash = ftree_key(h);
	return false;
}

/* Puts a new entry in its empty slot. */
static struct kis_ftree_entry *ftree_insert(struct kis_ftree *t, u64 hash,
					    u32 kind)
{
	struct kis_ftree_entry *e = &t->slots[ftree_slot(t, hash)];

	e->hash = hash;
	e->kind = kind;
	e->children = 0;
	t->n++;
	return e;
}

/**
 * kis_ftree_learn() - learn that a path was opened
 * @t: the tree
 * @path: absolute path, not necessarily NUL-terminated
 * @len: its length in bytes
 *
 * A path the tree already contains (kis_ftree_contains()) is not added
 * again, so nothing below a learned directory takes room. Otherwise the
 * file is added, and its directory (the path up to its last '/') is added
 * if it is new and counts one more file: at KIS_FTREE_COLLAPSE files the
 * directory becomes KIS_FTREE_DIR_ALL, everything below it is learned. A
 * path ending in '/' ("/" itself, "/etc/") names a directory: it is added
 * as a directory of no files. A file and its directory need room for two
 * entries if the directory is new; without room nothing is added.
 *
 * Return: 0 if learned or known, -EINVAL for a path that is empty or not
 * absolute, -ENOSPC if the tree is full (counted in @t->dropped).
 */
int kis_ftree_learn(struct kis_ftree *t, const char *path, size_t len)
{
	struct kis_ftree_entry *e;
	u64 hash, parent;
	bool dir;
	u32 need;

	if (!len || path[0] != '/')
		return -EINVAL;
	if (ftree_walk(t, path, len, &hash, &parent))
		return 0;
	/* Known, or (once in 2^64) a collision: nothing to add either way. */
	if (ftree_kind(t, hash))
		return 0;
	dir = path[len - 1] == '/';
	need = 1;
	if (!dir && !ftree_kind(t, parent))
		need++;
	if (t->n + need > t->cap) {
		t->dropped++;
		return -ENOSPC;
	}
	if (dir) {
		ftree_insert(t, hash, KIS_FTREE_DIR);
		return 0;
	}
	ftree_insert(t, hash, KIS_FTREE_FILE);
	e = &t->slots[ftree_slot(t, parent)];
	if (!e->kind)
		e = ftree_insert(t, parent, KIS_FTREE_DIR);
	if (e->children < 0xffffffffu)
		e->children++;
	if (e->kind == KIS_FTREE_DIR && e->children >= KIS_FTREE_COLLAPSE)
		e->kind = KIS_FTREE_DIR_ALL;
	return 0;
}

/**
 * kis_ftree_contains() - whether a path is inside the learned tree
 * @t: the tree
 * @path: the path, not necessarily NUL-terminated; only @len bytes are
 *	read
 * @len: its length in bytes
 *
 * A path is inside if it was learned as a file, or if a directory above
 * it, from "/" down to its own directory, is KIS_FTREE_DIR_ALL. A path
 * ending in '/' is inside if it is a directory of the tree (one that had
 * files learned, or was learned itself) or is below a KIS_FTREE_DIR_ALL
 * one. "/a/b" and "/a/b/" are different entries.
 *
 * Return: true if inside; false if not, or for an empty or relative path.
 */
bool kis_ftree_contains(const struct kis_ftree *t, const char *path,
			size_t len)
{
	u64 hash, parent;
	u32 kind;

	if (!len || path[0] != '/')
		return false;
	if (ftree_walk(t, path, len, &hash, &parent))
		return true;
	kind = ftree_kind(t, hash);
	if (path[len - 1] == '/')
		return kind == KIS_FTREE_DIR || kind == KIS_FTREE_DIR_ALL;
	return kind == KIS_FTREE_FILE;
}

static void put32(u8 *p, u32 v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

static void put64(u8 *p, u64 v)
{
	put32(p, (u32)v);
	put32(p + 4, (u32)(v >> 32));
}

static u32 get32(const u8 *p)
{
	return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 get64(const u8 *p)
{
	return get32(p) | (u64)get32(p + 4) << 32;
}

/**
 * kis_stat_blob_size() - size of statistics in the exchange format
 * @t: the file tree, or NULL for none
 *
 * Return: bytes kis_stat_blob_write() writes.
 */
size_t kis_stat_blob_size(const struct kis_ftree *t)
{
	return STAT_BLOB_HEADER + (size_t)KIS_PARAM_COUNT * STAT_BLOB_PARAM +
	       (size_t)(t ? t->n : 0) * STAT_BLOB_FILE;
}

/* Swaps file records @i and @j of @files. */
static void blob_swap(u8 *files, u32 i, u32 j)
{
	u8 *a = files + (size_t)i * STAT_BLOB_FILE;
	u8 *b = files + (size_t)j * STAT_BLOB_FILE;
	u32 k;

	for (k = 0; k < STAT_BLOB_FILE; k++) {
		u8 tmp = a[k];

		a[k] = b[k];
		b[k] = tmp;
	}
}

static u64 blob_hash(const u8 *files, u32 i)
{
	return get64(files + (size_t)i * STAT_BLOB_FILE);
}

/* Heap sort of @n file records by hash: in place, no recursion. */
static void blob_sort(u8 *files, u32 n)
{
	u32 start = n / 2, end = n, root, child;

	while (end > 1) {
		if (start > 0) {
			root = --start;
		} else {
			blob_swap(files, 0, --end);
			root = 0;
		}
		for (;;) {
			child = 2 * root + 1;
			if (child >= end)
				break;
			if (child + 1 < end &&
			    blob_hash(files, child + 1) > blob_hash(files, child))
				child++;
			if (blob_hash(files, child) <= blob_hash(files, root))
				break;
			blob_swap(files, root, child);
			root = child;
		}
	}
}

/**
 * kis_stat_blob_write() - write statistics in the exchange format
 * @stats: KIS_PARAM_COUNT statistics, by enum kis_param
 * @t: the file tree, or NULL for none
 * @buf: destination
 * @len: its size
 *
 * The format, little-endian: a header of five u32, "KSTA" (0x4154534b),
 * version 1, header size 20, number of parameters, number of tree
 * entries; then per parameter n, mean, dev and max (u64 each); then per
 * tree entry its hash (u64), kind and children (u32 each), by ascending
 * hash. The same statistics and entries give the same bytes.
 *
 * Return: bytes written, or 0 if @len is too small.
 */
size_t kis_stat_blob_write(const struct kis_stat *stats,
			   const struct kis_ftree *t, u8 *buf, size_t len)
{
	size_t size = kis_stat_blob_size(t);
	u32 nfiles = t ? t->n : 0;
	u8 *p = buf, *files;
	u32 i, done = 0;

	if (len < size)
		return 0;
	put32(p, STAT_BLOB_MAGIC);
	put32(p + 4, STAT_BLOB_VERSION);
	put32(p + 8, STAT_BLOB_HEADER);
	put32(p + 12, KIS_PARAM_COUNT);
	put32(p + 16, nfiles);
	p += STAT_BLOB_HEADER;
	for (i = 0; i < KIS_PARAM_COUNT; i++, p += STAT_BLOB_PARAM) {
		put64(p, stats[i].n);
		put64(p + 8, stats[i].mean);
		put64(p + 16, stats[i].dev);
		put64(p + 24, stats[i].max);
	}
	files = p;
	for (i = 0; nfiles && i <= t->mask && done < nfiles; i++) {
		const struct kis_ftree_entry *e = &t->slots[i];

		if (!e->kind)
			continue;
		put64(p, e->hash);
		put32(p + 8, e->kind);
		put32(p + 12, e->children);
		p += STAT_BLOB_FILE;
		done++;
	}
	blob_sort(files, done);
	return size;
}

/* Whether one parameter record holds possible statistics. */
static bool blob_stat_ok(const u8 *p)
{
	u64 n = get64(p), mean = get64(p + 8), dev = get64(p + 16);
	u64 max = get64(p + 24);

	if (!n)
		return !mean && !dev && !max;
	return max <= KIS_STAT_SAMPLE_MAX &&
	       mean <= max << STAT_SCALE_SHIFT &&
	       dev <= max << STAT_SCALE_SHIFT;
}

/* Whether one tree record holds a possible entry. */
static bool blob_file_ok(const u8 *p)
{
	u32 kind = get32(p + 8), children = get32(p + 12);

	if (!get64(p))
		return false;
	switch (kind) {
	case KIS_FTREE_FILE:
		return !children;
	case KIS_FTREE_DIR:
		return children < KIS_FTREE_COLLAPSE;
	case KIS_FTREE_DIR_ALL:
		return true;
	default:
		return false;
	}
}

/**
 * kis_stat_blob_check() - check statistics in the exchange format
 * @buf: the bytes, untrusted
 * @len: their number
 * @nfiles: set to the number of tree entries if not NULL
 *
 * The header must be exactly as written (magic, version 1, header size
 * 20, KIS_PARAM_COUNT parameters, at most KIS_FILE_TREE_MAX entries) and
 * @len exactly the size it gives. A parameter with no samples has mean,
 * dev and max 0; otherwise max is at most KIS_STAT_SAMPLE_MAX and mean and
 * dev at most 16 max. Tree entries have a hash other than 0, strictly
 * ascending; a kind of KIS_FTREE_FILE (with 0 children), KIS_FTREE_DIR
 * (fewer than KIS_FTREE_COLLAPSE children) or KIS_FTREE_DIR_ALL.
 *
 * Return: 0, or -EINVAL for anything malformed.
 */
int kis_stat_blob_check(const u8 *buf, size_t len, u32 *nfiles)
{
	const u8 *p = buf;
	u64 prev = 0, hash;
	u32 i, n;

	if (len < STAT_BLOB_HEADER || get32(p) != STAT_BLOB_MAGIC ||
	    get32(p + 4) != STAT_BLOB_VERSION ||
	    get32(p + 8) != STAT_BLOB_HEADER ||
	    get32(p + 12) != KIS_PARAM_COUNT)
		return -EINVAL;
	n = get32(p + 16);
	if (n > KIS_FILE_TREE_MAX ||
	    len != STAT_BLOB_HEADER + (size_t)KIS_PARAM_COUNT * STAT_BLOB_PARAM +
		   (size_t)n * STAT_BLOB_FILE)
		return -EINVAL;
	p += STAT_BLOB_HEADER;
	for (i = 0; i < KIS_PARAM_COUNT; i++, p += STAT_BLOB_PARAM) {
		if (!blob_stat_ok(p))
			return -EINVAL;
	}
	for (i = 0; i < n; i++, p += STAT_BLOB_FILE) {
		hash = get64(p);
		if (!blob_file_ok(p) || (i && hash <= prev))
			return -EINVAL;
		prev = hash;
	}
	if (nfiles)
		*nfiles = n;
	return 0;
}

/**
 * kis_stat_blob_read() - load statistics from the exchange format
 * @stats: set to the KIS_PARAM_COUNT statistics
 * @t: the file tree to fill, or NULL if the blob must have no entries;
 *	cleared first
 * @buf: the bytes, untrusted
 * @len: their number
 *
 * Nothing is changed unless the whole blob is good and fits.
 *
 * Return: 0, -EINVAL for a malformed blob (kis_stat_blob_check()),
 * -ENOSPC if @t has room for fewer entries than the blob holds.
 */
int kis_stat_blob_read(struct kis_stat *stats, struct kis_ftree *t,
		       const u8 *buf, size_t len)
{
	const u8 *p = buf + STAT_BLOB_HEADER;
	struct kis_ftree_entry *e;
	u32 i, n;
	int err;

	err = kis_stat_blob_check(buf, len, &n);
	if (err)
		return err;
	if (n > (t ? t->cap : 0))
		return -ENOSPC;
	for (i = 0; i < KIS_PARAM_COUNT; i++, p += STAT_BLOB_PARAM) {
		stats[i].n = get64(p);
		stats[i].mean = get64(p + 8);
		stats[i].dev = get64(p + 16);
		stats[i].max = get64(p + 24);
	}
	if (!t)
		return 0;
	kis_ftree_clear(t);
	for (i = 0; i < n; i++, p += STAT_BLOB_FILE) {
		e = ftree_insert(t, get64(p), get32(p + 8));
		e->children = get32(p + 12);
	}
	return 0;
}
