/* Compact JSON text of a jansson value, written into a growable buffer.
 *
 * The output is byte for byte what json_dumpb(value, ..., JSON_COMPACT) writes (a unit test
 * holds the two against each other), at a fraction of the cost: jansson's dumper checks each
 * object and array against a hash table of its parents (formatting its address with snprintf
 * and allocating an entry) and decodes every string character by character as UTF-8 again,
 * which made it about 40 % of a worker's instructions on a small JSON answer. Strings held
 * by jansson are valid UTF-8 already (json_string() and json_loads() check), so escaping can
 * look at bytes: a multi-byte sequence never contains a byte below 0x80. */
#ifndef RELAIS_JSON_TEXT_H
#define RELAIS_JSON_TEXT_H

#include <jansson.h>

#include "core/common.h"

struct json_text {
	char *data; /* not NUL-terminated */
	size_t len, cap;
	bool comma; /* the next member or element follows another: a comma first */
};

/* Appends the compact text of `value`, which must be an object or an array (as for
 * json_dumpb without JSON_ENCODE_ANY). On false (no value, another type, or nesting deeper
 * than any tree relais builds: a cycle) what was appended is unspecified: drop it. */
bool json_text_append(struct json_text *text, const json_t *value) MUST_USE;
/* Raw bytes, no separator. */
void json_text_put(struct json_text *text, const char *bytes, size_t len);
/* Empty again, keeping the buffer. */
void json_text_reset(struct json_text *text);
void json_text_free(struct json_text *text);

/* Writing a value directly, without building a jansson tree first (answers made of rows):
 * members and elements are separated as they come, json_text_key() goes before each member's
 * value. The result is what json_dumpb would write for the tree made of the same calls. */
void json_text_open(struct json_text *text, char bracket); /* '{' or '[' */
void json_text_close(struct json_text *text, char bracket);
void json_text_key(struct json_text *text, const char *key);
void json_text_null(struct json_text *text);
void json_text_bool(struct json_text *text, bool value);
void json_text_integer(struct json_text *text, json_int_t value);
/* The decimal text of `value` in `out`, without a NUL; returns its length. Faster than
 * printf, for the integers of every request (statement parameters, answers). */
#define JSON_TEXT_DECIMAL_MAX 24
size_t json_text_decimal(char out[JSON_TEXT_DECIMAL_MAX], long long value);
/* False, with nothing written, when `s` is not UTF-8: json_string() makes no value of it. */
bool json_text_string(struct json_text *text, const char *s, size_t len) MUST_USE;
/* Any jansson value; false, with nothing written, when there is none to write. */
bool json_text_value(struct json_text *text, const json_t *value) MUST_USE;
/* Whether json_string() would take `s`: UTF-8 without overlong forms, surrogates or code
 * points past U+10FFFF. */
bool json_text_is_utf8(const char *s, size_t len);

/* A place in the text, to take back a member whose value turns out to be one jansson would
 * not have made: json_object_set_new() leaves such a member out, and so must the writer. */
struct json_text_mark {
	size_t len;
	bool comma;
};
struct json_text_mark json_text_mark(const struct json_text *text);
void json_text_rollback(struct json_text *text, struct json_text_mark mark);

#endif
