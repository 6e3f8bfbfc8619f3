#!/bin/sh
# kis-run: --no-load
# A busy watched process survives the module being loaded, given a cell that
# picks it up, and unloaded again, 20 times. The rig's dmesg scan catches splats.
set -e
. /lib/kis/lib.sh

ROUNDS=${1:-20}

grep -q '^kis ' /proc/modules && fail "kis is loaded although the rig was told --no-load"

# A loop of cheap system calls without forks: read is a shell builtin.
cat >/tmp/busy.sh <<'EOF'
while :; do
	read -r up rest </proc/uptime
done
EOF
cat >/tmp/busy.toml <<'EOF'
[[cell]]
name = "busy"
program = "sh"
args = "/tmp/busy.sh*"
EOF

step "the busy process"
sh /tmp/busy.sh &
busy=$!
sleep 0.5
alive "$busy" || fail "the busy process did not start"

i=1
while [ "$i" -le "$ROUNDS" ]; do
	echo "-- round $i/$ROUNDS"
	insmod /lib/kis/kis.ko || fail "round $i: insmod failed"
	kisctl load /tmp/busy.toml >/dev/null || fail "round $i: kisctl load failed"
	wait_for '[ "$(cell_counter busy syscalls)" -gt 0 ]' 10 ||
		fail "round $i: the busy process's syscalls are not counted"
	assert_eq "$(cell_pids busy)" "$busy" "round $i: tasks of cell busy"
	rmmod kis || fail "round $i: rmmod kis failed"
	grep -q '^kis ' /proc/modules && fail "round $i: kis still in /proc/modules after rmmod"
	alive "$busy" || fail "round $i: the busy process died"
	i=$((i + 1))
done

step "after $ROUNDS rounds"
alive "$busy" || fail "the busy process died"
grep State: "/proc/$busy/status"
# Still making progress: its CPU time grows.
t1=$(awk '{ print $14 + $15 }' "/proc/$busy/stat")
sleep 1
t2=$(awk '{ print $14 + $15 }' "/proc/$busy/stat")
[ "$t2" -gt "$t1" ] || fail "the busy process stopped running ($t1 -> $t2 ticks)"
kill "$busy"

step "once more with a cell loaded and the process watched, the module unloads cleanly at the end"
sh /tmp/busy.sh &
busy=$!
insmod /lib/kis/kis.ko
kisctl load /tmp/busy.toml
wait_for '[ "$(cell_counter busy syscalls)" -gt 0 ]' 10 || fail "the new busy process is not watched"
kisctl status
# Left loaded with a watched task: the rig's rmmod after the script must succeed.
echo "module_reload: ok"
