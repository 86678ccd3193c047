#include "core/json_text.h"

#include <stdlib.h>
#include <string.h>

/* json_loads() stops at 2048 levels; relais wraps parsed values in a few more. Anything
 * deeper is a cycle, which jansson's dumper refuses too. */
#define MAX_DEPTH 4096

static void reserve(struct json_text *t, size_t more)
{
	if (t->len + more <= t->cap)
		return;
	size_t cap = t->cap ? t->cap : 1024;
	while (cap < t->len + more)
		cap *= 2;
	t->data = xrealloc(t->data, cap);
	t->cap = cap;
}

void json_text_put(struct json_text *t, const char *bytes, size_t len)
{
	reserve(t, len);
	memcpy(t->data + t->len, bytes, len);
	t->len += len;
}

static void put_char(struct json_text *t, char c)
{
	reserve(t, 1);
	t->data[t->len++] = c;
}

void json_text_reset(struct json_text *t)
{
	t->len = 0;
	t->comma = false;
}

void json_text_free(struct json_text *t)
{
	free(t->data);
	t->data = NULL;
	t->len = t->cap = 0;
	t->comma = false;
}

/* As jansson escapes without JSON_ESCAPE_SLASH or JSON_ENSURE_ASCII: the quote, the
 * backslash and control characters; everything else, UTF-8 included, as it is. */
static void put_string(struct json_text *t, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	reserve(t, len * 6 + 2); /* every byte escaped as \u00XX, and the quotes */
	char *o = t->data + t->len;
	*o++ = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*o++ = (char)c;
			break;
		case '\b':
			*o++ = 'b';
			break;
		case '\f':
			*o++ = 'f';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default: /* \u00XX, upper-case hex as jansson writes it */
			memcpy(o, "u00", 3);
			o[3] = hex[c >> 4];
			o[4] = hex[c & 0xf];
			o += 5;
		}
	}
	*o++ = '"';
	t->len = (size_t)(o - t->data);
}

size_t json_text_decimal(char out[JSON_TEXT_DECIMAL_MAX], long long v)
{
	char digits[JSON_TEXT_DECIMAL_MAX];
	size_t n = 0, len = 0;
	/* Digits of the magnitude, computed unsigned so that the smallest value has one too. */
	unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do
		digits[n++] = (char)('0' + m % 10);
	while ((m /= 10));
	if (v < 0)
		digits[n++] = '-';
	while (n)
		out[len++] = digits[--n];
	return len;
}

static void put_integer(struct json_text *t, json_int_t v)
{
	reserve(t, JSON_TEXT_DECIMAL_MAX);
	t->len += json_text_decimal(t->data + t->len, (long long)v);
}

/* Reals are rare in answers (float and numeric columns): jansson writes them, so that the
 * shortest-digits formatting it was built with is kept exactly. */
static bool put_real(struct json_text *t, const json_t *v)
{
	char buf[128];
	size_t n = json_dumpb(v, buf, sizeof buf, JSON_ENCODE_ANY | JSON_COMPACT);
	if (n == 0 || n > sizeof buf)
		return false;
	json_text_put(t, buf, n);
	return true;
}

static bool put_value(struct json_text *t, const json_t *v, int depth)
{
	if (!v || depth > MAX_DEPTH)
		return false;
	switch (json_typeof(v)) {
	case JSON_NULL:
		json_text_put(t, "null", 4);
		return true;
	case JSON_TRUE:
		json_text_put(t, "true", 4);
		return true;
	case JSON_FALSE:
		json_text_put(t, "false", 5);
		return true;
	case JSON_INTEGER:
		put_integer(t, json_integer_value(v));
		return true;
	case JSON_REAL:
		return put_real(t, v);
	case JSON_STRING:
		put_string(t, json_string_value(v), json_string_length(v));
		return true;
	case JSON_ARRAY: {
		put_char(t, '[');
		size_t n = json_array_size(v);
		for (size_t i = 0; i < n; i++) {
			if (i)
				put_char(t, ',');
			if (!put_value(t, json_array_get(v, i), depth + 1))
				return false;
		}
		put_char(t, ']');
		return true;
	}
	case JSON_OBJECT: {
		put_char(t, '{');
		/* Insertion order, as jansson writes objects without JSON_SORT_KEYS. */
		json_t *obj = (json_t *)v;
		for (void *it = json_object_iter(obj); it;) {
			put_string(t, json_object_iter_key(it), json_object_iter_key_len(it));
			put_char(t, ':');
			if (!put_value(t, json_object_iter_value(it), depth + 1))
				return false;
			it = json_object_iter_next(obj, it);
			if (it)
				put_char(t, ',');
		}
		put_char(t, '}');
		return true;
	}
	}
	return false;
}

bool json_text_append(struct json_text *t, const json_t *value)
{
	if (!json_is_object(value) && !json_is_array(value))
		return false;
	return put_value(t, value, 0);
}

/* --- writing directly ---------------------------------------------------------------------- */

static void separate(struct json_text *t)
{
	if (t->comma)
		put_char(t, ',');
}

void json_text_open(struct json_text *t, char bracket)
{
	separate(t);
	put_char(t, bracket);
	t->comma = false;
}

void json_text_close(struct json_text *t, char bracket)
{
	put_char(t, bracket);
	t->comma = true;
}

void json_text_key(struct json_text *t, const char *key)
{
	separate(t);
	put_string(t, key, strlen(key));
	put_char(t, ':');
	t->comma = false;
}

void json_text_null(struct json_text *t)
{
	separate(t);
	json_text_put(t, "null", 4);
	t->comma = true;
}

void json_text_bool(struct json_text *t, bool value)
{
	separate(t);
	if (value)
		json_text_put(t, "true", 4);
	else
		json_text_put(t, "false", 5);
	t->comma = true;
}

void json_text_integer(struct json_text *t, json_int_t value)
{
	separate(t);
	put_integer(t, value);
	t->comma = true;
}

bool json_text_string(struct json_text *t, const char *s, size_t len)
{
	if (!json_text_is_utf8(s, len))
		return false;
	separate(t);
	put_string(t, s, len);
	t->comma = true;
	return true;
}

bool json_text_value(struct json_text *t, const json_t *value)
{
	struct json_text_mark m = json_text_mark(t);
	separate(t);
	if (!put_value(t, value, 0)) {
		json_text_rollback(t, m);
		return false;
	}
	t->comma = true;
	return true;
}

/* The length of the UTF-8 sequence starting at s[0] (0 when it is not one), the rules of
 * RFC 3629 as jansson applies them. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;
	if (c < 0xc2 || c > 0xf4) /* a continuation byte, an overlong 2-byte lead, or past U+10FFFF */
		return 0;
	if (c < 0xe0) {
		n = 2;
		cp = c & 0x1f;
	} else if (c < 0xf0) {
		n = 3;
		cp = c & 0x0f;
	} else {
		n = 4;
		cp = c & 0x07;
	}
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool json_text_is_utf8(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = utf8_sequence(u + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

struct json_text_mark json_text_mark(const struct json_text *t)
{
	return (struct json_text_mark){t->len, t->comma};
}

void json_text_rollback(struct json_text *t, struct json_text_mark mark)
{
	t->len = mark.len;
	t->comma = mark.comma;
}
