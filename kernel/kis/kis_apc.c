// SPDX-License-Identifier: GPL-2.0
/*
 * The APC's statistics: how much a cell does. A sampler (a delayed work
 * item per cell) measures each parameter of enum kis_param once an
 * interval; while the cell learns, samples feed the running mean and
 * deviation of the portable core (core/kis_stat.c); once armed, a sample
 * beyond a parameter's first threshold raises danger signal 1, beyond the
 * second danger signal 2, and signals decay after quiet intervals.
 *
 * Hooks feed it between samples without sleeping: files opened (and
 * whether they are inside the learned file tree), tasks created, TCP
 * connections accepted or opened, and sequence-model anomalies. Those that
 * can tell at once that a threshold is crossed (a file outside the tree, a
 * flood of connections, an anomalous call sequence) raise the signal at
 * once; the sampler does the rest. Documentation/statistics.md describes
 * the parameters and the rules.
 *
 * Locking: apc->lock (a spinlock, taken in process context only: the
 * sys_enter probe, kprobes at function entry, the sampler, netlink) protects
 * the statistics, the file trees and the connection table. kis_lock nests
 * outside it nowhere: the sampler takes them one after the other.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <net/genetlink.h>
#include <net/inet_sock.h>
#include <net/sock.h>

#include "kis_internal.h"
#include "kis_match.h"

#define KIS_APC_CONNS			256
/* File training events per interval; more are counted only. */
#define KIS_APC_TRAINING_FILES		8

static struct kis_ftree *kis_ftree_alloc(u32 cap)
{
	size_t bytes = kis_ftree_bytes(cap);
	struct kis_ftree *t;

	if (!bytes)
		return NULL;
	t = kvmalloc(sizeof(*t) + bytes, GFP_KERNEL);
	if (!t)
		return NULL;
	if (kis_ftree_init(t, t + 1, bytes, cap)) {
		kvfree(t);
		return NULL;
	}
	return t;
}

static void kis_apc_sample_fn(struct work_struct *work);

/**
 * kis_apc_init() - set up a new cell's APC with the default settings
 * @cell: the cell, not yet published
 * @slots: size of the cell's task pool
 *
 * Return: 0 or -ENOMEM.
 */
int kis_apc_init(struct kis_cell *cell, u32 slots)
{
	struct kis_apc *apc = &cell->apc;
	u32 i;

	spin_lock_init(&apc->lock);
	INIT_DELAYED_WORK(&apc->work, kis_apc_sample_fn);
	INIT_LIST_HEAD(&apc->conns);
	INIT_LIST_HEAD(&apc->conn_free);
	apc->interval_ms = KIS_STAT_INTERVAL_MS_DEFAULT;
	apc->hold1 = KIS_DANGER_HOLD1_DEFAULT;
	apc->hold2 = KIS_DANGER_HOLD2_DEFAULT;
	apc->tree_cap = KIS_FILE_TREE_DEFAULT;
	for (i = 0; i < KIS_PARAM_COUNT; i++) {
		apc->p[i].limits = kis_stat_param(i)->limits;
		apc->p[i].t1 = KIS_STAT_NEVER;
		apc->p[i].t2 = KIS_STAT_NEVER;
	}
	atomic64_set(&apc->files, 0);
	atomic64_set(&apc->files_outside, 0);
	atomic64_set(&apc->forks, 0);
	atomic64_set(&apc->conns_new, 0);
	atomic64_set(&apc->udp_rx_bytes, 0);
	atomic64_set(&apc->udp_tx_bytes, 0);
	atomic64_set(&apc->udp_rx_msgs, 0);
	atomic64_set(&apc->udp_tx_msgs, 0);
	apc->conn_pool = kvcalloc(KIS_APC_CONNS, sizeof(*apc->conn_pool),
				  GFP_KERNEL);
	apc->tasks = kvcalloc(slots, sizeof(*apc->tasks), GFP_KERNEL);
	if (!apc->conn_pool || !apc->tasks) {
		kvfree(apc->conn_pool);
		kvfree(apc->tasks);
		apc->conn_pool = NULL;
		apc->tasks = NULL;
		return -ENOMEM;
	}
	apc->ntasks_cap = slots;
	for (i = 0; i < KIS_APC_CONNS; i++)
		list_add_tail(&apc->conn_pool[i].node, &apc->conn_free);
	return 0;
}

/**
 * kis_apc_free() - stop the sampler and free the APC of a cell
 * @cell: a cell no hook can see any more
 */
void kis_apc_free(struct kis_cell *cell)
{
	struct kis_apc *apc = &cell->apc;
	struct kis_conn *c;

	if (!apc->conn_pool)
		return;
	cancel_delayed_work_sync(&apc->work);
	list_for_each_entry(c, &apc->conns, node)
		sock_put(c->sk);
	kvfree(apc->conn_pool);
	kvfree(apc->tasks);
	kvfree(apc->learn_tree);
	kvfree(apc->armed_tree);
	kfree(apc->globs);
}

/**
 * kis_apc_start() - start sampling a published cell
 * @cell: the cell
 */
void kis_apc_start(struct kis_cell *cell)
{
	schedule_delayed_work(&cell->apc.work,
			      msecs_to_jiffies(cell->apc.interval_ms));
}

/* The cell's level is its highest parameter's. Caller holds apc->lock. */
static u8 kis_apc_cell_level(const struct kis_apc *apc)
{
	u8 level = KIS_DANGER_NONE;
	int i;

	for (i = 0; i < KIS_PARAM_COUNT; i++)
		level = max(level, apc->p[i].danger.level);
	return level;
}

/* A level changed: tell userspace. Caller holds apc->lock. */
static void kis_apc_signal(struct kis_cell *cell, u32 id, u32 level, u64 value,
			   const struct kis_task *t, const struct kis_peer *peer,
			   const char *path)
{
	struct kis_apc *apc = &cell->apc;
	struct kis_danger_info d = {
		.param = id,
		.level = level,
		.value = value,
		.ps = &apc->p[id],
		.task = t,
		.peer = peer,
		.path = path,
	};

	apc->level = kis_apc_cell_level(apc);
	d.cell_level = apc->level;
	apc->danger_events++;
	kis_event_danger(cell, &d);
}

/*
 * A value seen between samples: raises @d at once if it crosses a higher
 * threshold; decay is the sampler's. @d is the parameter's own state, or a
 * connection's: then the parameter rises with it, and only the parameter's
 * rise is an event (a flood of connections makes one event, not one each).
 * Caller holds apc->lock.
 */
static void kis_apc_rise(struct kis_cell *cell, u32 id,
			 struct kis_danger_state *d, u64 value,
			 const struct kis_task *t, const struct kis_peer *peer,
			 const char *path)
{
	struct kis_param_state *ps = &cell->apc.p[id];
	u32 level;

	if (!ps->is_armed)
		return;
	level = kis_stat_level(value, ps->t1, ps->t2);
	if (d != &ps->danger && level >= d->level) {
		d->level = level;
		d->quiet = 0;
	}
	if (level < ps->danger.level)
		return;
	/* A value at the current level holds the signal up. */
	ps->danger.quiet = 0;
	if (level == ps->danger.level)
		return;
	ps->danger.level = level;
	ps->danger.quiet = 0;
	kis_apc_signal(cell, id, level, value, t, peer, path);
}

/* One interval's level of a parameter: rise or decay. Holds apc->lock. */
static void kis_apc_step(struct kis_cell *cell, u32 id, u32 level, u64 value)
{
	struct kis_apc *apc = &cell->apc;
	struct kis_param_state *ps = &apc->p[id];

	if (kis_danger_step(&ps->danger, level, READ_ONCE(apc->hold1),
			    READ_ONCE(apc->hold2)))
		kis_apc_signal(cell, id, ps->danger.level, value, NULL, NULL,
			       NULL);
}

/* A learning sample, unless it is far from what the config expects. */
static void kis_apc_learn(struct kis_cell *cell, u32 id, u64 value)
{
	struct kis_param_state *ps = &cell->apc.p[id];

	if (!kis_stat_expected(&ps->expect, value)) {
		cell->apc.training++;
		kis_event_training(cell, id, value, NULL);
		return;
	}
	kis_stat_learn(&ps->learn, value);
}

static bool kis_apc_glob_match(const struct kis_apc *apc, const char *path)
{
	u32 i;

	for (i = 0; i < apc->nglobs; i++)
		if (kis_glob_match(apc->globs[i], path))
			return true;
	return false;
}

/**
 * kis_apc_file_open() - a task of the cell opened a file
 * @cell: the cell
 * @t: the task, current
 * @path: absolute path, NUL-terminated
 * @len: its length
 *
 * Learns the file, or judges it against the learned tree. Called from the
 * file-open hook with preemption disabled.
 */
void kis_apc_file_open(struct kis_cell *cell, struct kis_task *t,
		       const char *path, size_t len)
{
	struct kis_apc *apc = &cell->apc;
	u64 outside;

	atomic64_inc(&apc->files);
	spin_lock(&apc->lock);
	if (apc->learning && apc->learn_tree) {
		if (apc->nglobs && !kis_apc_glob_match(apc, path)) {
			apc->training++;
			if (apc->training_files++ < KIS_APC_TRAINING_FILES)
				kis_event_training(cell, KIS_PARAM_FILES_OUTSIDE,
						   1, path);
		} else {
			kis_ftree_learn(apc->learn_tree, path, len);
		}
	}
	if (apc->armed_tree &&
	    !kis_ftree_contains(apc->armed_tree, path, len) &&
	    !(apc->nglobs && kis_apc_glob_match(apc, path))) {
		outside = atomic64_inc_return(&apc->files_outside);
		kis_apc_rise(cell, KIS_PARAM_FILES_OUTSIDE,
			     &apc->p[KIS_PARAM_FILES_OUTSIDE].danger, outside,
			     t, NULL, path);
	}
	spin_unlock(&apc->lock);
}

/**
 * kis_apc_fork() - a task of the cell created a task
 * @cell: the cell
 */
void kis_apc_fork(struct kis_cell *cell)
{
	atomic64_inc(&cell->apc.forks);
}

/**
 * kis_apc_udp() - a task of the cell sent or received a UDP datagram
 * @cell: the cell
 * @rx: received rather than sent
 * @bytes: its payload
 *
 * Called from the UDP probes with preemption disabled.
 */
void kis_apc_udp(struct kis_cell *cell, bool rx, u64 bytes)
{
	struct kis_apc *apc = &cell->apc;

	atomic64_add(bytes, rx ? &apc->udp_rx_bytes : &apc->udp_tx_bytes);
	atomic64_inc(rx ? &apc->udp_rx_msgs : &apc->udp_tx_msgs);
}

/**
 * kis_apc_task_leave() - a task leaves: count its last CPU time
 * @cell: its cell
 * @t: the task
 *
 * Caller holds kis_lock.
 */
void kis_apc_task_leave(struct kis_cell *cell, struct kis_task *t)
{
	u64 now = READ_ONCE(t->task->se.sum_exec_runtime);

	lockdep_assert_held(&kis_lock);
	if (now > t->cpu_seen)
		cell->apc.cpu_exited += now - t->cpu_seen;
}

static void kis_conn_peer(struct kis_conn *c)
{
	const struct sock *sk = c->sk;
	const struct inet_sock *inet = inet_sk(sk);

	c->peer.family = sk->sk_family;
	c->peer.peer_port = ntohs(inet->inet_dport);
	c->peer.local_port = inet->inet_num;
	memset(c->peer.peer_addr, 0, sizeof(c->peer.peer_addr));
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		memcpy(c->peer.peer_addr, &sk->sk_v6_daddr, 16);
		return;
	}
#endif
	memcpy(c->peer.peer_addr, &inet->inet_daddr, 4);
}

/**
 * kis_apc_conn_new() - a task of the cell accepted or opens a connection
 * @cell: the cell
 * @t: the task, current
 * @sk: the socket; only TCP over IPv4 and IPv6 is tracked
 *
 * Called from the socket hooks with preemption disabled: the slot comes
 * from the cell's preallocated table.
 */
void kis_apc_conn_new(struct kis_cell *cell, struct kis_task *t,
		      struct sock *sk)
{
	struct kis_apc *apc = &cell->apc;
	struct kis_conn *c;
	u64 n;

	if (sk->sk_protocol != IPPROTO_TCP || sk->sk_type != SOCK_STREAM ||
	    (sk->sk_family != AF_INET && sk->sk_family != AF_INET6))
		return;
	spin_lock(&apc->lock);
	list_for_each_entry(c, &apc->conns, node)
		if (c->sk == sk)
			goto out;	/* connect() again after EINPROGRESS */
	n = atomic64_inc_return(&apc->conns_new);
	c = list_first_entry_or_null(&apc->conn_free, struct kis_conn, node);
	if (!c) {
		apc->conns_untracked++;
	} else {
		c->rx_seen = 0;
		c->tx_seen = 0;
		c->rx_segs_seen = 0;
		c->tx_segs_seen = 0;
		memset(c->danger, 0, sizeof(c->danger));
		sock_hold(sk);
		c->sk = sk;
		c->pid = t->pid;
		c->tgid = t->tgid;
		kis_conn_peer(c);
		list_move_tail(&c->node, &apc->conns);
		apc->nconns++;
	}
	kis_apc_rise(cell, KIS_PARAM_CONNECTIONS,
		     &apc->p[KIS_PARAM_CONNECTIONS].danger, n, t,
		     c ? &c->peer : NULL, NULL);
out:
	spin_unlock(&apc->lock);
}

/**
 * kis_apc_seq() - a task's smoothed anomaly is above the cell's threshold
 * @cell: the cell, armed with a sequence profile
 * @t: the task, current
 * @score: its smoothed anomaly
 *
 * Called from the sys_enter probe on each call of an excursion.
 */
void kis_apc_seq(struct kis_cell *cell, struct kis_task *t, u32 score)
{
	struct kis_apc *apc = &cell->apc;
	struct kis_param_state *ps = &apc->p[KIS_PARAM_SEQ];

	spin_lock(&apc->lock);
	apc->seq_peak = max(apc->seq_peak, score);
	ps->t1 = READ_ONCE(cell->threshold);
	ps->t2 = READ_ONCE(cell->threshold2);
	ps->is_armed = true;
	kis_apc_rise(cell, KIS_PARAM_SEQ, &ps->danger, score, t, NULL, NULL);
	spin_unlock(&apc->lock);
}

/* Per-connection samples of one connection, in KIS_PARAM_CONN_* order. */
static void kis_conn_values(u64 rx, u64 tx, u64 v[KIS_CONN_PARAMS])
{
	v[0] = rx;
	v[1] = tx;
	v[2] = div64_u64(min_t(u64, tx, KIS_STAT_SAMPLE_MAX) * 100,
			 max_t(u64, rx, 1));
}

/*
 * Accounts the cell's connections into @v and judges or learns each one.
 * Closed connections move to @done for sock_put() outside the lock.
 * Caller holds apc->lock.
 */
static void kis_apc_sample_conns(struct kis_cell *cell, u64 *v,
				 struct list_head *done)
{
	u32 peak[KIS_CONN_PARAMS] = {};
	u64 top[KIS_CONN_PARAMS] = {};
	struct kis_apc *apc = &cell->apc;
	struct kis_conn *c, *next;
	u64 cv[KIS_CONN_PARAMS];
	u32 i, id;

	list_for_each_entry_safe(c, next, &apc->conns, node) {
		const struct tcp_sock *tp = tcp_sk(c->sk);
		u64 rx = READ_ONCE(tp->bytes_received);
		u64 tx = READ_ONCE(tp->bytes_sent);
		u32 rxs = READ_ONCE(tp->data_segs_in);
		u32 txs = READ_ONCE(tp->data_segs_out);
		bool closed = sock_flag(c->sk, SOCK_DEAD) ||
			      READ_ONCE(c->sk->sk_state) == TCP_CLOSE;

		/* tcp_disconnect() starts the counters again. */
		if (rx < c->rx_seen || tx < c->tx_seen) {
			c->rx_seen = 0;
			c->tx_seen = 0;
			c->rx_segs_seen = 0;
			c->tx_segs_seen = 0;
		}
		v[KIS_PARAM_RX_BYTES] += rx - c->rx_seen;
		v[KIS_PARAM_TX_BYTES] += tx - c->tx_seen;
		v[KIS_PARAM_RX_MSGS] += (u32)(rxs - c->rx_segs_seen);
		v[KIS_PARAM_TX_MSGS] += (u32)(txs - c->tx_segs_seen);
		c->rx_seen = rx;
		c->tx_seen = tx;
		c->rx_segs_seen = rxs;
		c->tx_segs_seen = txs;
		/* A closed socket has lost its ports: keep what was seen. */
		if (!closed)
			kis_conn_peer(c);

		kis_conn_values(rx, tx, cv);
		for (i = 0; i < KIS_CONN_PARAMS; i++) {
			id = KIS_PARAM_CONN_RX_BYTES + i;
			/* A connection that carried nothing is no sample. */
			if (closed && apc->learning && (rx || tx))
				kis_apc_learn(cell, id, cv[i]);
			kis_apc_rise(cell, id, &c->danger[i], cv[i], NULL,
				     &c->peer, NULL);
			peak[i] = max_t(u32, peak[i], c->danger[i].level);
			top[i] = max(top[i], cv[i]);
		}
		if (closed) {
			list_move_tail(&c->node, done);
			apc->nconns--;
		}
	}
	for (i = 0; i < KIS_CONN_PARAMS; i++) {
		id = KIS_PARAM_CONN_RX_BYTES + i;
		apc->p[id].value = top[i];
		if (apc->p[id].is_armed)
			kis_apc_step(cell, id, peak[i], top[i]);
	}
}

/*
 * CPU time of the cell's tasks, and the memory of its largest process:
 * the sum would count the requests in flight of a forking server, which
 * the forks parameter already does, and vary far more. May sleep.
 */
static void kis_apc_sample_tasks(struct kis_cell *cell, u64 *v)
{
	struct kis_apc *apc = &cell->apc;
	struct mm_struct *mm;
	struct kis_task *t;
	u64 cpu = 0, now;
	u32 i, n = 0;

	spin_lock(&kis_lock);
	list_for_each_entry(t, &cell->members, cell_node) {
		now = READ_ONCE(t->task->se.sum_exec_runtime);
		if (now > t->cpu_seen)
			cpu += now - t->cpu_seen;
		t->cpu_seen = now;
		/* Memory is per process: measured through its leader. */
		if (t->pid == t->tgid && n < apc->ntasks_cap) {
			get_task_struct(t->task);
			apc->tasks[n++] = t->task;
		}
	}
	cpu += apc->cpu_exited;
	apc->cpu_exited = 0;
	spin_unlock(&kis_lock);

	v[KIS_PARAM_CPU] = div_u64(cpu, NSEC_PER_USEC);
	for (i = 0; i < n; i++) {
		mm = get_task_mm(apc->tasks[i]);
		if (mm) {
			v[KIS_PARAM_VM_PAGES] = max_t(u64, v[KIS_PARAM_VM_PAGES],
						      READ_ONCE(mm->total_vm));
			v[KIS_PARAM_RSS_PAGES] = max_t(u64, v[KIS_PARAM_RSS_PAGES],
						       get_mm_rss(mm));
			mmput(mm);
		}
		put_task_struct(apc->tasks[i]);
	}
}

static void kis_apc_sample_fn(struct work_struct *work)
{
	struct kis_apc *apc = container_of(to_delayed_work(work),
					   struct kis_apc, work);
	struct kis_cell *cell = container_of(apc, struct kis_cell, apc);
	struct kis_param_state *ps;
	struct kis_conn *c, *next;
	u64 v[KIS_PARAM_COUNT] = {};
	u64 syscalls, execs;
	LIST_HEAD(done);
	u32 id;

	kis_apc_sample_tasks(cell, v);
	syscalls = kis_cell_syscalls(cell);
	execs = atomic64_read(&cell->execs);
	v[KIS_PARAM_SYSCALLS] = syscalls - apc->last_syscalls;
	v[KIS_PARAM_EXECS] = execs - apc->last_execs;
	apc->last_syscalls = syscalls;
	apc->last_execs = execs;

	spin_lock(&apc->lock);
	v[KIS_PARAM_FILES] = atomic64_xchg(&apc->files, 0);
	v[KIS_PARAM_FILES_OUTSIDE] = atomic64_xchg(&apc->files_outside, 0);
	v[KIS_PARAM_FORKS] = atomic64_xchg(&apc->forks, 0);
	v[KIS_PARAM_CONNECTIONS] = atomic64_xchg(&apc->conns_new, 0);
	v[KIS_PARAM_RX_BYTES] = atomic64_xchg(&apc->udp_rx_bytes, 0);
	v[KIS_PARAM_TX_BYTES] = atomic64_xchg(&apc->udp_tx_bytes, 0);
	v[KIS_PARAM_RX_MSGS] = atomic64_xchg(&apc->udp_rx_msgs, 0);
	v[KIS_PARAM_TX_MSGS] = atomic64_xchg(&apc->udp_tx_msgs, 0);
	apc->training_files = 0;
	kis_apc_sample_conns(cell, v, &done);

	for (id = KIS_PARAM_CPU; id < KIS_PARAM_COUNT; id++) {
		ps = &apc->p[id];
		if (kis_stat_param(id)->per_conn)
			continue;
		ps->value = v[id];
		if (apc->learning)
			kis_apc_learn(cell, id, v[id]);
		if (ps->is_armed)
			kis_apc_step(cell, id,
				     kis_stat_level(v[id], ps->t1, ps->t2),
				     v[id]);
	}

	/* The sequence model's danger input, see kis_apc_seq(). */
	ps = &apc->p[KIS_PARAM_SEQ];
	ps->value = apc->seq_peak;
	apc->seq_peak = 0;
	ps->t1 = READ_ONCE(cell->threshold);
	ps->t2 = READ_ONCE(cell->threshold2);
	ps->is_armed = !!rcu_access_pointer(cell->armed);
	if (ps->is_armed || ps->danger.level)
		kis_apc_step(cell, KIS_PARAM_SEQ,
			     kis_stat_level(ps->value, ps->t1, ps->t2),
			     ps->value);
	apc->samples++;
	spin_unlock(&apc->lock);

	list_for_each_entry_safe(c, next, &done, node) {
		sock_put(c->sk);
		c->sk = NULL;
	}
	if (!list_empty(&done)) {
		spin_lock(&apc->lock);
		list_splice_tail(&done, &apc->conn_free);
		spin_unlock(&apc->lock);
	}
	schedule_delayed_work(&apc->work, msecs_to_jiffies(apc->interval_ms));
}

/**
 * kis_apc_learn_start() - start learning the cell's statistics afresh
 * @cell: the cell; caller holds kis_config_mutex
 *
 * Return: 0 or -ENOMEM.
 */
int kis_apc_learn_start(struct kis_cell *cell)
{
	struct kis_apc *apc = &cell->apc;
	struct kis_ftree *fresh, *old;
	u32 i;

	lockdep_assert_held(&kis_config_mutex);
	fresh = kis_ftree_alloc(apc->tree_cap);
	if (!fresh)
		return -ENOMEM;
	spin_lock(&apc->lock);
	old = apc->learn_tree;
	apc->learn_tree = fresh;
	for (i = 0; i < KIS_PARAM_COUNT; i++)
		memset(&apc->p[i].learn, 0, sizeof(apc->p[i].learn));
	apc->learning = true;
	spin_unlock(&apc->lock);
	kvfree(old);
	return 0;
}

/* Thresholds from the armed statistics. Caller holds apc->lock. */
static void kis_apc_arm_locked(struct kis_apc *apc)
{
	struct kis_param_state *ps;
	u32 id;

	for (id = KIS_PARAM_CPU; id < KIS_PARAM_COUNT; id++) {
		ps = &apc->p[id];
		kis_stat_thresholds(&ps->armed, &ps->limits, &ps->t1, &ps->t2);
		ps->is_armed = ps->armed.n > 0;
	}
	/* The file tree is judged once there is one. */
	if (!apc->armed_tree)
		apc->p[KIS_PARAM_FILES_OUTSIDE].is_armed = false;
}

/**
 * kis_apc_rearm() - thresholds again, after their limits changed
 * @cell: the cell; caller holds kis_config_mutex
 */
void kis_apc_rearm(struct kis_cell *cell)
{
	spin_lock(&cell->apc.lock);
	kis_apc_arm_locked(&cell->apc);
	spin_unlock(&cell->apc.lock);
}

/* Makes @stats and @tree what the cell is judged against; returns the old. */
static struct kis_ftree *kis_apc_arm(struct kis_cell *cell,
				     const struct kis_stat *stats,
				     struct kis_ftree *tree)
{
	struct kis_apc *apc = &cell->apc;
	struct kis_ftree *old;
	u32 id;

	spin_lock(&apc->lock);
	old = apc->armed_tree;
	apc->armed_tree = tree;
	for (id = KIS_PARAM_CPU; id < KIS_PARAM_COUNT; id++) {
		apc->p[id].armed = stats[id];
		apc->p[id].danger.level = KIS_DANGER_NONE;
		apc->p[id].danger.quiet = 0;
	}
	kis_apc_arm_locked(apc);
	apc->level = kis_apc_cell_level(apc);
	spin_unlock(&apc->lock);
	return old;
}

/**
 * kis_apc_learn_stop() - stop learning and judge the cell by what it learned
 * @cell: the cell; caller holds kis_config_mutex
 *
 * Return: 0, or -ENOMEM if the armed copy of the file tree cannot be made
 * (learning is stopped all the same; the statistics are not armed).
 */
int kis_apc_learn_stop(struct kis_cell *cell)
{
	struct kis_stat stats[KIS_PARAM_COUNT];
	struct kis_apc *apc = &cell->apc;
	struct kis_ftree *tree;
	u32 id;

	lockdep_assert_held(&kis_config_mutex);
	spin_lock(&apc->lock);
	apc->learning = false;
	spin_unlock(&apc->lock);
	if (!apc->learn_tree)
		return 0;
	tree = kis_ftree_alloc(apc->tree_cap);
	if (!tree)
		return -ENOMEM;
	/* Learning is over: only this function writes the learned state. */
	tree->n = apc->learn_tree->n;
	tree->dropped = apc->learn_tree->dropped;
	memcpy(tree->slots, apc->learn_tree->slots,
	       (size_t)(tree->mask + 1) * sizeof(*tree->slots));
	for (id = 0; id < KIS_PARAM_COUNT; id++)
		stats[id] = apc->p[id].learn;
	kvfree(kis_apc_arm(cell, stats, tree));
	return 0;
}

/**
 * kis_apc_blob() - the cell's statistics in the core's exchange format
 * @cell: the cell; caller holds kis_config_mutex
 * @armed: what the cell is judged against, rather than what it learned
 * @len: set to the size
 *
 * Return: a kvmalloc()ed blob, ERR_PTR(-EBUSY) while learning,
 * ERR_PTR(-ENODATA) if there is nothing, or ERR_PTR(-ENOMEM).
 */
u8 *kis_apc_blob(struct kis_cell *cell, bool armed, size_t *len)
{
	struct kis_stat stats[KIS_PARAM_COUNT];
	struct kis_apc *apc = &cell->apc;
	const struct kis_ftree *tree;
	size_t size;
	u8 *buf;
	u32 id;

	lockdep_assert_held(&kis_config_mutex);
	if (!armed && apc->learning)
		return ERR_PTR(-EBUSY);
	tree = armed ? apc->armed_tree : apc->learn_tree;
	if (!tree)
		return ERR_PTR(-ENODATA);
	/* Neither tree changes now: the armed one only under the mutex. */
	size = kis_stat_blob_size(tree);
	buf = kvmalloc(size, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	spin_lock(&apc->lock);
	for (id = 0; id < KIS_PARAM_COUNT; id++)
		stats[id] = armed ? apc->p[id].armed : apc->p[id].learn;
	spin_unlock(&apc->lock);
	*len = kis_stat_blob_write(stats, tree, buf, size);
	return buf;
}

/**
 * kis_apc_blob_load() - judge the cell by saved statistics
 * @cell: the cell; caller holds kis_config_mutex
 * @buf: the blob, untrusted
 * @len: its size
 *
 * Return: 0, -EINVAL if the blob is malformed, or -ENOMEM.
 */
int kis_apc_blob_load(struct kis_cell *cell, const u8 *buf, size_t len)
{
	struct kis_stat *stats;
	struct kis_ftree *tree;
	u32 nfiles;
	int err;

	lockdep_assert_held(&kis_config_mutex);
	err = kis_stat_blob_check(buf, len, &nfiles);
	if (err)
		return err;
	stats = kcalloc(KIS_PARAM_COUNT, sizeof(*stats), GFP_KERNEL);
	tree = kis_ftree_alloc(max3(cell->apc.tree_cap, nfiles, 1U));
	if (!stats || !tree) {
		err = -ENOMEM;
		goto out;
	}
	err = kis_stat_blob_read(stats, tree, buf, len);
	if (err)
		goto out;
	tree = kis_apc_arm(cell, stats, tree);
out:
	kvfree(tree);
	kfree(stats);
	return err;
}

/**
 * kis_apc_set_param() - settings of one parameter from a netlink nest
 * @cell: the cell
 * @id: the parameter
 * @tb: the nest's attributes, validated by the caller
 *
 * Caller holds kis_config_mutex or owns the unpublished cell; thresholds
 * are worked out again by kis_apc_rearm().
 */
void kis_apc_set_param(struct kis_cell *cell, u32 id, struct nlattr **tb)
{
	struct kis_param_state *ps = &cell->apc.p[id];

	spin_lock(&cell->apc.lock);
	if (tb[KIS_PARAM_ATTR_MULT1])
		ps->limits.mult1 = nla_get_u16(tb[KIS_PARAM_ATTR_MULT1]);
	if (tb[KIS_PARAM_ATTR_MULT2])
		ps->limits.mult2 = nla_get_u16(tb[KIS_PARAM_ATTR_MULT2]);
	if (tb[KIS_PARAM_ATTR_FLOOR])
		ps->limits.floor = nla_get_u64(tb[KIS_PARAM_ATTR_FLOOR]);
	if (tb[KIS_PARAM_ATTR_EXPECT]) {
		ps->expect.set = true;
		ps->expect.value = nla_get_u64(tb[KIS_PARAM_ATTR_EXPECT]);
		ps->expect.tolerance = tb[KIS_PARAM_ATTR_TOLERANCE] ?
			nla_get_u16(tb[KIS_PARAM_ATTR_TOLERANCE]) : 25;
	}
	spin_unlock(&cell->apc.lock);
}

static int kis_apc_put_param(struct sk_buff *skb, u32 id,
			     const struct kis_param_state *ps)
{
	struct nlattr *nest = nla_nest_start(skb, KIS_CELL_ATTR_PARAM);
	const struct kis_stat *s = ps->is_armed ? &ps->armed : &ps->learn;

	if (!nest ||
	    nla_put_u8(skb, KIS_PARAM_ATTR_ID, id) ||
	    nla_put_u16(skb, KIS_PARAM_ATTR_MULT1, ps->limits.mult1) ||
	    nla_put_u16(skb, KIS_PARAM_ATTR_MULT2, ps->limits.mult2) ||
	    nla_put_u64_64bit(skb, KIS_PARAM_ATTR_FLOOR, ps->limits.floor,
			      KIS_PARAM_ATTR_PAD) ||
	    (ps->expect.set &&
	     (nla_put_u64_64bit(skb, KIS_PARAM_ATTR_EXPECT, ps->expect.value,
				KIS_PARAM_ATTR_PAD) ||
	      nla_put_u16(skb, KIS_PARAM_ATTR_TOLERANCE,
			  ps->expect.tolerance))) ||
	    nla_put_u64_64bit(skb, KIS_PARAM_ATTR_SAMPLES, s->n,
			      KIS_PARAM_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_PARAM_ATTR_MEAN, kis_stat_mean(s),
			      KIS_PARAM_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_PARAM_ATTR_DEV, kis_stat_dev(s),
			      KIS_PARAM_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_PARAM_ATTR_VALUE, ps->value,
			      KIS_PARAM_ATTR_PAD) ||
	    nla_put_u8(skb, KIS_PARAM_ATTR_LEVEL, ps->danger.level) ||
	    nla_put_u8(skb, KIS_PARAM_ATTR_ARMED, ps->is_armed))
		return -EMSGSIZE;
	if (ps->is_armed &&
	    (nla_put_u64_64bit(skb, KIS_PARAM_ATTR_T1, ps->t1,
			       KIS_PARAM_ATTR_PAD) ||
	     nla_put_u64_64bit(skb, KIS_PARAM_ATTR_T2, ps->t2,
			       KIS_PARAM_ATTR_PAD)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/**
 * kis_apc_put() - the APC's settings and state, in a cell nest
 * @skb: the message
 * @cell: the cell
 *
 * Return: 0 or -EMSGSIZE.
 */
int kis_apc_put(struct sk_buff *skb, struct kis_cell *cell)
{
	struct kis_apc *apc = &cell->apc;
	struct nlattr *nest, *globs;
	int err = -EMSGSIZE;
	u32 i;

	spin_lock(&apc->lock);
	if (nla_put_u16(skb, KIS_CELL_ATTR_SEQ_THRESHOLD2,
			READ_ONCE(cell->threshold2)) ||
	    nla_put_u32(skb, KIS_CELL_ATTR_STAT_INTERVAL, apc->interval_ms) ||
	    nla_put_u16(skb, KIS_CELL_ATTR_DANGER_HOLD1, apc->hold1) ||
	    nla_put_u16(skb, KIS_CELL_ATTR_DANGER_HOLD2, apc->hold2) ||
	    nla_put_u32(skb, KIS_CELL_ATTR_FILE_TREE, apc->tree_cap) ||
	    nla_put_u8(skb, KIS_CELL_ATTR_DANGER, apc->level) ||
	    nla_put_u64_64bit(skb, KIS_CELL_ATTR_DANGER_EVENTS,
			      apc->danger_events, KIS_CELL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_CELL_ATTR_TRAINING, apc->training,
			      KIS_CELL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_CELL_ATTR_STAT_SAMPLES, apc->samples,
			      KIS_CELL_ATTR_PAD) ||
	    nla_put_u32(skb, KIS_CELL_ATTR_FILES_LEARNED,
			apc->learning && apc->learn_tree ? apc->learn_tree->n :
			apc->armed_tree ? apc->armed_tree->n : 0) ||
	    nla_put_u32(skb, KIS_CELL_ATTR_CONNECTIONS, apc->nconns))
		goto out;
	if (apc->nglobs) {
		globs = nla_nest_start(skb, KIS_CELL_ATTR_FILE_GLOBS);
		if (!globs)
			goto out;
		for (i = 0; i < apc->nglobs; i++)
			if (nla_put_string(skb, KIS_CELL_ATTR_FILE_GLOB,
					   apc->globs[i]))
				goto out;
		nla_nest_end(skb, globs);
	}
	nest = nla_nest_start(skb, KIS_CELL_ATTR_PARAMS);
	if (!nest)
		goto out;
	for (i = 0; i < KIS_PARAM_COUNT; i++)
		if (kis_apc_put_param(skb, i, &apc->p[i]))
			goto out;
	nla_nest_end(skb, nest);
	err = 0;
out:
	spin_unlock(&apc->lock);
	return err;
}
