/* trusted_proxies entries: addresses and networks, IPv4 and IPv6, what they contain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/ipnet.h"

static bool contains(const char *net_text, const char *address_text)
{
	struct ipnet net, address;
	assert_true(ipnet_parse(net_text, &net));
	return ipnet_parse_address(address_text, &address) && ipnet_contains(&net, &address);
}

static void a_bare_address_is_itself_only(void **state)
{
	assert_true(contains("10.0.0.2", "10.0.0.2"));
	assert_false(contains("10.0.0.2", "10.0.0.3"));
	assert_true(contains("2001:db8::1", "2001:db8:0::1"));
	assert_false(contains("2001:db8::1", "2001:db8::2"));
}

static void networks_contain_their_addresses(void **state)
{
	assert_true(contains("10.0.0.0/8", "10.255.3.4"));
	assert_false(contains("10.0.0.0/8", "11.0.0.1"));
	assert_true(contains("192.168.4.0/22", "192.168.7.255"));
	assert_false(contains("192.168.4.0/22", "192.168.8.0"));
	assert_true(contains("172.16.0.0/12", "172.31.0.1"));
	assert_false(contains("172.16.0.0/12", "172.32.0.1"));
	assert_true(contains("fd00::/8", "fd12:3456::1"));
	assert_false(contains("fd00::/8", "fe80::1"));
	assert_true(contains("2001:db8::/127", "2001:db8::1"));
	assert_false(contains("2001:db8::/127", "2001:db8::2"));
	assert_true(contains("0.0.0.0/0", "203.0.113.9"));
	assert_true(contains("::/0", "2001:db8::9"));
	/* Host bits under the prefix are ignored. */
	assert_true(contains("10.1.2.3/16", "10.1.200.1"));
}

static void families_do_not_mix_but_mapped_ipv4_is_ipv4(void **state)
{
	assert_false(contains("0.0.0.0/0", "2001:db8::1"));
	assert_false(contains("::/0", "10.0.0.1"));
	/* An IPv4 peer on a dual-stack socket, and IPv4 networks written as IPv6. */
	assert_true(contains("10.0.0.0/8", "::ffff:10.1.2.3"));
	assert_false(contains("10.0.0.0/8", "::ffff:11.1.2.3"));
	assert_true(contains("::ffff:10.0.0.0/104", "10.1.2.3"));
	assert_false(contains("::ffff:10.0.0.0/104", "11.1.2.3"));
	assert_true(contains("::ffff:10.0.0.2", "10.0.0.2"));
	assert_false(contains("::ffff:10.0.0.2", "::ffff:10.0.0.3"));
	assert_false(contains("10.0.0.0/8", "not an address"));
	assert_false(contains("10.0.0.0/8", ""));
}

static void an_address_has_no_prefix(void **state)
{
	struct ipnet address;
	assert_true(ipnet_parse_address("10.0.0.2", &address));
	assert_int_equal(address.prefix, 32);
	assert_false(ipnet_parse_address("10.0.0.0/8", &address));
	assert_false(ipnet_parse_address("", &address));
}

static void bad_entries_are_refused(void **state)
{
	const char *bad[] = {"",
	                     "proxy.local",
	                     "10.0.0.0/",
	                     "10.0.0.0/33",
	                     "10.0.0.0/-1",
	                     "10.0.0.0/+8",
	                     "10.0.0.0/ 8",
	                     "10.0.0.0/8x",
	                     "/8",
	                     "fd00::/129",
	                     "10.0.0.0/8/8",
	                     "::ffff:10.0.0.0/95", /* past the IPv4 part */
	                     "10.0.0.256"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct ipnet net;
		if (ipnet_parse(bad[i], &net))
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_bare_address_is_itself_only),
	    cmocka_unit_test(networks_contain_their_addresses),
	    cmocka_unit_test(families_do_not_mix_but_mapped_ipv4_is_ipv4),
	    cmocka_unit_test(an_address_has_no_prefix),
	    cmocka_unit_test(bad_entries_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
