#!/bin/sh
# The KIS demo, run in a guest by tests/demo (`make demo`): a web server is
# picked up by a cell, serves a few requests, and kisctl status shows what KIS saw.
set -e

say() {
	echo
	echo ">>> $*"
}

say "KIS demo: the kis module is loaded in this guest"
kisctl version

say "Start busybox httpd on 127.0.0.1:8080, serving /www"
mkdir -p /www/cgi-bin
echo "Hello from a watched web server" >/www/index.html
cat >/www/cgi-bin/hello <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "Hello from a CGI run by httpd (pid $$)"
CGI
chmod 755 /www/cgi-bin/hello
httpd -f -p 127.0.0.1:8080 -h /www &
httpd_pid=$!
i=0
until wget -q -O /dev/null http://127.0.0.1:8080/ 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { echo "httpd does not answer"; exit 1; }
	sleep 0.1
done
echo "httpd is running as PID $httpd_pid"

say "The cell config shipped in conf/cells/httpd.toml (comments left out)"
grep -v '^#' /etc/kis/cells/httpd.toml | grep -v '^$'

say "kisctl load /etc/kis/cells/httpd.toml: the running httpd joins the cell"
kisctl load /etc/kis/cells/httpd.toml
kisctl status

say "Serve a page and a CGI: each request forks an httpd, the CGI is exec'd by it"
echo "GET /            -> $(wget -q -O - http://127.0.0.1:8080/)"
echo "GET /cgi-bin/hello -> $(wget -q -O - http://127.0.0.1:8080/cgi-bin/hello)"
echo "GET /cgi-bin/hello -> $(wget -q -O - http://127.0.0.1:8080/cgi-bin/hello)"

say "kisctl status: the children came and went (joined/left), execs and syscalls counted"
kisctl status

say "The same as JSON (kisctl status --json)"
kisctl status --json

say "kisctl unload httpd: KIS stops watching, httpd keeps serving"
kisctl unload httpd
kisctl status
echo "GET /            -> $(wget -q -O - http://127.0.0.1:8080/)"
kill "$httpd_pid"

say "Demo done"
