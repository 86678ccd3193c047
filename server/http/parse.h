/* The HTTP/1.1 request head parser: request line and header fields, strict and bounded.
 * Pure code (no libevent, no allocation): unit-tested and fuzzed directly.
 *
 * The head is parsed in place: header names and values are NUL-terminated inside the
 * caller's buffer, so the pointers stay valid as long as the buffer does. */
#ifndef RELAIS_HTTP_PARSE_H
#define RELAIS_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

struct http_field {
	const char *name, *value;
};

struct http_head {
	int method;             /* HTTP_GET... (router.h) */
	char *target;           /* NUL-terminated, starts with '/' */
	int minor;              /* 0 or 1: HTTP/1.x */
	int64_t content_length; /* -1 when absent */
	bool keep_alive;        /* after the version's default and Connection */
	bool expect_continue;
	struct http_field *fields; /* caller's array */
	int nfields, max_fields;
};

enum {
	HTTP_PARSE_MORE = 0,         /* incomplete: read more */
	HTTP_PARSE_BAD = -400,       /* malformed */
	HTTP_PARSE_TOO_LARGE = -431, /* head over the size or field limit */
	HTTP_PARSE_LENGTH = -411,    /* chunked request body: refused, send Content-Length */
	HTTP_PARSE_TE = -501,        /* another transfer coding */
	HTTP_PARSE_METHOD = -405,    /* a well-formed but unknown method */
	HTTP_PARSE_VERSION = -505,   /* HTTP/2 or later on this port */
};

/* Looks for the end of the head in buf[0..len) and parses it. Returns the head's length
 * (through the empty line) when complete, HTTP_PARSE_MORE, or a negative HTTP_PARSE_*.
 * `max` bounds the head's size; `*scanned` (0 at first) remembers how far a previous call
 * looked, so that a head arriving byte by byte costs linear time. */
long http_parse_head(char *buf, size_t len, size_t max, size_t *scanned, struct http_head *h);

/* The method's name for a bit, or NULL. */
int http_parse_method(const char *s, size_t n);

#endif
