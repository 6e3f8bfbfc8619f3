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
