/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * KIS, the Linux Kernel Immune System: the generic netlink contract.
 *
 * This is the one header shared by the kernel module and by kisctl. Any
 * change to a command or an attribute that an older peer would misread
 * bumps KIS_GENL_VERSION. Documentation/netlink.md describes every
 * command and attribute.
 */
#ifndef _UAPI_LINUX_KIS_H
#define _UAPI_LINUX_KIS_H

#include <linux/types.h>

#define KIS_GENL_NAME		"kis"
#define KIS_GENL_VERSION	2
#define KIS_GENL_MCGRP_EVENTS	"events"
#define KIS_GENL_MCGRP_TRACE	"trace"

/* Sizes of strings, including the terminating NUL. */
#define KIS_CELL_NAME_MAX	32
#define KIS_PROGRAM_MAX		256
#define KIS_ARGS_PATTERN_MAX	256
#define KIS_COMM_MAX		16

/* Bounds on a cell's task pool. */
#define KIS_CELL_TASKS_DEFAULT	1024
#define KIS_CELL_TASKS_MIN	1
#define KIS_CELL_TASKS_MAX	65536

/* Longest learning run with KIS_ATTR_LEARN_FOR_MS: 30 days. */
#define KIS_LEARN_FOR_MS_MAX	2592000000U

/* Most cells in one KIS_CMD_CELL_LOAD request. */
#define KIS_LOAD_CELLS_MAX	64

/*
 * The sequence model (Documentation/sequence-model.md); k, window and
 * score limits are those of the portable core, kernel/kis/core/kis_seq.h.
 */
#define KIS_LEARN_CAP_MAX		4194304
#define KIS_LEARN_PREFIXES_DEFAULT	16384
#define KIS_LEARN_KGRAMS_DEFAULT	65536
/* Largest profile blob accepted by KIS_CMD_PROFILE_LOAD, in bytes. */
#define KIS_PROFILE_SIZE_MAX		33554432
/* Largest KIS_ATTR_PROFILE_CHUNK. */
#define KIS_PROFILE_CHUNK_MAX		32768

/*
 * The APC's statistics (Documentation/statistics.md): sampling interval,
 * how long danger signals are held, and room for the learned file tree.
 */
#define KIS_STAT_INTERVAL_MS_DEFAULT	1000
#define KIS_STAT_INTERVAL_MS_MIN	100
#define KIS_STAT_INTERVAL_MS_MAX	60000
#define KIS_DANGER_HOLD1_DEFAULT	10	/* intervals */
#define KIS_DANGER_HOLD2_DEFAULT	3	/* intervals */
#define KIS_DANGER_HOLD_MAX		3600
#define KIS_FILE_TREE_DEFAULT		1024	/* files and directories */
#define KIS_FILE_TREE_MAX		4000	/* the blob fits one attribute */
#define KIS_FILE_GLOBS_MAX		32	/* expected tree, hard tolerization */
#define KIS_PATH_MAX			256	/* paths in events, with the NUL */
/* Multipliers of the deviation are in tenths: 30 is 3.0. */
#define KIS_MULT_MAX			10000
#define KIS_TOLERANCE_MAX		1000	/* percent */

/**
 * enum kis_param - what the APC measures about a cell
 * @KIS_PARAM_SEQ: smoothed sequence anomaly of the cell's worst task,
 *	0..1000; thresholds are the cell's SEQ_THRESHOLD and SEQ_THRESHOLD2
 * @KIS_PARAM_CPU: CPU time used in an interval, microseconds
 * @KIS_PARAM_VM_PAGES: mapped pages of the cell's largest process
 * @KIS_PARAM_RSS_PAGES: resident pages of the cell's largest process
 * @KIS_PARAM_FILES: files opened in an interval
 * @KIS_PARAM_FILES_OUTSIDE: files opened in an interval outside the learned
 *	file tree
 * @KIS_PARAM_SYSCALLS: system calls in an interval
 * @KIS_PARAM_FORKS: processes and threads created in an interval
 * @KIS_PARAM_EXECS: execve calls in an interval
 * @KIS_PARAM_CONNECTIONS: TCP connections accepted or opened in an interval
 * @KIS_PARAM_RX_BYTES: TCP and UDP payload bytes received in an interval
 * @KIS_PARAM_TX_BYTES: TCP and UDP payload bytes sent in an interval
 * @KIS_PARAM_RX_MSGS: TCP data segments and UDP datagrams received in an
 *	interval
 * @KIS_PARAM_TX_MSGS: TCP data segments and UDP datagrams sent in an
 *	interval
 * @KIS_PARAM_CONN_RX_BYTES: bytes received on one connection (a request)
 * @KIS_PARAM_CONN_TX_BYTES: bytes sent on one connection (a response)
 * @KIS_PARAM_CONN_RATIO: bytes sent per 100 bytes received, one connection
 * @KIS_PARAM_COUNT: number of parameters
 *
 * The last three are per connection: a sample is one connection, taken
 * when it closes (and each interval while it is open). The others are per
 * cell, one sample an interval.
 */
enum kis_param {
	KIS_PARAM_SEQ,
	KIS_PARAM_CPU,
	KIS_PARAM_VM_PAGES,
	KIS_PARAM_RSS_PAGES,
	KIS_PARAM_FILES,
	KIS_PARAM_FILES_OUTSIDE,
	KIS_PARAM_SYSCALLS,
	KIS_PARAM_FORKS,
	KIS_PARAM_EXECS,
	KIS_PARAM_CONNECTIONS,
	KIS_PARAM_RX_BYTES,
	KIS_PARAM_TX_BYTES,
	KIS_PARAM_RX_MSGS,
	KIS_PARAM_TX_MSGS,
	KIS_PARAM_CONN_RX_BYTES,
	KIS_PARAM_CONN_TX_BYTES,
	KIS_PARAM_CONN_RATIO,

	KIS_PARAM_COUNT
};

/* Danger signal levels. */
enum kis_danger {
	KIS_DANGER_NONE,
	KIS_DANGER_1,
	KIS_DANGER_2,
};

/* Cell state bits, KIS_CELL_ATTR_STATE. */
#define KIS_CELL_LEARNING	0x1	/* learning a profile */
#define KIS_CELL_ARMED		0x2	/* monitoring with a profile */
#define KIS_CELL_TRACING	0x4	/* sending trace records */

/**
 * struct kis_trace_record - one system call of a traced task
 * @cell_id: KIS_CELL_ATTR_ID of the task's cell
 * @pid: thread id
 * @tgid: process id
 * @syscall: system call number
 * @flags: KIS_TRACE_EXEC on the first call after an execve
 */
struct kis_trace_record {
	__u32 cell_id;
	__u32 pid;
	__u32 tgid;
	__u16 syscall;
	__u16 flags;
};

#define KIS_TRACE_EXEC		0x1

/**
 * enum kis_cmd - generic netlink commands of the "kis" family
 * @KIS_CMD_UNSPEC: unused
 * @KIS_CMD_VERSION: reply carries KIS_ATTR_PROTO_VERSION,
 *	KIS_ATTR_MODULE_VERSION and KIS_ATTR_TASKS_WATCHED. Anyone may ask.
 * @KIS_CMD_CELL_LOAD: KIS_ATTR_CELLS holds one KIS_ATTR_CELL nest per cell.
 *	All cells are checked before any is added; one bad cell or name
 *	clash refuses the whole request. Needs admin rights.
 * @KIS_CMD_CELL_UNLOAD: KIS_ATTR_CELL_NAME names the cell to remove; its
 *	tasks stop being watched. Needs admin rights.
 * @KIS_CMD_CELL_GET: dump of all cells, one message per cell, each with a
 *	KIS_ATTR_CELL nest. Anyone may ask.
 * @KIS_CMD_TASK_GET: dump of all watched tasks, one message per task, each
 *	with a KIS_ATTR_TASK nest. Anyone may ask.
 * @KIS_CMD_CELL_SET: KIS_ATTR_CELL_NAME and a KIS_ATTR_CELL nest with the
 *	settings to change at run time (SEQ_WINDOW, SEQ_THRESHOLD). Admin.
 * @KIS_CMD_LEARN_START: the cell named by KIS_ATTR_CELL_NAME starts
 *	learning its sequence profile and statistics from scratch; with
 *	KIS_ATTR_LEARN_FOR_MS it stops by itself after that long. Admin.
 * @KIS_CMD_LEARN_STOP: stops learning; what was learned is kept. Admin.
 * @KIS_CMD_PROFILE_GET: dump of a cell's profile in the exchange format:
 *	KIS_ATTR_CELL_NAME, KIS_ATTR_PROFILE_SOURCE say which; each reply has
 *	KIS_ATTR_PROFILE_SIZE and one KIS_ATTR_PROFILE_CHUNK. Admin.
 * @KIS_CMD_PROFILE_LOAD: KIS_ATTR_CELL_NAME and the profile as top-level
 *	KIS_ATTR_PROFILE_CHUNK attributes, concatenated in order (a nest could
 *	not exceed 64 KiB), arm the cell: its tasks are monitored. Admin.
 * @KIS_CMD_PROFILE_UNLOAD: disarm the cell named by KIS_ATTR_CELL_NAME.
 *	Admin.
 * @KIS_CMD_TRACE_START: the cell's tasks' system calls are sent to the
 *	"trace" multicast group as KIS_CMD_TRACE messages. Admin.
 * @KIS_CMD_TRACE_STOP: stops tracing the cell. Admin.
 * @KIS_CMD_ALERT: event on the "events" group: a task's smoothed anomaly
 *	crossed its cell's threshold; KIS_ATTR_EVENT nest.
 * @KIS_CMD_TRACE: message on the "trace" group: KIS_ATTR_TRACE_SEQ,
 *	KIS_ATTR_TRACE_LOST and KIS_ATTR_TRACE_RECORDS.
 * @KIS_CMD_DANGER: event on the "events" group: a danger signal of a cell
 *	(or of one of its connections) rose or decayed; KIS_ATTR_EVENT nest
 *	with PARAM, LEVEL, VALUE, MEAN, DEV, T1, T2 and, for a connection or a
 *	file, PEER or PATH.
 * @KIS_CMD_TRAINING: event on the "events" group: while learning with
 *	expected values (hard tolerization), a sample far from what the
 *	config expects was not learned; KIS_ATTR_EVENT nest with PARAM, VALUE,
 *	EXPECT, TOLERANCE, or PATH for a file outside the expected tree.
 * @KIS_CMD_STATS_GET: KIS_ATTR_CELL_NAME and KIS_ATTR_PROFILE_SOURCE; the
 *	reply carries the cell's learned statistics and file tree as one
 *	KIS_ATTR_STATS blob (the core's format, kernel/kis/core/kis_stat.h).
 *	Admin.
 * @KIS_CMD_STATS_LOAD: KIS_ATTR_CELL_NAME and a KIS_ATTR_STATS blob: the
 *	cell judges its statistics against it from now on. Admin.
 * @KIS_CMD_CONN_GET: dump of the TCP connections the cells track, one
 *	message per connection, each with a KIS_ATTR_CONN nest. Anyone may ask.
 */
enum kis_cmd {
	KIS_CMD_UNSPEC,
	KIS_CMD_VERSION,
	KIS_CMD_CELL_LOAD,
	KIS_CMD_CELL_UNLOAD,
	KIS_CMD_CELL_GET,
	KIS_CMD_TASK_GET,
	KIS_CMD_CELL_SET,
	KIS_CMD_LEARN_START,
	KIS_CMD_LEARN_STOP,
	KIS_CMD_PROFILE_GET,
	KIS_CMD_PROFILE_LOAD,
	KIS_CMD_PROFILE_UNLOAD,
	KIS_CMD_TRACE_START,
	KIS_CMD_TRACE_STOP,
	KIS_CMD_ALERT,
	KIS_CMD_TRACE,
	KIS_CMD_DANGER,
	KIS_CMD_TRAINING,
	KIS_CMD_STATS_GET,
	KIS_CMD_STATS_LOAD,
	KIS_CMD_CONN_GET,

	__KIS_CMD_MAX,
	KIS_CMD_MAX = __KIS_CMD_MAX - 1
};

/* Top-level attributes. */
enum kis_attr {
	KIS_ATTR_UNSPEC,
	KIS_ATTR_PROTO_VERSION,		/* u32 */
	KIS_ATTR_MODULE_VERSION,	/* string */
	KIS_ATTR_TASKS_WATCHED,		/* u32 */
	KIS_ATTR_CELLS,			/* nest of KIS_ATTR_CELL */
	KIS_ATTR_CELL,			/* nest: enum kis_cell_attr */
	KIS_ATTR_CELL_NAME,		/* string */
	KIS_ATTR_TASK,			/* nest: enum kis_task_attr */
	KIS_ATTR_PROFILE_SOURCE,	/* u8: enum kis_profile_source */
	KIS_ATTR_PROFILE_SIZE,		/* u32: bytes of the whole profile */
	KIS_ATTR_PROFILE_CHUNK,		/* binary: part of the profile */
	KIS_ATTR_EVENT,			/* nest: enum kis_event_attr */
	KIS_ATTR_TRACE_SEQ,		/* u64: number of the first record */
	KIS_ATTR_TRACE_LOST,		/* u64: records lost so far */
	KIS_ATTR_TRACE_RECORDS,		/* binary: struct kis_trace_record[] */
	KIS_ATTR_EVENTS_LOST,		/* u64: events lost so far */
	KIS_ATTR_PAD,
	KIS_ATTR_STATS,			/* binary: statistics blob */
	KIS_ATTR_LEARN_FOR_MS,		/* u32: LEARN_START stops by itself */
	KIS_ATTR_CONN,			/* nest: enum kis_conn_attr */

	__KIS_ATTR_MAX,
	KIS_ATTR_MAX = __KIS_ATTR_MAX - 1
};

/*
 * Attributes of a cell. NAME and PROGRAM are required on load; the rest
 * have defaults. The counters are only sent by the module.
 */
enum kis_cell_attr {
	KIS_CELL_ATTR_UNSPEC,
	KIS_CELL_ATTR_NAME,		/* string */
	KIS_CELL_ATTR_PROGRAM,		/* string: glob on the executable */
	KIS_CELL_ATTR_ARGS,		/* string: glob on the arguments */
	KIS_CELL_ATTR_FOLLOW_EXEC,	/* u8: 0 or 1, default 1 */
	KIS_CELL_ATTR_MAX_TASKS,	/* u32: size of the task pool */
	KIS_CELL_ATTR_TASKS,		/* u32: tasks in the cell now */
	KIS_CELL_ATTR_JOINED,		/* u64: tasks that ever joined */
	KIS_CELL_ATTR_LEFT,		/* u64: tasks that left */
	KIS_CELL_ATTR_EXECS,		/* u64: execve calls by members */
	KIS_CELL_ATTR_OVER_LIMIT,	/* u64: tasks not watched, pool full */
	KIS_CELL_ATTR_SYSCALLS,		/* u64: system calls seen */
	KIS_CELL_ATTR_PAD,
	KIS_CELL_ATTR_ID,		/* u32: number in trace records */
	KIS_CELL_ATTR_SEQ_K,		/* u8: sequence length, default 6 */
	KIS_CELL_ATTR_SEQ_WINDOW,	/* u16: scores averaged, default 20 */
	KIS_CELL_ATTR_SEQ_THRESHOLD,	/* u16: alert above, 0..1000 */
	KIS_CELL_ATTR_LEARN_PREFIXES,	/* u32: learning room, runs of k-1 */
	KIS_CELL_ATTR_LEARN_KGRAMS,	/* u32: learning room, k-grams */
	KIS_CELL_ATTR_STATE,		/* u32: KIS_CELL_LEARNING | ... */
	KIS_CELL_ATTR_LEARNED,		/* u64: calls counted while learning */
	KIS_CELL_ATTR_LEARN_DROPPED,	/* u64: k-grams not learned, full */
	KIS_CELL_ATTR_PROFILE_KGRAMS,	/* u32: k-grams of the armed profile */
	KIS_CELL_ATTR_ALERTS,		/* u64: alerts raised */
	KIS_CELL_ATTR_TRACE_LOST,	/* u64: trace records lost */
	KIS_CELL_ATTR_SEQ_THRESHOLD2,	/* u16: danger 2 above, 0..1000 */
	KIS_CELL_ATTR_STAT_INTERVAL,	/* u32: sampling interval, ms */
	KIS_CELL_ATTR_DANGER_HOLD1,	/* u16: quiet intervals before 1 -> 0 */
	KIS_CELL_ATTR_DANGER_HOLD2,	/* u16: quiet intervals before 2 -> 1 */
	KIS_CELL_ATTR_FILE_TREE,	/* u32: room for learned files */
	KIS_CELL_ATTR_FILE_GLOBS,	/* nest of KIS_CELL_ATTR_FILE_GLOB */
	KIS_CELL_ATTR_FILE_GLOB,	/* string: expected file tree entry */
	KIS_CELL_ATTR_PARAMS,		/* nest of KIS_CELL_ATTR_PARAM */
	KIS_CELL_ATTR_PARAM,		/* nest: enum kis_param_attr */
	KIS_CELL_ATTR_DANGER,		/* u8: enum kis_danger, cell level */
	KIS_CELL_ATTR_DANGER_EVENTS,	/* u64: danger signal events */
	KIS_CELL_ATTR_TRAINING,		/* u64: suspected training samples */
	KIS_CELL_ATTR_STAT_SAMPLES,	/* u64: intervals sampled */
	KIS_CELL_ATTR_FILES_LEARNED,	/* u32: entries of the file tree */
	KIS_CELL_ATTR_CONNECTIONS,	/* u32: connections tracked now */
	KIS_CELL_ATTR_LEARN_LEFT_MS,	/* u32: learning stops by itself in */

	__KIS_CELL_ATTR_MAX,
	KIS_CELL_ATTR_MAX = __KIS_CELL_ATTR_MAX - 1
};

/* Attributes of a watched task, sent by the module only. */
enum kis_task_attr {
	KIS_TASK_ATTR_UNSPEC,
	KIS_TASK_ATTR_CELL,		/* string: cell name */
	KIS_TASK_ATTR_PID,		/* u32: thread id */
	KIS_TASK_ATTR_TGID,		/* u32: process id */
	KIS_TASK_ATTR_COMM,		/* string */
	KIS_TASK_ATTR_SYSCALLS,		/* u64 */
	KIS_TASK_ATTR_PAD,
	KIS_TASK_ATTR_SCORE,		/* u32: smoothed anomaly now, 0..1000 */
	KIS_TASK_ATTR_MAX_SCORE,	/* u32: highest smoothed anomaly */

	__KIS_TASK_ATTR_MAX,
	KIS_TASK_ATTR_MAX = __KIS_TASK_ATTR_MAX - 1
};

/* Which profile KIS_CMD_PROFILE_GET returns. */
enum kis_profile_source {
	KIS_PROFILE_LEARNED,		/* what learning collected */
	KIS_PROFILE_ARMED,		/* what the cell monitors with */
};

/*
 * Settings and state of one parameter of a cell (KIS_CELL_ATTR_PARAM).
 * On load and set: ID and any of MULT1, MULT2, FLOOR, EXPECT, TOLERANCE.
 * In dumps the module adds the rest. Means and deviations are in the
 * parameter's unit, rounded down.
 */
enum kis_param_attr {
	KIS_PARAM_ATTR_UNSPEC,
	KIS_PARAM_ATTR_ID,		/* u8: enum kis_param */
	KIS_PARAM_ATTR_MULT1,		/* u16: threshold 1 multiplier, tenths */
	KIS_PARAM_ATTR_MULT2,		/* u16: threshold 2 multiplier, tenths */
	KIS_PARAM_ATTR_FLOOR,		/* u64: least deviation used */
	KIS_PARAM_ATTR_EXPECT,		/* u64: expected value (hard) */
	KIS_PARAM_ATTR_TOLERANCE,	/* u16: percent around EXPECT */
	KIS_PARAM_ATTR_PAD,
	KIS_PARAM_ATTR_SAMPLES,		/* u64: samples learned */
	KIS_PARAM_ATTR_MEAN,		/* u64 */
	KIS_PARAM_ATTR_DEV,		/* u64: mean absolute deviation */
	KIS_PARAM_ATTR_T1,		/* u64: threshold 1 (armed) */
	KIS_PARAM_ATTR_T2,		/* u64: threshold 2 (armed) */
	KIS_PARAM_ATTR_VALUE,		/* u64: last sample */
	KIS_PARAM_ATTR_LEVEL,		/* u8: enum kis_danger now */
	KIS_PARAM_ATTR_ARMED,		/* u8: 1 if judged against thresholds */

	__KIS_PARAM_ATTR_MAX,
	KIS_PARAM_ATTR_MAX = __KIS_PARAM_ATTR_MAX - 1
};

/*
 * The peer of a connection in events: address family, ports in host
 * order, addresses as on the wire (IPv4 in the first 4 bytes).
 */
struct kis_peer {
	__u16 family;		/* AF_INET or AF_INET6 */
	__u16 peer_port;
	__u16 local_port;
	__u16 pad;
	__u8 peer_addr[16];
};

/* Attributes of a tracked connection, sent by the module only. */
enum kis_conn_attr {
	KIS_CONN_ATTR_UNSPEC,
	KIS_CONN_ATTR_CELL,		/* string: cell name */
	KIS_CONN_ATTR_PEER,		/* binary: struct kis_peer */
	KIS_CONN_ATTR_PID,		/* u32: thread that accepted or opened it */
	KIS_CONN_ATTR_TGID,		/* u32 */
	KIS_CONN_ATTR_RX_BYTES,		/* u64: received so far */
	KIS_CONN_ATTR_TX_BYTES,		/* u64: sent so far */
	KIS_CONN_ATTR_LEVEL,		/* u8: enum kis_danger, its highest */
	KIS_CONN_ATTR_PAD,

	__KIS_CONN_ATTR_MAX,
	KIS_CONN_ATTR_MAX = __KIS_CONN_ATTR_MAX - 1
};

/* Attributes of an event (KIS_CMD_ALERT, KIS_CMD_DANGER, ...). */
enum kis_event_attr {
	KIS_EVENT_ATTR_UNSPEC,
	KIS_EVENT_ATTR_SEQ,		/* u64: event number, from 1 */
	KIS_EVENT_ATTR_LOST,		/* u64: events lost before this one */
	KIS_EVENT_ATTR_TIME_NS,		/* u64: CLOCK_REALTIME */
	KIS_EVENT_ATTR_CELL,		/* string */
	KIS_EVENT_ATTR_PID,		/* u32 */
	KIS_EVENT_ATTR_TGID,		/* u32 */
	KIS_EVENT_ATTR_COMM,		/* string */
	KIS_EVENT_ATTR_SCORE,		/* u32: smoothed anomaly, 0..1000 */
	KIS_EVENT_ATTR_THRESHOLD,	/* u32 */
	KIS_EVENT_ATTR_CALLS,		/* binary: __u16[], oldest first */
	KIS_EVENT_ATTR_PAD,
	KIS_EVENT_ATTR_PARAM,		/* u8: enum kis_param */
	KIS_EVENT_ATTR_LEVEL,		/* u8: enum kis_danger, new level */
	KIS_EVENT_ATTR_VALUE,		/* u64: the sample */
	KIS_EVENT_ATTR_MEAN,		/* u64 */
	KIS_EVENT_ATTR_DEV,		/* u64 */
	KIS_EVENT_ATTR_T1,		/* u64 */
	KIS_EVENT_ATTR_T2,		/* u64 */
	KIS_EVENT_ATTR_PEER,		/* binary: struct kis_peer */
	KIS_EVENT_ATTR_PATH,		/* string: file outside the tree */
	KIS_EVENT_ATTR_EXPECT,		/* u64: expected value (training) */
	KIS_EVENT_ATTR_TOLERANCE,	/* u16: percent (training) */
	KIS_EVENT_ATTR_CELL_LEVEL,	/* u8: the cell's level after it */

	__KIS_EVENT_ATTR_MAX,
	KIS_EVENT_ATTR_MAX = __KIS_EVENT_ATTR_MAX - 1
};

#endif /* _UAPI_LINUX_KIS_H */
