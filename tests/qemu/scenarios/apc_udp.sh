#!/bin/sh
# The APC counts UDP traffic: a UDP echo server is tolerized under a trickle of small
# datagrams (which its per-cell traffic parameters learn: it has no TCP at all), the same
# trickle afterwards raises no danger signal, and a flood of large datagrams raises
# danger 2 on rx_bytes and tx_bytes.
set -e
. /lib/kis/lib.sh

cat >/tmp/udp.toml <<'TOML'
[[cell]]
name = "udp"
program = "udpecho"
args = "serve *"
[cell.stats]
interval = "500ms"
TOML
kisctl load /tmp/udp.toml
udpecho serve 9000 &
server=$!
wait_for "cell_pids udp | grep -qx $server" 10 || fail "the UDP server is not in its cell"

# trickle ROUNDS: 5 datagrams of 100 bytes, then a pause, ROUNDS times.
trickle() {
	_i=0
	while [ "$_i" -lt "$1" ]; do
		_i=$((_i + 1))
		udpecho send 9000 5 100 >/dev/null || fail "the server did not echo"
		sleep 0.2
	done
}

# param FIELD NAME: a field of a parameter in kisctl status --json.
param() {
	kisctl status --json | sed -n "s/.*\"name\":\"$2\"[^}]*\"$1\":\([0-9]*\).*/\1/p"
}

step "tolerization under a trickle of datagrams"
kisctl learn start udp
trickle 30
kisctl learn stop udp
kisctl learn status udp
rx_mean=$(param mean rx_bytes)
msgs_mean=$(param mean rx_msgs)
echo "learned: rx_bytes mean $rx_mean, rx_msgs mean $msgs_mean per interval"
[ "${msgs_mean:-0}" -ge 1 ] || fail "no datagram was counted (rx_msgs mean '$msgs_mean')"
[ "${rx_mean:-0}" -ge 100 ] || fail "no UDP bytes were counted (rx_bytes mean '$rx_mean')"

step "the same trickle raises no danger signal"
before=$(cell_counter udp danger-events)
trickle 10
sleep 1
[ "$(cell_counter udp danger-events)" = "$before" ] || fail "the trickle raised danger signals"

step "a flood of large datagrams raises danger 2 on rx_bytes and tx_bytes"
udpecho send 9000 400 8000
wait_for '[ "$(param level rx_bytes)" = 2 ] || kisctl status | grep -q "danger 2"' 10 ||
	fail "the flood raised no danger 2"
kisctl status
[ "$(param level rx_bytes)" -ge 1 ] || fail "rx_bytes is not in danger"
[ "$(param level tx_bytes)" -ge 1 ] || fail "tx_bytes is not in danger"
kill "$server"
kisctl unload udp
