// SPDX-License-Identifier: GPL-2.0
/*
 * Events to userspace: alerts, danger signals and suspected training on
 * the "events" multicast group (one sequence of numbers for all three), and
 * trace records on the "trace" group.
 *
 * Probes cannot allocate or sleep, so they append fixed-size records to
 * preallocated rings and queue a work item; the work item builds the
 * netlink messages in process context. A full ring drops the record and
 * counts it: alerts carry a sequence number (a dropped alert leaves a gap)
 * and the count of alerts lost so far; trace messages carry the number of
 * their first record and the count of records lost so far.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <net/genetlink.h>

#include "kis_internal.h"

#define KIS_ALERT_RING		256
#define KIS_TRACE_RING		16384	/* a power of two */
#define KIS_TRACE_BATCH		256

/* An event waiting in the ring: an alert, a danger signal or training. */
struct kis_alert_rec {
	u8 cmd;
	u8 param;
	u8 level;
	u8 cell_level;
	bool has_task;
	bool has_peer;
	u64 seq;
	u64 time_ns;
	u32 pid;
	u32 tgid;
	u32 score;
	u32 threshold;
	u16 ncalls;
	u16 calls[KIS_SEQ_K_MAX - 1];
	u64 value;
	u64 mean;
	u64 dev;
	u64 t1;
	u64 t2;
	u64 expect;
	u32 tolerance;
	struct kis_peer peer;
	char cell[KIS_CELL_NAME_MAX];
	char comm[TASK_COMM_LEN];
	char path[KIS_PATH_MAX];
};

static struct {
	spinlock_t lock;	/* protects the ring and the counters */
	struct kis_alert_rec ring[KIS_ALERT_RING];
	u64 head;
	u64 tail;
	u64 seq;
	u64 lost;
} kis_alerts = {
	.lock = __SPIN_LOCK_UNLOCKED(kis_alerts.lock),
};

static struct {
	spinlock_t lock;	/* protects the ring and the counters */
	struct kis_trace_record *ring;
	struct kis_trace_record *batch;
	u64 head;		/* number of the next record stored */
	u64 tail;		/* number of the next record sent */
	u64 lost;
} kis_trace = {
	.lock = __SPIN_LOCK_UNLOCKED(kis_trace.lock),
};

static void kis_events_work_fn(struct work_struct *work);
static DECLARE_WORK(kis_events_work, kis_events_work_fn);
/* Set at module exit before the family goes: nothing is sent after it. */
static bool kis_events_closed;

/*
 * A cleared slot of the event ring with its sequence number, or NULL when
 * the ring is full (the event is counted as lost). The caller fills it and
 * calls kis_event_commit().
 */
static struct kis_alert_rec *kis_event_reserve(u8 cmd, struct kis_cell *cell)
{
	struct kis_alert_rec *rec;

	spin_lock(&kis_alerts.lock);
	kis_alerts.seq++;
	if (kis_alerts.head - kis_alerts.tail == KIS_ALERT_RING) {
		kis_alerts.lost++;
		spin_unlock(&kis_alerts.lock);
		return NULL;
	}
	rec = &kis_alerts.ring[kis_alerts.head++ % KIS_ALERT_RING];
	memset(rec, 0, offsetof(struct kis_alert_rec, path) + 1);
	rec->cmd = cmd;
	rec->seq = kis_alerts.seq;
	rec->time_ns = ktime_get_real_ns();
	strscpy(rec->cell, cell->name, sizeof(rec->cell));
	return rec;
}

static void kis_event_commit(void)
{
	spin_unlock(&kis_alerts.lock);
	queue_work(system_wq, &kis_events_work);
}

/**
 * kis_event_alert() - queue an alert for userspace
 * @cell: the task's cell
 * @t: the task, current
 * @score: its smoothed anomaly
 * @threshold: the cell's threshold
 *
 * The alert carries @t's last k-1 calls, ending with the one that crossed
 * the threshold.
 * Called from the sys_enter probe.
 */
void kis_event_alert(struct kis_cell *cell, struct kis_task *t, u32 score,
		     u32 threshold)
{
	struct kis_alert_rec *rec = kis_event_reserve(KIS_CMD_ALERT, cell);

	if (!rec)
		return;
	rec->has_task = true;
	rec->pid = t->pid;
	rec->tgid = t->tgid;
	rec->score = score;
	rec->threshold = threshold;
	rec->ncalls = kis_seq_recent_get(&t->mon, rec->calls);
	strscpy(rec->comm, current->comm, sizeof(rec->comm));
	kis_event_commit();
}

/**
 * kis_event_danger() - queue a danger signal event for userspace
 * @cell: the cell
 * @d: what changed: the parameter, its new level, the sample and its
 *	statistics, and the task, connection or file when known
 *
 * Called with preemption disabled or from the sampler.
 */
void kis_event_danger(struct kis_cell *cell, const struct kis_danger_info *d)
{
	const struct kis_stat *s = &d->ps->armed;
	struct kis_alert_rec *rec = kis_event_reserve(KIS_CMD_DANGER, cell);

	if (!rec)
		return;
	rec->param = d->param;
	rec->level = d->level;
	rec->cell_level = d->cell_level;
	rec->value = d->value;
	rec->mean = kis_stat_mean(s);
	rec->dev = kis_stat_dev(s);
	rec->t1 = d->ps->t1;
	rec->t2 = d->ps->t2;
	if (d->task) {
		rec->has_task = true;
		rec->pid = d->task->pid;
		rec->tgid = d->task->tgid;
		/* Hooks that pass a task run in it. */
		strscpy(rec->comm, current->comm, sizeof(rec->comm));
	}
	if (d->peer) {
		rec->has_peer = true;
		rec->peer = *d->peer;
	}
	if (d->path)
		strscpy(rec->path, d->path, sizeof(rec->path));
	kis_event_commit();
}

/**
 * kis_event_training() - queue a suspected-training event for userspace
 * @cell: the cell, learning with expected values
 * @param: the parameter whose sample was refused
 * @value: the sample
 * @path: for a file outside the expected tree, its path; else NULL
 */
void kis_event_training(struct kis_cell *cell, u32 param, u64 value,
			const char *path)
{
	const struct kis_stat_expect *e = &cell->apc.p[param].expect;
	struct kis_alert_rec *rec = kis_event_reserve(KIS_CMD_TRAINING, cell);

	if (!rec)
		return;
	rec->param = param;
	rec->value = value;
	rec->expect = e->value;
	rec->tolerance = e->tolerance;
	if (path)
		strscpy(rec->path, path, sizeof(rec->path));
	kis_event_commit();
}

/**
 * kis_trace_record() - queue one system call of a traced task
 * @cell: the task's cell
 * @t: the task, current
 * @id: the system call number
 *
 * Called from the sys_enter probe.
 */
void kis_trace_record(struct kis_cell *cell, struct kis_task *t, long id)
{
	struct kis_trace_record *r;

	spin_lock(&kis_trace.lock);
	if (kis_trace.head - kis_trace.tail == KIS_TRACE_RING) {
		kis_trace.lost++;
		spin_unlock(&kis_trace.lock);
		atomic64_inc(&cell->trace_lost);
		return;
	}
	r = &kis_trace.ring[kis_trace.head++ & (KIS_TRACE_RING - 1)];
	r->cell_id = cell->id;
	r->pid = t->pid;
	r->tgid = t->tgid;
	r->syscall = id;
	r->flags = t->exec_mark ? KIS_TRACE_EXEC : 0;
	t->exec_mark = false;
	spin_unlock(&kis_trace.lock);
	if (!work_pending(&kis_events_work))
		queue_work(system_wq, &kis_events_work);
}

static int kis_event_put_alert(struct sk_buff *skb,
			       const struct kis_alert_rec *rec)
{
	if (nla_put_u32(skb, KIS_EVENT_ATTR_SCORE, rec->score) ||
	    nla_put_u32(skb, KIS_EVENT_ATTR_THRESHOLD, rec->threshold) ||
	    nla_put(skb, KIS_EVENT_ATTR_CALLS, rec->ncalls * sizeof(u16),
		    rec->calls))
		return -EMSGSIZE;
	return 0;
}

static int kis_event_put_danger(struct sk_buff *skb,
				const struct kis_alert_rec *rec)
{
	if (nla_put_u8(skb, KIS_EVENT_ATTR_PARAM, rec->param) ||
	    nla_put_u8(skb, KIS_EVENT_ATTR_LEVEL, rec->level) ||
	    nla_put_u8(skb, KIS_EVENT_ATTR_CELL_LEVEL, rec->cell_level) ||
	    nla_put_u64_64bit(skb, KIS_EVENT_ATTR_VALUE, rec->value,
			      KIS_EVENT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_EVENT_ATTR_MEAN, rec->mean,
			      KIS_EVENT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_EVENT_ATTR_DEV, rec->dev,
			      KIS_EVENT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_EVENT_ATTR_T1, rec->t1,
			      KIS_EVENT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_EVENT_ATTR_T2, rec->t2,
			      KIS_EVENT_ATTR_PAD))
		return -EMSGSIZE;
	return 0;
}

static int kis_event_put_training(struct sk_buff *skb,
				  const struct kis_alert_rec *rec)
{
	if (nla_put_u8(skb, KIS_EVENT_ATTR_PARAM, rec->param) ||
	    nla_put_u64_64bit(skb, KIS_EVENT_ATTR_VALUE, rec->value,
			      KIS_EVENT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_EVENT_ATTR_EXPECT, rec->expect,
			      KIS_EVENT_ATTR_PAD) ||
	    nla_put_u16(skb, KIS_EVENT_ATTR_TOLERANCE, rec->tolerance))
		return -EMSGSIZE;
	return 0;
}

static int kis_alert_put(struct sk_buff *skb, const struct kis_alert_rec *rec,
			 u64 lost)
{
	struct nlattr *nest = nla_nest_start(skb, KIS_ATTR_EVENT);
	int err;

	if (!nest ||
	    nla_put_u64_64bit(skb, KIS_EVENT_ATTR_SEQ, rec->seq,
			      KIS_EVENT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_EVENT_ATTR_LOST, lost,
			      KIS_EVENT_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, KIS_EVENT_ATTR_TIME_NS, rec->time_ns,
			      KIS_EVENT_ATTR_PAD) ||
	    nla_put_string(skb, KIS_EVENT_ATTR_CELL, rec->cell))
		return -EMSGSIZE;
	if (rec->has_task &&
	    (nla_put_u32(skb, KIS_EVENT_ATTR_PID, rec->pid) ||
	     nla_put_u32(skb, KIS_EVENT_ATTR_TGID, rec->tgid) ||
	     nla_put_string(skb, KIS_EVENT_ATTR_COMM, rec->comm)))
		return -EMSGSIZE;
	if ((rec->has_peer &&
	     nla_put(skb, KIS_EVENT_ATTR_PEER, sizeof(rec->peer), &rec->peer)) ||
	    (rec->path[0] &&
	     nla_put_string(skb, KIS_EVENT_ATTR_PATH, rec->path)))
		return -EMSGSIZE;
	switch (rec->cmd) {
	case KIS_CMD_ALERT:
		err = kis_event_put_alert(skb, rec);
		break;
	case KIS_CMD_DANGER:
		err = kis_event_put_danger(skb, rec);
		break;
	default:
		err = kis_event_put_training(skb, rec);
		break;
	}
	if (err)
		return err;
	nla_nest_end(skb, nest);
	return 0;
}

static void kis_alerts_send(void)
{
	struct kis_alert_rec rec;
	struct sk_buff *skb;
	void *hdr;
	u64 lost;

	for (;;) {
		spin_lock(&kis_alerts.lock);
		if (kis_alerts.head == kis_alerts.tail) {
			spin_unlock(&kis_alerts.lock);
			return;
		}
		rec = kis_alerts.ring[kis_alerts.tail++ % KIS_ALERT_RING];
		lost = kis_alerts.lost;
		spin_unlock(&kis_alerts.lock);
		if (READ_ONCE(kis_events_closed))
			continue;

		skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
		if (!skb)
			goto drop;
		hdr = kis_genl_put(skb, rec.cmd);
		if (!hdr || kis_alert_put(skb, &rec, lost)) {
			nlmsg_free(skb);
			goto drop;
		}
		genlmsg_end(skb, hdr);
		kis_genl_multicast(skb, KIS_MCGRP_EVENTS);
		continue;
drop:
		spin_lock(&kis_alerts.lock);
		kis_alerts.lost++;
		spin_unlock(&kis_alerts.lock);
	}
}

static void kis_trace_send(void)
{
	struct sk_buff *skb;
	u64 first, lost;
	u32 n, i;
	void *hdr;

	for (;;) {
		spin_lock(&kis_trace.lock);
		n = min_t(u64, kis_trace.head - kis_trace.tail, KIS_TRACE_BATCH);
		first = kis_trace.tail;
		for (i = 0; i < n; i++)
			kis_trace.batch[i] = kis_trace.ring[(first + i) &
							    (KIS_TRACE_RING - 1)];
		kis_trace.tail += n;
		lost = kis_trace.lost;
		spin_unlock(&kis_trace.lock);
		if (!n)
			return;
		if (READ_ONCE(kis_events_closed))
			continue;

		skb = genlmsg_new(nla_total_size(n * sizeof(*kis_trace.batch)) +
				  2 * nla_total_size_64bit(sizeof(u64)),
				  GFP_KERNEL);
		if (!skb)
			goto drop;
		hdr = kis_genl_put(skb, KIS_CMD_TRACE);
		if (!hdr ||
		    nla_put_u64_64bit(skb, KIS_ATTR_TRACE_SEQ, first,
				      KIS_ATTR_PAD) ||
		    nla_put_u64_64bit(skb, KIS_ATTR_TRACE_LOST, lost,
				      KIS_ATTR_PAD) ||
		    nla_put(skb, KIS_ATTR_TRACE_RECORDS,
			    n * sizeof(*kis_trace.batch), kis_trace.batch)) {
			nlmsg_free(skb);
			goto drop;
		}
		genlmsg_end(skb, hdr);
		kis_genl_multicast(skb, KIS_MCGRP_TRACE);
		continue;
drop:
		spin_lock(&kis_trace.lock);
		kis_trace.lost += n;
		spin_unlock(&kis_trace.lock);
	}
}

static void kis_events_work_fn(struct work_struct *work)
{
	kis_alerts_send();
	kis_trace_send();
}

/**
 * kis_trace_flush() - send every queued trace record and alert now
 */
void kis_trace_flush(void)
{
	flush_work(&kis_events_work);
}

/**
 * kis_events_lost() - alerts lost so far
 *
 * Return: the number of alerts dropped because the ring was full.
 */
u64 kis_events_lost(void)
{
	u64 lost;

	spin_lock(&kis_alerts.lock);
	lost = kis_alerts.lost;
	spin_unlock(&kis_alerts.lock);
	return lost;
}

/**
 * kis_events_init() - allocate the trace ring
 *
 * Return: 0 or -ENOMEM.
 */
int kis_events_init(void)
{
	kis_trace.ring = vmalloc_array(KIS_TRACE_RING,
				       sizeof(*kis_trace.ring));
	kis_trace.batch = kmalloc_array(KIS_TRACE_BATCH,
					sizeof(*kis_trace.batch), GFP_KERNEL);
	if (!kis_trace.ring || !kis_trace.batch) {
		vfree(kis_trace.ring);
		kfree(kis_trace.batch);
		return -ENOMEM;
	}
	return 0;
}

/**
 * kis_events_close() - send nothing more
 *
 * Called at module exit before the family is unregistered; waits for a
 * send in progress.
 */
void kis_events_close(void)
{
	WRITE_ONCE(kis_events_closed, true);
	flush_work(&kis_events_work);
}

/**
 * kis_events_exit() - drop pending events and free the rings
 *
 * Called once no probe runs any more and before the family goes away.
 */
void kis_events_exit(void)
{
	cancel_work_sync(&kis_events_work);
	vfree(kis_trace.ring);
	kfree(kis_trace.batch);
}
