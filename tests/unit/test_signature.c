/* Standard Webhooks signatures: the specification's test vector, several signatures,
 * malformed ones, other versions, stale and future timestamps, secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "questions/signature.h"

/* From the Standard Webhooks reference libraries' tests (libraries/javascript/src/webhook.test.ts
 * of github.com/standard-webhooks/standard-webhooks, "sign function works"). */
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TS "1614265330"
#define SPEC_NOW 1614265330
#define SPEC_BODY "{\"test\": 2432232314}"
#define SPEC_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static struct signature_key spec_key(void)
{
	struct signature_key k;
	assert_true(signature_key_from_secret(SPEC_SECRET, &k));
	return k;
}

static enum signature_result verify(const struct signature_key *keys, size_t n, const char *ts, const char *header,
                                    int64_t now)
{
	return signature_verify(keys, n, SPEC_ID, ts, SPEC_BODY, strlen(SPEC_BODY), header, now);
}

static void signs_the_specification_vector(void **state)
{
	(void)state;
	struct signature_key k = spec_key();
	assert_int_equal(k.len, 24);
	char out[SIGNATURE_HEADER_ONE];
	signature_sign(&k, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), out);
	assert_string_equal(out, SPEC_SIG);
	assert_int_equal(verify(&k, 1, SPEC_TS, SPEC_SIG, SPEC_NOW), SIGNATURE_OK);
}

static void accepts_any_of_several_signatures(void **state)
{
	(void)state;
	struct signature_key k = spec_key();
	const char *h =
	    "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " SPEC_SIG
	    " v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
	assert_int_equal(verify(&k, 1, SPEC_TS, h, SPEC_NOW), SIGNATURE_OK);
	/* extra spaces around entries are tolerated */
	assert_int_equal(verify(&k, 1, SPEC_TS, "  " SPEC_SIG "  ", SPEC_NOW), SIGNATURE_OK);
}

static void accepts_any_of_several_keys(void **state)
{
	(void)state;
	struct signature_key keys[2];
	char secret[SIGNATURE_SECRET_MAX];
	signature_new_secret(&keys[0], 32, secret);
	assert_int_equal(strncmp(secret, "whsec_", 6), 0);
	assert_int_equal(strlen(secret), 6 + 44);
	struct signature_key back;
	assert_true(signature_key_from_secret(secret, &back));
	assert_memory_equal(back.bytes, keys[0].bytes, 32);
	keys[1] = spec_key();
	assert_int_equal(verify(keys, 2, SPEC_TS, SPEC_SIG, SPEC_NOW), SIGNATURE_OK);
	assert_int_equal(verify(keys, 1, SPEC_TS, SPEC_SIG, SPEC_NOW), SIGNATURE_INVALID);
	assert_int_equal(verify(keys, 0, SPEC_TS, SPEC_SIG, SPEC_NOW), SIGNATURE_INVALID);
}

static void refuses_malformed_signatures(void **state)
{
	(void)state;
	struct signature_key k = spec_key();
	const char *bad[] = {
	    "",
	    "v1,",
	    "v1,dawfeoifkpqwoekfpqoekf",                         /* the libraries' "invalid signature" */
	    "v1,g0hM9SsE",                                       /* truncated */
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",    /* padding missing */
	    "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=",   /* URL-safe alphabet */
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=AA", /* too long */
	    "v1,!!!!",                                           /* not base64 */
	    "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",   /* another version */
	    "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	    "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", /* no version */
	    "v1;g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	    "v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",  /* one byte off */
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=,", /* glued to a comma */
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(verify(&k, 1, SPEC_TS, bad[i], SPEC_NOW), SIGNATURE_INVALID);
	assert_int_equal(verify(&k, 1, SPEC_TS, NULL, SPEC_NOW), SIGNATURE_INVALID);
	assert_int_equal(signature_verify(&k, 1, "", SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), SPEC_SIG, SPEC_NOW),
	                 SIGNATURE_INVALID);
	assert_int_equal(signature_verify(&k, 1, NULL, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), SPEC_SIG, SPEC_NOW),
	                 SIGNATURE_INVALID);
}

static void signature_covers_id_timestamp_and_body(void **state)
{
	(void)state;
	struct signature_key k = spec_key();
	assert_int_equal(
	    signature_verify(&k, 1, "msg_other", SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), SPEC_SIG, SPEC_NOW),
	    SIGNATURE_INVALID);
	assert_int_equal(
	    signature_verify(&k, 1, SPEC_ID, SPEC_TS, "{\"test\": 2432232315}", strlen(SPEC_BODY), SPEC_SIG, SPEC_NOW),
	    SIGNATURE_INVALID);
	/* a body with a NUL byte is signed over all of its bytes */
	assert_int_equal(
	    signature_verify(&k, 1, SPEC_ID, SPEC_TS, SPEC_BODY "\0x", strlen(SPEC_BODY) + 2, SPEC_SIG, SPEC_NOW),
	    SIGNATURE_INVALID);
	assert_int_equal(verify(&k, 1, "1614265331", SPEC_SIG, SPEC_NOW), SIGNATURE_INVALID);
}

static void refuses_stale_and_future_timestamps(void **state)
{
	(void)state;
	struct signature_key k = spec_key();
	assert_int_equal(verify(&k, 1, SPEC_TS, SPEC_SIG, SPEC_NOW + 300), SIGNATURE_OK);
	assert_int_equal(verify(&k, 1, SPEC_TS, SPEC_SIG, SPEC_NOW - 300), SIGNATURE_OK);
	assert_int_equal(verify(&k, 1, SPEC_TS, SPEC_SIG, SPEC_NOW + 301), SIGNATURE_STALE);
	assert_int_equal(verify(&k, 1, SPEC_TS, SPEC_SIG, SPEC_NOW - 301), SIGNATURE_STALE);
	/* stale is reported even when the signature is wrong (the clock is checked first) */
	assert_int_equal(verify(&k, 1, SPEC_TS, "v1,bm9wZQ==", SPEC_NOW + 3600), SIGNATURE_STALE);
	const char *bad[] = {"", "hello", "-1614265330", "1614265330.5", " 1614265330", "16142653300000", "0x60372e72"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(verify(&k, 1, bad[i], SPEC_SIG, SPEC_NOW), SIGNATURE_INVALID);
	assert_int_equal(verify(&k, 1, NULL, SPEC_SIG, SPEC_NOW), SIGNATURE_INVALID);
}

static void reads_secrets(void **state)
{
	(void)state;
	struct signature_key k;
	assert_false(signature_key_from_secret(NULL, &k));
	assert_false(signature_key_from_secret("", &k));
	assert_false(signature_key_from_secret("whsec_", &k));
	assert_false(signature_key_from_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &k)); /* prefix required here */
	assert_false(signature_key_from_secret("whsec_!!!!", &k));
	assert_false(signature_key_from_secret("whsec_c2hvcnQ=", &k)); /* 5 bytes: too short */
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(signs_the_specification_vector),
	    cmocka_unit_test(accepts_any_of_several_signatures),
	    cmocka_unit_test(accepts_any_of_several_keys),
	    cmocka_unit_test(refuses_malformed_signatures),
	    cmocka_unit_test(signature_covers_id_timestamp_and_body),
	    cmocka_unit_test(refuses_stale_and_future_timestamps),
	    cmocka_unit_test(reads_secrets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
