// SPDX-License-Identifier: GPL-2.0
/*
 * The sequence model at work in a cell: learning a profile from the cell's
 * live system calls, arming the cell with a profile, and scoring each call
 * of each watched task. The model itself is the portable core's
 * (core/kis_seq.c), so offline learning and scoring give the same numbers.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "kis_internal.h"

#define KIS_PROFILE_HEAD	ALIGN(sizeof(struct kis_profile), 8)

/**
 * kis_profile_alloc() - allocate an empty model
 * @k: sequence length
 * @prefixes: room for distinct runs of k-1 calls
 * @kgrams: room for distinct k-grams
 *
 * Return: the profile or NULL (bad sizes or out of memory).
 */
struct kis_profile *kis_profile_alloc(u32 k, u32 prefixes, u32 kgrams)
{
	size_t bytes = kis_seq_model_bytes(k, prefixes, kgrams);
	struct kis_profile *prof;

	if (!bytes)
		return NULL;
	prof = kvmalloc(KIS_PROFILE_HEAD + bytes, GFP_KERNEL);
	if (!prof)
		return NULL;
	prof->gen = 0;
	if (kis_seq_model_init(&prof->m, (u8 *)prof + KIS_PROFILE_HEAD, bytes,
			       k, prefixes, kgrams)) {
		kvfree(prof);
		return NULL;
	}
	return prof;
}

/**
 * kis_profile_free() - free a profile no probe can see
 * @prof: the profile, or NULL
 */
void kis_profile_free(struct kis_profile *prof)
{
	kvfree(prof);
}

/**
 * kis_learn_start() - start learning the cell's profile from scratch
 * @cell: the cell; caller holds kis_config_mutex
 *
 * Return: 0 or -ENOMEM.
 */
int kis_learn_start(struct kis_cell *cell)
{
	struct kis_profile *fresh, *old;

	fresh = kis_profile_alloc(cell->seq_k, cell->learn_prefixes,
				  cell->learn_kgrams);
	if (!fresh)
		return -ENOMEM;
	spin_lock(&cell->learn_lock);
	old = cell->learner;
	cell->learner = fresh;
	cell->learn_gen++;
	cell->learned = 0;
	set_bit(KIS_FLAG_LEARNING, &cell->flags);
	spin_unlock(&cell->learn_lock);
	/* The probes only touch the learner under learn_lock. */
	kis_profile_free(old);
	return 0;
}

/**
 * kis_learn_stop() - stop learning; the learned model is kept
 * @cell: the cell; caller holds kis_config_mutex
 */
void kis_learn_stop(struct kis_cell *cell)
{
	spin_lock(&cell->learn_lock);
	clear_bit(KIS_FLAG_LEARNING, &cell->flags);
	spin_unlock(&cell->learn_lock);
}

/**
 * kis_cell_learn_start() - start learning sequences and statistics afresh
 * @cell: the cell; caller holds kis_config_mutex
 * @for_ms: stop by itself after this long; 0 to learn until told to stop
 *
 * Return: 0 or -ENOMEM.
 */
int kis_cell_learn_start(struct kis_cell *cell, u32 for_ms)
{
	int err;

	lockdep_assert_held(&kis_config_mutex);
	err = kis_learn_start(cell);
	if (err)
		return err;
	err = kis_apc_learn_start(cell);
	if (err) {
		kis_learn_stop(cell);
		return err;
	}
	cell->learn_timed = for_ms;
	if (for_ms) {
		cell->learn_end = jiffies + msecs_to_jiffies(for_ms);
		mod_delayed_work(system_wq, &cell->learn_timer,
				 msecs_to_jiffies(for_ms));
	}
	return 0;
}

/**
 * kis_cell_learn_stop() - stop learning; the statistics are armed
 * @cell: the cell; caller holds kis_config_mutex
 *
 * Return: 0, or -ENOMEM if the statistics could not be armed.
 */
int kis_cell_learn_stop(struct kis_cell *cell)
{
	lockdep_assert_held(&kis_config_mutex);
	cell->learn_timed = false;
	/* Not _sync: the timer takes the mutex we hold; it finds nothing to do. */
	cancel_delayed_work(&cell->learn_timer);
	kis_learn_stop(cell);
	return kis_apc_learn_stop(cell);
}

/**
 * kis_cell_learn_timer() - end of a learning run that has a duration
 * @work: the cell's learn_timer
 */
void kis_cell_learn_timer(struct work_struct *work)
{
	struct kis_cell *cell = container_of(to_delayed_work(work),
					     struct kis_cell, learn_timer);

	/* Unload cancels this work while holding the mutex: never wait on it. */
	if (!mutex_trylock(&kis_config_mutex)) {
		schedule_delayed_work(&cell->learn_timer, HZ / 10);
		return;
	}
	if (cell->learn_timed && test_bit(KIS_FLAG_LEARNING, &cell->flags) &&
	    time_after_eq(jiffies, cell->learn_end)) {
		if (kis_cell_learn_stop(cell))
			pr_warn("cell %s: learning stopped after its time, but out of memory arming the statistics\n",
				cell->name);
		else
			pr_info("cell %s: learning stopped after its time\n",
				cell->name);
	}
	mutex_unlock(&kis_config_mutex);
}

/**
 * kis_cell_learn_left_ms() - time left of a learning run with a duration
 * @cell: the cell
 *
 * Return: milliseconds, 0 if learning has no duration or is not running.
 */
u32 kis_cell_learn_left_ms(const struct kis_cell *cell)
{
	long left;

	if (!READ_ONCE(cell->learn_timed) ||
	    !test_bit(KIS_FLAG_LEARNING, &cell->flags))
		return 0;
	left = (long)(READ_ONCE(cell->learn_end) - jiffies);
	return left > 0 ? jiffies_to_msecs(left) : 0;
}

/**
 * kis_profile_arm() - monitor the cell's tasks with a profile
 * @cell: the cell; caller holds kis_config_mutex
 * @prof: the profile, finished, or NULL to disarm
 *
 * Every task restarts its monitor at its next call. Sleeps for a grace
 * period before freeing the previous profile.
 */
void kis_profile_arm(struct kis_cell *cell, struct kis_profile *prof)
{
	static u64 arm_gen;
	struct kis_profile *old;

	lockdep_assert_held(&kis_config_mutex);
	if (prof)
		prof->gen = ++arm_gen;
	old = rcu_replace_pointer(cell->armed, prof,
				  lockdep_is_held(&kis_config_mutex));
	if (old) {
		synchronize_rcu();
		kis_profile_free(old);
	}
}

static void kis_learn_call(struct kis_cell *cell, struct kis_task *t, u16 call)
{
	spin_lock(&cell->learn_lock);
	if (cell->learner && test_bit(KIS_FLAG_LEARNING, &cell->flags)) {
		/* A new learning run starts from the task's next call. */
		if (t->learn_gen != cell->learn_gen) {
			memset(&t->learn, 0, sizeof(t->learn));
			t->learn_gen = cell->learn_gen;
		}
		kis_seq_learn(&cell->learner->m, &t->learn, call);
		cell->learned++;
	}
	spin_unlock(&cell->learn_lock);
}

static void kis_monitor_call(struct kis_cell *cell, struct kis_task *t,
			     const struct kis_profile *prof, u16 call)
{
	u32 score, sum, size, threshold;

	if (t->mon_gen != prof->gen) {
		memset(&t->mon, 0, sizeof(t->mon));
		memset(&t->window, 0, sizeof(t->window));
		WRITE_ONCE(t->max_score, 0);
		t->alerted = false;
		t->mon_gen = prof->gen;
	}
	score = kis_seq_score(&prof->m, &t->mon, call);
	if (score == KIS_SEQ_NO_SCORE)
		return;
	/*
	 * The smoothed anomaly is sum / size, rounded down; it is above a
	 * value v exactly when sum >= (v + 1) * size. Comparing so spares a
	 * division on every call; dumps divide (kis_task_score()).
	 */
	sum = kis_seq_window_push(&t->window, score, READ_ONCE(cell->window));
	size = t->window.size;
	if (sum >= (t->max_score + 1) * size)
		WRITE_ONCE(t->max_score, sum / size);
	threshold = READ_ONCE(cell->threshold);
	if (sum < (threshold + 1) * size) {
		t->alerted = false;
		return;
	}
	score = sum / size;
	/* Every call of an excursion is a danger input (kis_apc.c). */
	kis_apc_seq(cell, t, score);
	/* One alert per excursion above the threshold. */
	if (t->alerted)
		return;
	t->alerted = true;
	atomic64_inc(&cell->alerts);
	kis_event_alert(cell, t, score, threshold);
}

/**
 * kis_task_score() - a task's smoothed anomaly now
 * @t: the task
 *
 * Read racily from another task: a value of the window a moment ago.
 *
 * Return: 0..1000.
 */
u32 kis_task_score(const struct kis_task *t)
{
	u32 size = READ_ONCE(t->window.size);

	return size ? READ_ONCE(t->window.sum) / size : 0;
}

/**
 * kis_cell_observe() - one system call of a watched task
 * @cell: the task's cell
 * @t: the task, current
 * @id: the system call number
 *
 * Runs in the sys_enter probe: no sleeping, no allocation. Caller holds
 * rcu_read_lock().
 */
void kis_cell_observe(struct kis_cell *cell, struct kis_task *t, long id)
{
	const struct kis_profile *prof;

	if (id < 0 || id > 0xffff)
		return;
	if (unlikely(test_bit(KIS_FLAG_TRACING, &cell->flags)))
		kis_trace_record(cell, t, id);
	if (unlikely(test_bit(KIS_FLAG_LEARNING, &cell->flags)))
		kis_learn_call(cell, t, id);
	prof = rcu_dereference(cell->armed);
	if (prof)
		kis_monitor_call(cell, t, prof, id);
}
