#!/bin/sh
# Precise mode hands back: while KIS is the only system-call tracer, only watched tasks
# take the traced system-call path; when ftrace starts tracing raw_syscalls, KIS gives
# every task the syscall-tracepoint flag back within its 1 s check, so ftrace sees the
# system calls of unwatched processes, and KIS keeps counting its own.
set -e
. /lib/kis/lib.sh

mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
EVENT=/sys/kernel/tracing/events/raw_syscalls/sys_enter/enable
[ -w "$EVENT" ] || fail "no raw_syscalls tracepoint event in this kernel"

step "a cell watching getppid_loop: precise mode"
cat >/tmp/w.toml <<'TOML'
[[cell]]
name = "w"
program = "getppid_loop"
args = "watched *"
TOML
kisctl load /tmp/w.toml
getppid_loop watched 100 1 >/dev/null
before=$(cell_counter w syscalls)
[ "$before" -ge 100 ] || fail "the watched loop was not counted ($before calls)"

step "ftrace starts tracing system calls: KIS hands the flag back"
echo 1 >"$EVENT"
wait_for 'dmesg | grep -q "another system-call tracer is active"' 10 ||
	fail "KIS did not notice the other tracer"
sh -c 'echo $$ >/tmp/pid; exec getppid_loop unwatched 3000 1' >/dev/null
getppid_loop watched 500 1 >/dev/null
# Stop tracing before reading the buffer, or the reader traces itself forever.
echo 0 >"$EVENT"
pid=$(cat /tmp/pid)
seen=$(grep -c "getppid_loop-$pid " /sys/kernel/tracing/trace || true)
echo "ftrace saw $seen system calls of the unwatched process $pid"
[ "$seen" -ge 3000 ] || fail "ftrace missed the unwatched process's system calls ($seen)"
after=$(cell_counter w syscalls)
[ "$after" -ge $((before + 500)) ] || fail "KIS stopped counting the watched loop ($before -> $after)"
kisctl unload w
