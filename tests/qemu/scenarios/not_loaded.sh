#!/bin/sh
# kis-run: --no-load
# Without the module, kisctl status says so and fails; the commands that need the
# module fail too, while kisctl check (no module needed) still works.
set -e
. /lib/kis/lib.sh

grep -q '^kis ' /proc/modules && fail "kis is loaded although the rig was told --no-load"

# run_rc CMD...: runs CMD; sets $out (stdout + stderr) and $rc.
run_rc() {
	out=$("$@" 2>&1) && rc=0 || rc=$?
	echo "\$ $* -> exit $rc"
	echo "$out" | sed 's/^/  | /'
}

step "kisctl status without the module"
run_rc kisctl status
assert_eq "$rc" 1 "exit status of kisctl status without the module"
assert_contains "$out" "not loaded" "kisctl status without the module"

step "kisctl load and unload without the module"
run_rc kisctl load /etc/kis/cells/httpd.toml
assert_eq "$rc" 1 "exit status of kisctl load without the module"
assert_contains "$out" "not loaded" "kisctl load without the module"
run_rc kisctl unload httpd
assert_eq "$rc" 1 "exit status of kisctl unload without the module"
assert_contains "$out" "not loaded" "kisctl unload without the module"

step "kisctl check needs no module"
run_rc kisctl check /etc/kis/cells/httpd.toml
assert_eq "$rc" 0 "exit status of kisctl check without the module"

step "loading the module makes kisctl status work"
insmod /lib/kis/kis.ko
run_rc kisctl status
assert_eq "$rc" 0 "exit status of kisctl status with the module"
assert_contains "$out" "no cells loaded" "kisctl status with the module"
rmmod kis
run_rc kisctl status
assert_eq "$rc" 1 "exit status of kisctl status after rmmod"
assert_contains "$out" "not loaded" "kisctl status after rmmod"
echo "not_loaded: ok"
