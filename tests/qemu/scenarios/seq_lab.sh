#!/bin/sh
# The ImSafe lab: a web server with a command-injection hole is traced and learned
# under a normal workload; learning in the kernel gives the same profile as learning
# offline from the trace; armed with it, the same kind of normal workload raises no
# alert, the offline scores of a trace equal the kernel's, and the attack (the server
# runs programs of the attacker's choice) raises an alert within a few calls and runs
# the exec-on-alert program.
set -e
. /lib/kis/lib.sh
. /lib/kis/lab.sh

step "the lab server and its cell"
lab_setup
kisctl load /etc/kis/cells/httpd.toml
cell_has_pid httpd "$LAB_HTTPD" || fail "httpd $LAB_HTTPD is not in its cell"

step "trace and learn the normal workload"
kisctl trace --cell httpd -o /tmp/learn.trace >/tmp/trace1.out 2>&1 &
tracer=$!
wait_for 'kisctl status | grep -q "tracing"' 10 || fail "tracing did not start"
kisctl learn start httpd
lab_normal 20
kisctl learn stop httpd
kill -INT "$tracer"
wait "$tracer" || fail "kisctl trace failed: $(cat /tmp/trace1.out)"
cat /tmp/trace1.out
grep -q "lost 0" /tmp/trace1.out || fail "trace records were lost: $(cat /tmp/trace1.out)"

step "in-kernel learning equals offline learning from the trace"
# The statistics section is the module's alone: compare the sequence models.
kisctl learn save --no-stats httpd -o /tmp/kernel.kis
kisctl profile learn -o /tmp/offline.kis /tmp/learn.trace
kisctl profile show /tmp/kernel.kis | head -n 5
cmp /tmp/kernel.kis /tmp/offline.kis || fail "the profile learned in the kernel differs from the offline one"

step "arm the cell; monitor with an exec-on-alert program; trace again"
# Alerts can come in quick succession: each run writes its own file.
cat >/tmp/on-alert <<'SH'
#!/bin/sh
env | grep '^KIS_' | sort >/tmp/alert.$$.tmp
mv /tmp/alert.$$.tmp /tmp/alert.$KIS_SEQ.env
SH
chmod 755 /tmp/on-alert
kisctl profile load httpd /tmp/kernel.kis
mkdir -p /tmp/out
kisctl monitor --cell httpd --log /tmp/out/normality.log --exec-on-alert /tmp/on-alert >/tmp/monitor.out 2>&1 &
monitor=$!
kisctl trace --cell httpd -o /tmp/armed.trace >/tmp/trace2.out 2>&1 &
tracer=$!
wait_for 'kisctl status | grep -q "tracing"' 10 || fail "tracing did not start"

step "the same kind of normal workload raises no alert"
lab_normal 4
[ "$(cell_counter httpd alerts)" = 0 ] || fail "the normal workload raised alerts: $(cat /tmp/monitor.out)"

step "the attack raises an alert and runs the exec-on-alert program"
lab_attack >/tmp/attack.out
grep -q '^root:' /tmp/attack.out || fail "the attack did not work: $(cat /tmp/attack.out)"
# The program also runs for danger signals; the alerts say KIS_EVENT=alert.
wait_for 'grep -l "^KIS_EVENT=alert" /tmp/alert.*.env >/dev/null 2>&1' 20 ||
	fail "no exec-on-alert run; monitor said: $(cat /tmp/monitor.out)"
sleep 1
first=$(grep -l '^KIS_EVENT=alert' /tmp/alert.*.env | head -n 1)
cat "$first"
grep -qx 'KIS_CELL=httpd' "$first" || fail "alert for the wrong cell"
grep -q '^KIS_CALLS=[0-9]' "$first" || fail "no recent calls in the alert"
alerts=$(cell_counter httpd alerts)
[ "$alerts" -ge 1 ] || fail "no alert counted"
kill -INT "$tracer"
wait "$tracer" || fail "kisctl trace failed: $(cat /tmp/trace2.out)"
grep -q "lost 0" /tmp/trace2.out || fail "trace records were lost: $(cat /tmp/trace2.out)"
kill -INT "$monitor"
wait "$monitor" || true
cat /tmp/monitor.out

step "offline scoring of the trace predicts exactly the kernel's alerts"
threshold=$(kisctl status --json | sed -n 's/.*"threshold":\([0-9]*\).*/\1/p')
[ "$threshold" = 400 ] || fail "the cell's threshold is '$threshold', not the 400 of its config"
kisctl profile score --threshold "$threshold" /tmp/kernel.kis /tmp/armed.trace >/tmp/offline.score
cat /tmp/offline.score
# PID and number of alerts: from the kernel (monitor log) and from the offline scores.
awk '$6 == "alert" { n[$3]++ } END { for (p in n) print p, n[p] }' /tmp/out/normality.log | sort >/tmp/kernel.alerts
awk '$5 == "yes" { n = $6; sub(/^\(/, "", n); print $2, n }' /tmp/offline.score | sort >/tmp/offline.alerts
echo "kernel alerts (pid count):"; cat /tmp/kernel.alerts
echo "offline alerts (pid count):"; cat /tmp/offline.alerts
[ -s /tmp/kernel.alerts ] || fail "the monitor log has no alert"
cmp /tmp/kernel.alerts /tmp/offline.alerts || fail "offline scores do not predict the kernel's alerts"
[ "$(wc -l </tmp/kernel.alerts)" = "$alerts" ] || [ "$(awk '{ s += $2 } END { print s }' /tmp/kernel.alerts)" = "$alerts" ] ||
	fail "the monitor saw other alerts than the module counted ($alerts)"

step "the attack is caught within a few calls of the processes it starts"
soonest=$(sed -n 's/.*first at call \([0-9]*\).*/\1/p' /tmp/offline.score | sort -n | head -n 1)
echo "earliest alert: at call $soonest of its process"
[ "$soonest" -le 20 ] || fail "the earliest alert came only at call $soonest"
