// SPDX-License-Identifier: GPL-2.0
/*
 * getppid_loop LABEL N [ROUNDS]: makes N getppid system calls, ROUNDS times
 * (default 5), and prints the fastest round as "LABEL ns_per_call". The
 * label only makes the command line matchable by a cell (the guest benchmark
 * watches "getppid_loop watched ..." and not "getppid_loop unwatched ...").
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n, rounds, i, r;
	double best = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: getppid_loop LABEL N [ROUNDS]\n");
		return 2;
	}
	n = atol(argv[2]);
	rounds = argc > 3 ? atol(argv[3]) : 5;
	if (n <= 0 || rounds <= 0) {
		fprintf(stderr, "getppid_loop: N and ROUNDS must be positive\n");
		return 2;
	}
	for (r = 0; r < rounds; r++) {
		double t0 = now_ns(), t;

		for (i = 0; i < n; i++)
			syscall(SYS_getppid);
		t = (now_ns() - t0) / n;
		if (r == 0 || t < best)
			best = t;
	}
	printf("%s %.1f\n", argv[1], best);
	return 0;
}
