/* The expert inbox: GET /api/v1/questions with scope mine (what I hold, by deadline),
 * triage (the queue of the communities I manage, oldest first) or community (one community
 * I belong to, newest first). Each list is one statement on an index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/worker.h"
#include "db/rows.h"
#include "http/request.h"
#include "questions/common.h"
#include "questions/questions.h"

/* Deadline first, questions without one last, then id: the sort key in microseconds
 * (bigint max without a deadline), which is also the first half of the cursor. */
#define MINE_KEY "coalesce((extract(epoch FROM q.sla_due_at) * 1000000)::bigint, 9223372036854775807)"

/* $1 status filter, $2 me, $3 admin, $4 community filter, $5 $6 cursor (key, id), $7 limit.
 * Assigned to me or claimed by me: two partial indexes (questions_assignee_idx,
 * questions_claimed_idx) whose predicate is this status list. */
static struct db_stmt stmt_mine = {
    "questions_mine",
    "SELECT " QUESTION_COLUMNS ", " MINE_KEY " || '.' || q.id AS cursor" QUESTION_FROM
    " WHERE (q.assignee_id = $2 OR q.claimed_by = $2) AND q.status IN " Q_OPEN_STATUSES
    "  AND ($1::text IS NULL OR q.status = $1) AND ($4::bigint IS NULL OR q.community_id = $4)"
    "  AND ($6::bigint IS NULL OR (" MINE_KEY ", q.id) > ($5::bigint, $6::bigint))"
    " ORDER BY " MINE_KEY ", q.id LIMIT $7",
    7, 0};

/* $1 status filter, $2 me, $3 admin, $4 community filter, $5 cursor (id), $6 limit.
 * questions_triage_idx holds the (short) queue. */
static struct db_stmt stmt_triage = {
    "questions_triage",
    "SELECT " QUESTION_COLUMNS QUESTION_FROM
    " WHERE q.status = 'triage' AND ($1::text IS NULL OR $1 = 'triage')"
    "  AND ($4::bigint IS NULL OR q.community_id = $4)"
    "  AND ($3::bool OR q.community_id IN (SELECT m.community_id FROM community_members m"
    "    WHERE m.user_id = $2 AND m.role = 'manager' AND m.status = 'active'))"
    "  AND ($5::bigint IS NULL OR q.id > $5)"
    " ORDER BY q.id LIMIT $6",
    6, 0};

/* $1 community, $2 me, $3 admin: may the caller list the community's questions? */
static struct db_stmt stmt_member = {
    "questions_community_member",
    "SELECT $3::bool OR EXISTS (SELECT 1 FROM community_members m WHERE m.community_id = $1 AND m.user_id = $2"
    " AND m.status = 'active') AS member",
    3, 0};

/* $1 status filter, $2 me, $3 admin, $4 community, $5 cursor (id), $6 limit. Newest first on
 * questions_community_idx (with a status) or questions_community_recent_idx. */
static struct db_stmt stmt_community = {
    "questions_community",
    "SELECT " QUESTION_COLUMNS QUESTION_FROM
    " WHERE q.community_id = $4 AND ($1::text IS NULL OR q.status = $1)"
    "  AND ($3::bool OR EXISTS (SELECT 1 FROM community_members m WHERE m.community_id = $4 AND m.user_id = $2"
    "    AND m.status = 'active'))"
    "  AND (q.status <> 'triage' OR " Q_MANAGES_JOINED ")"
    "  AND ($5::bigint IS NULL OR q.id < $5)"
    " ORDER BY q.id DESC LIMIT $6",
    6, 0};

void questions_register_statements(void)
{
	struct db_stmt *all[] = {&stmt_mine, &stmt_triage, &stmt_member, &stmt_community};
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		db_register_statement(all[i]);
	questions_view_register();
	questions_actions_register();
	questions_thread_register();
}

struct list_state {
	long long limit;
	bool community; /* the first result is the membership check */
};

static void listed(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct list_state *st = req->route_state;
	if (!http_db_answered(req, result))
		return;
	const PGresult *r = result->results[result->count - 1];
	if (st->community) {
		const PGresult *m = result->results[0];
		const char *member = PQntuples(m) == 1 ? db_value(m, 0, "member") : NULL;
		if (!member || strcmp(member, "t") != 0) {
			http_reply_error(req, 404, "not_found", "No such community.", NULL);
			return;
		}
	}
	/* {"items": [...], "next_cursor": ...}, written directly: the cursor column is for
	 * paging only, and the last row's is the next page's when the page is full. */
	const char *next = NULL;
	int n = PQntuples(r);
	if (n > 0 && n == st->limit) {
		const char *c = db_value(r, n - 1, "cursor");
		next = c ? c : db_value(r, n - 1, "id");
	}
	struct json_text *t = http_json_text();
	json_text_open(t, '{');
	json_text_key(t, "items");
	question_rows_write(t, r, "cursor");
	json_text_key(t, "next_cursor");
	if (!next || !json_text_string(t, next, strlen(next))) /* every list selects the id */
		json_text_null(t);
	json_text_close(t, '}');
	http_reply_json_text(req, 200);
}

static bool bad_filter(struct http_req *req, const char *field, const char *message)
{
	http_reply_error(req, 422, "invalid_field", message, field);
	return false;
}

/* "<key>.<id>" of the mine list into its two halves (in the arena). */
static bool split_mine_cursor(struct http_req *req, const char *cursor, const char **key, const char **id)
{
	const char *dot = strchr(cursor, '.');
	if (!dot || dot == cursor || dot - cursor > 19 || !question_is_id(dot + 1))
		return false;
	const char *k = cursor[0] == '-' ? cursor + 1 : cursor;
	if (k == dot || (size_t)(dot - k) != strspn(k, "0123456789"))
		return false;
	char *copy = arena_strdup(&req->arena, cursor);
	copy[dot - cursor] = '\0';
	*key = copy;
	*id = dot + 1;
	return true;
}

void questions_list(struct http_req *req)
{
	static const char *const scopes[] = {"mine", "triage", "community", NULL};
	static const char *const statuses[] = {"triage",  "routing", "assigned", "claimed", "waiting_customer",
	                                       "escalated", "refused", "answered", "closed",  NULL};
	struct list_state *st = arena_alloc(&req->arena, sizeof *st);
	memset(st, 0, sizeof *st);
	req->route_state = st;
	const char *scope = http_query(req, "scope"), *status = http_query(req, "status");
	const char *community = http_query(req, "community_id"), *cursor = http_query(req, "cursor");
	if (!scope)
		scope = "mine";
	size_t s = 0;
	while (scopes[s] && strcmp(scopes[s], scope) != 0)
		s++;
	if (!scopes[s]) {
		bad_filter(req, "scope", "scope is mine, triage or community.");
		return;
	}
	if (status) {
		size_t k = 0;
		while (statuses[k] && strcmp(statuses[k], status) != 0)
			k++;
		if (!statuses[k]) {
			bad_filter(req, "status", "status is not a question status.");
			return;
		}
	}
	if (community && !question_is_id(community)) {
		bad_filter(req, "community_id", "community_id is a community id.");
		return;
	}
	if (!community && !strcmp(scope, "community")) {
		bad_filter(req, "community_id", "The community scope needs a community_id.");
		return;
	}
	if (!http_read_limit(req, &st->limit))
		return;
	const char *me = http_id_text(req, req->who.user_id), *admin = question_admin_text(req);
	const char *limit = http_id_text(req, st->limit);
	const char *key = NULL, *id = NULL;
	bool mine = !strcmp(scope, "mine");
	if (cursor && (mine ? !split_mine_cursor(req, cursor, &key, &id) : !question_is_id(cursor))) {
		bad_filter(req, "cursor", "The cursor is malformed.");
		return;
	}
	struct db_batch *b = db_batch_new();
	if (mine) {
		const char *v[] = {status, me, admin, community, key, id, limit};
		db_batch_add(b, &stmt_mine, v);
	} else {
		const char *v[] = {status, me, admin, community, cursor, limit};
		if (!strcmp(scope, "triage")) {
			db_batch_add(b, &stmt_triage, v);
		} else {
			st->community = true;
			const char *m[] = {community, me, admin};
			db_batch_add(b, &stmt_member, m);
			db_batch_add(b, &stmt_community, v);
		}
	}
	http_req_hold(req);
	db_batch_send(req->worker->db, b, listed, req);
}
