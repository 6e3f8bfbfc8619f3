// SPDX-License-Identifier: GPL-2.0
/*
 * Where KIS sees tasks: tracepoint probes on system-call entry and on
 * fork, exec and exit. The tracepoints are not exported symbols, so they
 * are found by name with for_each_kernel_tracepoint().
 *
 * Files opened and TCP connections accepted or opened have no tracepoint;
 * kprobes at the entry of the LSM hooks security_file_open(),
 * security_sock_graft() (called as accept() hands over the new socket) and
 * security_socket_connect() see them, in the task that does it. UDP
 * traffic is seen at udp_sendmsg() and, with a return probe, udp_recvmsg()
 * (and their IPv6 twins). They are
 * attached only while a cell is loaded; a kernel without them works on
 * without those statistics.
 *
 * All probes run with preemption disabled: no sleeping, no allocation.
 * While no cell is loaded the kis_watching static key is off and every
 * probe returns at its first instruction.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/ctype.h>
#include <linux/fs.h>
#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>

#include "kis_internal.h"

DEFINE_STATIC_KEY_FALSE(kis_watching);

static struct kis_scratch __percpu *kis_scratch;
/* The sys_enter probe is attached; under kis_config_mutex. */
static bool kis_syscalls_watched;

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
		kis_cell_observe(t->cell, t, id);
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
	if (t) {
		kis_task_join(t->cell, child);
		kis_apc_fork(t->cell);
	}
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
			t->exec_mark = true;
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

/*
 * /proc/1234/... becomes /proc/PID/...: each process has its own, and the
 * file tree would otherwise never learn them. @buf is the buffer d_path()
 * wrote @p into, at its end.
 */
static char *kis_path_normalize(char *buf, char *p)
{
	static const char proc_pid[] = "/proc/PID";
	size_t n = 0;
	char *q;

	if (strncmp(p, "/proc/", 6))
		return p;
	while (isdigit(p[6 + n]))
		n++;
	if (!n || (p[6 + n] && p[6 + n] != '/'))
		return p;
	q = p + 6 + n - (sizeof(proc_pid) - 1);
	if (q < buf)
		return p;
	memcpy(q, proc_pid, sizeof(proc_pid) - 1);
	return q;
}

static int kis_kprobe_file_open(struct kprobe *kp, struct pt_regs *regs)
{
	struct file *file = (struct file *)regs_get_kernel_argument(regs, 0);
	struct kis_scratch *scratch;
	struct kis_task *t;
	char *path;

	if (!static_branch_unlikely(&kis_watching) || !file)
		return 0;
	rcu_read_lock();
	t = kis_task_find(current);
	if (t) {
		scratch = this_cpu_ptr(kis_scratch);
		path = d_path(&file->f_path, scratch->path,
			      sizeof(scratch->path));
		if (!IS_ERR(path) && *path == '/') {
			path = kis_path_normalize(scratch->path, path);
			kis_apc_file_open(t->cell, t, path, strlen(path));
		}
	}
	rcu_read_unlock();
	return 0;
}

static void kis_conn_seen(struct sock *sk)
{
	struct kis_task *t;

	if (!static_branch_unlikely(&kis_watching) || !sk)
		return;
	rcu_read_lock();
	t = kis_task_find(current);
	if (t)
		kis_apc_conn_new(t->cell, t, sk);
	rcu_read_unlock();
}

static int kis_kprobe_sock_graft(struct kprobe *kp, struct pt_regs *regs)
{
	kis_conn_seen((struct sock *)regs_get_kernel_argument(regs, 0));
	return 0;
}

static int kis_kprobe_connect(struct kprobe *kp, struct pt_regs *regs)
{
	struct socket *sock = (struct socket *)regs_get_kernel_argument(regs, 0);

	if (sock)
		kis_conn_seen(sock->sk);
	return 0;
}

/* udp_sendmsg(sk, msg, len) and udpv6_sendmsg: what the cell sends. */
static int kis_kprobe_udp_send(struct kprobe *kp, struct pt_regs *regs)
{
	struct kis_task *t;

	if (!static_branch_unlikely(&kis_watching))
		return 0;
	rcu_read_lock();
	t = kis_task_find(current);
	if (t)
		kis_apc_udp(t->cell, false, regs_get_kernel_argument(regs, 2));
	rcu_read_unlock();
	return 0;
}

/*
 * udp_recvmsg() and udpv6_recvmsg() return what the cell received. Only
 * watched tasks take a return-probe instance: a task blocked in recvmsg
 * holds one, and unwatched ones must not use them up.
 */
static int kis_kretprobe_udp_entry(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	bool watched;

	if (!static_branch_unlikely(&kis_watching))
		return 1;
	rcu_read_lock();
	watched = kis_task_find(current);
	rcu_read_unlock();
	return watched ? 0 : 1;
}

static int kis_kretprobe_udp_recv(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	long ret = regs_return_value(regs);
	struct kis_task *t;

	if (ret <= 0)
		return 0;
	rcu_read_lock();
	t = kis_task_find(current);
	if (t)
		kis_apc_udp(t->cell, true, ret);
	rcu_read_unlock();
	return 0;
}

/* Return-probe instances: watched tasks blocked in recvmsg at once. */
#define KIS_UDP_RECV_ACTIVE	64

struct kis_kretprobe {
	const char *symbol;
	struct kretprobe krp;
	bool attached;
};

static struct kis_kretprobe kis_kretprobes[] = {
	{ .symbol = "udp_recvmsg" },
	{ .symbol = "udpv6_recvmsg" },
};

struct kis_kprobe {
	const char *symbol;
	kprobe_pre_handler_t handler;
	struct kprobe kp;
	bool attached;
};

static struct kis_kprobe kis_kprobes[] = {
	{ .symbol = "security_file_open", .handler = kis_kprobe_file_open },
	{ .symbol = "security_sock_graft", .handler = kis_kprobe_sock_graft },
	{ .symbol = "security_socket_connect", .handler = kis_kprobe_connect },
	{ .symbol = "udp_sendmsg", .handler = kis_kprobe_udp_send },
	{ .symbol = "udpv6_sendmsg", .handler = kis_kprobe_udp_send },
};

/* Attaches what it can: a missing hook costs only its statistics. */
static void kis_kprobes_attach(void)
{
	struct kis_kretprobe *r;
	struct kis_kprobe *k;
	int err;

	for (r = kis_kretprobes;
	     r < kis_kretprobes + ARRAY_SIZE(kis_kretprobes); r++) {
		memset(&r->krp, 0, sizeof(r->krp));
		r->krp.kp.symbol_name = r->symbol;
		r->krp.entry_handler = kis_kretprobe_udp_entry;
		r->krp.handler = kis_kretprobe_udp_recv;
		r->krp.maxactive = KIS_UDP_RECV_ACTIVE;
		err = register_kretprobe(&r->krp);
		r->attached = !err;
		if (err)
			pr_warn("cannot attach to %s (%d): its statistics are not measured\n",
				r->symbol, err);
	}
	for (k = kis_kprobes; k < kis_kprobes + ARRAY_SIZE(kis_kprobes); k++) {
		/* A kprobe is registered afresh each time. */
		memset(&k->kp, 0, sizeof(k->kp));
		k->kp.symbol_name = k->symbol;
		k->kp.pre_handler = k->handler;
		err = register_kprobe(&k->kp);
		k->attached = !err;
		if (err)
			pr_warn("cannot attach to %s (%d): its statistics are not measured\n",
				k->symbol, err);
	}
}

static void kis_kprobes_detach(void)
{
	struct kis_kretprobe *r;
	struct kis_kprobe *k;

	for (r = kis_kretprobes;
	     r < kis_kretprobes + ARRAY_SIZE(kis_kretprobes); r++) {
		if (r->attached)
			unregister_kretprobe(&r->krp);
		r->attached = false;
	}
	for (k = kis_kprobes; k < kis_kprobes + ARRAY_SIZE(kis_kprobes); k++) {
		if (k->attached)
			unregister_kprobe(&k->kp);
		k->attached = false;
	}
}

struct kis_tracepoint {
	const char *name;
	void *probe;
	struct tracepoint *tp;
};

/*
 * sys_enter first: it is only attached while a cell is loaded, because
 * attaching it sends every task of the system through the slow system-call
 * entry path. The others cost nothing until a process forks, execs or exits.
 */
static struct kis_tracepoint kis_tracepoints[] = {
	{ .name = "sys_enter", .probe = kis_probe_sys_enter },
	{ .name = "sys_exit", .probe = NULL },	/* watched, not attached */
	{ .name = "sched_process_fork", .probe = kis_probe_fork },
	{ .name = "sched_process_exec", .probe = kis_probe_exec },
	{ .name = "sched_process_exit", .probe = kis_probe_exit },
};

/* kis_tracepoints[] from here on are attached while the module is loaded. */
#define KIS_TP_ALWAYS	2

/* Is KIS's sys_enter probe the only user of the syscall tracepoints? */
static bool kis_sole_syscall_tracer(void)
{
	const struct tracepoint_func *enter, *exit;
	bool sole;

	rcu_read_lock_sched();
	enter = rcu_dereference_sched(kis_tracepoints[0].tp->funcs);
	exit = rcu_dereference_sched(kis_tracepoints[1].tp->funcs);
	sole = enter && enter[0].func == kis_probe_sys_enter &&
	       !enter[1].func && !exit;
	rcu_read_unlock_sched();
	return sole;
}

/*
 * Checks every second that nobody else (perf, ftrace) started tracing
 * system calls; if somebody did, every task gets the work flag back.
 */
static void kis_precise_check(struct work_struct *work);
static DECLARE_DELAYED_WORK(kis_precise_work, kis_precise_check);

static void kis_precise_check(struct work_struct *work)
{
	if (!kis_sole_syscall_tracer()) {
		if (kis_precise_leave())
			pr_info("another system-call tracer is active: every task takes the traced system-call path again\n");
		return;
	}
	schedule_delayed_work(&kis_precise_work, HZ);
}

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
	for (i = KIS_TP_ALWAYS; i < ARRAY_SIZE(kis_tracepoints); i++) {
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
	while (--i >= KIS_TP_ALWAYS)
		tracepoint_probe_unregister(kis_tracepoints[i].tp,
					    kis_tracepoints[i].probe, NULL);
	tracepoint_synchronize_unregister();
	free_percpu(kis_scratch);
	return err;
}

/**
 * kis_watch_start() - start watching: called when the first cell loads
 *
 * Attaches the sys_enter probe and turns the probes' static key on.
 * Caller holds kis_config_mutex.
 *
 * Return: 0 or the error of tracepoint_probe_register().
 */
int kis_watch_start(void)
{
	int err;

	lockdep_assert_held(&kis_config_mutex);
	if (!kis_syscalls_watched) {
		err = tracepoint_probe_register(kis_tracepoints[0].tp,
						kis_tracepoints[0].probe, NULL);
		if (err)
			return err;
		kis_syscalls_watched = true;
		kis_kprobes_attach();
		if (kis_sole_syscall_tracer()) {
			kis_precise_enter();
			schedule_delayed_work(&kis_precise_work, HZ);
		}
	}
	static_branch_enable(&kis_watching);
	return 0;
}

/*
 * Detaches the sys_enter probe, after giving every task its work flag back
 * so that the tracepoint's own bookkeeping finds them as it left them.
 * Returns whether it was attached; the caller waits for running probes.
 */
static bool kis_sys_enter_detach(void)
{
	if (!kis_syscalls_watched)
		return false;
	cancel_delayed_work_sync(&kis_precise_work);
	kis_kprobes_detach();
	kis_precise_leave();
	tracepoint_probe_unregister(kis_tracepoints[0].tp,
				    kis_tracepoints[0].probe, NULL);
	kis_syscalls_watched = false;
	return true;
}

/**
 * kis_watch_stop() - stop watching: called when the last cell is gone
 *
 * Caller holds kis_config_mutex. Waits until no probe runs the old way.
 */
void kis_watch_stop(void)
{
	lockdep_assert_held(&kis_config_mutex);
	static_branch_disable(&kis_watching);
	if (kis_sys_enter_detach())
		tracepoint_synchronize_unregister();
}

/**
 * kis_hooks_exit() - detach the probes and wait until none runs
 */
void kis_hooks_exit(void)
{
	int i;

	kis_sys_enter_detach();
	for (i = ARRAY_SIZE(kis_tracepoints) - 1; i >= KIS_TP_ALWAYS; i--)
		tracepoint_probe_unregister(kis_tracepoints[i].tp,
					    kis_tracepoints[i].probe, NULL);
	tracepoint_synchronize_unregister();
	free_percpu(kis_scratch);
}
