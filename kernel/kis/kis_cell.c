// SPDX-License-Identifier: GPL-2.0
/*
 * Cells and their tasks: which processes a cell holds, how tasks join on
 * fork, exec and at load time, and how they leave.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/hash.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/rculist.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kis_internal.h"
#include "kis_match.h"

#define KIS_TASK_HASH_BITS	10
#define KIS_CELL_SPARE_SLOTS	16

LIST_HEAD(kis_cells);
/* Serialises configuration; see kis_internal.h. */
DEFINE_MUTEX(kis_config_mutex);
DEFINE_SPINLOCK(kis_lock);
atomic_t kis_tasks_watched = ATOMIC_INIT(0);

static struct hlist_head kis_task_hash[1 << KIS_TASK_HASH_BITS];
/* Only watched tasks have the syscall-tracepoint work flag; under kis_lock. */
static bool kis_precise;
static atomic_t kis_cell_ids = ATOMIC_INIT(0);

static struct hlist_head *kis_task_bucket(const struct task_struct *task)
{
	return &kis_task_hash[hash_ptr(task, KIS_TASK_HASH_BITS)];
}

/**
 * kis_task_find() - the watched-task slot of a task
 * @task: the task
 *
 * Called on every system call of every task while a cell is loaded, so it
 * is one hash and a short chain walk. Caller holds rcu_read_lock() or
 * kis_lock.
 *
 * Return: the slot, or NULL if @task is not watched.
 */
struct kis_task *kis_task_find(struct task_struct *task)
{
	struct kis_task *t;

	hlist_for_each_entry_rcu(t, kis_task_bucket(task), hnode,
				 lockdep_is_held(&kis_lock))
		if (t->task == task)
			return t;
	return NULL;
}

/*
 * A free slot of @cell, or a released one whose grace period is over, so
 * that no reader can still see it in the hash. Caller holds kis_lock.
 */
static struct kis_task *kis_slot_get(struct kis_cell *cell)
{
	struct kis_task *t;

	t = list_first_entry_or_null(&cell->free, struct kis_task, cell_node);
	if (!t) {
		t = list_first_entry_or_null(&cell->limbo, struct kis_task,
					     cell_node);
		if (!t || !poll_state_synchronize_rcu(t->gp))
			return NULL;
	}
	list_del(&t->cell_node);
	return t;
}

/**
 * kis_task_join() - make a task a member of a cell
 * @cell: the cell
 * @task: the task; already watched tasks stay where they are
 *
 * Does not sleep or allocate: slots come from the cell's pool. When the
 * cell holds max_tasks tasks (or, rarely, every spare slot still waits for
 * its grace period) the task is counted in over_limit and not watched.
 */
void kis_task_join(struct kis_cell *cell, struct task_struct *task)
{
	struct kis_task *t;

	spin_lock(&kis_lock);
	if (cell->dead || kis_task_find(task))
		goto out;
	t = cell->ntasks < cell->max_tasks ? kis_slot_get(cell) : NULL;
	if (!t) {
		cell->over_limit++;
		goto out;
	}
	/*
	 * Off every list and past its grace period: a reused slot starts
	 * clean, with no sequence, score or learning state.
	 */
	memset(t, 0, sizeof(*t));
	t->task = task;
	t->cell = cell;
	t->pid = task_pid_nr(task);
	t->tgid = task_tgid_nr(task);
	t->cpu_seen = READ_ONCE(task->se.sum_exec_runtime);
	list_add_tail(&t->cell_node, &cell->members);
	hlist_add_head_rcu(&t->hnode, kis_task_bucket(task));
	if (kis_precise)
		set_task_syscall_work(task, SYSCALL_TRACEPOINT);
	cell->ntasks++;
	cell->joined++;
	atomic_inc(&kis_tasks_watched);
out:
	spin_unlock(&kis_lock);
}

static void __kis_task_leave(struct kis_task *t)
{
	struct kis_cell *cell = t->cell;

	lockdep_assert_held(&kis_lock);
	kis_apc_task_leave(cell, t);
	if (kis_precise)
		clear_task_syscall_work(t->task, SYSCALL_TRACEPOINT);
	hlist_del_rcu(&t->hnode);
	list_del(&t->cell_node);
	t->gp = get_state_synchronize_rcu();
	list_add_tail(&t->cell_node, &cell->limbo);
	cell->ntasks--;
	cell->left++;
	atomic_dec(&kis_tasks_watched);
}

/**
 * kis_task_leave() - stop watching a task, if it is watched
 * @task: the task
 */
void kis_task_leave(struct task_struct *task)
{
	struct kis_task *t;

	spin_lock(&kis_lock);
	t = kis_task_find(task);
	if (t)
		__kis_task_leave(t);
	spin_unlock(&kis_lock);
}

/**
 * kis_precise_enter() - send only watched tasks through the sys_enter probe
 *
 * Attaching to sys_enter sets the syscall-tracepoint work flag on every
 * task, so every system call of the machine takes the slow entry path.
 * While KIS is the only user of the syscall tracepoints, the flag is kept on
 * watched tasks only: children inherit it from their parent at fork, and
 * joining or leaving a cell sets or clears it under kis_lock, so no task
 * can slip between the two.
 */
void kis_precise_enter(void)
{
	struct task_struct *p, *t;

	rcu_read_lock();
	spin_lock(&kis_lock);
	kis_precise = true;
	spin_unlock(&kis_lock);
	for_each_process_thread(p, t) {
		spin_lock(&kis_lock);
		if (kis_precise && !kis_task_find(t))
			clear_task_syscall_work(t, SYSCALL_TRACEPOINT);
		spin_unlock(&kis_lock);
	}
	rcu_read_unlock();
}

/**
 * kis_precise_leave() - give every task the work flag back
 *
 * For when another syscall tracer appears, or before detaching, so that
 * the tracepoint's own bookkeeping finds every task as it left it.
 *
 * Return: true if precise mode was on.
 */
bool kis_precise_leave(void)
{
	struct task_struct *p, *t;
	bool was;

	spin_lock(&kis_lock);
	was = kis_precise;
	kis_precise = false;
	spin_unlock(&kis_lock);
	if (!was)
		return false;
	rcu_read_lock();
	for_each_process_thread(p, t)
		set_task_syscall_work(t, SYSCALL_TRACEPOINT);
	rcu_read_unlock();
	return true;
}

/**
 * kis_cell_alloc() - allocate a cell with a pool of task slots
 * @max_tasks: number of slots
 *
 * Return: the cell, its strings and settings left for the caller to fill
 * in, or NULL when out of memory.
 */
struct kis_cell *kis_cell_alloc(u32 max_tasks)
{
	struct kis_cell *cell;
	u32 i, slots;

	cell = kzalloc(sizeof(*cell), GFP_KERNEL);
	if (!cell)
		return NULL;
	INIT_LIST_HEAD(&cell->list);
	INIT_LIST_HEAD(&cell->members);
	INIT_LIST_HEAD(&cell->free);
	INIT_LIST_HEAD(&cell->limbo);
	atomic64_set(&cell->execs, 0);
	atomic64_set(&cell->alerts, 0);
	atomic64_set(&cell->trace_lost, 0);
	spin_lock_init(&cell->learn_lock);
	INIT_DELAYED_WORK(&cell->learn_timer, kis_cell_learn_timer);
	cell->id = atomic_inc_return(&kis_cell_ids);
	cell->seq_k = KIS_SEQ_K_DEFAULT;
	cell->window = KIS_SEQ_WINDOW_DEFAULT;
	cell->threshold = KIS_SEQ_THRESHOLD_DEFAULT;
	cell->threshold2 = KIS_SEQ_THRESHOLD_DEFAULT +
			   (KIS_SEQ_SCORE_ONE - KIS_SEQ_THRESHOLD_DEFAULT) / 2;
	cell->learn_prefixes = KIS_LEARN_PREFIXES_DEFAULT;
	cell->learn_kgrams = KIS_LEARN_KGRAMS_DEFAULT;
	cell->max_tasks = max_tasks;
	/*
	 * Released slots wait a grace period before reuse; spare slots keep
	 * a cell whose tasks come and go fast from refusing new ones.
	 */
	slots = max_tasks + max_tasks / 2 + KIS_CELL_SPARE_SLOTS;
	cell->pool = kvcalloc(slots, sizeof(*cell->pool), GFP_KERNEL);
	if (!cell->pool)
		goto err_free;
	cell->syscalls = alloc_percpu(u64);
	if (!cell->syscalls)
		goto err_pool;
	if (kis_apc_init(cell, slots))
		goto err_percpu;
	for (i = 0; i < slots; i++)
		list_add_tail(&cell->pool[i].cell_node, &cell->free);
	return cell;

err_percpu:
	free_percpu(cell->syscalls);
err_pool:
	kvfree(cell->pool);
err_free:
	kfree(cell);
	return NULL;
}

/**
 * kis_cell_free() - free a cell no reader can see any more
 * @cell: the cell, or NULL
 */
void kis_cell_free(struct kis_cell *cell)
{
	if (!cell)
		return;
	/* The timer does not wait for the mutex: this cannot deadlock. */
	cancel_delayed_work_sync(&cell->learn_timer);
	kis_apc_free(cell);
	kis_profile_free(cell->learner);
	kis_profile_free(rcu_dereference_protected(cell->armed, true));
	free_percpu(cell->syscalls);
	kvfree(cell->pool);
	kfree(cell);
}

/**
 * kis_cell_find() - a loaded cell by name
 * @name: the cell's name
 *
 * Caller holds kis_config_mutex.
 *
 * Return: the cell or NULL.
 */
struct kis_cell *kis_cell_find(const char *name)
{
	struct kis_cell *cell;

	lockdep_assert_held(&kis_config_mutex);
	list_for_each_entry(cell, &kis_cells, list)
		if (!strcmp(cell->name, name))
			return cell;
	return NULL;
}

/**
 * kis_cells_publish() - make new cells visible to the probes
 * @cells: list of new cells; emptied on success
 *
 * Caller holds kis_config_mutex.
 *
 * Return: 0, or the error of attaching the system-call probe (nothing is
 * published then).
 */
int kis_cells_publish(struct list_head *cells)
{
	struct kis_cell *cell, *next;
	int err;

	lockdep_assert_held(&kis_config_mutex);
	err = kis_watch_start();
	if (err)
		return err;
	list_for_each_entry_safe(cell, next, cells, list) {
		list_del(&cell->list);
		list_add_tail_rcu(&cell->list, &kis_cells);
		kis_apc_start(cell);
	}
	return 0;
}

/*
 * Unlinks a cell and its tasks. The cell's ->list must stay intact for
 * readers until a grace period has passed, hence the separate drop_node.
 */
static void kis_cell_drop(struct kis_cell *cell, struct list_head *dropped)
{
	struct kis_task *t, *next;

	spin_lock(&kis_lock);
	cell->dead = true;
	list_for_each_entry_safe(t, next, &cell->members, cell_node)
		__kis_task_leave(t);
	spin_unlock(&kis_lock);
	list_del_rcu(&cell->list);
	list_add(&cell->drop_node, dropped);
}

static void kis_cells_drop_finish(struct list_head *dropped)
{
	struct kis_cell *cell, *next;

	if (list_empty(&kis_cells))
		kis_watch_stop();
	/* The probes read cells and slots under RCU only. */
	synchronize_rcu();
	list_for_each_entry_safe(cell, next, dropped, drop_node)
		kis_cell_free(cell);
}

/**
 * kis_cell_remove() - unload a cell: its tasks stop being watched
 * @cell: a published cell
 *
 * Caller holds kis_config_mutex. Sleeps for an RCU grace period.
 */
void kis_cell_remove(struct kis_cell *cell)
{
	LIST_HEAD(dropped);

	lockdep_assert_held(&kis_config_mutex);
	kis_cell_drop(cell, &dropped);
	kis_cells_drop_finish(&dropped);
}

/**
 * kis_cells_remove_last() - unload the most recently published cells
 * @n: how many; used to take back a load that failed half way
 *
 * Caller holds kis_config_mutex.
 */
void kis_cells_remove_last(unsigned int n)
{
	struct kis_cell *cell, *prev;
	LIST_HEAD(dropped);

	lockdep_assert_held(&kis_config_mutex);
	list_for_each_entry_safe_reverse(cell, prev, &kis_cells, list) {
		if (!n--)
			break;
		kis_cell_drop(cell, &dropped);
	}
	kis_cells_drop_finish(&dropped);
}

/**
 * kis_cells_remove_all() - unload every cell
 *
 * Caller holds kis_config_mutex.
 */
void kis_cells_remove_all(void)
{
	struct kis_cell *cell, *next;
	LIST_HEAD(dropped);

	lockdep_assert_held(&kis_config_mutex);
	list_for_each_entry_safe(cell, next, &kis_cells, list)
		kis_cell_drop(cell, &dropped);
	kis_cells_drop_finish(&dropped);
}

/**
 * kis_tasks_walk() - call a function on watched tasks, resumably
 * @pos: cursor, two longs (bucket, index in bucket), zero to start; left
 *	at the task for which @fn failed
 * @fn: returns 0 to go on, non-zero to stop
 * @arg: passed to @fn
 *
 * Caller holds rcu_read_lock(). Tasks that join or leave during a walk
 * that is resumed may be missed or seen.
 */
void kis_tasks_walk(long pos[2], int (*fn)(struct kis_task *t, void *arg),
		    void *arg)
{
	struct kis_task *t;

	for (; pos[0] < ARRAY_SIZE(kis_task_hash); pos[0]++, pos[1] = 0) {
		long idx = 0;

		hlist_for_each_entry_rcu(t, &kis_task_hash[pos[0]], hnode) {
			if (idx++ < pos[1])
				continue;
			if (fn(t, arg))
				return;
			pos[1]++;
		}
	}
}

static struct kis_cell *kis_cell_match(const struct kis_exec_info *info)
{
	struct kis_cell *cell;

	list_for_each_entry_rcu(cell, &kis_cells, list,
				lockdep_is_held(&kis_config_mutex))
		if (kis_program_match(cell->program, cell->args, info))
			return cell;
	return NULL;
}

/**
 * kis_cell_match_exec() - the cell a task joins as it executes a program
 * @task: current, after the new image is in place
 * @bprm: the exec's binary parameters
 * @scratch: this CPU's scratch buffers
 *
 * Runs in the exec tracepoint with preemption disabled: the arguments are
 * read without faulting. They were just copied to the new stack by exec,
 * so they are present; if not, only the executable path is matched.
 *
 * Return: the first loaded cell that matches, or NULL. Caller holds
 * rcu_read_lock().
 */
struct kis_cell *kis_cell_match_exec(struct task_struct *task,
				     const struct linux_binprm *bprm,
				     struct kis_scratch *scratch)
{
	struct kis_exec_info info = {};
	struct mm_struct *mm = task->mm;
	size_t len = 0;
	char *exe;

	exe = d_path(&bprm->file->f_path, scratch->path, sizeof(scratch->path));
	if (!IS_ERR(exe))
		info.exe = exe;
	if (mm && mm->arg_end > mm->arg_start) {
		len = min_t(size_t, mm->arg_end - mm->arg_start,
			    KIS_ARGS_READ_MAX);
		if (copy_from_user_nofault(scratch->args,
					   (const void __user *)mm->arg_start,
					   len))
			len = 0;
	}
	kis_cmdline_split(scratch->args, len, &info.argv0, &info.args);
	return kis_cell_match(&info);
}

/* The executable and arguments of a running process; may sleep. */
static bool kis_read_running(struct task_struct *p, struct kis_scratch *scratch,
			     struct kis_exec_info *info)
{
	unsigned long start, end;
	struct mm_struct *mm;
	struct file *exe;
	int len = 0;

	mm = get_task_mm(p);
	if (!mm)
		return false;
	rcu_read_lock();
	exe = rcu_dereference(mm->exe_file);
	if (exe && !get_file_rcu(exe))
		exe = NULL;
	rcu_read_unlock();
	info->exe = NULL;
	if (exe) {
		char *path = d_path(&exe->f_path, scratch->path,
				    sizeof(scratch->path));

		if (!IS_ERR(path))
			info->exe = path;
		fput(exe);
	}
	spin_lock(&mm->arg_lock);
	start = mm->arg_start;
	end = mm->arg_end;
	spin_unlock(&mm->arg_lock);
	if (end > start) {
		len = access_process_vm(p, start, scratch->args,
					min_t(unsigned long, end - start,
					      KIS_ARGS_READ_MAX), FOLL_FORCE);
		if (len < 0)
			len = 0;
	}
	mmput(mm);
	kis_cmdline_split(scratch->args, len, &info->argv0, &info->args);
	return true;
}

/* Adds every thread of @p to @cell. */
static void kis_cell_adopt_threads(struct kis_cell *cell, struct task_struct *p)
{
	struct task_struct *t;

	rcu_read_lock();
	for_each_thread(p, t) {
		kis_task_join(cell, t);
		/*
		 * A thread exiting now may have run its exit probe before it
		 * was added. The barrier pairs with the one in the exit
		 * probe: either it finds the slot or we see PF_EXITING.
		 */
		smp_mb();
		if (READ_ONCE(t->flags) & PF_EXITING)
			kis_task_leave(t);
	}
	rcu_read_unlock();
}

/**
 * kis_cells_adopt_running() - let loaded cells pick up running processes
 *
 * Every running user process is matched against the loaded cells; a
 * process that matches joins the first such cell with all its threads.
 * Caller holds kis_config_mutex.
 *
 * Return: 0 or -ENOMEM.
 */
int kis_cells_adopt_running(void)
{
	struct kis_scratch *scratch;
	struct task_struct **procs, *p;
	unsigned int cap = 64, n = 0, i;

	lockdep_assert_held(&kis_config_mutex);
	rcu_read_lock();
	for_each_process(p)
		cap++;
	rcu_read_unlock();

	scratch = kmalloc(sizeof(*scratch), GFP_KERNEL);
	procs = kvmalloc_array(cap, sizeof(*procs), GFP_KERNEL);
	if (!scratch || !procs) {
		kvfree(procs);
		kfree(scratch);
		return -ENOMEM;
	}

	rcu_read_lock();
	for_each_process(p) {
		if (n == cap)
			break;
		if (p->flags & (PF_KTHREAD | PF_EXITING))
			continue;
		get_task_struct(p);
		procs[n++] = p;
	}
	rcu_read_unlock();

	for (i = 0; i < n; i++) {
		struct kis_exec_info info;
		struct kis_cell *cell;

		p = procs[i];
		if (kis_read_running(p, scratch, &info)) {
			cell = kis_cell_match(&info);
			if (cell)
				kis_cell_adopt_threads(cell, p);
		}
		put_task_struct(p);
	}
	kvfree(procs);
	kfree(scratch);
	return 0;
}

/**
 * kis_cell_syscalls() - system calls seen by a cell's tasks
 * @cell: the cell
 *
 * Return: the sum over all CPUs.
 */
u64 kis_cell_syscalls(const struct kis_cell *cell)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(cell->syscalls, cpu);
	return sum;
}
