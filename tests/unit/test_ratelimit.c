/* The per-worker request limit: windows, separate addresses, retry time, eviction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "http/ratelimit.h"

static void limits_each_address_per_window(void **state)
{
	struct ratelimit *rl = ratelimit_new(3);
	int retry = 0;
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_allow(rl, "10.0.0.1", 1000, &retry));
	assert_false(ratelimit_allow(rl, "10.0.0.1", 1000 + 15000, &retry));
	assert_int_equal(retry, 45);
	assert_true(ratelimit_allow(rl, "10.0.0.2", 1000, &retry));
	/* A new window starts a minute after the first request. */
	assert_true(ratelimit_allow(rl, "10.0.0.1", 1000 + 60000, &retry));
	ratelimit_free(rl);
}

static void zero_means_off(void **state)
{
	struct ratelimit *rl = ratelimit_new(0);
	int retry;
	for (int i = 0; i < 1000; i++)
		assert_true(ratelimit_allow(rl, "10.0.0.1", 0, &retry));
	ratelimit_free(rl);
	assert_true(ratelimit_allow(NULL, "x", 0, &retry));
}

static void many_addresses_do_not_break_it(void **state)
{
	struct ratelimit *rl = ratelimit_new(2);
	int retry;
	char addr[48];
	for (int i = 0; i < 100000; i++) {
		snprintf(addr, sizeof addr, "2001:db8::%x", i);
		assert_true(ratelimit_allow(rl, addr, i, &retry));
	}
	/* A heavy address stays limited while others come and go. */
	assert_true(ratelimit_allow(rl, "192.0.2.1", 200000, &retry));
	assert_true(ratelimit_allow(rl, "192.0.2.1", 200001, &retry));
	assert_false(ratelimit_allow(rl, "192.0.2.1", 200002, &retry));
	ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(limits_each_address_per_window),
	    cmocka_unit_test(zero_means_off),
	    cmocka_unit_test(many_addresses_do_not_break_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
