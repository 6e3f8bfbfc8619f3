// SPDX-License-Identifier: GPL-2.0
/*
 * udpecho serve PORT: answers every UDP datagram to 127.0.0.1:PORT with the
 * same bytes, forever.
 * udpecho send PORT N SIZE: sends N datagrams of SIZE bytes to it, each
 * after the echo of the one before (or a second without), and prints how
 * many were echoed. The UDP traffic of the statistics scenarios.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static char buf[65536];

static int serve(const struct sockaddr_in *addr)
{
	struct sockaddr_in from;
	socklen_t len;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (const struct sockaddr *)addr, sizeof(*addr))) {
		perror("udpecho: bind");
		return 1;
	}
	for (;;) {
		len = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
		if (n < 0)
			continue;
		sendto(fd, buf, n, 0, (struct sockaddr *)&from, len);
	}
}

static int send_all(const struct sockaddr_in *addr, long count, long size)
{
	struct timeval tv = { .tv_sec = 1 };
	long i, echoed = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || size < 1 || size > (long)sizeof(buf)) {
		fprintf(stderr, "udpecho: bad size or no socket\n");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(buf, 'k', size);
	for (i = 0; i < count; i++) {
		if (sendto(fd, buf, size, 0, (const struct sockaddr *)addr,
			   sizeof(*addr)) != size)
			continue;
		if (recv(fd, buf, sizeof(buf), 0) == size)
			echoed++;
	}
	printf("echoed %ld of %ld\n", echoed, count);
	return echoed == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (argc == 3 && !strcmp(argv[1], "serve")) {
		addr.sin_port = htons(atoi(argv[2]));
		return serve(&addr);
	}
	if (argc == 5 && !strcmp(argv[1], "send")) {
		addr.sin_port = htons(atoi(argv[2]));
		return send_all(&addr, atol(argv[3]), atol(argv[4]));
	}
	fprintf(stderr, "usage: udpecho serve PORT | udpecho send PORT N SIZE\n");
	return 2;
}
