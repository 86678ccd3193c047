#include "people/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/rows.h"
#include "http/input.h"
#include "http/request.h"

bool valid_tag(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 48 || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

bool valid_language(const char *s)
{
	return strlen(s) == 2 && s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z';
}

/* Appends an already valid element (letters, digits, dashes) to a "{a,b}" literal. */
static char *append_element(struct http_req *req, char *literal, const char *element)
{
	return arena_printf(&req->arena, "%.*s%s%s}", (int)strlen(literal) - 1, literal, strlen(literal) > 2 ? "," : "",
	                    element);
}

bool read_string_array(struct http_req *req, const char *field, size_t max_items, bool (*valid)(const char *),
                       const char **literal, bool *present)
{
	json_t *arr = input_member(req, field);
	*present = arr && !json_is_null(arr);
	*literal = NULL;
	if (!*present)
		return true;
	if (!json_is_array(arr) || json_array_size(arr) > max_items)
		return input_fail(req, field, "This field must be a list of short codes.");
	char *out = arena_strdup(&req->arena, "{}");
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) || !valid(json_string_value(v)))
			return input_fail(req, field, "This list holds a value that is not allowed.");
		out = append_element(req, out, json_string_value(v));
	}
	*literal = out;
	return true;
}

bool read_expertise(struct http_req *req, const char *field, const char **tags, const char **levels)
{
	json_t *arr = input_member(req, field);
	if (!json_is_array(arr) || json_array_size(arr) > 50)
		return input_fail(req, field, "Give a list of at most 50 {\"tag\", \"level\"} items.");
	char *t = arena_strdup(&req->arena, "{}"), *l = arena_strdup(&req->arena, "{}");
	size_t i;
	json_t *item;
	json_array_foreach(arr, i, item)
	{
		json_t *tag = json_object_get(item, "tag"), *level = json_object_get(item, "level");
		if (!json_is_object(item) || json_object_size(item) != 2 || !json_is_string(tag) ||
		    !valid_tag(json_string_value(tag)) || !json_is_integer(level) || json_integer_value(level) < 1 ||
		    json_integer_value(level) > 5)
			return input_fail(req, field,
			                  "Each item is {\"tag\": lower-case letters, digits and dashes, \"level\": 1 to 5}.");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(arr, j), "tag")), json_string_value(tag)))
				return input_fail(req, field, "A tag appears twice.");
		t = append_element(req, t, json_string_value(tag));
		l = append_element(req, l, http_id_text(req, json_integer_value(level)));
	}
	*tags = t;
	*levels = l;
	return true;
}

