/* IP networks written as an address ("10.0.0.2", "2001:db8::1") or an address and a prefix
 * length ("10.0.0.0/8", "2001:db8::/32"), and whether an address belongs to one: the
 * trusted_proxies setting. IPv4 addresses written as IPv6 ("::ffff:10.0.0.2", as a
 * dual-stack socket shows an IPv4 peer) are read as the IPv4 addresses they are, in
 * networks ("::ffff:10.0.0.0/104" is 10.0.0.0/8) and addresses alike. */
#ifndef RELAIS_CORE_IPNET_H
#define RELAIS_CORE_IPNET_H

#include <stdbool.h>

struct ipnet {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* the network's address, host bits cleared (4 bytes used for IPv4) */
	int prefix;             /* bits that must match: 0..32 or 0..128; an address is all of them */
};

/* False when `text` is neither an address nor address/prefix with a prefix in range. Host
 * bits set under the prefix ("10.0.0.1/8") are cleared, as nginx's set_real_ip_from does. */
bool ipnet_parse(const char *text, struct ipnet *out);
/* One address (no prefix), as a network of that address only; false when `text` is not one. */
bool ipnet_parse_address(const char *text, struct ipnet *out);
/* Whether the address `address` (from ipnet_parse_address) is in `net`. */
bool ipnet_contains(const struct ipnet *net, const struct ipnet *address);

#endif
