#!/bin/sh
# The kisctl side of the sequence model: [cell.sequence] settings reach the module;
# learn start/stop/status/save (busy, still learning, nothing learned, a full model);
# profile load/unload (a profile of several hundred KiB too); set; monitor --count with
# --json, --log and --exec-on-alert (arguments and environment, no shell); trace --program
# (temporary cell, --count, Ctrl-C, refusing to overwrite) and trace --cell --duration;
# refusals without CAP_NET_ADMIN.
set -e
. /lib/kis/lib.sh

# out CMD...: runs a command that must succeed, prints and keeps its output in $OUT.
out() {
	OUT=$("$@" 2>&1) || fail "$* failed: $OUT"
	echo "$OUT"
}
# refused STATUS NEEDLE CMD...: the command must exit with STATUS and say NEEDLE.
refused() {
	_st=$1 _needle=$2
	shift 2
	_rc=0
	_o=$("$@" 2>&1) || _rc=$?
	echo "$_o"
	[ "$_rc" = "$_st" ] || fail "$* exited with $_rc, not $_st: $_o"
	assert_contains "$_o" "$_needle" "$*"
}

step "cells with [cell.sequence] settings"
mkdir -p /www/cgi-bin
echo "home" >/www/index.html
echo "doc" >/www/doc.txt
cat >/www/cgi-bin/run <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
ls -l / /etc >/dev/null
cat /etc/passwd
CGI
chmod 755 /www/cgi-bin/run
cat >/tmp/cells.toml <<'EOF'
[[cell]]
name = "web"
program = "httpd"
args = "*8081*"
[cell.sequence]
window = 10
threshold = 300

[[cell]]
name = "tiny"
program = "sh"
args = "/tmp/tiny-loop"
sequence = { k = 3, learn_prefixes = 4, learn_kgrams = 4 }
EOF
kisctl load /tmp/cells.toml
assert_eq "$(cell_counter web state)" idle "state of web"
assert_eq "$(cell_counter web k)" 6 "k of web (default)"
assert_eq "$(cell_counter web window)" 10 "window of web"
assert_eq "$(cell_counter web threshold)" 300 "threshold of web"
assert_eq "$(cell_counter web learn-kgrams)" 65536 "learn-kgrams of web (default)"
assert_eq "$(cell_counter tiny k)" 3 "k of tiny"
assert_eq "$(cell_counter tiny learn-prefixes)" 4 "learn-prefixes of tiny"
assert_eq "$(cell_counter tiny learn-kgrams)" 4 "learn-kgrams of tiny"
httpd -f -p 127.0.0.1:8081 -h /www &
web=$!
wait_for "wget -q -O /dev/null http://127.0.0.1:8081/" 20 || fail "httpd does not answer"
wait_for 'cell_has_pid web "$web"' 10 || fail "httpd $web is not in cell web"

workload() {
	for i in 1 2 3 4; do
		wget -q -O /dev/null http://127.0.0.1:8081/
		wget -q -O /dev/null http://127.0.0.1:8081/doc.txt
		wget -q -O /dev/null http://127.0.0.1:8081/missing.html 2>/dev/null || true
	done
}

step "learn: nothing to save yet, start, busy, still learning, stop, save"
refused 1 'has learned nothing yet' kisctl learn save web -o /tmp/web.kis
out kisctl learn start web
assert_contains "$OUT" "cell web: learning (k 6" "learn start"
cell_state_has web learning || fail "web is not learning"
refused 1 'is learning already; stop it first: kisctl learn stop web' kisctl learn start web
workload
out kisctl learn status web
assert_contains "$OUT" "cell web: learning, " "learn status while learning"
refused 1 'is still learning; stop it first' kisctl learn save web -o /tmp/web.kis
out kisctl learn stop web
assert_contains "$OUT" "learning stopped after" "learn stop"
cell_state_has web learning && fail "web still learning after stop"
learned=$(cell_counter web learned)
[ "$learned" -gt 100 ] || fail "web learned only $learned calls"
out kisctl learn status
assert_contains "$OUT" "cell web: stopped, $learned calls learned, 0 k-grams dropped" "learn status"
assert_contains "$OUT" "cell tiny: not learning" "learn status of tiny"
out kisctl learn save web -o /tmp/web.kis
assert_contains "$OUT" "saved the profile of cell web to /tmp/web.kis (k=6)" "learn save"
refused 1 'already exists' kisctl learn save web -o /tmp/web.kis
out kisctl learn save web -o /tmp/web.kis --force
kgrams=$(kisctl profile show /tmp/web.kis | awk '$1 == "k-grams" { print $2 }')
[ "$kgrams" -gt 10 ] || fail "the saved profile has $kgrams k-grams"

step "learn: a full model drops k-grams and says so"
cat >/tmp/tiny-loop <<'SH'
while :; do ls -l / >/dev/null; cat /etc/passwd >/dev/null; sleep 0.1; done
SH
sh /tmp/tiny-loop &
thr=$!
wait_for 'cell_has_pid tiny "$thr"' 10 || fail "sh $thr is not in cell tiny"
out kisctl learn start tiny
wait_for '[ "$(cell_counter tiny learned)" -gt 200 ]' 20 || fail "tiny learns nothing"
out kisctl learn stop tiny
dropped=$(cell_counter tiny learn-dropped)
[ "$dropped" -gt 0 ] || fail "a model of 4 k-grams dropped nothing"
out kisctl learn status tiny
assert_contains "$OUT" "the learning model is full" "learn status of a full model"
out kisctl learn save tiny -o /tmp/tiny.kis
assert_contains "$OUT" "warning: $dropped k-grams were not learned because the learning model was full" "learn save of a full model"
kill "$thr"
kisctl unload tiny # it would take in the threads traced below

step "profile load and set"
refused 1 'no cell named "nosuch" is loaded' kisctl profile load nosuch /tmp/web.kis
echo "not a profile" >/tmp/junk.kis
refused 1 'not a KIS profile' kisctl profile load web /tmp/junk.kis
out kisctl profile load web /tmp/web.kis
assert_contains "$OUT" "cell web armed with /tmp/web.kis (k=6" "profile load"
cell_state_has web armed || fail "web is not armed"
assert_eq "$(cell_counter web profile-kgrams)" "$kgrams" "profile-kgrams of web"
out kisctl set web --window 5 --threshold 250
assert_eq "$OUT" "cell web: window 5, threshold 250" "kisctl set"
assert_eq "$(cell_counter web window)" 5 "window after set"
assert_eq "$(cell_counter web threshold)" 250 "threshold after set"
refused 2 'nothing to set' kisctl set web
refused 2 '--threshold must be a number from 0 to 1000' kisctl set web --threshold 1001
refused 1 'no cell named "nosuch" is loaded' kisctl set nosuch --window 3

step "monitor --count 1 with --json, --log and --exec-on-alert"
cat >/tmp/on-alert <<'SH'
#!/bin/sh
# The program also runs for danger signals (the alert is one too): keep the alert's.
[ "$KIS_EVENT" = alert ] || exit 0
{
	echo "argc=$#"
	for a in "$@"; do echo "arg=$a"; done
	env | grep '^KIS_' | sort
} >/tmp/alert.out.$$
mv /tmp/alert.out.$$ /tmp/alert.out
SH
chmod 755 /tmp/on-alert
refused 1 'is not an executable file' kisctl monitor --exec-on-alert /tmp/nonexistent
kisctl monitor --cell web --count 1 --json --interval 100 --log /tmp/mon.log \
	--exec-on-alert /tmp/on-alert one 'two words' '$(reboot)' >/tmp/mon.json 2>/tmp/mon.err &
mon=$!
wait_for '[ "$(grep -c "\"type\":\"sample\"" /tmp/mon.json)" -ge 1 ]' 10 || fail "no samples: $(cat /tmp/mon.json /tmp/mon.err)"
wget -q -O - http://127.0.0.1:8081/cgi-bin/run >/dev/null || fail "the CGI failed"
wait_for '! alive "$mon"' 20 || fail "monitor --count 1 did not stop: $(cat /tmp/mon.json /tmp/mon.err)"
wait "$mon" || fail "monitor failed: $(cat /tmp/mon.err)"
cat /tmp/mon.json
grep -q '"type":"alert".*"cell":"web"' /tmp/mon.json || fail "no alert of web in the JSON"
grep -q '"type":"end","alerts":1,"missed":0' /tmp/mon.json || fail "no end line"
wait_for '[ -s /tmp/alert.out ]' 10 || fail "the exec-on-alert program did not run"
cat /tmp/alert.out
grep -qx 'argc=3' /tmp/alert.out || fail "exec-on-alert got the wrong arguments"
grep -qx 'arg=two words' /tmp/alert.out || fail "an argument was split"
grep -qx 'arg=$(reboot)' /tmp/alert.out || fail "an argument went through a shell"
grep -qx 'KIS_CELL=web' /tmp/alert.out || fail "KIS_CELL"
for v in KIS_PID KIS_TGID KIS_COMM KIS_SCORE KIS_SEQ KIS_CALLS KIS_TIME KIS_TIME_NS; do
	grep -q "^$v=." /tmp/alert.out || fail "$v missing"
done
grep -qx 'KIS_THRESHOLD=250' /tmp/alert.out || fail "KIS_THRESHOLD"
head -n 1 /tmp/mon.log | grep -q '^# kisctl monitor log: TIME_MS CELL PID SCORE THRESHOLD' ||
	fail "the log has no header"
awk 'NF == 5 && $2 == "web" && $5 == 250 { s++ } NF == 10 && $6 == "alert" { a++ }
	END { exit !(s >= 1 && a == 1) }' /tmp/mon.log || fail "log: $(cat /tmp/mon.log)"
[ "$(cell_counter web alerts)" -ge 1 ] || fail "the alerts counter did not count the alert"
refused 1 'gnuplot is not installed' kisctl plot /tmp/mon.log -o /tmp/mon.png

step "trace --program: a temporary cell, processes started later, --count"
refused 1 'already exists' kisctl trace --cell web -o /tmp/mon.log --duration 1
kisctl trace --program getppid_loop --args 'traced *' -o /tmp/p.trace --count 500 >/tmp/p.out 2>&1 &
tr=$!
wait_for 'grep -q "^tracing program" /tmp/p.out' 10 || fail "trace did not start: $(cat /tmp/p.out)"
kis_status | grep -q '^cell trace-[0-9]*: program "getppid_loop" args "traced \*"' ||
	fail "no temporary cell"
getppid_loop traced 2000 3 >/dev/null
wait_for '! alive "$tr"' 20 || fail "trace --count 500 did not stop"
wait "$tr" || fail "trace failed: $(cat /tmp/p.out)"
cat /tmp/p.out
grep -q '^recorded 500 calls of 1 task into /tmp/p.trace; lost 0$' /tmp/p.out || fail "trace summary"
assert_eq "$(wc -l </tmp/p.trace)" 500 "lines of the trace"
awk 'NR != $1 || $3 !~ /^[0-9]+$/ { exit 1 }' /tmp/p.trace || fail "not INDEX PID SYSCALL"
kis_status | grep -q '^cell trace-' && fail "the temporary cell is still loaded"

step "trace --program stopped by SIGINT unloads its cell"
kisctl trace --program threads -o /tmp/t.trace.gz >/tmp/t.out 2>&1 &
tr=$!
wait_for 'grep -q "^tracing program" /tmp/t.out' 10 || fail "trace did not start: $(cat /tmp/t.out)"
threads 1 &
thr=$!
tc=$(kis_status | sed -n 's/^cell \(trace-[0-9]*\):.*/\1/p')
[ -n "$tc" ] || fail "no temporary cell"
wait_for '[ "$(cell_counter "$tc" syscalls)" -gt 50 ]' 20 || fail "threads $thr is not traced"
kill -INT "$tr"
wait "$tr" || fail "trace failed after SIGINT: $(cat /tmp/t.out)"
kill "$thr"
cat /tmp/t.out
grep -q '^recorded [1-9][0-9]* calls of 2 tasks into /tmp/t.trace.gz; lost 0$' /tmp/t.out ||
	fail "trace summary after SIGINT"
kisctl profile learn -o /tmp/t.kis /tmp/t.trace.gz
kis_status | grep -q '^cell trace-' && fail "the temporary cell is still loaded after SIGINT"

step "trace --cell --duration"
(sleep 0.3; workload) &
out kisctl trace --cell web -o /tmp/d.trace --duration 2
assert_contains "$OUT" "lost 0" "trace --cell summary"
[ "$(wc -l </tmp/d.trace)" -gt 50 ] || fail "trace --cell recorded too little"
cell_state_has web tracing && fail "web still tracing"

step "a profile of several hundred KiB"
awk 'BEGIN { srand(7); for (i = 1; i <= 60000; i++) print i, 1, int(rand() * 300) }' >/tmp/big.trace
kisctl profile learn -o /tmp/big.kis /tmp/big.trace
big=$(kisctl profile show /tmp/big.kis | awk '$1 == "k-grams" { print $2 }')
ls -l /tmp/big.kis
out kisctl profile load web /tmp/big.kis
assert_eq "$(cell_counter web profile-kgrams)" "$big" "profile-kgrams of the big profile"

step "profile unload"
out kisctl profile unload web
assert_eq "$OUT" "cell web disarmed" "profile unload"
cell_state_has web armed && fail "web still armed"
out kisctl profile unload web
assert_eq "$OUT" "cell web was not armed" "profile unload again"

step "without CAP_NET_ADMIN"
for c in "learn start web" "learn stop web" "learn save web -o /tmp/x.kis" \
	"profile load web /tmp/web.kis" "profile unload web" "set web --window 3" \
	"trace --cell web -o /tmp/x.trace --duration 1"; do
	_rc=0
	_o=$(as_nobody "kisctl $c" 2>&1) || _rc=$?
	[ "$_rc" = 1 ] || fail "kisctl $c as nobody exited $_rc: $_o"
	assert_contains "$_o" "permission denied" "kisctl $c as nobody"
done
as_nobody "kisctl learn status web" >/dev/null || fail "learn status as nobody"
as_nobody "kisctl monitor --duration 0.5 --interval 100" >/dev/null || fail "monitor as nobody"
[ -e /tmp/x.trace ] && fail "a refused trace left its file"

kill "$web"
kisctl unload web
