#include "http/router.h"

#include <stdio.h>
#include <string.h>

static const struct {
	int bit;
	const char *name;
} method_names[] = {
    {HTTP_GET, "GET"},       {HTTP_HEAD, "HEAD"},       {HTTP_POST, "POST"},     {HTTP_PUT, "PUT"},
    {HTTP_PATCH, "PATCH"},   {HTTP_DELETE, "DELETE"},   {HTTP_OPTIONS, "OPTIONS"}, {HTTP_TRACE, "TRACE"},
    {HTTP_CONNECT, "CONNECT"},
};

const char *router_method_name(int method)
{
	for (size_t i = 0; i < ARRAY_LEN(method_names); i++)
		if (method_names[i].bit == method)
			return method_names[i].name;
	return "UNKNOWN";
}

void router_format_allow(int methods, char *out, size_t outlen)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(method_names); i++) {
		if (!(methods & method_names[i].bit))
			continue;
		n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s", n ? ", " : "", method_names[i].name);
	}
}

/* Matches one pattern against a path; fills params on success. */
static bool match_pattern(const char *pattern, const char *path, struct route_params *params)
{
	params->count = 0;
	const char *p = pattern, *s = path;
	while (*p) {
		if (p[0] == '/' && p[1] == '*' && p[2] == '\0')
			return *s == '/' || *s == '\0';
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close || params->count == ROUTE_MAX_PARAMS)
				return false;
			size_t len = strcspn(s, "/");
			if (len == 0)
				return false;
			int i = params->count++;
			params->names[i] = p + 1;
			params->name_lens[i] = (size_t)(close - p - 1);
			params->values[i] = s;
			params->value_lens[i] = len;
			p = close + 1;
			s += len;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *s == '\0';
}

int router_match(const struct route *routes, size_t count, int method, const char *path,
                 struct route_params *params, int *allowed)
{
	*allowed = 0;
	int effective = method == HTTP_HEAD ? HTTP_GET : method;
	for (size_t i = 0; i < count; i++) {
		struct route_params tmp;
		if (!match_pattern(routes[i].pattern, path, &tmp))
			continue;
		int methods = routes[i].methods;
		if (methods & HTTP_GET)
			methods |= HTTP_HEAD;
		*allowed |= methods;
		if (routes[i].methods & effective) {
			*params = tmp;
			return (int)i;
		}
	}
	if (*allowed)
		*allowed |= HTTP_OPTIONS;
	return -1;
}
