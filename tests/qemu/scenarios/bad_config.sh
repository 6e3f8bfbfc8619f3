#!/bin/sh
# kisctl load is all or nothing: one bad file among good ones loads nothing and
# names the bad file and line; a request whose second cell clashes with a loaded
# cell is refused as a whole by the module.
set -e
. /lib/kis/lib.sh

cat >/tmp/good.toml <<'EOF'
[[cell]]
name = "alpha"
program = "sleep"
EOF
# Line 5 has the typo.
cat >/tmp/bad.toml <<'EOF'
# A cell with a typo'd key.
[[cell]]
name = "beta"
program = "sleep"
max_task = 10
EOF
cat >/tmp/clash.toml <<'EOF'
[[cell]]
name = "gamma"
program = "sleep"

[[cell]]
name = "alpha"
program = "httpd"
EOF

# run_rc CMD...: runs CMD; sets $out (stdout + stderr) and $rc.
run_rc() {
	out=$("$@" 2>&1) && rc=0 || rc=$?
	echo "\$ $* -> exit $rc"
	echo "$out" | sed 's/^/  | /'
}

step "kisctl check tells the good file from the bad one"
run_rc kisctl check /tmp/good.toml
assert_eq "$rc" 0 "exit status of kisctl check good.toml"
run_rc kisctl check /tmp/bad.toml
assert_eq "$rc" 1 "exit status of kisctl check bad.toml"
assert_contains "$out" "/tmp/bad.toml:5:" "kisctl check bad.toml names the line of the typo"

step "kisctl load good.toml bad.toml loads nothing"
run_rc kisctl load /tmp/good.toml /tmp/bad.toml
assert_eq "$rc" 1 "exit status of kisctl load good.toml bad.toml"
assert_contains "$out" "/tmp/bad.toml:5:" "the load error names bad.toml and the line of the typo"
case $out in *"/tmp/good.toml:"[0-9]*) fail "an error is reported against good.toml: $out" ;; esac
st=$(kis_status)
echo "$st"
assert_contains "$st" "no cells loaded" "status after the refused load"
assert_eq "$(tasks_watched)" 0 "tasks watched after the refused load"

step "the bad file alone, and before the good one, is refused too"
run_rc kisctl load /tmp/bad.toml /tmp/good.toml
assert_eq "$rc" 1 "exit status of kisctl load bad.toml good.toml"
assert_contains "$(kis_status)" "no cells loaded" "status after the second refused load"

step "good.toml alone loads"
sleep 1000 &
sl=$!
run_rc kisctl load /tmp/good.toml
assert_eq "$rc" 0 "exit status of kisctl load good.toml"
has_cell alpha || fail "cell alpha is not loaded"
assert_eq "$(cell_pids alpha)" "$sl" "cell alpha picks up the running sleep"

step "clash.toml: gamma, then alpha again: the whole request is refused"
before=$(kis_status | grep '^cell ')
run_rc kisctl load /tmp/clash.toml
assert_eq "$rc" 1 "exit status of kisctl load clash.toml"
[ -n "$out" ] || fail "kisctl load clash.toml printed no error"
has_cell gamma && fail "cell gamma (first of clash.toml) was loaded although alpha clashed"
assert_eq "$(kis_status | grep '^cell ')" "$before" "cells after the refused clash"
assert_eq "$(cell_pids alpha)" "$sl" "cell alpha still holds the sleep"

step "loading the same file twice is refused, and unloading a missing cell fails"
run_rc kisctl load /tmp/good.toml
assert_eq "$rc" 1 "exit status of loading alpha twice"
assert_eq "$(kis_status | grep '^cell ')" "$before" "cells after loading alpha twice"
run_rc kisctl unload nosuchcell
assert_eq "$rc" 1 "exit status of kisctl unload nosuchcell"

step "unload alpha"
kisctl unload alpha
assert_contains "$(kis_status)" "no cells loaded" "status after unloading alpha"
kill "$sl"
echo "bad_config: ok"
