// SPDX-License-Identifier: GPL-2.0
/*
 * execer SECONDS PROGRAM [ARGS...]: sleeps SECONDS (fractions allowed), then
 * execve()s PROGRAM (looked up in PATH) with ARGS, keeping its PID. Used by the
 * guest scenarios to check what a cell does when a member calls execve().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts;
	double secs;
	char *end;

	if (argc < 3) {
		fprintf(stderr, "usage: execer SECONDS PROGRAM [ARGS...]\n");
		return 2;
	}
	secs = strtod(argv[1], &end);
	if (*end || secs < 0) {
		fprintf(stderr, "execer: bad number of seconds '%s'\n", argv[1]);
		return 2;
	}
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	execvp(argv[2], &argv[2]);
	fprintf(stderr, "execer: cannot execute %s: %s\n", argv[2], strerror(errno));
	return 127;
}
