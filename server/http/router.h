/* The route table: method, path pattern, body limit and access of every endpoint, and the
 * matcher. Pure code with no libevent, so that it is unit-tested directly. */
#ifndef RELAIS_HTTP_ROUTER_H
#define RELAIS_HTTP_ROUTER_H

#include "core/common.h"

/* Same bits as libevent's enum evhttp_cmd_type. */
enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_POST = 1 << 1,
	HTTP_HEAD = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_DELETE = 1 << 4,
	HTTP_OPTIONS = 1 << 5,
	HTTP_TRACE = 1 << 6,
	HTTP_CONNECT = 1 << 7,
	HTTP_PATCH = 1 << 8,
};

/* Who may call a route; checked in one place (auth/gate.c) before the handler runs.
 * Object-level rules (a community's manager, one's own session) are checked by handlers. */
enum route_access {
	ACCESS_PUBLIC,  /* anyone, signed in or not */
	ACCESS_USER,    /* a signed-in person, or an API token with the read scope (GET only) */
	ACCESS_SESSION, /* a signed-in person only: their own account */
	ACCESS_COMMS,   /* the comms or admin role */
	ACCESS_ADMIN,   /* the admin role, or an API token with the admin scope */
};

/* Body handling before the handler runs. */
enum route_body {
	BODY_NONE, /* any body is ignored */
	BODY_JSON, /* application/json, parsed into req->json (415 / 400 otherwise) */
};

struct http_req;
typedef void (*route_handler)(struct http_req *req);

struct route {
	int methods;         /* HTTP_GET also answers HEAD */
	const char *pattern; /* "/api/v1/things/{id}"; a final "/\*" matches the rest */
	route_handler handler;
	const char *name;    /* metrics label: stable, short */
	enum route_access access;
	enum route_body body;
	int64_t body_limit;  /* 0 = max_body_size from the configuration */
	bool uses_database;  /* answered 503 while the database is down */
};

#define ROUTE_MAX_PARAMS 8

struct route_params {
	int count;
	const char *names[ROUTE_MAX_PARAMS];
	size_t name_lens[ROUTE_MAX_PARAMS];
	const char *values[ROUTE_MAX_PARAMS]; /* raw (still percent-encoded) slices of the path */
	size_t value_lens[ROUTE_MAX_PARAMS];
};

/* Finds the route for `method` and `path` (no query string). Returns its index, or -1 with
 * *allowed set to the methods that the path does accept (0: no route has this path). */
int router_match(const struct route *routes, size_t count, int method, const char *path,
                 struct route_params *params, int *allowed);

/* "GET, HEAD, POST" for an Allow header. */
void router_format_allow(int methods, char *out, size_t outlen);

const char *router_method_name(int method);

#endif
