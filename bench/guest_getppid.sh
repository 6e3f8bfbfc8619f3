#!/bin/sh
# Guest half of the getppid benchmark (run by bench/run through tests/qemu/run
# --no-load): the cost of a system call with KIS not loaded, loaded with a cell
# that does not watch the caller, watching it, and watching it with an armed
# sequence profile. Prints ns per call and the ratios to "not loaded".
set -e
. /lib/kis/lib.sh
N=${1:-200000}

run() {
	getppid_loop "$1" "$N" 7 | awk '{ print $2 }'
}

base=$(run base)
insmod /lib/kis/kis.ko
nocell=$(run nocell)
cat >/tmp/bench.toml <<'TOML'
[[cell]]
name = "bench"
program = "getppid_loop"
args = "watched *"
TOML
kisctl load /tmp/bench.toml >/dev/null
unwatched=$(run unwatched)
watched=$(run watched)
armed=
if kisctl learn start bench >/dev/null 2>&1; then
	getppid_loop watched 2000 1 >/dev/null
	kisctl learn stop bench >/dev/null
	kisctl learn save bench -o /tmp/bench.kis >/dev/null
	kisctl profile load bench /tmp/bench.kis >/dev/null
	armed=$(run watched)
fi
rmmod kis
echo "getppid ns/call (guest, TCG; fastest of 7 rounds of $N calls):"
awk -v b="$base" -v n="$nocell" -v u="$unwatched" -v w="$watched" -v a="$armed" 'BEGIN {
	printf "  %-34s %8.1f ns\n", "module not loaded", b
	printf "  %-34s %8.1f ns  ratio %.3f\n", "loaded, no cell", n, n / b
	printf "  %-34s %8.1f ns  ratio %.3f (goal <= 1.05)\n", "loaded, caller unwatched", u, u / b
	printf "  %-34s %8.1f ns  ratio %.3f (goal <= 1.5)\n", "watched (counting)", w, w / b
	if (a != "")
		printf "  %-34s %8.1f ns  ratio %.3f (goal <= 1.5)\n", "watched, armed profile", a, a / b
}'
