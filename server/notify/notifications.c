/* The notifications list of GET /api/v1/notifications (newest first, with the unread count)
 * and POST /api/v1/notifications/read (mark read up to an id). The same rows are streamed
 * live by events.c. */
#include <stdint.h>

#include "core/worker.h"
#include "db/rows.h"
#include "http/input.h"
#include "http/request.h"
#include "notify/events.h"

static struct db_stmt stmt_list = {
    "notifications_list",
    "SELECT id, kind, question_id, actor_user_id, data, created_at, read_at FROM notifications"
    " WHERE user_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
    3, 0};

static struct db_stmt stmt_unread = {
    "notifications_unread", "SELECT count(*) AS unread FROM notifications WHERE user_id = $1 AND read_at IS NULL", 1,
    0};

static struct db_stmt stmt_read = {
    "notifications_read",
    "WITH marked AS (UPDATE notifications SET read_at = now()"
    "  WHERE user_id = $1 AND id <= $2 AND read_at IS NULL RETURNING id)"
    " SELECT (SELECT count(*) FROM marked) AS marked,"
    " (SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL) - (SELECT count(*) FROM marked)"
    " AS unread",
    2, 0};

void notifications_register_statements(void)
{
	db_register_statement(&stmt_list);
	db_register_statement(&stmt_unread);
	db_register_statement(&stmt_read);
}

static void list_done(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	long long *limit = req->route_state;
	json_t *page = http_page_json(req, result->results[0], *limit);
	json_object_set_new(page, "unread", json_integer(db_int(result->results[1], 0, "unread")));
	http_reply_json(req, 200, page);
}

void notifications_list(struct http_req *req)
{
	long long *limit = arena_alloc(&req->arena, sizeof *limit);
	const char *c;
	if (!http_read_limit(req, limit) || !http_read_cursor(req, &c))
		return;
	req->route_state = limit;
	const char *user = http_id_text(req, req->who.user_id);
	const char *list_values[] = {user, c, http_id_text(req, *limit)};
	const char *unread_values[] = {user};
	struct db_batch *b = db_batch_new();
	db_batch_add(b, &stmt_list, list_values);
	db_batch_add(b, &stmt_unread, unread_values);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, list_done, req);
}

static void read_done(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	const PGresult *r = result->results[0];
	http_reply_json(req, 200,
	                json_pack("{s:I, s:I}", "marked", (json_int_t)db_int(r, 0, "marked"), "unread",
	                          (json_int_t)db_int(r, 0, "unread")));
}

void notifications_read(struct http_req *req)
{
	static const char *const allowed[] = {"up_to", NULL};
	long long up_to;
	if (!input_only(req, allowed) || !input_int(req, "up_to", 1, INT64_MAX, INPUT_REQUIRED, &up_to, NULL))
		return;
	const char *values[] = {http_id_text(req, req->who.user_id), http_id_text(req, up_to)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_read, values, read_done, req);
}
