#!/bin/sh
# A cell picks up the processes it matches, whether they started before or after
# the cell was loaded, follows their forked children and exec'd CGIs, counts their
# system calls, drops tasks that exit, and unloading it leaves them running.
set -e
. /lib/kis/lib.sh

step "a web root with a slow CGI"
mkdir -p /www/cgi-bin
echo "static page" >/www/index.html
cat >/www/cgi-bin/slow <<'EOF'
#!/bin/sh
sleep 3
printf 'Content-Type: text/plain\r\n\r\n'
echo "slow page"
EOF
chmod 755 /www/cgi-bin/slow

step "httpd on :8080 before the cell is loaded, and an unrelated sleep"
httpd -f -p 127.0.0.1:8080 -h /www &
h1=$!
sleep 1000 &
sleeper=$!
wait_for 'wget -q -O /dev/null http://127.0.0.1:8080/' 20 || fail "httpd on :8080 does not answer"

step "kisctl load /etc/kis/cells/httpd.toml"
kisctl load /etc/kis/cells/httpd.toml
kisctl status
assert_eq "$(cell_pids httpd)" "$h1" "the cell should hold exactly the httpd started before the load"
assert_eq "$(cell_comm httpd "$h1")" "httpd" "comm of the first httpd"
assert_eq "$(cell_counter httpd tasks)" 1 "tasks counter after the load"

step "httpd on :8081 after the cell is loaded"
httpd -f -p 127.0.0.1:8081 -h /www &
h2=$!
wait_for 'wget -q -O /dev/null http://127.0.0.1:8081/' 20 || fail "httpd on :8081 does not answer"
kisctl status
expected=$(printf '%s\n%s\n' "$h1" "$h2" | sort -n)
assert_eq "$(cell_pids httpd)" "$expected" "the cell should hold both httpd (PIDs $h1 $h2)"
cell_has_pid httpd "$sleeper" && fail "the unrelated sleep ($sleeper) is in the cell"
assert_eq "$(cell_counter httpd tasks)" 2 "tasks counter with two httpd"

step "the syscalls counter grows while httpd serves"
s1=$(cell_counter httpd syscalls)
for i in 1 2 3; do
	wget -q -O /tmp/page http://127.0.0.1:8080/ || fail "request $i to :8080 failed"
done
assert_eq "$(cat /tmp/page)" "static page" "page served by :8080"
s2=$(cell_counter httpd syscalls)
[ "$s2" -gt "$s1" ] || fail "syscalls counter did not grow across 3 requests: $s1 -> $s2"
echo "syscalls $s1 -> $s2"

step "a slow CGI request: the forked httpd and the CGI join the cell"
joined0=$(cell_counter httpd joined)
left0=$(cell_counter httpd left)
wget -q -O /tmp/slow.out http://127.0.0.1:8080/cgi-bin/slow &
wg=$!
# The forked connection handler and the CGI it starts (plus, maybe, the CGI's sleep).
wait_for '[ "$(cell_pids httpd | wc -l)" -ge 4 ]' 20 || fail "the request's children did not join the cell"
kisctl status
cell_has_pid httpd "$wg" && fail "wget ($wg) is in the cell"
extra=$(cell_pids httpd | grep -vx -e "$h1" -e "$h2")
n_httpd=0 n_cgi=0
for p in $extra; do
	c=$(cell_comm httpd "$p")
	# Forked children of the cell's httpd: the handler (an httpd) and what it ran.
	ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
	echo "extra task $p comm '$c' ppid '$ppid'"
	if [ "$c" = httpd ]; then
		n_httpd=$((n_httpd + 1))
	else
		n_cgi=$((n_cgi + 1))
	fi
done
[ "$n_httpd" -ge 1 ] || fail "no forked httpd handler in the cell (extra tasks: $extra)"
[ "$n_cgi" -ge 1 ] || fail "no CGI task in the cell (extra tasks: $extra)"

step "the request finishes: its children leave the cell"
wait "$wg" || fail "the CGI request failed"
assert_eq "$(cat /tmp/slow.out)" "slow page" "CGI output"
wait_for '[ "$(cell_pids httpd)" = "$expected" ]' 20 || fail "the request's children are still listed"
joined1=$(cell_counter httpd joined)
left1=$(cell_counter httpd left)
[ $((joined1 - joined0)) -ge 2 ] || fail "joined grew by $((joined1 - joined0)), expected >= 2"
[ $((left1 - left0)) -eq $((joined1 - joined0)) ] ||
	fail "left grew by $((left1 - left0)) but joined by $((joined1 - joined0))"
assert_eq "$(cell_counter httpd tasks)" 2 "tasks counter after the request"

step "killing the first httpd removes it from the cell"
kill "$h1"
wait "$h1" 2>/dev/null || true
wait_for '! cell_has_pid httpd "$h1"' 10 || fail "httpd $h1 was killed but is still listed"
assert_eq "$(cell_pids httpd)" "$h2" "only the second httpd should be left"
assert_eq "$(cell_counter httpd tasks)" 1 "tasks counter after the kill"

step "kisctl unload httpd"
kisctl unload httpd
out=$(kisctl status)
echo "$out"
assert_contains "$out" "no cells loaded" "status after unload"
assert_eq "$(tasks_watched)" 0 "tasks watched after unload"
alive "$h2" || fail "the second httpd died after the unload"
wget -q -O /tmp/page http://127.0.0.1:8081/ || fail "the second httpd stopped serving after the unload"
assert_eq "$(cat /tmp/page)" "static page" "page served by :8081 after the unload"

kill "$h2" "$sleeper" 2>/dev/null || true
echo "cell_pickup: ok"
