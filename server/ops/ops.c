#include "ops/ops.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <string.h>

#include "autoconfig.h"
#include "core/log.h"
#include "core/worker.h"
#include "db/pool.h"
#include "http/input.h"
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
	/* Probed often by load balancers: a constant, not a JSON document built each time. */
	static const char body[] = "{\"status\":\"ok\"}\n";
	http_reply_bytes(req, 200, "application/json; charset=utf-8", body, sizeof body - 1, true);
}

static void readyz_done(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
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

/* The web app reports its uncaught errors here so that operators see them in the log. */
void ops_client_error(struct http_req *req)
{
	static const char *const fields[] = {"message", "url", "stack", NULL};
	const char *message, *url, *stack, *user_agent = http_header(req, "User-Agent");
	if (!input_only(req, fields) || !input_text(req, "message", 2000, INPUT_REQUIRED, &message) ||
	    !input_text(req, "url", 2000, INPUT_OPTIONAL, &url) || !input_text(req, "stack", 8000, INPUT_OPTIONAL, &stack))
		return;
	if (!message[0]) {
		input_fail(req, "message", "This field must not be empty.");
		return;
	}
	log_fields(LOG_WARN, json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s}", "msg", "client error", "error",
	                               message, "url", url, "stack", stack, "user_agent", user_agent, "request_id",
	                               req->request_id, "ip", req->client_ip));
	http_reply_empty(req, 204);
}
