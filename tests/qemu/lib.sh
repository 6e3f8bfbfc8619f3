# Shell helpers for KIS guest scripts (busybox sh). The rig copies this file to
# /lib/kis/lib.sh in the guest; a scenario starts with
#
#   set -e
#   . /lib/kis/lib.sh
#
# Everything here reads the plain output of `kisctl status` (format in
# Documentation/testing.md and kisctl/cmd_status.cpp), so the scenarios check
# what the module really reports.

# step MSG: narrates a step of the scenario ("== MSG"); it makes failures easy to place.
step() {
	echo "== $*"
}

# fail MSG: prints "FAIL: MSG" and the current `kisctl status`, then exits 1.
# Everything goes to stderr so that it is seen even from inside $(...).
fail() {
	{
		echo "FAIL: $*"
		echo "--- kisctl status at the failure:"
		kisctl status 2>&1 || true
		echo "---"
	} >&2
	exit 1
}

# kis_status: `kisctl status`, failing the script if kisctl does.
kis_status() {
	_ks_out=$(kisctl status 2>&1) || {
		echo "$_ks_out" >&2
		fail "kisctl status failed"
	}
	echo "$_ks_out"
}

# cell_section CELL: the lines of `kisctl status` under "cell CELL:" (header excluded).
# Returns 1 (with a message on stderr) if the cell is not loaded.
cell_section() {
	kis_status | awk -v c="$1:" '
		/^cell / { sel = ($2 == c); if (sel) found = 1; next }
		/^[^ ]/ { sel = 0 }
		sel { print }
		END { exit(found ? 0 : 1) }' || {
		echo "cell '$1' is not in kisctl status" >&2
		return 1
	}
}

# has_cell CELL: true if the cell is loaded.
has_cell() {
	kis_status | grep -q "^cell $1: "
}

# cell_tasks CELL: "PID TGID SYSCALLS COMM SCORE MAX" for each task listed under the cell.
# COMM may hold spaces: count SCORE and MAX from the end ($(NF-1), $NF).
cell_tasks() {
	_ct=$(cell_section "$1") || return 1
	echo "$_ct" | awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ { print }'
}

# cell_pids CELL: the PIDs (thread ids) listed under the cell, one a line, sorted.
cell_pids() {
	_cp=$(cell_tasks "$1") || return 1
	echo "$_cp" | awk 'NF { print $1 }' | sort -n
}

# cell_tgid_pids CELL TGID: the PIDs listed under the cell whose TGID is TGID, sorted.
cell_tgid_pids() {
	_ctp=$(cell_tasks "$1") || return 1
	echo "$_ctp" | awk -v t="$2" '$2 == t { print $1 }' | sort -n
}

# cell_comm CELL PID: the COMM column of PID in the cell (empty if not listed).
cell_comm() {
	_cc=$(cell_tasks "$1") || return 1
	echo "$_cc" | awk -v p="$2" '$1 == p {
		sub(/^ *[0-9]+ +[0-9]+ +[0-9]+ +/, ""); sub(/ +[0-9]+ +[0-9]+ *$/, ""); print }'
}

# cell_score CELL PID: the SCORE column of PID (its average anomaly now, 0..1000).
# cell_max_score CELL PID: the MAX column (the highest since the cell was armed).
cell_score() {
	_cs=$(cell_tasks "$1") || return 1
	echo "$_cs" | awk -v p="$2" '$1 == p { print $(NF-1) }'
}
cell_max_score() {
	_cs=$(cell_tasks "$1") || return 1
	echo "$_cs" | awk -v p="$2" '$1 == p { print $NF }'
}

# cell_has_pid CELL PID: true if PID is listed under the cell.
cell_has_pid() {
	cell_pids "$1" 2>/dev/null | grep -qx "$2"
}

# cell_counter CELL NAME: a value of the cell's "NAME VALUE, NAME VALUE, ..." lines; NAME is
# one of tasks, joined, left, execs, over-limit, syscalls, state (e.g. "armed+tracing" or
# "idle"), k, window, threshold, learn-prefixes, learn-kgrams, learned, learn-dropped,
# profile-kgrams, alerts, trace-lost.
cell_counter() {
	_cnt=$(cell_section "$1") || return 1
	_cnt=$(echo "$_cnt" | awk -v n="$2" '
		$1 !~ /^[0-9]+$/ && $1 != "PID" {
			line = $0
			sub(/^ +/, "", line)
			k = split(line, parts, ", ")
			for (i = 1; i <= k; i++) {
				split(parts[i], kv, " ")
				if (kv[1] == n) { print kv[2]; exit }
			}
		}')
	[ -n "$_cnt" ] || {
		echo "no counter '$2' for cell '$1' in kisctl status" >&2
		return 1
	}
	echo "$_cnt"
}

# cell_state_has CELL WORD: true if the cell's state has WORD (learning, armed, tracing).
cell_state_has() {
	case "+$(cell_counter "$1" state)+" in
	*"+$2+"*) return 0 ;;
	*) return 1 ;;
	esac
}

# tasks_watched: the "tasks watched: N" number of kisctl status.
tasks_watched() {
	kis_status | sed -n 's/^tasks watched: \([0-9]*\)$/\1/p'
}

# wait_for COND-CMD [TIMEOUT]: evaluates COND-CMD (a shell command string) every 0.1 s
# until it succeeds; returns 1 with a message if it has not after TIMEOUT seconds
# (default 10). Use as `wait_for '...' 10 || fail "..."`.
wait_for() {
	_wf_cond=$1
	_wf_t=${2:-10}
	_wf_end=$(($(date +%s) + _wf_t))
	while :; do
		if eval "$_wf_cond"; then
			return 0
		fi
		if [ "$(date +%s)" -ge "$_wf_end" ]; then
			echo "wait_for: still false after ${_wf_t}s: $_wf_cond" >&2
			return 1
		fi
		sleep 0.1
	done
}

# assert_eq ACTUAL EXPECTED MSG: fails with MSG unless the two strings are equal.
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# assert_contains TEXT NEEDLE MSG: fails with MSG unless TEXT contains NEEDLE (fixed string).
assert_contains() {
	case $1 in
	*"$2"*) ;;
	*) fail "$3: '$2' not in: $1" ;;
	esac
}

# alive PID: true if the process exists and is not a zombie.
alive() {
	[ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# as_nobody CMD: runs the shell command CMD as user nobody (uid 65534).
as_nobody() {
	su -s /bin/sh nobody -c "$1"
}
