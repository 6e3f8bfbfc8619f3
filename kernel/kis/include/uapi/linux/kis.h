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

#define KIS_GENL_NAME		"kis"
#define KIS_GENL_VERSION	1
#define KIS_GENL_MCGRP_EVENTS	"events"

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
 */
enum kis_cmd {
	KIS_CMD_UNSPEC,
	KIS_CMD_VERSION,
	KIS_CMD_CELL_LOAD,
	KIS_CMD_CELL_UNLOAD,
	KIS_CMD_CELL_GET,
	KIS_CMD_TASK_GET,

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

	__KIS_TASK_ATTR_MAX,
	KIS_TASK_ATTR_MAX = __KIS_TASK_ATTR_MAX - 1
};

#endif /* _UAPI_LINUX_KIS_H */
