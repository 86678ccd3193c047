#include "http/request.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "core/json_text.h"
#include "core/log.h"
#include "db/rows.h"
#include "http/internal.h"

const char *http_param(struct http_req *req, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < req->params.count; i++) {
		if (req->params.name_lens[i] != n || strncmp(req->params.names[i], name, n) != 0)
			continue;
		return http_percent_decode(&req->arena, req->params.values[i], req->params.value_lens[i]);
	}
	return NULL;
}

struct http_query_param {
	const char *name, *value;
};

/* Decodes the whole query string once, with libevent's parser (a malformed query string has
 * no parameters at all), into the arena. */
static void parse_query(struct http_req *req)
{
	req->query_parsed = true;
	struct evkeyvalq q;
	if (!req->query || evhttp_parse_query_str(req->query, &q) != 0)
		return;
	int n = 0;
	for (struct evkeyval *kv = TAILQ_FIRST(&q); kv; kv = TAILQ_NEXT(kv, next))
		n++;
	req->query_params = arena_alloc(&req->arena, sizeof *req->query_params * (size_t)(n ? n : 1));
	for (struct evkeyval *kv = TAILQ_FIRST(&q); kv; kv = TAILQ_NEXT(kv, next)) {
		struct http_query_param *p = &req->query_params[req->nquery_params++];
		p->name = arena_strdup(&req->arena, kv->key);
		p->value = arena_strdup(&req->arena, kv->value);
	}
	evhttp_clear_headers(&q);
}

const char *http_query(struct http_req *req, const char *name)
{
	if (!req->query_parsed)
		parse_query(req);
	/* The first parameter of that name, compared as evhttp_find_header does. */
	for (int i = 0; i < req->nquery_params; i++)
		if (!evutil_ascii_strcasecmp(req->query_params[i].name, name))
			return req->query_params[i].value;
	return NULL;
}

const char *http_cookie(struct http_req *req, const char *name)
{
	const char *header = http_header(req, "Cookie");
	size_t n = strlen(name);
	for (const char *p = header; p && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > n && p[n] == '=' && !strncmp(p, name, n))
			return arena_strndup(&req->arena, p + n + 1, len - n - 1);
		p = end;
	}
	return NULL;
}

const char *http_method_label(const struct http_req *req)
{
	return router_method_name(req->method);
}

/* Sends `body` (may be NULL) and runs the common end-of-request work. */
static void send_reply(struct http_req *req, int status, const void *body, size_t len, bool static_body)
{
	if (req->answered)
		return;
	if (!req->conn) {
		/* The client is gone: nothing to send, but the request still ends here. */
		req->status = status;
		http_after_reply(req);
		return;
	}
	http_send(req, status, body, len, static_body);
	http_after_reply(req);
}

/* Answers are written into one buffer kept for the next answer: the body is sent (or copied
 * into the connection's output) before the reply returns, and a worker answers on one thread.
 * One that grew for a large answer is let go, so that it does not stay that big. */
static struct json_text reply_text;
#define REPLY_TEXT_KEEP (64 * 1024)

struct json_text *http_json_text(void)
{
	json_text_reset(&reply_text);
	return &reply_text;
}

/* `ok`: the buffer holds the whole body; otherwise the answer has an empty body, as
 * json_dumpb's failure gave. */
static void reply_text_send(struct http_req *req, int status, bool ok)
{
	/* One buffer, the newline included: no copy when the kernel takes it all at once. */
	if (ok)
		json_text_put(&reply_text, "\n", 1);
	http_set_header(req, "Content-Type", "application/json; charset=utf-8");
	send_reply(req, status, ok ? reply_text.data : NULL, ok ? reply_text.len : 0, false);
	if (reply_text.cap > REPLY_TEXT_KEEP)
		json_text_free(&reply_text);
}

void http_reply_json(struct http_req *req, int status, json_t *body)
{
	bool ok = json_text_append(http_json_text(), body);
	json_decref(body);
	reply_text_send(req, status, ok);
}

void http_reply_json_text(struct http_req *req, int status)
{
	reply_text_send(req, status, true);
}

void http_reply_error(struct http_req *req, int status, const char *code, const char *message, const char *field)
{
	json_t *err = json_pack("{s:s, s:s}", "code", code, "message", message);
	if (field)
		json_object_set_new(err, "field", json_string(field));
	http_reply_json(req, status, json_pack("{s:o}", "error", err));
}

void http_reply_bytes(struct http_req *req, int status, const char *content_type, const void *data, size_t len,
                      bool static_data)
{
	if (content_type)
		http_set_header(req, "Content-Type", content_type);
	send_reply(req, status, data, len, static_data);
}

void http_reply_empty(struct http_req *req, int status)
{
	send_reply(req, status, NULL, 0, false);
}

void http_reply_db_error(struct http_req *req, const struct db_result *result)
{
	switch (result->status) {
	case DB_UNAVAILABLE:
	case DB_OVERLOADED:
		http_set_header(req, "Retry-After", "2");
		http_reply_error(req, 503, "database_unavailable", "The database is unavailable; retry shortly.", NULL);
		return;
	case DB_TIMEOUT:
		http_set_header(req, "Retry-After", "2");
		http_reply_error(req, 503, "database_timeout", "The database did not answer in time; retry shortly.",
		                 NULL);
		return;
	default:
		log_fields(LOG_ERROR, json_pack("{s:s, s:s, s:s, s:s, s:s}", "msg", "database error", "route",
		                                req->route ? req->route->name : "", "sqlstate",
		                                result->sqlstate ? result->sqlstate : "", "error",
		                                result->message ? result->message : "", "request_id", req->request_id));
		http_reply_error(req, 500, "internal_error", "Something went wrong on our side.", NULL);
		return;
	}
}

bool http_db_answered(struct http_req *req, const struct db_result *result)
{
	if (!http_req_release(req))
		return false;
	if (result->status != DB_OK) {
		http_reply_db_error(req, result);
		return false;
	}
	return true;
}

bool http_path_id(struct http_req *req, const char *name, const char **out)
{
	const char *v = http_param(req, name);
	bool ok = v && *v && strlen(v) <= 18;
	for (const char *p = v; ok && *p; p++)
		ok = *p >= '0' && *p <= '9';
	if (!ok || atoll(v) <= 0) {
		http_reply_error(req, 404, "not_found", "No such resource.", NULL);
		return false;
	}
	*out = v;
	return true;
}

const char *http_id_text(struct http_req *req, long long id)
{
	/* Statement parameters of every request: digits by hand rather than through printf. */
	char *out = arena_alloc(&req->arena, JSON_TEXT_DECIMAL_MAX + 1);
	out[json_text_decimal(out, id)] = '\0';
	return out;
}

bool http_read_limit(struct http_req *req, long long *limit)
{
	const char *v = http_query(req, "limit");
	*limit = 50;
	if (!v)
		return true;
	char *end;
	long long n = strtoll(v, &end, 10);
	if (*end || n < 1 || n > 200) {
		http_reply_error(req, 400, "invalid_query", "limit is a number from 1 to 200.", "limit");
		return false;
	}
	*limit = n;
	return true;
}

bool http_read_cursor(struct http_req *req, const char **cursor)
{
	const char *c = http_query(req, "cursor");
	*cursor = c;
	if (c && (!*c || strlen(c) > 18 || strspn(c, "0123456789") != strlen(c))) {
		http_reply_error(req, 400, "invalid_query", "cursor is the next_cursor of a previous page.", "cursor");
		return false;
	}
	return true;
}

json_t *http_page_json(struct http_req *req, const PGresult *r, long long limit)
{
	json_t *items = db_rows_json(r);
	size_t n = json_array_size(items);
	json_t *cursor = json_null();
	if (n > 0 && (long long)n == limit) {
		const char *c = db_value(r, (int)n - 1, "cursor");
		cursor = json_string(c ? c : http_id_text(req, db_int(r, (int)n - 1, "id")));
	}
	/* The cursor column is for paging only. */
	size_t i;
	json_t *item;
	json_array_foreach(items, i, item) json_object_del(item, "cursor");
	return json_pack("{s:o, s:o}", "items", items, "next_cursor", cursor);
}

void http_page_answered(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	long long *limit = req->route_state;
	if (!http_db_answered(req, result))
		return;
	http_reply_json(req, 200, http_page_json(req, result->results[0], *limit));
}
