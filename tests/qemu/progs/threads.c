// SPDX-License-Identifier: GPL-2.0
/*
 * threads [N]: starts N threads (default 3) that, like the main thread, loop
 * forever doing cheap system calls (getppid, then a 10 ms nanosleep). The
 * process has N + 1 tasks, all with the same TGID. Used by the guest scenarios
 * to check that a cell follows every thread of a process.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void *spin(void *arg)
{
	const struct timespec ts = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };

	(void)arg;
	for (;;) {
		getppid();
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;

	if (n < 0 || n > 1000) {
		fprintf(stderr, "usage: threads [N], 0 <= N <= 1000\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		pthread_t t;
		int err = pthread_create(&t, NULL, spin, NULL);

		if (err) {
			fprintf(stderr, "threads: pthread_create: error %d\n", err);
			return 1;
		}
	}
	spin(NULL);
	return 0;
}
