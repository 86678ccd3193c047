#include "http/input.h"

#include <stdio.h>
#include <string.h>

#include "http/request.h"

size_t utf8_length(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

bool text_is_single_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool text_is_printable(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' && *s != '\r') || *s == 0x7f)
			return false;
	return true;
}

bool input_fail(struct http_req *req, const char *field, const char *message)
{
	http_reply_error(req, 422, "invalid_field", message, field);
	return false;
}

json_t *input_member(struct http_req *req, const char *name)
{
	return req->json ? json_object_get(req->json, name) : NULL;
}

bool input_only(struct http_req *req, const char *const *allowed)
{
	const char *key;
	json_t *value;
	json_object_foreach(req->json, key, value)
	{
		bool known = false;
		for (const char *const *a = allowed; *a && !known; a++)
			known = !strcmp(*a, key);
		if (!known)
			return input_fail(req, key, "This field is not accepted here.");
	}
	return true;
}

/* Member `key` of `obj` as a string; errors name `field`. */
static bool get_string(struct http_req *req, json_t *obj, const char *key, const char *field,
                       enum input_presence presence, json_t **v)
{
	*v = obj ? json_object_get(obj, key) : NULL;
	if (!*v || json_is_null(*v)) {
		*v = NULL;
		return presence == INPUT_OPTIONAL || input_fail(req, field, "This field is required.");
	}
	if (!json_is_string(*v))
		return input_fail(req, field, "This field must be a string.");
	return true;
}

bool input_line(struct http_req *req, const char *name, size_t min, size_t max, enum input_presence presence,
                const char **out)
{
	return input_line_of(req, req->json, name, name, min, max, presence, out);
}

bool input_line_of(struct http_req *req, json_t *obj, const char *key, const char *name, size_t min, size_t max,
                   enum input_presence presence, const char **out)
{
	json_t *v;
	*out = NULL;
	if (!get_string(req, obj, key, name, presence, &v))
		return false;
	if (!v)
		return true;
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || !text_is_single_line(s))
		return input_fail(req, name, "This field must be a single line of text.");
	/* Surrounding spaces are never meaningful in a name or a title. */
	while (*s == ' ')
		s++;
	size_t len = strlen(s);
	while (len && s[len - 1] == ' ')
		len--;
	char *trimmed = arena_strndup(&req->arena, s, len);
	size_t chars = utf8_length(trimmed);
	if (chars < min)
		return input_fail(req, name, min == 1 ? "This field must not be empty." : "This field is too short.");
	if (chars > max)
		return input_fail(req, name, "This field is too long.");
	*out = trimmed;
	return true;
}

bool input_text(struct http_req *req, const char *name, size_t max, enum input_presence presence,
                const char **out)
{
	json_t *v;
	*out = NULL;
	if (!get_string(req, req->json, name, name, presence, &v))
		return false;
	if (!v)
		return true;
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || !text_is_printable(s))
		return input_fail(req, name, "This field contains characters that are not allowed.");
	if (utf8_length(s) > max)
		return input_fail(req, name, "This field is too long.");
	*out = s;
	return true;
}

bool input_int(struct http_req *req, const char *name, long long min, long long max, enum input_presence presence,
               long long *out, bool *present)
{
	json_t *v = input_member(req, name);
	if (present)
		*present = false;
	if (!v || json_is_null(v))
		return presence == INPUT_OPTIONAL || input_fail(req, name, "This field is required.");
	if (!json_is_integer(v))
		return input_fail(req, name, "This field must be an integer.");
	long long n = json_integer_value(v);
	if (n < min || n > max) {
		char msg[128];
		snprintf(msg, sizeof msg, "This field must be between %lld and %lld.", min, max);
		return input_fail(req, name, msg);
	}
	*out = n;
	if (present)
		*present = true;
	return true;
}

bool input_bool(struct http_req *req, const char *name, enum input_presence presence, bool *out, bool *present)
{
	json_t *v = input_member(req, name);
	if (present)
		*present = false;
	if (!v || json_is_null(v))
		return presence == INPUT_OPTIONAL || input_fail(req, name, "This field is required.");
	if (!json_is_boolean(v))
		return input_fail(req, name, "This field must be true or false.");
	*out = json_is_true(v);
	if (present)
		*present = true;
	return true;
}

bool input_enum(struct http_req *req, const char *name, const char *const *allowed, enum input_presence presence,
                const char **out)
{
	json_t *v;
	*out = NULL;
	if (!get_string(req, req->json, name, name, presence, &v))
		return false;
	if (!v)
		return true;
	for (const char *const *a = allowed; *a; a++)
		if (!strcmp(*a, json_string_value(v))) {
			*out = *a;
			return true;
		}
	char msg[256];
	size_t n = (size_t)snprintf(msg, sizeof msg, "This field must be one of:");
	for (const char *const *a = allowed; *a && n < sizeof msg; a++)
		n += (size_t)snprintf(msg + n, sizeof msg - n, "%s %s", a == allowed ? "" : ",", *a);
	return input_fail(req, name, msg);
}
