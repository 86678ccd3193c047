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
};

/* Appends the compact text of `value`, which must be an object or an array (as for
 * json_dumpb without JSON_ENCODE_ANY). On false (no value, another type, or nesting deeper
 * than any tree relais builds: a cycle) what was appended is unspecified: drop it. */
bool json_text_append(struct json_text *text, const json_t *value) MUST_USE;
void json_text_put(struct json_text *text, const char *bytes, size_t len);
void json_text_free(struct json_text *text);

#endif
