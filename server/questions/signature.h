/* Standard Webhooks signatures (https://www.standardwebhooks.com/): HMAC-SHA256 with the
 * channel's key over "{webhook-id}.{webhook-timestamp}.{raw body}", sent base64-encoded as
 * "v1,<sig>" in a space-separated list. Pure code (libsodium only), unit-tested directly. */
#ifndef RELAIS_QUESTIONS_SIGNATURE_H
#define RELAIS_QUESTIONS_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

#define SIGNATURE_TOLERANCE_SECONDS 300
#define SIGNATURE_KEY_MAX 64
/* "whsec_" + base64 of 64 bytes + NUL */
#define SIGNATURE_SECRET_MAX 96
/* "v1," + base64 of 32 bytes + NUL */
#define SIGNATURE_HEADER_ONE 48

enum signature_result {
	SIGNATURE_OK,
	SIGNATURE_INVALID, /* missing, malformed or matching no key */
	SIGNATURE_STALE,   /* the timestamp is more than the tolerance away from now */
};

struct signature_key {
	unsigned char bytes[SIGNATURE_KEY_MAX];
	size_t len;
};

/* Checks `header` (the webhook-signature value) against every key; `timestamp` is the
 * webhook-timestamp header as sent (decimal Unix seconds), `now` the current Unix time.
 * The timestamp is checked first, as the reference libraries do. Comparisons are
 * constant-time; no early exit depends on the bytes of a signature. */
enum signature_result signature_verify(const struct signature_key *keys, size_t nkeys, const char *msg_id,
                                       const char *timestamp, const void *body, size_t body_len, const char *header,
                                       int64_t now) MUST_USE;

/* "v1,<base64>" for one key, into out (SIGNATURE_HEADER_ONE bytes). */
void signature_sign(const struct signature_key *key, const char *msg_id, const char *timestamp, const void *body,
                    size_t body_len, char out[SIGNATURE_HEADER_ONE]);

/* "whsec_<base64>" into a key; false when malformed or the key is shorter than 24 or longer
 * than SIGNATURE_KEY_MAX bytes. */
bool signature_key_from_secret(const char *secret, struct signature_key *key) MUST_USE;
/* A fresh random key of `len` bytes and its "whsec_<base64>" form (SIGNATURE_SECRET_MAX). */
void signature_new_secret(struct signature_key *key, size_t len, char out[SIGNATURE_SECRET_MAX]);

#endif
