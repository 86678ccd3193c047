#include "ops/ops.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <string.h>

#include "autoconfig.h"
#include "core/log.h"
#include "core/worker.h"
#include "db/pool.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/server.h"

static struct db_stmt stmt_ping = {"ops_ping", "SELECT 1", 0, 0};

void ops_register_statements(void)
{
	db_register_statement(&stmt_ping);
}

void ops_healthz(struct http_req *req)
{
	http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

static void readyz_done(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_req_release(req))
		return;
	if (result->status != DB_OK) {
		http_reply_db_error(req, result);
		return;
	}
	http_reply_json(req, 200, json_pack("{s:s, s:s}", "status", "ready", "database", "ok"));
}

void ops_readyz(struct http_req *req)
{
	http_req_hold(req);
	db_query(req->worker->db, &stmt_ping, NULL, readyz_done, req);
}

void ops_metrics(struct http_req *req)
{
	struct db_pool_stats stats;
	db_pool_stats(req->worker->db, &stats);
	metrics_set_gauges(http_server_connections(req->worker->http), &stats);
	struct evbuffer *out = evbuffer_new();
	metrics_render(out, http_routes, http_route_count);
	size_t len = evbuffer_get_length(out);
	http_reply_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8", evbuffer_pullup(out, -1), len, false);
	evbuffer_free(out);
}

void ops_version(struct http_req *req)
{
	http_reply_json(req, 200, json_pack("{s:s, s:s}", "name", "relais", "version", PACKAGE_VERSION));
}

/* Reads a string member; answers 422 naming the field when it is missing, not a string or
 * longer than `max` bytes. */
static bool string_field(struct http_req *req, const char *name, size_t max, bool required, const char **out)
{
	json_t *v = json_object_get(req->json, name);
	if (!v && !required) {
		*out = NULL;
		return true;
	}
	if (!json_is_string(v)) {
		http_reply_error(req, 422, "invalid_field", "This field must be a string.", name);
		return false;
	}
	if (json_string_length(v) > max) {
		http_reply_error(req, 422, "invalid_field", "This field is too long.", name);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* The web app reports its uncaught errors here so that operators see them in the log. */
void ops_client_error(struct http_req *req)
{
	const char *message, *url, *stack, *user_agent = http_header(req, "User-Agent");
	if (!string_field(req, "message", 2000, true, &message) || !string_field(req, "url", 2000, false, &url) ||
	    !string_field(req, "stack", 8000, false, &stack))
		return;
	if (!message[0]) {
		http_reply_error(req, 422, "invalid_field", "This field must not be empty.", "message");
		return;
	}
	log_fields(LOG_WARN, json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s}", "msg", "client error", "error",
	                               message, "url", url, "stack", stack, "user_agent", user_agent, "request_id",
	                               req->request_id, "ip", req->client_ip));
	http_reply_empty(req, 204);
}
