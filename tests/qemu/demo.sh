#!/bin/sh
# The KIS demo, run in a guest by tests/demo (`make demo`): the ImSafe lab. A web
# server with a command-injection hole becomes a cell; KIS learns its normal
# system-call sequences, is armed with the profile, lets normal traffic through
# without a word, and raises an alert (running a program of ours) the moment the
# attack makes the server run programs it never runs. The normality history goes
# to /tmp/out for the host to plot.
set -e
. /lib/kis/lib.sh
. /lib/kis/lab.sh

say() {
	echo
	echo ">>> $*"
}

say "KIS demo: the kis module is loaded in this guest"
kisctl version

say "A web server (busybox httpd) with a CGI that greets by name; the name reaches a shell"
lab_setup
echo "GET /cgi-bin/greet?name=alice -> $(wget -q -O - "$LAB_URL/cgi-bin/greet?name=alice")"

say "kisctl load /etc/kis/cells/httpd.toml: the running httpd becomes a cell"
grep -v '^#' /etc/kis/cells/httpd.toml | grep -v '^$'
kisctl load /etc/kis/cells/httpd.toml

say "Tolerization: KIS learns the cell's system-call sequences under normal traffic"
kisctl learn start httpd
lab_normal 8
kisctl learn stop httpd
kisctl learn save httpd -o /tmp/httpd.kis
kisctl profile show /tmp/httpd.kis | head -n 12

say "Arm the cell with the profile; kisctl monitor logs normality and runs a program on alert"
cat >/tmp/on-alert <<'SH'
#!/bin/sh
if [ "$KIS_EVENT" = danger ]; then
	echo "*** on-danger: cell $KIS_CELL, danger $KIS_LEVEL on $KIS_PARAM: $KIS_VALUE $KIS_UNIT (thresholds $KIS_T1, $KIS_T2) $KIS_PATH$KIS_PEER"
else
	echo "*** on-alert: cell $KIS_CELL, process $KIS_PID ($KIS_COMM), anomaly $KIS_SCORE > $KIS_THRESHOLD; last calls: $KIS_CALLS"
fi
SH
chmod 755 /tmp/on-alert
kisctl profile load httpd /tmp/httpd.kis
mkdir -p /tmp/out
kisctl monitor --cell httpd --interval 100 --log /tmp/out/normality.log --exec-on-alert /tmp/on-alert &
monitor=$!
sleep 1

say "Normal traffic again: served, no alert"
lab_normal 3
echo "GET /cgi-bin/greet?name=bob -> $(wget -q -O - "$LAB_URL/cgi-bin/greet?name=bob")"
sleep 1

say "The attack: GET /cgi-bin/greet?name=x;id;ls -l /etc;cat /etc/passwd"
lab_attack | sed 's/^/    | /'
sleep 2

say "kisctl status: the alert is counted; the tasks' anomaly scores are shown"
kill -INT "$monitor" 2>/dev/null || true
wait "$monitor" 2>/dev/null || true
kisctl status

say "Demo done: the normality history is in the guest's /tmp/out/normality.log"
