/* IP networks written as an address ("10.0.0.2", "2001:db8::1") or an address and a prefix
 * length ("10.0.0.0/8", "2001:db8::/32"), and whether an address belongs to one: the
 * trusted_proxies setting. */
#ifndef RELAIS_CORE_IPNET_H
#define RELAIS_CORE_IPNET_H

#include <stdbool.h>

struct ipnet {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* the network's address, host bits cleared (4 bytes used for IPv4) */
	int prefix;             /* bits that must match: 0..32 or 0..128; a bare address is all of them */
};

/* False when `text` is neither an address nor address/prefix with a prefix in range. Host
 * bits set under the prefix ("10.0.0.1/8") are cleared, as nginx's set_real_ip_from does. */
bool ipnet_parse(const char *text, struct ipnet *out);
/* Whether `address` (text, as the peer's or an X-Forwarded-For entry) is in `net`. An IPv4
 * address seen as IPv6 ("::ffff:10.0.0.2", a dual-stack socket) matches IPv4 networks. */
bool ipnet_contains(const struct ipnet *net, const char *address);

#endif
