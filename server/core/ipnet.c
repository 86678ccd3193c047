#include "core/ipnet.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int address_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* Clears the bits after the first `prefix` ones. */
static void keep_prefix(unsigned char *addr, int family, int prefix)
{
	int bytes = address_bits(family) / 8;
	for (int i = 0; i < bytes; i++) {
		int kept = prefix - i * 8;
		if (kept >= 8)
			continue;
		addr[i] &= kept <= 0 ? 0 : (unsigned char)(0xff << (8 - kept));
	}
}

bool ipnet_parse_address(const char *text, struct ipnet *out)
{
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, text, out->addr) == 1) {
		out->family = AF_INET;
	} else if (inet_pton(AF_INET6, text, out->addr) == 1) {
		out->family = AF_INET6;
		if (!memcmp(out->addr, V4_MAPPED, sizeof V4_MAPPED)) {
			memmove(out->addr, out->addr + sizeof V4_MAPPED, 4);
			memset(out->addr + 4, 0, sizeof out->addr - 4);
			out->family = AF_INET;
		}
	} else {
		return false;
	}
	out->prefix = address_bits(out->family);
	return true;
}

bool ipnet_parse(const char *text, struct ipnet *out)
{
	char address[64];
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	if (len == 0 || len >= sizeof address)
		return false;
	memcpy(address, text, len);
	address[len] = '\0';
	bool ipv6_text = strchr(address, ':') != NULL; /* even when it is read as IPv4 */
	if (!ipnet_parse_address(address, out))
		return false;
	if (slash) {
		const char *digits = slash + 1;
		char *end;
		long prefix = strtol(digits, &end, 10);
		int bits = ipv6_text ? 128 : 32;
		/* Digits only: no sign, no space, nothing after. */
		if (*digits < '0' || *digits > '9' || *end || prefix > bits)
			return false;
		if (ipv6_text && out->family == AF_INET) { /* an IPv4-mapped network */
			if (prefix < 96)
				return false; /* would reach past the IPv4 part of the address */
			prefix -= 96;
		}
		out->prefix = (int)prefix;
	}
	keep_prefix(out->addr, out->family, out->prefix);
	return true;
}

bool ipnet_contains(const struct ipnet *net, const struct ipnet *address)
{
	if (address->family != net->family)
		return false;
	unsigned char addr[16];
	memcpy(addr, address->addr, sizeof addr);
	keep_prefix(addr, net->family, net->prefix);
	return !memcmp(addr, net->addr, (size_t)address_bits(net->family) / 8);
}
