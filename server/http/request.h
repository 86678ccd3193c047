/* One HTTP request in flight: its arena, parsed parts, and the ways to answer it.
 *
 * Lifetime: created when the server (conn.c, server.c) has read a complete request, freed
 * when it has been answered and no asynchronous work still refers to it. If the client goes
 * away first, `gone` is set and the answer is dropped; handlers check nothing themselves,
 * they just answer. */
#ifndef RELAIS_HTTP_REQUEST_H
#define RELAIS_HTTP_REQUEST_H

#include <jansson.h>

#include "core/arena.h"
#include "db/pool.h"
#include "http/router.h"

struct worker;
struct http_conn;
struct http_field;
struct http_out_header;
struct http_query_param;

/* Who is calling, once the gate has authenticated the request (zeroes otherwise). */
struct principal {
	int64_t user_id;  /* a person (session), or 0 */
	int64_t token_id; /* an API token, or 0 */
	int64_t session_id;
	const char *role; /* "admin", "comms", "employee"; NULL for tokens */
	unsigned scopes;  /* API tokens: SCOPE_* bits */
	const char *csrf_token;
	const char *email, *display_name;
};

enum { SCOPE_READ = 1, SCOPE_QUESTIONS_WRITE = 2, SCOPE_ADMIN = 4 };

struct http_req {
	struct http_req *next_spare; /* the server's free list */
	struct worker *worker;
	struct http_conn *conn; /* NULL once answered or once the client is gone */
	/* The request as read: fields and body point into the connection's input buffer,
	 * which stays put until the request is answered (or is handed to the request when
	 * the client goes away first: `own_buffer`). */
	const struct http_field *fields;
	int nfields;
	const char *body;
	size_t body_len;
	void *own_buffer;
	int minor;       /* HTTP/1.minor */
	bool keep_alive; /* the client's wish; the answer may still close */
	bool close;      /* answer with Connection: close, then close */
	/* The answer's own headers, besides the common ones (arena). */
	struct http_out_header *out_headers;
	const char *content_type;
	bool has_cache_control;
	int method;
	const char *path; /* decoded path, without the query */
	const char *query;
	/* The query string's parameters, decoded by the first http_query() (arena). */
	struct http_query_param *query_params;
	int nquery_params;
	bool query_parsed;
	const struct route *route;
	int route_index;
	struct route_params params;
	json_t *json; /* the parsed body for BODY_JSON routes */
	struct principal who;
	void *route_state; /* a handler's own state across its asynchronous steps (arena) */
	char request_id[72];
	char client_ip[64];
	int64_t start_us;
	int status;
	size_t bytes_out;
	int pending; /* asynchronous operations that will call back with this request */
	bool answered, gone;
	bool page;          /* an HTML page, also when answered 304: it gets the page headers */
	struct arena arena; /* last: request structs are reused, and only what precedes it is cleared */
};

/* Path parameter by name, percent-decoded into the arena; NULL when absent or malformed. */
const char *http_param(struct http_req *req, const char *name);
/* Query-string parameter, decoded; NULL when absent. */
const char *http_query(struct http_req *req, const char *name);
const char *http_header(struct http_req *req, const char *name);
/* The request body exactly as received (for signatures over the raw bytes); valid while the
 * handler runs synchronously, NULL once the request is answered or gone. */
const void *http_raw_body(struct http_req *req, size_t *len);
/* "GET", "POST"... */
const char *http_method_label(const struct http_req *req);
/* Adds a response header (before answering). */
void http_set_header(struct http_req *req, const char *name, const char *value);

/* Answers with `body` (stolen), serialised as JSON. */
void http_reply_json(struct http_req *req, int status, json_t *body);
/* Answers with JSON written directly (json_text_*) into the worker's answer buffer: take it
 * with http_json_text(), write one whole value, then reply with http_reply_json_text()
 * before anything else answers. */
struct json_text *http_json_text(void);
void http_reply_json_text(struct http_req *req, int status);
/* Answers {"error":{"code","message","field"?}}. */
void http_reply_error(struct http_req *req, int status, const char *code, const char *message, const char *field);
/* Answers raw bytes (copied unless static_data: then they must outlive the reply). */
void http_reply_bytes(struct http_req *req, int status, const char *content_type, const void *data, size_t len,
                      bool static_data);
void http_reply_empty(struct http_req *req, int status);
/* Maps a failed database result to 503 database_unavailable / 504 / 500. */
void http_reply_db_error(struct http_req *req, const struct db_result *result);

/* The access check that runs before every non-public route (auth/gate.c registers it); it
 * ends by calling http_run_handler() or by answering. */
typedef void (*http_gate)(struct http_req *req);
void http_set_gate(http_gate gate);
/* Reads the body as the route declares, then runs the route's handler. */
void http_run_handler(struct http_req *req);
/* The value of cookie `name` from the request, in the arena; NULL when absent. */
const char *http_cookie(struct http_req *req, const char *name);

/* The usual start of a database callback: releases the request, answers a failed result
 * (503 or 500); true when the handler should go on with `result`. */
bool http_db_answered(struct http_req *req, const struct db_result *result) MUST_USE;
/* A positive integer path parameter; answers 404 (and returns false) otherwise. */
bool http_path_id(struct http_req *req, const char *name, const char **out) MUST_USE;

/* An integer as text in the arena (for statement parameters). */
const char *http_id_text(struct http_req *req, long long id);
/* The `limit` query parameter, 1 to 200, default 50; answers 400 otherwise. */
bool http_read_limit(struct http_req *req, long long *limit) MUST_USE;
/* The `cursor` query parameter of an id-ordered list: an id (1 to 18 digits), or NULL when
 * absent; answers 400 otherwise. */
bool http_read_cursor(struct http_req *req, const char **cursor) MUST_USE;
/* {"items": rows, "next_cursor": ...}: the cursor is the last row's `cursor` column (left
 * out of the items) or its id, when the page is full; null otherwise. */
json_t *http_page_json(struct http_req *req, const PGresult *r, long long limit);
/* A database callback for lists of one statement: answers 200 with the page of its rows;
 * req->route_state holds the `long long` limit. */
void http_page_answered(const struct db_result *result, void *arg);

/* Async work: hold before starting it, release in its callback (returns false when the
 * request is gone, in which case the callback must not answer). */
void http_req_hold(struct http_req *req);
bool http_req_release(struct http_req *req) MUST_USE;

#endif
