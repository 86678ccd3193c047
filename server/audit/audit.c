#include "audit/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/worker.h"
#include "db/rows.h"
#include "http/request.h"

static struct db_stmt stmt_insert = {
    "audit_insert",
    "INSERT INTO audit_log (actor_user_id, actor_token_id, action, object_type, object_id, ip, request_id, details)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    8, 0};

/* Newest first, filtered, keyset-paginated on id. */
static struct db_stmt stmt_list = {
    "audit_list",
    "SELECT a.id, a.at, a.actor_user_id, u.display_name AS actor_name, a.actor_token_id, a.action, a.object_type,"
    " a.object_id, a.ip, a.request_id, a.details"
    " FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id"
    " WHERE ($1::bigint IS NULL OR a.id < $1)"
    "   AND ($2::bigint IS NULL OR a.actor_user_id = $2)"
    "   AND ($3::text IS NULL OR a.action = $3"
    "        OR a.action LIKE replace(replace(replace($3, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '.%')"
    "   AND ($4::text IS NULL OR a.object_type = $4)"
    "   AND ($5::text IS NULL OR a.object_id = $5)"
    "   AND ($6::timestamptz IS NULL OR a.at >= $6)"
    "   AND ($7::timestamptz IS NULL OR a.at < $7)"
    " ORDER BY a.id DESC LIMIT $8",
    8, 0};

void audit_register_statements(void)
{
	db_register_statement(&stmt_insert);
	db_register_statement(&stmt_list);
}

static void add_row(struct db_batch *batch, struct http_req *req, const char *actor_user_id,
                    const char *actor_token_id, const char *action, const char *object_type, const char *object_id,
                    json_t *details)
{
	char *text = json_dumps(details, JSON_COMPACT);
	const char *values[] = {actor_user_id,     actor_token_id, action,          object_type ? object_type : "",
	                        object_id ? object_id : "", req->client_ip, req->request_id, text};
	db_batch_add(batch, &stmt_insert, values);
	free(text);
}

void audit_add_as(struct db_batch *batch, struct http_req *req, const char *actor_user_id, const char *action,
                  const char *object_type, const char *object_id, json_t *details)
{
	json_t *d = details ? details : json_object();
	add_row(batch, req, actor_user_id, NULL, action, object_type, object_id, d);
	json_decref(d);
}

void audit_add(struct db_batch *batch, struct http_req *req, const char *action, const char *object_type,
               const char *object_id, json_t *details)
{
	char user[24], token[24];
	snprintf(user, sizeof user, "%lld", (long long)req->who.user_id);
	snprintf(token, sizeof token, "%lld", (long long)req->who.token_id);
	json_t *d = details ? details : json_object();
	add_row(batch, req, req->who.user_id ? user : NULL, req->who.token_id ? token : NULL, action, object_type,
	        object_id, d);
	json_decref(d);
}

void audit_actor_params(struct http_req *req, const char *out[4])
{
	out[0] = req->who.user_id ? arena_printf(&req->arena, "%lld", (long long)req->who.user_id) : NULL;
	out[1] = req->who.token_id ? arena_printf(&req->arena, "%lld", (long long)req->who.token_id) : NULL;
	out[2] = req->client_ip;
	out[3] = req->request_id;
}

static void written(const struct db_result *result, void *arg)
{
	if (result->status != DB_OK)
		log_error("cannot write an audit row: %s", result->message ? result->message : "unknown error");
}

void audit_write(struct http_req *req, const char *action, const char *object_type, const char *object_id,
                 json_t *details)
{
	struct db_batch *b = db_batch_new();
	audit_add(b, req, action, object_type, object_id, details);
	db_batch_send(req->worker->db, b, written, NULL);
}

/* --- GET /api/v1/audit --------------------------------------------------------------------- */

static void listed(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	long long *limit = req->route_state;
	if (!http_req_release(req))
		return;
	if (result->status == DB_SQL_ERROR && result->sqlstate && !strncmp(result->sqlstate, "22", 2)) {
		http_reply_error(req, 400, "invalid_query", "A filter has a malformed value.", NULL);
		return;
	}
	if (result->status != DB_OK) {
		http_reply_db_error(req, result);
		return;
	}
	http_reply_json(req, 200, http_page_json(req, result->results[0], *limit));
}

static bool numeric(const char *s)
{
	if (!*s || strlen(s) > 18)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

void audit_list(struct http_req *req)
{
	long long *limit = arena_alloc(&req->arena, sizeof *limit);
	const char *cursor = http_query(req, "cursor"), *actor = http_query(req, "actor_id");
	if ((cursor && !numeric(cursor)) || (actor && !numeric(actor))) {
		http_reply_error(req, 400, "invalid_query", "cursor and actor_id are numbers.",
		                 cursor && !numeric(cursor) ? "cursor" : "actor_id");
		return;
	}
	if (!http_read_limit(req, limit))
		return;
	req->route_state = limit;
	const char *values[] = {cursor,
	                        actor,
	                        http_query(req, "action"),
	                        http_query(req, "object_type"),
	                        http_query(req, "object_id"),
	                        http_query(req, "since"),
	                        http_query(req, "until"),
	                        http_id_text(req, *limit)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_list, values, listed, req);
}
