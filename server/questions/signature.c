#include "questions/signature.h"

#include <string.h>

#include <sodium.h>

#define PREFIX "whsec_"
#define MAX_SIGNATURES 16 /* entries of one header considered; more is not a sender we know */

static void hmac(const struct signature_key *key, const char *msg_id, const char *timestamp, const void *body,
                 size_t body_len, unsigned char out[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key->bytes, key->len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg_id, strlen(msg_id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)timestamp, strlen(timestamp));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, body, body_len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

/* Decimal seconds, at most 12 digits (the year 33658): anything else is malformed. */
static bool parse_timestamp(const char *s, int64_t *out)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > 12)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

enum signature_result signature_verify(const struct signature_key *keys, size_t nkeys, const char *msg_id,
                                       const char *timestamp, const void *body, size_t body_len, const char *header,
                                       int64_t now)
{
	int64_t ts;
	if (!msg_id || !*msg_id || !header || !parse_timestamp(timestamp, &ts))
		return SIGNATURE_INVALID;
	if (ts < now - SIGNATURE_TOLERANCE_SECONDS || ts > now + SIGNATURE_TOLERANCE_SECONDS)
		return SIGNATURE_STALE;
	if (nkeys == 0)
		return SIGNATURE_INVALID;

	/* Decode the candidates first, then compare every candidate with every key. */
	unsigned char sigs[MAX_SIGNATURES][crypto_auth_hmacsha256_BYTES];
	size_t nsigs = 0;
	const char *p = header;
	while (*p && nsigs < MAX_SIGNATURES) {
		while (*p == ' ')
			p++;
		const char *end = p;
		while (*end && *end != ' ')
			end++;
		size_t len = (size_t)(end - p);
		size_t decoded = 0;
		if (len > 3 && !memcmp(p, "v1,", 3) &&
		    sodium_base642bin(sigs[nsigs], sizeof sigs[nsigs], p + 3, len - 3, NULL, &decoded, NULL,
		                      sodium_base64_VARIANT_ORIGINAL) == 0 &&
		    decoded == crypto_auth_hmacsha256_BYTES)
			nsigs++;
		p = end;
	}

	int matched = 0;
	unsigned char expected[crypto_auth_hmacsha256_BYTES];
	for (size_t k = 0; k < nkeys; k++) {
		hmac(&keys[k], msg_id, timestamp, body, body_len, expected);
		for (size_t i = 0; i < nsigs; i++)
			matched |= sodium_memcmp(expected, sigs[i], sizeof expected) == 0;
	}
	sodium_memzero(expected, sizeof expected);
	return matched ? SIGNATURE_OK : SIGNATURE_INVALID;
}

void signature_sign(const struct signature_key *key, const char *msg_id, const char *timestamp, const void *body,
                    size_t body_len, char out[SIGNATURE_HEADER_ONE])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	hmac(key, msg_id, timestamp, body, body_len, mac);
	memcpy(out, "v1,", 3);
	sodium_bin2base64(out + 3, SIGNATURE_HEADER_ONE - 3, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(mac, sizeof mac);
}

bool signature_key_from_secret(const char *secret, struct signature_key *key)
{
	size_t n = secret ? strlen(secret) : 0;
	if (n <= strlen(PREFIX) || strncmp(secret, PREFIX, strlen(PREFIX)) != 0)
		return false;
	if (sodium_base642bin(key->bytes, sizeof key->bytes, secret + strlen(PREFIX), n - strlen(PREFIX), NULL,
	                      &key->len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return key->len >= 24 && key->len <= SIGNATURE_KEY_MAX;
}

void signature_new_secret(struct signature_key *key, size_t len, char out[SIGNATURE_SECRET_MAX])
{
	if (len > SIGNATURE_KEY_MAX)
		len = SIGNATURE_KEY_MAX;
	randombytes_buf(key->bytes, len);
	key->len = len;
	memcpy(out, PREFIX, strlen(PREFIX));
	sodium_bin2base64(out + strlen(PREFIX), SIGNATURE_SECRET_MAX - strlen(PREFIX), key->bytes, len,
	                  sodium_base64_VARIANT_ORIGINAL);
}
