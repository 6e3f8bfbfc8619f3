// SPDX-License-Identifier: GPL-2.0
/*
 * connflood PORT N: opens N TCP connections to 127.0.0.1:PORT as fast as it
 * can, each sending "GET / HTTP/1.0" and closing without reading the answer,
 * and prints how many connected. A connection flood for the statistics
 * scenarios; busybox has no tool that opens many connections quickly.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	struct sockaddr_in addr;
	long n, i, ok = 0;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: connflood PORT N\n");
		return 2;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(atoi(argv[1]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	n = atol(argv[2]);
	for (i = 0; i < n; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			perror("socket");
			return 1;
		}
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
			ok++;
			if (write(fd, req, sizeof(req) - 1) < 0)
				perror("write");
		}
		close(fd);
	}
	printf("connected %ld of %ld\n", ok, n);
	return ok == n ? 0 : 1;
}
