#include "http/parse.h"

#include <string.h>
#include <strings.h>

#include "http/router.h"

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Request-target characters we accept (origin-form): visible ASCII but no '"', '<', '>',
 * '\\', '^', '`', '{', '|', '}' (as libevent's URI parser), no controls, no spaces. */
static bool is_target_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return !strchr("\"<>\\^`{|}", c);
}

int http_parse_method(const char *s, size_t n)
{
	static const struct {
		const char *name;
		int bit;
	} methods[] = {{"GET", HTTP_GET},     {"POST", HTTP_POST},     {"HEAD", HTTP_HEAD},
	               {"PUT", HTTP_PUT},     {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS},
	               {"PATCH", HTTP_PATCH}, {"TRACE", HTTP_TRACE},   {"CONNECT", HTTP_CONNECT}};
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
		if (strlen(methods[i].name) == n && !memcmp(methods[i].name, s, n))
			return methods[i].bit;
	return 0;
}

/* Does the comma-separated list `v` hold `token` (case-insensitive)? */
static bool list_has(const char *v, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = v; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - p) == n && !strncasecmp(p, token, n))
			return true;
		p = e;
	}
	return false;
}

static bool parse_length(const char *v, int64_t *out)
{
	if (!*v)
		return false;
	int64_t n = 0;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9' || n > (INT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (*p - '0');
	}
	*out = n;
	return true;
}

/* Parses one line [p, e) (without its line ending) as the request line. */
static long parse_request_line(char *p, char *e, struct http_head *h)
{
	char *sp1 = memchr(p, ' ', (size_t)(e - p));
	if (!sp1 || sp1 == p)
		return HTTP_PARSE_BAD;
	for (char *q = p; q < sp1; q++)
		if (!is_tchar((unsigned char)*q))
			return HTTP_PARSE_BAD;
	char *t = sp1 + 1;
	char *sp2 = memchr(t, ' ', (size_t)(e - t));
	if (!sp2 || sp2 == t || *t != '/')
		return HTTP_PARSE_BAD;
	for (char *q = t; q < sp2; q++)
		if (!is_target_char((unsigned char)*q))
			return HTTP_PARSE_BAD;
	char *v = sp2 + 1;
	if (e - v != 8 || memcmp(v, "HTTP/", 5) || v[6] != '.' || v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return HTTP_PARSE_BAD;
	if (v[5] != '1')
		return v[5] >= '2' && v[5] <= '3' && v[7] == '0' ? HTTP_PARSE_VERSION : HTTP_PARSE_BAD;
	if (v[7] != '0' && v[7] != '1')
		return HTTP_PARSE_BAD;
	h->minor = v[7] - '0';
	h->method = http_parse_method(p, (size_t)(sp1 - p));
	if (!h->method)
		return HTTP_PARSE_METHOD;
	*sp2 = '\0';
	h->target = t;
	return 0;
}

long http_parse_head(char *buf, size_t len, size_t max, size_t *scanned, struct http_head *h)
{
	/* Find the empty line that ends the head: "\r\n\r\n" (or bare "\n\n", tolerated). */
	size_t from = *scanned > 3 ? *scanned - 3 : 0;
	size_t end = 0;
	size_t limit = len < max ? len : max;
	for (size_t i = from; i < limit; i++) {
		if (buf[i] != '\n')
			continue;
		if (i >= 1 && buf[i - 1] == '\n') {
			end = i + 1;
			break;
		}
		if (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n') {
			end = i + 1;
			break;
		}
	}
	if (!end) {
		*scanned = limit;
		/* Leading empty lines before a request line are allowed (RFC 9112 2.2), but not
		 * forever: they count towards the limit like the rest. */
		return len >= max ? HTTP_PARSE_TOO_LARGE : HTTP_PARSE_MORE;
	}

	h->method = 0;
	h->target = NULL;
	h->minor = 1;
	h->content_length = -1;
	h->expect_continue = false;
	h->nfields = 0;
	bool conn_close = false, conn_keep = false, chunked = false, other_te = false;

	char *p = buf, *stop = buf + end;
	while (p < stop && (*p == '\r' || *p == '\n')) /* leading empty lines */
		p++;
	bool first = true;
	while (p < stop) {
		char *nl = memchr(p, '\n', (size_t)(stop - p));
		char *e = nl;
		if (e > p && e[-1] == '\r')
			e--;
		if (e == p) /* the empty line */
			break;
		for (char *q = p; q < e; q++)
			if (*q == '\r' || *q == '\0')
				return HTTP_PARSE_BAD;
		if (first) {
			long rc = parse_request_line(p, e, h);
			if (rc)
				return rc;
			first = false;
			p = nl + 1;
			continue;
		}
		/* name ":" OWS value OWS; no obsolete line folding, no space before the colon. */
		char *colon = memchr(p, ':', (size_t)(e - p));
		if (!colon || colon == p)
			return HTTP_PARSE_BAD;
		for (char *q = p; q < colon; q++)
			if (!is_tchar((unsigned char)*q))
				return HTTP_PARSE_BAD;
		char *v = colon + 1;
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		char *ve = e;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (char *q = v; q < ve; q++)
			if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f)
				return HTTP_PARSE_BAD;
		if (h->nfields >= h->max_fields)
			return HTTP_PARSE_TOO_LARGE;
		*colon = '\0';
		*ve = '\0';
		h->fields[h->nfields].name = p;
		h->fields[h->nfields].value = v;
		h->nfields++;
		size_t nlen = (size_t)(colon - p);
		if (nlen == 14 && !strcasecmp(p, "Content-Length")) {
			int64_t n;
			if (!parse_length(v, &n) || (h->content_length >= 0 && h->content_length != n))
				return HTTP_PARSE_BAD;
			h->content_length = n;
		} else if (nlen == 17 && !strcasecmp(p, "Transfer-Encoding")) {
			if (list_has(v, "chunked"))
				chunked = true;
			else
				other_te = true;
		} else if (nlen == 10 && !strcasecmp(p, "Connection")) {
			conn_close |= list_has(v, "close");
			conn_keep |= list_has(v, "keep-alive");
		} else if (nlen == 6 && !strcasecmp(p, "Expect")) {
			if (strcasecmp(v, "100-continue"))
				return HTTP_PARSE_BAD; /* 417 would be the letter; nobody sends others */
			h->expect_continue = true;
		}
		p = nl + 1;
	}
	if (first)
		return HTTP_PARSE_BAD; /* nothing but empty lines */
	/* A body length given two ways is a smuggling attempt (RFC 9112 6.1). */
	if ((chunked || other_te) && h->content_length >= 0)
		return HTTP_PARSE_BAD;
	if (other_te)
		return HTTP_PARSE_TE;
	if (chunked)
		return HTTP_PARSE_LENGTH;
	h->keep_alive = h->minor == 1 ? !conn_close : (conn_keep && !conn_close);
	if (h->minor == 0)
		h->expect_continue = false;
	return (long)end;
}
