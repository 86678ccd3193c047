/* Helpers shared by the files of people/ and communities/. */
#ifndef RELAIS_PEOPLE_COMMON_H
#define RELAIS_PEOPLE_COMMON_H

#include <jansson.h>

#include "core/common.h"
#include "db/pool.h"

struct http_req;

/* Expertise tags: [{"tag": "billing", "level": 1..5}, ...] into two array literals for
 * unnest($n::text[], $m::int[]); answers 422 naming `field` when malformed. */
bool read_expertise(struct http_req *req, const char *field, const char **tags, const char **levels) MUST_USE;
/* A JSON array of strings matching `pattern_ok` into a text[] literal; 422 otherwise. */
bool read_string_array(struct http_req *req, const char *field, size_t max_items, bool (*valid)(const char *),
                       const char **literal, bool *present) MUST_USE;
bool valid_tag(const char *s);
bool valid_language(const char *s);

#endif
