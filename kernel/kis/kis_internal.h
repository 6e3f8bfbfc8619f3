/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KIS internals shared by the module's files.
 *
 * Locking:
 * - kis_config_mutex serialises configuration (cell load and unload, the
 *   scan for running processes). The cell list is RCU: the probes read it
 *   without locks.
 * - kis_lock (a spinlock) protects task membership: the task hash, each
 *   cell's member, free and limbo lists and its counters. It is taken on
 *   fork, exec and exit of watched tasks only, never per syscall.
 * - A kis_task is only written by its own task on the syscall path, so
 *   per-task state needs no lock there.
 */
#ifndef KIS_INTERNAL_H
#define KIS_INTERNAL_H

#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/kis.h>

#include "kis_seq.h"
#include "kis_stat.h"

#define KIS_VERSION		"0.1.0"
#define KIS_ARGS_READ_MAX	4096

struct kis_cell;
struct linux_binprm;
struct sk_buff;
struct sock;
struct nlattr;

/**
 * struct kis_profile - a sequence model in kernel memory
 * @gen: number of this arming; tasks reset their monitor when it changes
 * @m: the model; its arrays follow this structure
 */
struct kis_profile {
	u64 gen;
	struct kis_seq_model m;
};

/**
 * struct kis_task - a watched task (a thread of a cell's process)
 * @hnode: link in the task hash, keyed by @task
 * @cell_node: link in the cell's member, free or limbo list
 * @task: the task; not referenced: the slot leaves the hash at exit
 * @cell: the cell it belongs to
 * @pid: thread id in the initial pid namespace
 * @tgid: process id in the initial pid namespace
 * @syscalls: system calls seen, written by the task itself
 * @gp: RCU grace-period cookie taken when the slot was released
 * @learn_gen: learning run @learn belongs to
 * @learn: recent calls for learning
 * @mon_gen: profile arming @mon and @window belong to
 * @mon: recent calls for monitoring
 * @window: moving average of the task's scores
 * @max_score: highest smoothed anomaly since the cell was armed
 * @alerted: @score is above the threshold and the alert was raised
 * @exec_mark: the next trace record is the first after an execve
 * @cpu_seen: CPU time of the task already counted by the APC, ns; under
 *	kis_lock
 *
 * Everything after @gp is written only by the task itself, in its
 * system-call probe, and read racily by status dumps.
 */
struct kis_task {
	struct hlist_node hnode;
	struct list_head cell_node;
	struct task_struct *task;
	struct kis_cell *cell;
	pid_t pid;
	pid_t tgid;
	u64 syscalls;
	unsigned long gp;
	u64 learn_gen;
	struct kis_seq_recent learn;
	u64 mon_gen;
	struct kis_seq_recent mon;
	struct kis_seq_window window;
	u16 max_score;
	bool alerted;
	bool exec_mark;
	u64 cpu_seen;
};

/**
 * struct kis_param_state - one parameter of a cell at run time
 * @limits: how its thresholds are derived
 * @expect: hard tolerization: the value the config expects
 * @learn: statistics of the current or last learning run
 * @armed: the statistics it is judged against
 * @is_armed: @t1 and @t2 apply
 * @t1: threshold of danger signal 1
 * @t2: threshold of danger signal 2
 * @value: last sample
 * @danger: its danger signal
 */
struct kis_param_state {
	struct kis_stat_limits limits;
	struct kis_stat_expect expect;
	struct kis_stat learn;
	struct kis_stat armed;
	bool is_armed;
	u64 t1;
	u64 t2;
	u64 value;
	struct kis_danger_state danger;
};

/* The per-connection parameters, KIS_PARAM_CONN_RX_BYTES and on. */
#define KIS_CONN_PARAMS		3

/**
 * struct kis_conn - a TCP connection of a cell
 * @node: link in the APC's live or free list
 * @sk: the socket, referenced
 * @peer: addresses, for events
 * @pid: thread that accepted or opened it
 * @tgid: its process
 * @rx_seen: bytes received already counted in the cell's totals
 * @tx_seen: bytes sent likewise
 * @rx_segs_seen: data segments received likewise
 * @tx_segs_seen: data segments sent likewise
 * @danger: danger signals of its per-connection parameters
 */
struct kis_conn {
	struct list_head node;
	struct sock *sk;
	struct kis_peer peer;
	pid_t pid;
	pid_t tgid;
	u64 rx_seen;
	u64 tx_seen;
	u32 rx_segs_seen;
	u32 tx_segs_seen;
	struct kis_danger_state danger[KIS_CONN_PARAMS];
};

/**
 * struct kis_apc - the statistics side of a cell's APC
 * @lock: protects everything below not marked otherwise
 * @work: the sampler, every @interval_ms
 * @interval_ms: sampling interval (fixed at load)
 * @hold1: quiet intervals before danger 1 decays (run-time)
 * @hold2: quiet intervals before danger 2 decays to 1 (run-time)
 * @tree_cap: room of the file trees
 * @nglobs: entries of @globs
 * @globs: the expected file tree of hard tolerization, or NULL
 * @p: the parameters
 * @learning: statistics are being learned
 * @learn_tree: the file tree being learned
 * @armed_tree: the file tree judged against, or NULL
 * @level: the cell's danger level, the highest of its parameters'
 * @samples: intervals sampled
 * @danger_events: danger events raised
 * @training: samples refused as suspected training
 * @training_files: file training events this interval (they are capped)
 * @files: files opened since the last sample
 * @files_outside: of them, outside the tree
 * @forks: tasks created since the last sample
 * @conns_new: connections since the last sample
 * @udp_rx_bytes: UDP payload received since the last sample
 * @udp_tx_bytes: UDP payload sent since the last sample
 * @udp_rx_msgs: UDP datagrams received since the last sample
 * @udp_tx_msgs: UDP datagrams sent since the last sample
 * @seq_peak: highest smoothed anomaly above the threshold since the last
 *	sample
 * @cpu_exited: CPU time of tasks that left since the last sample, ns;
 *	under kis_lock
 * @last_syscalls: the cell's system calls at the last sample (sampler only)
 * @last_execs: the cell's execve calls at the last sample (sampler only)
 * @conn_pool: connection slots
 * @conns: live connections
 * @conn_free: free slots
 * @nconns: entries of @conns
 * @conns_untracked: connections not tracked because the pool was full
 * @tasks: room for the sampler's task references (sampler only)
 * @ntasks_cap: entries of @tasks
 */
struct kis_apc {
	spinlock_t lock;		/* see above */
	struct delayed_work work;
	u32 interval_ms;
	u32 hold1;
	u32 hold2;
	u32 tree_cap;
	u32 nglobs;
	char (*globs)[KIS_PROGRAM_MAX];
	struct kis_param_state p[KIS_PARAM_COUNT];
	bool learning;
	struct kis_ftree *learn_tree;
	struct kis_ftree *armed_tree;
	u8 level;
	u64 samples;
	u64 danger_events;
	u64 training;
	u32 training_files;
	atomic64_t files;
	atomic64_t files_outside;
	atomic64_t forks;
	atomic64_t conns_new;
	atomic64_t udp_rx_bytes;
	atomic64_t udp_tx_bytes;
	atomic64_t udp_rx_msgs;
	atomic64_t udp_tx_msgs;
	u32 seq_peak;
	u64 cpu_exited;
	u64 last_syscalls;
	u64 last_execs;
	struct kis_conn *conn_pool;
	struct list_head conns;
	struct list_head conn_free;
	u32 nconns;
	u64 conns_untracked;
	struct task_struct **tasks;
	u32 ntasks_cap;
};

/**
 * struct kis_cell - a watched server: its matching rule, tasks and counters
 * @list: link in kis_cells (RCU)
 * @drop_node: link in a list of cells being removed
 * @name: unique name
 * @program: glob on the executable
 * @args: glob on the arguments
 * @follow_exec: members stay in the cell across execve
 * @dead: set under kis_lock when the cell is being removed
 * @max_tasks: most tasks the cell watches at once
 * @pool: preallocated task slots (more than @max_tasks), so that fork never
 *	allocates
 * @members: slots in use
 * @free: slots never used or safe to reuse
 * @limbo: released slots waiting for an RCU grace period, oldest first
 * @ntasks: number of @members
 * @joined: tasks that ever joined
 * @left: tasks that left (exit, execve without @follow_exec)
 * @over_limit: tasks not watched because the cell was full
 * @execs: execve calls by members
 * @syscalls: per-CPU count of system calls seen
 * @id: number that names the cell in trace records
 * @seq_k: sequence length for learning
 * @window: scores averaged by the monitor (run-time setting)
 * @threshold: smoothed anomaly above which an alert is raised (run-time)
 * @threshold2: smoothed anomaly above which danger signal 2 is raised
 *	(run-time)
 * @learn_prefixes: learning room, distinct runs of k-1 calls
 * @learn_kgrams: learning room, distinct k-grams
 * @flags: KIS_CELL_LEARNING and KIS_CELL_TRACING bits
 * @learn_lock: protects @learner, @learn_gen and @learned
 * @learner: the model being learned, or NULL
 * @learn_gen: number of the current learning run
 * @learned: calls counted by the current learning run
 * @learn_end: jiffies at which learning stops by itself, if @learn_timed
 * @learn_timed: the current learning run has a duration
 * @learn_timer: stops a learning run that has a duration
 * @armed: the profile the cell is monitored with (RCU), or NULL
 * @alerts: alerts raised
 * @trace_lost: trace records lost because the trace ring was full
 * @apc: resource statistics and danger signals
 */
struct kis_cell {
	struct list_head list;
	struct list_head drop_node;
	char name[KIS_CELL_NAME_MAX];
	char program[KIS_PROGRAM_MAX];
	char args[KIS_ARGS_PATTERN_MAX];
	bool follow_exec;
	bool dead;
	u32 max_tasks;
	struct kis_task *pool;
	struct list_head members;
	struct list_head free;
	struct list_head limbo;
	u32 ntasks;
	u64 joined;
	u64 left;
	u64 over_limit;
	atomic64_t execs;
	u64 __percpu *syscalls;
	u32 id;
	u32 seq_k;
	u32 window;
	u32 threshold;
	u32 threshold2;
	u32 learn_prefixes;
	u32 learn_kgrams;
	unsigned long flags;
	spinlock_t learn_lock;		/* see above */
	struct kis_profile *learner;
	u64 learn_gen;
	u64 learned;
	unsigned long learn_end;
	bool learn_timed;
	struct delayed_work learn_timer;
	struct kis_profile __rcu *armed;
	atomic64_t alerts;
	atomic64_t trace_lost;
	struct kis_apc apc;
};

/* Bits of kis_cell.flags. */
#define KIS_FLAG_LEARNING	0
#define KIS_FLAG_TRACING	1

/* Per-CPU room to read a process's executable path and arguments. */
struct kis_scratch {
	char path[PATH_MAX];
	char args[KIS_ARGS_READ_MAX + 1];
};

extern struct list_head kis_cells;
extern struct mutex kis_config_mutex;
extern spinlock_t kis_lock;
extern atomic_t kis_tasks_watched;
DECLARE_STATIC_KEY_FALSE(kis_watching);

/* kis_cell.c */
struct kis_cell *kis_cell_alloc(u32 max_tasks);
void kis_cell_free(struct kis_cell *cell);
struct kis_cell *kis_cell_find(const char *name);
int kis_cells_publish(struct list_head *cells);
void kis_cell_remove(struct kis_cell *cell);
void kis_precise_enter(void);
bool kis_precise_leave(void);
void kis_cells_remove_last(unsigned int n);
void kis_cells_remove_all(void);
void kis_tasks_walk(long pos[2], int (*fn)(struct kis_task *t, void *arg),
		    void *arg);
int kis_cells_adopt_running(void);
struct kis_task *kis_task_find(struct task_struct *task);
void kis_task_join(struct kis_cell *cell, struct task_struct *task);
void kis_task_leave(struct task_struct *task);
struct kis_cell *kis_cell_match_exec(struct task_struct *task,
				     const struct linux_binprm *bprm,
				     struct kis_scratch *scratch);
u64 kis_cell_syscalls(const struct kis_cell *cell);

/* kis_profile.c */
struct kis_profile *kis_profile_alloc(u32 k, u32 prefixes, u32 kgrams);
void kis_profile_free(struct kis_profile *prof);
int kis_learn_start(struct kis_cell *cell);
void kis_learn_stop(struct kis_cell *cell);
void kis_profile_arm(struct kis_cell *cell, struct kis_profile *prof);
int kis_cell_learn_start(struct kis_cell *cell, u32 for_ms);
int kis_cell_learn_stop(struct kis_cell *cell);
void kis_cell_learn_timer(struct work_struct *work);
u32 kis_cell_learn_left_ms(const struct kis_cell *cell);
void kis_cell_observe(struct kis_cell *cell, struct kis_task *t, long id);
u32 kis_task_score(const struct kis_task *t);

/* kis_apc.c */
int kis_apc_init(struct kis_cell *cell, u32 slots);
void kis_apc_free(struct kis_cell *cell);
void kis_apc_start(struct kis_cell *cell);
int kis_apc_learn_start(struct kis_cell *cell);
int kis_apc_learn_stop(struct kis_cell *cell);
void kis_apc_task_leave(struct kis_cell *cell, struct kis_task *t);
void kis_apc_fork(struct kis_cell *cell);
void kis_apc_udp(struct kis_cell *cell, bool rx, u64 bytes);
void kis_apc_file_open(struct kis_cell *cell, struct kis_task *t,
		       const char *path, size_t len);
void kis_apc_conn_new(struct kis_cell *cell, struct kis_task *t,
		      struct sock *sk);
void kis_apc_seq(struct kis_cell *cell, struct kis_task *t, u32 score);
int kis_apc_put(struct sk_buff *skb, struct kis_cell *cell);
u8 *kis_apc_blob(struct kis_cell *cell, bool armed, size_t *len);
int kis_apc_blob_load(struct kis_cell *cell, const u8 *buf, size_t len);
void kis_apc_set_param(struct kis_cell *cell, u32 id, struct nlattr **tb);
void kis_apc_rearm(struct kis_cell *cell);

/* kis_events.c */
struct kis_danger_info {
	u32 param;
	u32 level;
	u32 cell_level;
	u64 value;
	const struct kis_param_state *ps;
	const struct kis_task *task;
	const struct kis_peer *peer;
	const char *path;
};

void kis_event_danger(struct kis_cell *cell, const struct kis_danger_info *d);
void kis_event_training(struct kis_cell *cell, u32 param, u64 value,
			const char *path);
int kis_events_init(void);
void kis_events_close(void);
void kis_events_exit(void);
void kis_event_alert(struct kis_cell *cell, struct kis_task *t, u32 score,
		     u32 threshold);
void kis_trace_record(struct kis_cell *cell, struct kis_task *t, long id);
void kis_trace_flush(void);
u64 kis_events_lost(void);

/* kis_hooks.c */
int kis_hooks_init(void);
void kis_hooks_exit(void);
int kis_watch_start(void);
void kis_watch_stop(void);

/* kis_genl.c */
int kis_genl_init(void);
void kis_genl_exit(void);
void *kis_genl_put(struct sk_buff *skb, u8 cmd);
int kis_genl_multicast(struct sk_buff *skb, unsigned int group);

/* Multicast groups, in the order of kis_mcgrps[]. */
enum kis_mcgrp {
	KIS_MCGRP_EVENTS,
	KIS_MCGRP_TRACE,
};

#endif /* KIS_INTERNAL_H */
