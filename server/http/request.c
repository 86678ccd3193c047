#include "http/request.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "db/rows.h"
#include "http/internal.h"

const char *http_param(struct http_req *req, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < req->params.count; i++) {
		if (req->params.name_lens[i] != n || strncmp(req->params.names[i], name, n) != 0)
			continue;
		char *raw = arena_strndup(&req->arena, req->params.values[i], req->params.value_lens[i]);
		size_t len = 0;
		char *decoded = evhttp_uridecode(raw, 0, &len);
		const char *out = decoded && strlen(decoded) == len ? arena_strdup(&req->arena, decoded) : NULL;
		free(decoded);
		return out;
	}
	return NULL;
}

const char *http_query(struct http_req *req, const char *name)
{
	if (!req->query)
		return NULL;
	struct evkeyvalq q;
	if (evhttp_parse_query_str(req->query, &q) != 0)
		return NULL;
	const char *v = evhttp_find_header(&q, name);
	const char *out = v ? arena_strdup(&req->arena, v) : NULL;
	evhttp_clear_headers(&q);
	return out;
}

const char *http_header(struct http_req *req, const char *name)
{
	return req->ev ? evhttp_find_header(evhttp_request_get_input_headers(req->ev), name) : NULL;
}

const void *http_raw_body(struct http_req *req, size_t *len)
{
	*len = 0;
	if (!req->ev)
		return NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);
	*len = evbuffer_get_length(in);
	return *len ? (const void *)evbuffer_pullup(in, -1) : (const void *)"";
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

void http_set_header(struct http_req *req, const char *name, const char *value)
{
	if (req->ev)
		evhttp_add_header(evhttp_request_get_output_headers(req->ev), name, value);
}

/* Sends `body` (may be NULL) and runs the common end-of-request work. */
static void send_reply(struct http_req *req, int status, struct evbuffer *body)
{
	if (req->answered)
		return;
	if (!req->ev) {
		/* The client is gone: nothing to send, but the request still ends here. */
		req->status = status;
		http_after_reply(req);
		return;
	}
	http_finish_headers(req, status);
	req->bytes_out = body ? evbuffer_get_length(body) : 0;
	evhttp_send_reply(req->ev, status, NULL, body);
	http_after_reply(req);
}

void http_reply_json(struct http_req *req, int status, json_t *body)
{
	struct evbuffer *buf = evbuffer_new();
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text) {
		evbuffer_add_reference(buf, text, strlen(text), (evbuffer_ref_cleanup_cb)(void (*)(void))free, NULL);
		evbuffer_add(buf, "\n", 1);
	}
	http_set_header(req, "Content-Type", "application/json; charset=utf-8");
	send_reply(req, status, buf);
	evbuffer_free(buf);
}

void http_reply_error(struct http_req *req, int status, const char *code, const char *message,
                      const char *field)
{
	json_t *err = json_pack("{s:s, s:s}", "code", code, "message", message);
	if (field)
		json_object_set_new(err, "field", json_string(field));
	http_reply_json(req, status, json_pack("{s:o}", "error", err));
}

void http_reply_bytes(struct http_req *req, int status, const char *content_type, const void *data,
                      size_t len, bool static_data)
{
	struct evbuffer *buf = evbuffer_new();
	if (static_data)
		evbuffer_add_reference(buf, data, len, NULL, NULL);
	else
		evbuffer_add(buf, data, len);
	if (content_type)
		http_set_header(req, "Content-Type", content_type);
	send_reply(req, status, buf);
	evbuffer_free(buf);
}

void http_reply_empty(struct http_req *req, int status)
{
	send_reply(req, status, NULL);
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
		http_reply_error(req, 503, "database_timeout", "The database did not answer in time; retry shortly.", NULL);
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
	return arena_printf(&req->arena, "%lld", id);
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
