#!/bin/sh
# A cell watches at most max_tasks tasks: the others are counted as over-limit and
# left alone; slots freed by tasks that exit are used again.
set -e
. /lib/kis/lib.sh

cat >/tmp/small.toml <<'EOF2'
[[cell]]
name = "small"
program = "threads"
max_tasks = 2
EOF2

step "kisctl load a cell with max_tasks = 2, then threads 3 (4 tasks)"
kisctl load /tmp/small.toml
threads 3 &
t1=$!
wait_for '[ "$(ls /proc/$t1/task | wc -l)" = 4 ]' 10 || fail "threads $t1 did not start 3 threads"
wait_for '[ "$(cell_counter small over-limit)" = 2 ]' 10 || fail "over-limit should reach 2"
kisctl status
assert_eq "$(cell_counter small tasks)" 2 "tasks of the cell"
assert_eq "$(cell_pids small | wc -l)" 2 "tasks listed"
assert_eq "$(cell_tgid_pids small "$t1" | wc -l)" 2 "tasks of threads $t1 listed"
cell_has_pid small "$t1" || fail "the main thread $t1 (it joined on exec) is not listed"
assert_eq "$(cell_counter small joined)" 2 "joined"
assert_eq "$(tasks_watched)" 2 "tasks watched"
alive "$t1" || fail "threads $t1 died"

step "a second threads 3: nothing left for it"
threads 3 &
t2=$!
wait_for '[ "$(ls /proc/$t2/task | wc -l)" = 4 ]' 10 || fail "threads $t2 did not start 3 threads"
# Only its exec is refused: its threads are not created by a member.
wait_for '[ "$(cell_counter small over-limit)" = 3 ]' 10 || fail "over-limit should reach 3"
assert_eq "$(cell_tgid_pids small "$t2")" "" "tasks of threads $t2 listed"
assert_eq "$(cell_counter small tasks)" 2 "tasks of the cell"

step "threads $t1 exits: its slots serve a new process"
kill "$t1"
wait "$t1" 2>/dev/null || true
wait_for '[ "$(cell_counter small tasks)" = 0 ]' 10 || fail "the tasks of $t1 did not leave"
# Let a grace period pass so that the released slots can be reused.
sleep 1
threads 1 &
t3=$!
wait_for '[ "$(cell_tgid_pids small "$t3" | wc -l)" = 2 ]' 10 || fail "threads 1 ($t3) should have both tasks watched"
kisctl status
assert_eq "$(cell_counter small tasks)" 2 "tasks of the cell with threads $t3"
assert_eq "$(cell_counter small joined)" 4 "joined"
assert_eq "$(cell_counter small left)" 2 "left"
kill "$t2" "$t3"
echo "max_tasks: ok"
