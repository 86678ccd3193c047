/* Reading fields of a JSON request body. Each reader checks one field and, when it is
 * wrong, answers 422 {"error":{"code":"invalid_field","field":...}} and returns false, so a
 * handler reads as a list of `if (!input_...) return;`. Lengths count characters. */
#ifndef RELAIS_HTTP_INPUT_H
#define RELAIS_HTTP_INPUT_H

#include <jansson.h>

#include "core/common.h"

struct http_req;

enum input_presence { INPUT_OPTIONAL, INPUT_REQUIRED };

/* Refuses members other than those listed (NULL-terminated). */
bool input_only(struct http_req *req, const char *const *allowed) MUST_USE;
/* A single line of text (no control characters), trimmed length within [min, max]. */
bool input_line(struct http_req *req, const char *name, size_t min, size_t max, enum input_presence presence,
                const char **out) MUST_USE;
/* Same, for member `key` of a nested object `obj`; errors name `field` ("customer.email"). */
bool input_line_of(struct http_req *req, json_t *obj, const char *key, const char *field, size_t min, size_t max,
                   enum input_presence presence, const char **out) MUST_USE;
/* Free text: newlines and tabs allowed. */
bool input_text(struct http_req *req, const char *name, size_t max, enum input_presence presence,
                const char **out) MUST_USE;
bool input_int(struct http_req *req, const char *name, long long min, long long max, enum input_presence presence,
               long long *out, bool *present) MUST_USE;
bool input_bool(struct http_req *req, const char *name, enum input_presence presence, bool *out,
                bool *present) MUST_USE;
/* One of the NULL-terminated `allowed` strings. */
bool input_enum(struct http_req *req, const char *name, const char *const *allowed, enum input_presence presence,
                const char **out) MUST_USE;
/* The member itself (any type) for readers of nested values; NULL when absent. */
json_t *input_member(struct http_req *req, const char *name);
/* Answers 422 for `field` with `message`; returns false for `return input_fail(...)`. */
bool input_fail(struct http_req *req, const char *field, const char *message);

/* Number of UTF-8 characters in a valid UTF-8 string. */
size_t utf8_length(const char *s);
/* True when s has no control characters (below 0x20, or 0x7f). */
bool text_is_single_line(const char *s);

#endif
