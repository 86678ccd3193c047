/* The internal thread of a question: comments by anyone who can see it, with mentions of
 * people who can see it too. Never on a public route: only GET and POST
 * /api/v1/questions/{id}/comments read or write question_comments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/worker.h"
#include "db/rows.h"
#include "http/input.h"
#include "http/request.h"
#include "questions/common.h"
#include "questions/questions.h"

#define MAX_MENTIONS 20

#define COMMENT_COLUMNS                                                                                        \
	"c.id, json_build_object('id', u.id, 'display_name', u.display_name) AS author, c.body,"                    \
	" (SELECT coalesce(json_agg(json_build_object('id', mu.id, 'display_name', mu.display_name) ORDER BY mu.id),"  \
	"   '[]') FROM users mu WHERE mu.id = ANY (c.mentions)) AS mentions, c.created_at"                          \
	" FROM question_comments c JOIN users u ON u.id = c.author_id"

/* $1 question, $2 me, $3 admin, $4 cursor (last id seen), $5 limit: oldest first. */
static struct db_stmt stmt_comments = {
    "questions_comments",
    "SELECT " COMMENT_COLUMNS " WHERE c.question_id = $1 AND ($4::bigint IS NULL OR c.id > $4)"
    " AND EXISTS (SELECT 1 FROM questions q WHERE q.id = $1 AND " Q_VISIBLE(Q_ME, Q_ADMIN) ")"
    " ORDER BY c.id LIMIT $5",
    5, 0};

/* Mentions that are not active people who may see the question. $1 question, $4 mentions. */
#define BAD_MENTIONS                                                                                           \
	"SELECT x FROM unnest($4::bigint[]) x WHERE NOT EXISTS (SELECT 1 FROM users mu WHERE mu.id = x"            \
	" AND mu.status = 'active' AND " Q_VISIBLE("mu.id", "(mu.role = 'admin')") ")"

/* $1 question, $2 me, $3 admin, $4 mentions: may I comment, and whom may I not mention? */
static struct db_stmt stmt_comment_check = {
    "questions_comment_check",
    "SELECT " Q_VISIBLE(Q_ME, Q_ADMIN) " AS _visible, to_json(ARRAY(" BAD_MENTIONS ")) AS bad"
    " FROM questions q WHERE q.id = $1",
    4, 0};

/* $5 body. The comment id goes into relais.question_comment for the notifications below. */
static struct db_stmt stmt_comment = {
    "questions_comment",
    "WITH c AS (INSERT INTO question_comments (question_id, author_id, body, mentions)"
    "  SELECT q.id, $2, $5, $4::bigint[] FROM questions q WHERE q.id = $1 AND " Q_VISIBLE(Q_ME, Q_ADMIN)
    "  AND NOT EXISTS (" BAD_MENTIONS ") RETURNING id)"
    " SELECT c.id, set_config('relais.question_comment', c.id::text, true) AS _flag FROM c",
    5, 0};

#define THIS_COMMENT "c.id = nullif(current_setting('relais.question_comment', true), '')::bigint"

/* Each mentioned person but the author; then the assignee, unless they wrote it or were
 * mentioned (one notification per person). $1 question, $2 me. */
static struct db_stmt stmt_notify_mentions = {
    "questions_comment_mentions",
    "SELECT notification_add(x, 'question.mentioned', c.question_id, $2::bigint,"
    " jsonb_build_object('comment_id', c.id, 'title', q.title)) AS _n"
    " FROM question_comments c JOIN questions q ON q.id = c.question_id, unnest(c.mentions) x"
    " WHERE " THIS_COMMENT " AND c.question_id = $1::bigint AND x <> $2::bigint",
    2, 0};

static struct db_stmt stmt_notify_assignee = {
    "questions_comment_assignee",
    "SELECT notification_add(q.assignee_id, 'question.comment', q.id, $2::bigint,"
    " jsonb_build_object('comment_id', c.id, 'title', q.title)) AS _n"
    " FROM question_comments c JOIN questions q ON q.id = c.question_id"
    " WHERE " THIS_COMMENT " AND c.question_id = $1::bigint AND q.assignee_id IS NOT NULL"
    " AND q.assignee_id <> $2::bigint AND NOT (q.assignee_id = ANY (c.mentions))",
    2, 0};

static struct db_stmt stmt_comment_row = {"questions_comment_row", "SELECT " COMMENT_COLUMNS " WHERE " THIS_COMMENT,
                                          0, 0};

void questions_thread_register(void)
{
	struct db_stmt *all[] = {&stmt_comments, &stmt_comment_check, &stmt_comment, &stmt_notify_mentions,
	                         &stmt_notify_assignee, &stmt_comment_row};
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		db_register_statement(all[i]);
}

struct thread_state {
	long long limit;
};

static void comments_listed(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct thread_state *st = req->route_state;
	if (!http_db_answered(req, result))
		return;
	if (!question_row_visible(result->results[0])) {
		question_not_found(req);
		return;
	}
	http_reply_json(req, 200, http_page_json(req, result->results[1], st->limit));
}

void questions_comments(struct http_req *req)
{
	const char *id, *cursor = http_query(req, "cursor");
	struct thread_state *st = arena_alloc(&req->arena, sizeof *st);
	req->route_state = st;
	if (!http_path_id(req, "id", &id) || !http_read_limit(req, &st->limit))
		return;
	if (cursor && !question_is_id(cursor)) {
		http_reply_error(req, 422, "invalid_field", "The cursor is malformed.", "cursor");
		return;
	}
	const char *me = http_id_text(req, req->who.user_id), *admin = question_admin_text(req);
	struct db_batch *b = db_batch_new();
	question_add_visible(b, req, id);
	const char *v[] = {id, me, admin, cursor, http_id_text(req, st->limit)};
	db_batch_add(b, &stmt_comments, v);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, comments_listed, req);
}

static void commented(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	const PGresult *check = result->results[0];
	if (!question_row_visible(check)) {
		question_not_found(req);
		return;
	}
	const char *bad = db_value(check, 0, "bad");
	if (PQntuples(result->results[1]) != 1 || (bad && strcmp(bad, "[]") != 0)) {
		input_fail(req, "mentions", "Mentions must be active people who can see this question.");
		return;
	}
	http_reply_json(req, 201, db_row_json(result->results[4], 0));
}

/* [1, 2, ...] into "{1,2}" without duplicates; 422 on anything but positive integers. */
static bool read_mentions(struct http_req *req, const char **literal)
{
	json_t *list = input_member(req, "mentions");
	*literal = "{}";
	if (!list || json_is_null(list))
		return true;
	if (!json_is_array(list))
		return input_fail(req, "mentions", "This field must be a list of user ids.");
	if (json_array_size(list) > MAX_MENTIONS)
		return input_fail(req, "mentions", "At most 20 people may be mentioned.");
	long long ids[MAX_MENTIONS];
	size_t n = 0, i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return input_fail(req, "mentions", "This field must be a list of user ids.");
		long long id = json_integer_value(v);
		bool seen = false;
		for (size_t k = 0; k < n && !seen; k++)
			seen = ids[k] == id;
		if (!seen)
			ids[n++] = id;
	}
	char *out = arena_alloc(&req->arena, 3 + n * 21); /* braces, NUL, and per id a comma and 20 digits */
	size_t len = 0;
	out[len++] = '{';
	for (size_t k = 0; k < n; k++)
		len += (size_t)sprintf(out + len, k ? ",%lld" : "%lld", ids[k]);
	out[len++] = '}';
	out[len] = '\0';
	*literal = out;
	return true;
}

void questions_comment(struct http_req *req)
{
	static const char *const fields[] = {"body", "mentions", NULL};
	const char *id, *body, *mentions;
	if (!http_path_id(req, "id", &id) || !input_only(req, fields) ||
	    !input_text(req, "body", 10000, INPUT_REQUIRED, &body))
		return;
	if (strspn(body, " \t\r\n") == strlen(body)) {
		input_fail(req, "body", "This field is required.");
		return;
	}
	if (!read_mentions(req, &mentions))
		return;
	const char *me = http_id_text(req, req->who.user_id), *admin = question_admin_text(req);
	struct db_batch *b = db_batch_new();
	const char *c[] = {id, me, admin, mentions};
	db_batch_add(b, &stmt_comment_check, c);
	const char *v[] = {id, me, admin, mentions, body};
	db_batch_add(b, &stmt_comment, v);
	const char *n[] = {id, me};
	db_batch_add(b, &stmt_notify_mentions, n);
	db_batch_add(b, &stmt_notify_assignee, n);
	db_batch_add(b, &stmt_comment_row, NULL);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, commented, req);
}
