#!/bin/sh
# The APC's statistics: a web server is tolerized under a scripted normal workload;
# the same workload afterwards raises no danger signal; a request that burns CPU, a
# read outside the learned file tree, a response many times larger than normal
# (exfiltration) and a connection flood each raise a danger signal on the right
# parameter. The learned statistics survive a reload of the cell through the profile
# file. Hard tolerization: with expected values in the config, an abnormal burst
# during learning is reported as suspected training and not learned; learning with a
# duration ends by itself.
set -e
. /lib/kis/lib.sh
. /lib/kis/lab.sh

MON=/tmp/monitor.json

# cell_config FILE [EXTRA]: the cell, sampled every 500 ms, with EXTRA TOML appended.
cell_config() {
	cat >"$1" <<TOML
[[cell]]
name = "httpd"
program = "httpd"
[cell.stats]
interval = "500ms"
$2
TOML
}

# monitor_start / monitor_stop: kisctl monitor --json into $MON.
monitor_start() {
	kisctl monitor --json >"$MON" 2>&1 &
	MONITOR=$!
	wait_for "grep -q '\"type\":\"param\"' $MON" 10 || fail "the monitor does not report"
}
monitor_stop() {
	kill -INT "$MONITOR"
	wait "$MONITOR" || true
}

# mark: the number of lines the monitor has written so far.
mark() {
	wc -l <"$MON"
}

# dangers_after MARK: danger and training events written after line MARK.
dangers_after() {
	awk -v m="$1" 'NR > m && /"type":"(danger|training)"/' "$MON"
}

# rise_seen MARK PARAM LEVEL: true if PARAM rose to LEVEL or more after line MARK.
rise_seen() {
	dangers_after "$1" | grep '"rising":true' | grep "\"param\":\"$2\"" |
		sed -n 's/.*"level":\([0-9]\).*/\1/p' | awk -v l="$3" '$1 >= l { f = 1 } END { exit !f }'
}

# expect_rise MARK PARAM LEVEL WHAT: waits for the rise, or fails naming WHAT.
expect_rise() {
	wait_for "rise_seen $1 $2 $3" 10 ||
		fail "$4 raised no danger signal $3 on $2; events: $(dangers_after "$1")"
	dangers_after "$1" | grep "\"param\":\"$2\"" | head -n 1
}

step "the lab server with its app, and a cell sampled every 500 ms"
lab_setup
lab_app_setup
cell_config /tmp/httpd.toml
kisctl load /tmp/httpd.toml

step "tolerization under the normal workload"
kisctl learn start httpd
lab_app_normal 50
kisctl learn stop httpd
kisctl learn status httpd
kisctl status --json >/tmp/learned.json
samples=$(kisctl status --json | sed -n 's/.*"name":"cpu"[^}]*"samples":\([0-9]*\).*/\1/p')
[ "${samples:-0}" -ge 20 ] || fail "only '$samples' CPU samples learned"

step "the same normal workload raises no danger signal"
monitor_start
m=$(mark)
lab_app_normal 20
sleep 1
[ -z "$(dangers_after "$m")" ] || fail "the normal workload raised danger signals: $(dangers_after "$m")"
kisctl status | grep -q "danger none" || fail "the cell is in danger after normal work"

step "a request that burns CPU raises danger signal 2 on cpu"
m=$(mark)
# A busy interval is all CPU: a normal one is well below.
lab_app_get "burn=100000" >/dev/null
expect_rise "$m" cpu 2 "burning CPU"

step "a read outside the learned file tree raises a danger signal on files_outside"
m=$(mark)
lab_app_get "file=..%2F..%2Fetc%2Fpasswd" | grep -q '^root:' || fail "the traversal did not work"
expect_rise "$m" files_outside 1 "reading /etc/passwd"
dangers_after "$m" | grep '"param":"files_outside"' | grep -q '"path":"/etc/passwd"' ||
	fail "the danger event does not name /etc/passwd"

step "a response many times larger than normal raises danger signal 2 on conn_tx_bytes"
m=$(mark)
lab_app_get "echo=3000" >/dev/null
expect_rise "$m" conn_tx_bytes 2 "a 70 KB response"
dangers_after "$m" | grep '"param":"conn_tx_bytes"' | grep -q '"peer":"127.0.0.1:[0-9]*"' ||
	fail "the danger event does not name the connection"

step "a connection flood raises a danger signal on connections"
m=$(mark)
connflood 8080 200
expect_rise "$m" connections 1 "200 connections"
kisctl status | grep -Eq "danger (1|2)," || fail "kisctl status does not show the danger"

step "kisctl status lists the connections the cell holds open"
sleep 6 | nc 127.0.0.1 8080 >/dev/null 2>&1 &
idle=$!
wait_for 'kisctl status | grep -Eq "^  127\.0\.0\.1:[0-9]+ +8080 "' 10 ||
	fail "an open connection to httpd is not listed"
kisctl status | grep -E "^  (PEER|127\.0\.0\.1:)"
kisctl status --json | grep -q '"connections":\[{"peer":"127.0.0.1:' || fail "status --json lists no connection"
kill "$idle" 2>/dev/null || true

step "the signals decay when behaviour returns to normal"
wait_for 'kisctl status | grep -q "danger none"' 30 || fail "the danger signals did not decay"
m=$(mark)
lab_app_normal 6
sleep 1
[ -z "$(dangers_after "$m")" ] || fail "normal work after the attacks raised: $(dangers_after "$m")"
monitor_stop

step "the statistics are saved with the profile and armed again after a reload"
kisctl learn save httpd -o /tmp/httpd.kis
kisctl profile show /tmp/httpd.kis | grep -i "cpu"
kisctl unload httpd
kisctl load /tmp/httpd.toml
kisctl profile load httpd /tmp/httpd.kis
cpu_t2() { kisctl status --json | sed -n 's/.*"name":"cpu"[^}]*"t2":\([0-9]*\).*/\1/p'; }
[ -n "$(cpu_t2)" ] || fail "the reloaded cell has no cpu threshold"
monitor_start
m=$(mark)
lab_app_get "file=..%2F..%2Fetc%2Fshadow" >/dev/null || true
expect_rise "$m" files_outside 1 "reading /etc/shadow after the reload"
monitor_stop
kisctl unload httpd

step "hard tolerization: an abnormal burst while learning is reported, not learned"
cpu_mean=$(sed -n 's/.*"name":"cpu"[^}]*"mean":\([0-9]*\).*/\1/p' /tmp/learned.json)
[ "${cpu_mean:-0}" -gt 0 ] || fail "no learned CPU mean to expect"
cell_config /tmp/hard.toml "file_globs = [\"/www/*\", \"/bin/*\", \"/dev/*\", \"/etc/httpd.conf\", \"/proc/*\"]
[cell.stats.cpu]
expect = $cpu_mean
tolerance = 100"
kisctl load /tmp/hard.toml
monitor_start
m=$(mark)
# This run ends by itself: learn start --for.
kisctl learn start httpd --for 12s
kisctl learn status httpd | grep -q "stops by itself in" || fail "learn status does not say when learning ends"
lab_app_normal 6
lab_app_get "burn=100000" >/dev/null
lab_app_get "file=..%2F..%2Fetc%2Fpasswd" >/dev/null
lab_app_normal 6
wait_for 'kisctl learn status httpd | grep -q "^cell httpd: stopped"' 30 ||
	fail "learning did not stop by itself: $(kisctl learn status httpd)"
dmesg | grep -q "cell httpd: learning stopped after its time" || fail "the module did not log the end of learning"
sleep 1
monitor_stop
dangers_after "$m" | grep '"type":"training"' | grep -q '"param":"cpu"' ||
	fail "the CPU burst was not reported as suspected training: $(dangers_after "$m")"
dangers_after "$m" | grep '"type":"training"' | grep -q '"path":"/etc/passwd"' ||
	fail "the read outside the expected tree was not reported: $(dangers_after "$m")"
training=$(kisctl status --json | sed -n 's/.*"training":\([0-9]*\).*/\1/p')
[ "${training:-0}" -ge 2 ] || fail "kisctl status counts '$training' suspected training samples"
hard_mean=$(kisctl status --json | sed -n 's/.*"name":"cpu"[^}]*"mean":\([0-9]*\).*/\1/p')
echo "expected cpu $cpu_mean us, learned $hard_mean us"
[ "$hard_mean" -le $((cpu_mean * 2)) ] || fail "the burst was learned: cpu mean $hard_mean"
kisctl unload httpd
