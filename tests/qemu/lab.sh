# The ImSafe lab in a guest: a web server with a command-injection hole, a scripted
# normal workload and an attack. Sourced by scenarios and by the demo (the rig copies
# it to /lib/kis/lab.sh). Needs lib.sh for fail/wait_for.

LAB_PORT=8080
LAB_URL=http://127.0.0.1:$LAB_PORT

# lab_setup: web root, a deliberately vulnerable CGI, and busybox httpd on :8080.
# Sets LAB_HTTPD to the server's PID.
lab_setup() {
	mkdir -p /www/cgi-bin /www/docs
	echo "KIS lab home page" >/www/index.html
	for i in 1 2 3 4 5; do
		echo "document $i" >/www/docs/doc$i.txt
	done
	# The hole: the decoded query string reaches eval, as in many real CGI scripts
	# that build a shell command from user input.
	cat >/www/cgi-bin/greet <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
name=$(httpd -d "${QUERY_STRING#name=}")
eval "echo Hello, $name"
CGI
	chmod 755 /www/cgi-bin/greet
	httpd -f -p 127.0.0.1:$LAB_PORT -h /www &
	LAB_HTTPD=$!
	wait_for "wget -q -O /dev/null $LAB_URL/" 20 || fail "httpd does not answer"
}

# lab_normal ROUNDS: the normal workload, ROUNDS times: pages, documents, a missing
# page and the CGI with ordinary names. Fails if a request that should work fails.
lab_normal() {
	_r=0
	while [ "$_r" -lt "$1" ]; do
		_r=$((_r + 1))
		wget -q -O /dev/null "$LAB_URL/" || fail "GET / failed"
		wget -q -O /dev/null "$LAB_URL/docs/doc$((_r % 5 + 1)).txt" || fail "GET doc failed"
		wget -q -O /dev/null "$LAB_URL/missing$_r.html" 2>/dev/null || true
		for _n in alice bob carol; do
			_out=$(wget -q -O - "$LAB_URL/cgi-bin/greet?name=$_n$_r") || fail "GET greet failed"
			[ "$_out" = "Hello, $_n$_r" ] || fail "greet answered '$_out'"
		done
	done
}

# lab_attack: the injection: the server ends up running programs of the attacker's
# choice (here: id, ls and a look at /etc/passwd).
lab_attack() {
	wget -q -O - "$LAB_URL/cgi-bin/greet?name=x%3Bid%3Bls%20-l%20/etc%3Bcat%20/etc/passwd" || true
}

# ---- The APC's statistics: a CGI whose cost the client chooses ----------------------

# lab_app_setup: /www/cgi-bin/app and its data files, served by the lab's httpd.
#   app?echo=N   N lines of text (a response that grows with N)
#   app?burn=N   a shell loop of N rounds (CPU time that grows with N)
#   app?file=F   the file /www/data/F (F is not checked: "../../etc/shadow" works)
lab_app_setup() {
	mkdir -p /www/data
	for f in a b c; do
		echo "data file $f" >/www/data/$f.txt
	done
	cat >/www/cgi-bin/app <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
case "$QUERY_STRING" in
echo=*)
	n=${QUERY_STRING#echo=}; i=0
	while [ "$i" -lt "$n" ]; do echo "line $i of the answer"; i=$((i + 1)); done ;;
burn=*)
	n=${QUERY_STRING#burn=}; i=0
	while [ "$i" -lt "$n" ]; do i=$((i + 1)); done
	echo "burned $n" ;;
file=*)
	cat "/www/data/$(httpd -d "${QUERY_STRING#file=}")" ;;
esac
CGI
	chmod 755 /www/cgi-bin/app
}

# lab_app_get QUERY: one request to the app; prints the answer.
lab_app_get() {
	wget -q -O - "$LAB_URL/cgi-bin/app?$1"
}

# lab_app_normal ROUNDS: the app's normal workload, paced so that every interval of
# the statistics sees about the same: small answers, a little CPU, the data files.
lab_app_normal() {
	_r=0
	while [ "$_r" -lt "$1" ]; do
		_r=$((_r + 1))
		lab_app_get "echo=$((_r % 4 + 3))" >/dev/null || fail "app echo failed"
		lab_app_get "burn=$((_r % 3 * 50 + 100))" >/dev/null || fail "app burn failed"
		_f=$(lab_app_get "file=$(echo a b c | cut -d' ' -f$((_r % 3 + 1))).txt") ||
			fail "app file failed"
		case "$_f" in "data file "*) ;; *) fail "app file answered '$_f'" ;; esac
		wget -q -O /dev/null "$LAB_URL/" || fail "GET / failed"
		sleep 0.2
	done
}
