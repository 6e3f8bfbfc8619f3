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
#define KIS_GENL_VERSION	1
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
 *	learning its sequence profile from scratch. Admin.
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

/* Attributes of an event (KIS_CMD_ALERT). */
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

	__KIS_EVENT_ATTR_MAX,
	KIS_EVENT_ATTR_MAX = __KIS_EVENT_ATTR_MAX - 1
};

#endif /* _UAPI_LINUX_KIS_H */
