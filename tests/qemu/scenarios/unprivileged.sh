#!/bin/sh
# An unprivileged user (nobody) cannot load or unload cells, and nothing changes
# when it tries; it can read kisctl status.
set -e
. /lib/kis/lib.sh

# cells_of_status: the status without the counters and tasks (those may move).
cells_of_status() {
	kis_status | grep -E '^(kis module|cell |no cells loaded)'
}

step "root loads the httpd cell"
kisctl load /etc/kis/cells/httpd.toml
has_cell httpd || fail "root could not load the httpd cell"

cat >/tmp/nobody.toml <<'EOF'
[[cell]]
name = "nobody-cell"
program = "sleep"
EOF
chmod 644 /tmp/nobody.toml
before=$(cells_of_status)
echo "$before"

# as_nobody_rc CMD: runs CMD as nobody; sets $out (stdout + stderr) and $rc.
as_nobody_rc() {
	out=$(as_nobody "$1" 2>&1) && rc=0 || rc=$?
	echo "nobody\$ $1 -> exit $rc"
	echo "$out" | sed 's/^/  | /'
}

step "nobody really is nobody"
as_nobody_rc 'id -u'
assert_eq "$out" 65534 "uid of the su'd shell"

step "nobody: kisctl load is refused"
as_nobody_rc 'kisctl load /tmp/nobody.toml'
assert_eq "$rc" 1 "exit status of kisctl load as nobody"
assert_contains "$out" "permission denied" "message of kisctl load as nobody"
assert_eq "$(cells_of_status)" "$before" "cells after the refused load"
has_cell nobody-cell && fail "nobody-cell got loaded"

step "nobody: kisctl unload httpd is refused"
as_nobody_rc 'kisctl unload httpd'
assert_eq "$rc" 1 "exit status of kisctl unload as nobody"
assert_contains "$out" "permission denied" "message of kisctl unload as nobody"
assert_eq "$(cells_of_status)" "$before" "cells after the refused unload"
has_cell httpd || fail "the httpd cell is gone after nobody's unload"

step "nobody: kisctl status and kisctl version work"
as_nobody_rc 'kisctl status'
assert_eq "$rc" 0 "exit status of kisctl status as nobody"
assert_contains "$out" 'cell httpd: program "httpd"' "kisctl status as nobody"
assert_contains "$out" "kis module " "kisctl status as nobody"
as_nobody_rc 'kisctl status --json'
assert_eq "$rc" 0 "exit status of kisctl status --json as nobody"
assert_contains "$out" '"name":"httpd"' "kisctl status --json as nobody"
as_nobody_rc 'kisctl version'
assert_eq "$rc" 0 "exit status of kisctl version as nobody"
assert_contains "$out" "kis module 0." "kisctl version as nobody"

step "root still can: load and unload nobody.toml"
kisctl load /tmp/nobody.toml
has_cell nobody-cell || fail "root could not load nobody-cell"
kisctl unload nobody-cell
has_cell nobody-cell && fail "root could not unload nobody-cell"
kisctl unload httpd
assert_contains "$(kis_status)" "no cells loaded" "status after root's unloads"

echo "unprivileged: ok"
