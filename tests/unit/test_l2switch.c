/* SPDX-License-Identifier: MIT */
/* The cluster switch (osctl/cluster/l2switch.c): learning, flooding, ageing, what it drops;
 * and served on unix datagram sockets, frames between two nodes' sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "osctl/cluster/l2switch.h"

static struct l2sw sw;

static void frame(uint8_t *f, uint8_t dst, uint8_t src)
{
	static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0, 0, 0 };

	memset(f, 0, 60);
	memcpy(f, base, 6);
	memcpy(f + 6, base, 6);
	f[5] = dst;
	f[11] = src;
	f[12] = 0x08;
}

static void test_learn_and_flood(void **state)
{
	uint8_t f[60], bc[60];
	bool out[L2SW_PORTS];

	(void)state;
	l2sw_init(&sw, 3);
	/* Unknown destination: every other port. */
	frame(f, 2, 1);
	assert_int_equal(l2sw_route(&sw, 0, f, sizeof(f), 1000, out), 2);
	assert_false(out[0]);
	assert_true(out[1] && out[2]);
	/* The answer goes only where the first sender was seen. */
	frame(f, 1, 2);
	assert_int_equal(l2sw_route(&sw, 2, f, sizeof(f), 1001, out), 1);
	assert_true(out[0]);
	assert_false(out[1] || out[2]);
	frame(f, 2, 1);
	assert_int_equal(l2sw_route(&sw, 0, f, sizeof(f), 1002, out), 1);
	assert_true(out[2]);
	/* Broadcast: flooded though the destination... is everyone. */
	frame(bc, 0xff, 1);
	memset(bc, 0xff, 6);
	assert_int_equal(l2sw_route(&sw, 0, bc, sizeof(bc), 1003, out), 2);
	/* A station that moved is followed. */
	frame(f, 9, 2);
	l2sw_route(&sw, 1, f, sizeof(f), 1004, out);
	frame(f, 2, 1);
	assert_int_equal(l2sw_route(&sw, 0, f, sizeof(f), 1005, out), 1);
	assert_true(out[1]);
	/* Forgotten after L2SW_AGE_MS without a word: flooded again. */
	assert_int_equal(l2sw_route(&sw, 0, f, sizeof(f), 1005 + L2SW_AGE_MS + 1, out), 2);
}

static void test_drops(void **state)
{
	uint8_t f[60];
	bool out[L2SW_PORTS];

	(void)state;
	l2sw_init(&sw, 2);
	frame(f, 2, 1);
	assert_int_equal(l2sw_route(&sw, 0, f, 13, 0, out), 0);            /* shorter than a header */
	assert_int_equal(l2sw_route(&sw, 0, f, L2SW_FRAME_MAX + 1, 0, out), 0);
	assert_int_equal(l2sw_route(&sw, 5, f, sizeof(f), 0, out), 0);     /* a port it has not */
	f[6] |= 1;                                                           /* a group source */
	assert_int_equal(l2sw_route(&sw, 0, f, sizeof(f), 0, out), 0);
	/* A destination on the port it came from stays there. */
	frame(f, 1, 2);
	l2sw_route(&sw, 0, f, sizeof(f), 0, out);
	frame(f, 2, 1);
	assert_int_equal(l2sw_route(&sw, 0, f, sizeof(f), 1, out), 0);
	assert_int_equal(sw.dropped, 5);
	/* A full table makes room by forgetting the oldest. */
	l2sw_init(&sw, 2);
	for (unsigned i = 0; i < L2SW_MACS + 10; i++) {
		frame(f, 0xff, 0);
		f[10] = (uint8_t)(i >> 8);
		f[11] = (uint8_t)i;
		l2sw_route(&sw, i % 2, f, sizeof(f), i, out);
	}
	assert_int_equal(sw.nmacs, L2SW_MACS);
}

static int bound(const char *dir, const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s", dir, name);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void to_switch(int fd, const char *dir, const uint8_t *f, size_t len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(a.sun_path, sizeof(a.sun_path), "%s/switch.sock", dir);
	for (int i = 0; i < 100; i++) {
		if (sendto(fd, f, len, 0, (struct sockaddr *)&a, sizeof(a)) == (ssize_t)len)
			return;
		usleep(20000);  /* the switch is still starting */
	}
	fail_msg("the switch never took a frame");
}

static ssize_t receive(int fd, uint8_t *buf, size_t len, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return recv(fd, buf, len, 0);
}

static void test_served(void **state)
{
	char dir[] = "/tmp/l2sw.XXXXXX", err[256];
	uint8_t f[60], got[128];
	int a, b, c, st;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	a = bound(dir, "node-0.sock");
	b = bound(dir, "node-1.sock");
	c = bound(dir, "stranger.sock");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(l2sw_serve(dir, 2, err, sizeof(err)) == 0 ? 0 : (fprintf(stderr, "%s\n", err), 1));
	frame(f, 2, 1);
	to_switch(a, dir, f, sizeof(f));
	assert_int_equal(receive(b, got, sizeof(got), 2000), sizeof(f));
	assert_memory_equal(got, f, sizeof(f));
	frame(f, 1, 2);
	to_switch(b, dir, f, sizeof(f));
	assert_int_equal(receive(a, got, sizeof(got), 2000), sizeof(f));
	/* A socket that is none of the cluster's nodes gets nothing on. */
	frame(f, 1, 3);
	to_switch(c, dir, f, sizeof(f));
	assert_true(receive(a, got, sizeof(got), 300) < 0);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(a), close(b), close(c);
	for (const char *n = "node-0.sock\0node-1.sock\0stranger.sock\0"; *n; n += strlen(n) + 1) {
		char p[128];

		snprintf(p, sizeof(p), "%s/%s", dir, n);
		unlink(p);
	}
	{
		char p[128];

		snprintf(p, sizeof(p), "%s/switch.sock", dir);
		assert_int_not_equal(access(p, F_OK), 0);  /* the switch removed its socket */
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_and_flood),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_served),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
