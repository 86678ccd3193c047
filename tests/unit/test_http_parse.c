/* The HTTP/1.1 request head parser: well-formed heads, every refusal, heads arriving byte by
 * byte, limits, and a fuzz loop (random mutations of valid heads; run under the sanitizer
 * build it checks that no input reads or writes outside the buffer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/parse.h"
#include "http/router.h"

#define MAX 16384

static struct http_field fields[64];

/* Parses a copy of `text` (the parser writes into its buffer). */
static long parse(const char *text, struct http_head *h)
{
	static char buf[MAX * 2];
	size_t len = strlen(text);
	memcpy(buf, text, len);
	size_t scanned = 0;
	*h = (struct http_head){.fields = fields, .max_fields = 64};
	return http_parse_head(buf, len, MAX, &scanned, h);
}

static const char *field(const struct http_head *h, const char *name)
{
	for (int i = 0; i < h->nfields; i++)
		if (!strcmp(h->fields[i].name, name))
			return h->fields[i].value;
	return NULL;
}

static void parses_a_simple_get(void **state)
{
	struct http_head h;
	const char *req = "GET /api/v1/me?x=1 HTTP/1.1\r\nHost: relais\r\nX-Request-Id:  abc \r\n\r\nrest";
	long n = parse(req, &h);
	assert_int_equal(n, (long)(strlen(req) - 4));
	assert_int_equal(h.method, HTTP_GET);
	assert_string_equal(h.target, "/api/v1/me?x=1");
	assert_int_equal(h.minor, 1);
	assert_int_equal(h.nfields, 2);
	assert_string_equal(field(&h, "Host"), "relais");
	assert_string_equal(field(&h, "X-Request-Id"), "abc");
	assert_true(h.keep_alive);
	assert_int_equal(h.content_length, -1);
}

static void reads_length_connection_and_expect(void **state)
{
	struct http_head h;
	assert_true(parse("POST /x HTTP/1.1\r\nContent-Length: 12\r\nConnection: Close\r\nExpect: 100-continue\r\n\r\n",
	                  &h) > 0);
	assert_int_equal(h.method, HTTP_POST);
	assert_int_equal(h.content_length, 12);
	assert_false(h.keep_alive);
	assert_true(h.expect_continue);
	assert_true(parse("GET / HTTP/1.0\r\n\r\n", &h) > 0);
	assert_false(h.keep_alive);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h) > 0);
	assert_true(h.keep_alive);
	assert_true(parse("GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n", &h) > 0);
	assert_false(h.keep_alive);
	/* The same length twice is fine, two lengths are not. */
	assert_true(parse("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", &h) > 0);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", &h),
	                 HTTP_PARSE_BAD);
	/* Bare LF line endings are tolerated. */
	assert_true(parse("GET / HTTP/1.1\nHost: x\n\n", &h) > 0);
	assert_string_equal(field(&h, "Host"), "x");
}

static void refuses_malformed_heads(void **state)
{
	struct http_head h;
	static const char *bad[] = {
	    "GARBAGE\r\n\r\n",
	    "GET\r\n\r\n",
	    "GET / HTTP/9.9\r\n\r\n",
	    "GET http://[::1 HTTP/1.1\r\n\r\n",
	    "GET  / HTTP/1.1\r\n\r\n",
	    "GET / HTTP/1.1 \r\n\r\n",
	    "GET / http/1.1\r\n\r\n",
	    "GET /a b HTTP/1.1\r\n\r\n",
	    "GET /\x7f HTTP/1.1\r\n\r\n",
	    "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
	    "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
	    "GET / HTTP/1.1\r\nSpace before : colon\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
	    "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
	    "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
	    "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
	    "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
	    "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
	    "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
	    "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "GET / HTTP/1.1\r\nExpect: something\r\n\r\n",
	    "\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		long rc = parse(bad[i], &h);
		if (rc != HTTP_PARSE_BAD)
			fail_msg("%zu: %s -> %ld", i, bad[i], rc);
	}
	/* G\0T: strlen stops at the NUL; give the parser the real bytes. */
	char nul[] = "G\0T / HTTP/1.1\r\n\r\n";
	size_t scanned = 0;
	h = (struct http_head){.fields = fields, .max_fields = 64};
	assert_int_equal(http_parse_head(nul, sizeof nul - 1, MAX, &scanned, &h), HTTP_PARSE_BAD);
}

static void refuses_what_it_does_not_serve(void **state)
{
	struct http_head h;
	assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h), HTTP_PARSE_LENGTH);
	assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", &h), HTTP_PARSE_TE);
	assert_int_equal(parse("BREW /pot HTTP/1.1\r\n\r\n", &h), HTTP_PARSE_METHOD);
	assert_int_equal(parse("PRI / HTTP/2.0\r\n\r\n", &h), HTTP_PARSE_VERSION);
	static const struct {
		const char *name;
		int bit;
	} methods[] = {{"GET", HTTP_GET},         {"HEAD", HTTP_HEAD},   {"POST", HTTP_POST},
	               {"PUT", HTTP_PUT},         {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE},
	               {"OPTIONS", HTTP_OPTIONS}, {"TRACE", HTTP_TRACE}, {"CONNECT", HTTP_CONNECT}};
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
		char line[64];
		snprintf(line, sizeof line, "%s / HTTP/1.1\r\n\r\n", methods[i].name);
		assert_true(parse(line, &h) > 0);
		assert_int_equal(h.method, methods[i].bit);
	}
}

static void bounds_the_head(void **state)
{
	struct http_head h;
	char *big = malloc(MAX + 100);
	/* Incomplete and under the limit: more. At the limit without an end: too large. */
	strcpy(big, "GET / HTTP/1.1\r\nX: ");
	size_t n = strlen(big);
	memset(big + n, 'a', 1000);
	big[n + 1000] = '\0';
	assert_int_equal(parse(big, &h), HTTP_PARSE_MORE);
	memset(big + n, 'a', MAX);
	big[n + MAX] = '\0';
	assert_int_equal(parse(big, &h), HTTP_PARSE_TOO_LARGE);
	/* A complete head longer than the limit is too large too. */
	strcpy(big + MAX, "\r\n\r\n");
	assert_int_equal(parse(big, &h), HTTP_PARSE_TOO_LARGE);
	free(big);
	/* Too many fields. */
	char many[4096] = "GET / HTTP/1.1\r\n";
	for (int i = 0; i < 70; i++)
		strcat(many, "X: y\r\n");
	strcat(many, "\r\n");
	assert_int_equal(parse(many, &h), HTTP_PARSE_TOO_LARGE);
}

static void byte_by_byte(void **state)
{
	const char *req = "POST /api/v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
	size_t total = strlen(req) - 2;
	char buf[256];
	size_t scanned = 0;
	struct http_head h = {.fields = fields, .max_fields = 64};
	for (size_t len = 1; len <= strlen(req); len++) {
		memcpy(buf, req, len);
		long rc = http_parse_head(buf, len, MAX, &scanned, &h);
		if (len < total)
			assert_int_equal(rc, HTTP_PARSE_MORE);
		else {
			assert_int_equal(rc, (long)total);
			assert_int_equal(h.content_length, 2);
			break;
		}
	}
}

/* Random mutations of valid heads: the parser answers something sensible for each, with the
 * whole buffer under the sanitizers' watch (an exact-size heap copy). */
static void fuzz(void **state)
{
	static const char *seeds[] = {
	    "GET /api/v1/me?x=1 HTTP/1.1\r\nHost: relais\r\nCookie: a=b; c=d\r\n\r\n",
	    "POST /api/v1/client-errors HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
	    "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n\r\n",
	    "PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	};
	static const char alphabet[] = "\r\n: \t/?%HTTP1.0GETx\x00\x7f\xff,";
	unsigned seed = 20261122;
	struct http_field fz[8];
	for (int round = 0; round < 200000; round++) {
		const char *s = seeds[rand_r(&seed) % 4];
		size_t len = strlen(s);
		char tmp[512];
		memcpy(tmp, s, len);
		int edits = 1 + rand_r(&seed) % 4;
		for (int e = 0; e < edits; e++) {
			size_t at = (size_t)rand_r(&seed) % (len + 1);
			switch (rand_r(&seed) % 3) {
			case 0: /* replace */
				if (at < len)
					tmp[at] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
				break;
			case 1: /* insert */
				if (len < sizeof tmp - 1) {
					memmove(tmp + at + 1, tmp + at, len - at);
					tmp[at] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
					len++;
				}
				break;
			default: /* cut */
				len = at;
				break;
			}
		}
		char *buf = malloc(len ? len : 1);
		memcpy(buf, tmp, len);
		size_t scanned = 0;
		struct http_head h = {.fields = fz, .max_fields = 8};
		/* Fed in two parts, as from two reads. */
		size_t first = len ? (size_t)rand_r(&seed) % len : 0;
		long rc = http_parse_head(buf, first, 300, &scanned, &h);
		if (rc == HTTP_PARSE_MORE)
			rc = http_parse_head(buf, len, 300, &scanned, &h);
		if (rc > 0) {
			assert_true((size_t)rc <= len);
			assert_non_null(h.target);
			assert_int_equal(h.target[0], '/');
			assert_true(h.method != 0);
			assert_true(h.nfields <= 8);
			for (int i = 0; i < h.nfields; i++) {
				assert_true(h.fields[i].name >= buf && h.fields[i].name < buf + rc);
				assert_true(h.fields[i].value >= buf && h.fields[i].value <= buf + rc);
				assert_null(strpbrk(h.fields[i].value, "\r\n"));
			}
		} else {
			assert_true(rc == HTTP_PARSE_MORE || rc == HTTP_PARSE_BAD || rc == HTTP_PARSE_TOO_LARGE ||
			            rc == HTTP_PARSE_LENGTH || rc == HTTP_PARSE_TE || rc == HTTP_PARSE_METHOD ||
			            rc == HTTP_PARSE_VERSION);
		}
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_a_simple_get),
	    cmocka_unit_test(reads_length_connection_and_expect),
	    cmocka_unit_test(refuses_malformed_heads),
	    cmocka_unit_test(refuses_what_it_does_not_serve),
	    cmocka_unit_test(bounds_the_head),
	    cmocka_unit_test(byte_by_byte),
	    cmocka_unit_test(fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
