// SPDX-License-Identifier: GPL-2.0
/*
 * Where KIS sees tasks: tracepoint probes on system-call entry and on
 * fork, exec and exit. The tracepoints are not exported symbols, so they
 * are found by name with for_each_kernel_tracepoint().
 *
 * All probes run with preemption disabled: no sleeping, no allocation.
 * While no cell is loaded the kis_watching static key is off and every
 * probe returns at its first instruction.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/tracepoint.h>

#include "kis_internal.h"

DEFINE_STATIC_KEY_FALSE(kis_watching);

static struct kis_scratch __percpu *kis_scratch;

static void kis_probe_sys_enter(void *data, struct pt_regs *regs, long id)
{
	struct kis_task *t;

	if (!static_branch_unlikely(&kis_watching))
		return;
	rcu_read_lock();
	t = kis_task_find(current);
	if (t) {
		t->syscalls++;
		this_cpu_inc(*t->cell->syscalls);
	}
	rcu_read_unlock();
}

static void kis_probe_fork(void *data, struct task_struct *parent,
			   struct task_struct *child)
{
	struct kis_task *t;

	if (!static_branch_unlikely(&kis_watching))
		return;
	if (child->flags & PF_KTHREAD)
		return;
	rcu_read_lock();
	t = kis_task_find(parent);
	if (t)
		kis_task_join(t->cell, child);
	rcu_read_unlock();
}

static void kis_probe_exec(void *data, struct task_struct *p, pid_t old_pid,
			   struct linux_binprm *bprm)
{
	struct kis_cell *cell;
	struct kis_task *t;

	if (!static_branch_unlikely(&kis_watching))
		return;
	rcu_read_lock();
	t = kis_task_find(p);
	if (t) {
		atomic64_inc(&t->cell->execs);
		if (t->cell->follow_exec) {
			/* A thread that execs takes over the leader's pid. */
			WRITE_ONCE(t->pid, task_pid_nr(p));
			goto out;
		}
		kis_task_leave(p);
	}
	cell = kis_cell_match_exec(p, bprm, this_cpu_ptr(kis_scratch));
	if (cell)
		kis_task_join(cell, p);
out:
	rcu_read_unlock();
}

static void kis_probe_exit(void *data, struct task_struct *p)
{
	if (!static_branch_unlikely(&kis_watching))
		return;
	/* Pairs with the barrier in kis_cell_adopt_threads(). */
	smp_mb();
	rcu_read_lock();
	if (kis_task_find(p))
		kis_task_leave(p);
	rcu_read_unlock();
}

struct kis_tracepoint {
	const char *name;
	void *probe;
	struct tracepoint *tp;
};

static struct kis_tracepoint kis_tracepoints[] = {
	{ .name = "sys_enter", .probe = kis_probe_sys_enter },
	{ .name = "sched_process_fork", .probe = kis_probe_fork },
	{ .name = "sched_process_exec", .probe = kis_probe_exec },
	{ .name = "sched_process_exit", .probe = kis_probe_exit },
};

static void kis_tracepoint_lookup(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(kis_tracepoints); i++)
		if (!strcmp(tp->name, kis_tracepoints[i].name))
			kis_tracepoints[i].tp = tp;
}

/**
 * kis_hooks_init() - find the tracepoints and attach the probes
 *
 * Return: 0, -ENOENT if the kernel lacks one of the tracepoints, -ENOMEM,
 * or the error of tracepoint_probe_register().
 */
int kis_hooks_init(void)
{
	int i, err;

	kis_scratch = alloc_percpu(struct kis_scratch);
	if (!kis_scratch)
		return -ENOMEM;

	for_each_kernel_tracepoint(kis_tracepoint_lookup, NULL);
	for (i = 0; i < ARRAY_SIZE(kis_tracepoints); i++) {
		if (!kis_tracepoints[i].tp) {
			pr_err("tracepoint %s not found\n",
			       kis_tracepoints[i].name);
			free_percpu(kis_scratch);
			return -ENOENT;
		}
	}
	for (i = 0; i < ARRAY_SIZE(kis_tracepoints); i++) {
		err = tracepoint_probe_register(kis_tracepoints[i].tp,
						kis_tracepoints[i].probe, NULL);
		if (err) {
			pr_err("cannot attach to tracepoint %s: %d\n",
			       kis_tracepoints[i].name, err);
			goto err_unregister;
		}
	}
	return 0;

err_unregister:
	while (--i >= 0)
		tracepoint_probe_unregister(kis_tracepoints[i].tp,
					    kis_tracepoints[i].probe, NULL);
	tracepoint_synchronize_unregister();
	free_percpu(kis_scratch);
	return err;
}

/**
 * kis_hooks_exit() - detach the probes and wait until none runs
 */
void kis_hooks_exit(void)
{
	int i;

	for (i = ARRAY_SIZE(kis_tracepoints) - 1; i >= 0; i--)
		tracepoint_probe_unregister(kis_tracepoints[i].tp,
					    kis_tracepoints[i].probe, NULL);
	tracepoint_synchronize_unregister();
	free_percpu(kis_scratch);
}
