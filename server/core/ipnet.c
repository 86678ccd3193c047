#include "core/ipnet.h"

#include <arpa/inet.h>
#include <stdio.h>
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

/* Reads an IPv4 or IPv6 address; false when it is neither. */
static bool parse_address(const char *text, int *family, unsigned char addr[16])
{
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
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
	memset(out, 0, sizeof *out);
	if (!parse_address(address, &out->family, out->addr))
		return false;
	out->prefix = address_bits(out->family);
	if (slash) {
		const char *digits = slash + 1;
		char *end;
		long prefix = strtol(digits, &end, 10);
		/* Digits only: no sign, no space, nothing after. */
		if (*digits < '0' || *digits > '9' || *end || prefix > out->prefix)
			return false;
		out->prefix = (int)prefix;
	}
	keep_prefix(out->addr, out->family, out->prefix);
	return true;
}

bool ipnet_contains(const struct ipnet *net, const char *address)
{
	int family;
	unsigned char addr[16];
	if (!parse_address(address, &family, addr))
		return false;
	if (family == AF_INET6 && net->family == AF_INET && !memcmp(addr, V4_MAPPED, sizeof V4_MAPPED)) {
		memmove(addr, addr + sizeof V4_MAPPED, 4);
		family = AF_INET;
	}
	if (family != net->family)
		return false;
	keep_prefix(addr, family, net->prefix);
	return !memcmp(addr, net->addr, (size_t)address_bits(family) / 8);
}
