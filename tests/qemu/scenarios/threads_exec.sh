#!/bin/sh
# A cell holds every thread of a matched process, whether the process started
# before or after the load; follow_exec decides whether a member stays in its cell
# after execve; an args pattern that does not match leaves a process out.
set -e
. /lib/kis/lib.sh

cat >/tmp/threads_exec.toml <<'EOF'
# "threads 3" only: "threads 2" is left out by the args pattern.
[[cell]]
name = "threads"
program = "threads"
args = "3"

# execer SECONDS PROGRAM ARGS: the first argument tells the two cells apart.
[[cell]]
name = "exec-follow"
program = "execer"
args = "4 *"
follow_exec = true

[[cell]]
name = "exec-nofollow"
program = "execer"
args = "5 *"
follow_exec = false
EOF

# thread_ids PID: the thread ids of a process, sorted.
thread_ids() {
	ls "/proc/$1/task" | sort -n
}

step "threads 3 started before the load"
threads 3 &
t_before=$!
wait_for '[ "$(ls /proc/$t_before/task | wc -l)" = 4 ]' 10 || fail "threads $t_before did not start 3 threads"

step "kisctl load /tmp/threads_exec.toml"
kisctl load /tmp/threads_exec.toml
kisctl status
assert_eq "$(cell_tgid_pids threads "$t_before")" "$(thread_ids "$t_before")" \
	"the 4 tasks of threads $t_before (started before the load)"

step "threads 3 and threads 2 started after the load"
threads 3 &
t_after=$!
threads 2 &
t_other=$!
wait_for '[ "$(ls /proc/$t_after/task | wc -l)" = 4 ]' 10 || fail "threads $t_after did not start 3 threads"
wait_for '[ "$(ls /proc/$t_other/task | wc -l)" = 3 ]' 10 || fail "threads $t_other did not start 2 threads"
wait_for '[ "$(cell_tgid_pids threads "$t_after" | wc -l)" = 4 ]' 10 ||
	fail "the cell does not list the 4 tasks of threads $t_after"
kisctl status
assert_eq "$(cell_tgid_pids threads "$t_after")" "$(thread_ids "$t_after")" \
	"the 4 tasks of threads $t_after (started after the load)"
assert_eq "$(cell_tgid_pids threads "$t_other")" "" "threads 2 ($t_other) does not match args \"3\""
assert_eq "$(cell_pids threads | wc -l)" 8 "tasks listed in cell threads"
assert_eq "$(cell_counter threads tasks)" 8 "tasks counter of cell threads"
s1=$(cell_counter threads syscalls)
sleep 1
s2=$(cell_counter threads syscalls)
[ "$s2" -gt "$s1" ] || fail "the threads' syscalls are not counted: $s1 -> $s2"
for t in $(cell_pids threads); do
	s=$(cell_tasks threads | awk -v p="$t" '$1 == p { print $3 }')
	[ "$s" -gt 0 ] || fail "thread $t has no syscalls counted"
done

step "three execers: 4 s (follow), 5 s (no follow), 6 s (matches no cell)"
execer 4 sleep 100 &
e_follow=$!
execer 5 sleep 100 &
e_nofollow=$!
execer 6 sleep 100 &
e_none=$!
wait_for 'cell_has_pid exec-follow "$e_follow" && cell_has_pid exec-nofollow "$e_nofollow"' 3 ||
	fail "the execers did not join their cells before their exec"
kisctl status
# The exec that made them execers is how they joined: not counted as a member's exec.
assert_eq "$(cat /proc/$e_follow/comm)" execer "execer $e_follow already exec'd: the guest is too slow for this scenario"
assert_eq "$(cell_comm exec-follow "$e_follow")" execer "comm of $e_follow before its exec"
assert_eq "$(cell_counter exec-follow execs)" 0 "execs of exec-follow before the exec"
cell_has_pid exec-follow "$e_nofollow" && fail "execer 5 ($e_nofollow) is in cell exec-follow"
cell_has_pid exec-nofollow "$e_follow" && fail "execer 4 ($e_follow) is in cell exec-nofollow"
for c in threads exec-follow exec-nofollow; do
	cell_has_pid "$c" "$e_none" && fail "execer 6 ($e_none) is in cell $c"
done

step "after the execs into sleep 100"
wait_for '[ "$(cat /proc/$e_follow/comm)" = sleep ] && [ "$(cat /proc/$e_nofollow/comm)" = sleep ] && [ "$(cat /proc/$e_none/comm)" = sleep ]' 15 ||
	fail "the execers did not exec sleep"
kisctl status
cell_has_pid exec-follow "$e_follow" || fail "follow_exec = true: $e_follow left its cell on exec"
assert_eq "$(cell_comm exec-follow "$e_follow")" sleep "comm of $e_follow after its exec"
assert_eq "$(cell_counter exec-follow execs)" 1 "execs of exec-follow after the exec"
assert_eq "$(cell_counter exec-follow tasks)" 1 "tasks of exec-follow after the exec"
cell_has_pid exec-nofollow "$e_nofollow" && fail "follow_exec = false: $e_nofollow is still in its cell after exec"
assert_eq "$(cell_counter exec-nofollow tasks)" 0 "tasks of exec-nofollow after the exec"
assert_eq "$(cell_counter exec-nofollow joined)" 1 "joined of exec-nofollow"
assert_eq "$(cell_counter exec-nofollow left)" 1 "left of exec-nofollow"
for c in threads exec-follow exec-nofollow; do
	cell_has_pid "$c" "$e_none" && fail "sleep ($e_none, was execer 6) is in cell $c"
done
cell_section exec-nofollow | grep -q '^  no tasks$' || fail "exec-nofollow should print 'no tasks'"

step "a thread that exits leaves the cell: kill threads $t_before"
kill "$t_before"
wait "$t_before" 2>/dev/null || true
wait_for '[ -z "$(cell_tgid_pids threads "$t_before")" ]' 10 || fail "threads $t_before still listed after kill"
assert_eq "$(cell_counter threads tasks)" 4 "tasks of cell threads after the kill"
assert_eq "$(tasks_watched)" 5 "tasks watched (4 threads + the followed sleep)"

kill "$t_after" "$t_other" "$e_follow" "$e_nofollow" "$e_none" 2>/dev/null || true
echo "threads_exec: ok"
