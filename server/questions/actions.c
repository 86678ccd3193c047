/* What an employee does with a question: claim, unclaim, decline, assign (or move to another
 * community) and ask the customer for details. Each action is one batch, so one transaction:
 * the guarded change with its timeline event, notifications and audit row, then the helpers
 * of the schema that it triggers (re-routing, SLA), then the question as the caller now sees
 * it. The change carries its own permission and state checks in its WHERE clause, so two
 * concurrent claims cannot both win; the last statement tells a refusal's 404, 403 or 409.
 *
 * The follow-up statements run only when the change happened: the change sets the
 * transaction-local setting relais.question_action to "<action>:<question id>", which they
 * test (it ends with the transaction, on this connection's next batch it is empty again). */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/worker.h"
#include "db/rows.h"
#include "http/input.h"
#include "http/request.h"
#include "questions/common.h"
#include "questions/questions.h"

#define VISIBLE Q_VISIBLE(Q_ME, Q_ADMIN)
#define ACTED(name) "current_setting('relais.question_action', true) = '" name ":' || $1::bigint"
#define FLAG(name, id) "set_config('relais.question_action', '" name ":' || " id ", true) AS _flag"

/* $1 question, $2 me, $3 admin for all changes below. */
static struct db_stmt stmt_claim = {
    "questions_claim",
    "WITH c AS (UPDATE questions q SET status = 'claimed', claimed_by = $2, updated_at = now()"
    "  WHERE q.id = $1 AND " VISIBLE " AND " Q_MAY_CLAIM(Q_ME) " AND " Q_STATE_CLAIM " RETURNING q.id)"
    " SELECT c.id, question_event(c.id, 'question.claimed', $2, '{}') AS _event FROM c",
    3, 0};

static struct db_stmt stmt_unclaim = {
    "questions_unclaim",
    "WITH c AS (UPDATE questions q SET claimed_by = NULL, updated_at = now(),"
    "   status = CASE q.status WHEN 'claimed' THEN 'assigned' ELSE q.status END"
    "  WHERE q.id = $1 AND " VISIBLE " AND " Q_MAY_UNCLAIM(Q_ME) " AND " Q_STATE_UNCLAIM " RETURNING q.id)"
    " SELECT c.id, question_event(c.id, 'question.unclaimed', $2, '{}') AS _event FROM c",
    3, 0};

/* $4 reason, $5..$8 audit actor (user, token, ip, request id). A second decline by the same
 * person inserts nothing (the primary key), concurrently too. */
static struct db_stmt stmt_decline = {
    "questions_decline",
    "WITH q0 AS (SELECT q.id FROM questions q WHERE q.id = $1 AND " VISIBLE " AND " Q_MAY_DECLINE(Q_ME)
    "   AND " Q_STATE_DECLINE(Q_ME) " FOR UPDATE),"
    " d AS (INSERT INTO question_declines (question_id, user_id, reason) SELECT id, $2, $4 FROM q0"
    "   ON CONFLICT DO NOTHING RETURNING question_id)"
    " SELECT d.question_id AS id, " FLAG("decline", "d.question_id") ","
    " question_event(d.question_id, 'question.declined', $2, jsonb_build_object('reason', $4::text)) AS _event,"
    " audit_record($5, $6, 'question.declined', 'question', d.question_id::text, $7, $8,"
    "   jsonb_build_object('reason', $4::text)) AS _audit FROM d",
    8, 0};

static struct db_stmt stmt_declined_reroute = {
    "questions_declined_reroute",
    "SELECT question_route_later($1::bigint, 'declined', $2::bigint) AS _r WHERE " ACTED("decline"), 2, 0};

/* $1 question, $2 user: an active account and an active member of the question's community. */
static struct db_stmt stmt_assignable = {
    "questions_assignable",
    "SELECT EXISTS (SELECT 1 FROM questions q JOIN community_members m ON m.community_id = q.community_id"
    " JOIN users u ON u.id = m.user_id WHERE q.id = $1 AND m.user_id = $2 AND m.status = 'active'"
    " AND u.status = 'active') AS ok",
    2, 0};

/* $4 the new assignee, $5..$8 audit actor. */
static struct db_stmt stmt_assign = {
    "questions_assign",
    "WITH a AS (UPDATE questions q SET assignee_id = $4, claimed_by = NULL, triage_reason = '', updated_at = now(),"
    "   status = CASE WHEN q.status = 'waiting_customer' THEN q.status ELSE 'assigned' END"
    "  FROM (SELECT id, assignee_id FROM questions WHERE id = $1 FOR UPDATE) old"
    "  WHERE q.id = old.id AND " VISIBLE " AND " Q_MAY_ASSIGN(Q_ME, Q_ADMIN) " AND " Q_STATE_ASSIGN
    "   AND EXISTS (SELECT 1 FROM community_members m JOIN users u ON u.id = m.user_id"
    "     WHERE m.community_id = q.community_id AND m.user_id = $4 AND m.status = 'active' AND u.status = 'active')"
    "  RETURNING q.id, q.title, old.assignee_id AS before)"
    " SELECT a.id, " FLAG("assign", "a.id") ","
    " question_event(a.id, 'question.assigned', $2,"
    "   jsonb_build_object('user_id', $4::bigint, 'previous_user_id', a.before)) AS _event,"
    " CASE WHEN $4::bigint <> $2::bigint THEN notification_add($4, 'question.assigned', a.id, $2,"
    "   jsonb_build_object('title', a.title)) END AS _assigned,"
    " CASE WHEN a.before IS NOT NULL AND a.before <> $4::bigint AND a.before <> $2::bigint THEN"
    "   notification_add(a.before, 'question.unassigned', a.id, $2, jsonb_build_object('title', a.title))"
    "   END AS _unassigned,"
    " audit_record($5, $6, 'question.assigned', 'question', a.id::text, $7, $8,"
    "   jsonb_build_object('user_id', $4::bigint, 'previous_user_id', a.before)) AS _audit FROM a",
    8, 0};

/* A question assigned by hand that has no clock yet (from triage) gets the channel's SLA. */
static struct db_stmt stmt_assigned_sla = {
    "questions_assigned_sla",
    "SELECT question_sla_arm(q.id, c.sla_seconds) AS _due FROM questions q JOIN channels c ON c.id = q.channel_id"
    " WHERE q.id = $1::bigint AND " ACTED("assign")
    " AND q.status = 'assigned' AND q.sla_due_at IS NULL AND q.sla_remaining IS NULL",
    1, 0};

static struct db_stmt stmt_community_exists = {
    "questions_community_exists", "SELECT EXISTS (SELECT 1 FROM communities WHERE id = $1) AS ok", 1, 0};

/* $4 the community it moves to, $5..$8 audit actor: then routing decides again. */
static struct db_stmt stmt_move = {
    "questions_move",
    "WITH a AS (UPDATE questions q SET community_id = $4, updated_at = now()"
    "  FROM (SELECT id, community_id, assignee_id FROM questions WHERE id = $1 FOR UPDATE) old"
    "  WHERE q.id = old.id AND " VISIBLE " AND " Q_MAY_ASSIGN(Q_ME, Q_ADMIN) " AND " Q_STATE_MOVE
    "   AND EXISTS (SELECT 1 FROM communities c WHERE c.id = $4)"
    "  RETURNING q.id, q.title, old.community_id AS before, old.assignee_id AS before_user)"
    " SELECT a.id, " FLAG("move", "a.id") ","
    " question_event(a.id, 'question.moved', $2, jsonb_build_object('from', a.before, 'to', $4::bigint)) AS _event,"
    " CASE WHEN a.before_user IS NOT NULL AND a.before_user <> $2::bigint THEN notification_add(a.before_user,"
    "   'question.unassigned', a.id, $2, jsonb_build_object('title', a.title)) END AS _unassigned,"
    " audit_record($5, $6, 'question.moved', 'question', a.id::text, $7, $8,"
    "   jsonb_build_object('from', a.before, 'to', $4::bigint)) AS _audit FROM a",
    8, 0};

static struct db_stmt stmt_moved_reroute = {
    "questions_moved_reroute",
    "SELECT question_route_later($1::bigint, 'moved', $2::bigint) AS _r WHERE " ACTED("move"), 2, 0};

/* $4 body, $5 wait_for_customer. The first message to the customer is the first response. */
static struct db_stmt stmt_message = {
    "questions_message",
    "WITH q0 AS (SELECT q.id FROM questions q WHERE q.id = $1 AND " VISIBLE " AND " Q_MAY_MESSAGE(Q_ME, Q_ADMIN)
    "   AND " Q_STATE_MESSAGE " FOR UPDATE),"
    " m AS (INSERT INTO question_messages (question_id, author, author_user_id, body)"
    "   SELECT id, 'expert', $2, $4 FROM q0 RETURNING *),"
    " u AS (UPDATE questions q SET first_response_at = coalesce(q.first_response_at, now()), updated_at = now()"
    "   FROM m WHERE q.id = m.question_id RETURNING q.id)"
    " SELECT m.id, m.author, json_build_object('id', me.id, 'display_name', me.display_name) AS author_user,"
    " m.body, m.created_at, " FLAG("message", "m.question_id") ", (SELECT count(*) FROM u) AS _updated,"
    " question_event(m.question_id, 'question.message', $2,"
    "   jsonb_build_object('message_id', m.id, 'wait_for_customer', $5::bool)) AS _event"
    " FROM m JOIN users me ON me.id = m.author_user_id",
    5, 0};

static struct db_stmt stmt_message_wait = {
    "questions_message_wait",
    "SELECT question_sla_pause($1::bigint, $2::bigint) AS _p WHERE $3::bool AND " ACTED("message"), 3, 0};

void questions_actions_register(void)
{
	struct db_stmt *all[] = {&stmt_claim,       &stmt_unclaim,          &stmt_decline, &stmt_declined_reroute,
	                         &stmt_assignable,  &stmt_assign,           &stmt_assigned_sla,
	                         &stmt_community_exists, &stmt_move,        &stmt_moved_reroute,
	                         &stmt_message,     &stmt_message_wait};
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		db_register_statement(all[i]);
}

enum action { CLAIM, UNCLAIM, DECLINE, ASSIGN, MOVE, MESSAGE };

struct action_state {
	enum action action;
	const char *id;
	int check;  /* index of the target check in the batch, or -1 */
	int change; /* index of the guarded change */
};

static void conflict(struct http_req *req, const char *code, const char *message)
{
	http_reply_error(req, 409, code, message, NULL);
}

/* The change did not happen: say why, from the question as it is now. */
static void refused(struct http_req *req, struct action_state *st, const struct db_result *result)
{
	const PGresult *row = result->results[result->count - 1];
	if (!question_row_visible(row)) {
		question_not_found(req);
		return;
	}
	if (st->check >= 0 && !question_row_flag(result->results[st->check], "ok") &&
	    question_row_flag(row, "_may_assign")) {
		if (st->action == ASSIGN)
			input_fail(req, "user_id", "The assignee must be an active member of the question's community.");
		else
			input_fail(req, "community_id", "No such community.");
		return;
	}
	switch (st->action) {
	case CLAIM:
		if (!question_row_flag(row, "_may_claim"))
			question_forbidden(req, st->id, "Only the assignee, the backup or the community's experts may claim it.");
		else if (db_value(row, 0, "_claimed_by_id"))
			conflict(req, "already_claimed", "Someone has claimed this question already.");
		else
			conflict(req, "invalid_state", "This question cannot be claimed in its current state.");
		return;
	case UNCLAIM:
		if (!db_value(row, 0, "_claimed_by_id"))
			conflict(req, "not_claimed", "Nobody has claimed this question.");
		else if (!question_row_flag(row, "_may_unclaim"))
			question_forbidden(req, st->id, "Only the person who claimed it may unclaim it.");
		else
			conflict(req, "invalid_state", "This question cannot be unclaimed in its current state.");
		return;
	case DECLINE:
		if (question_row_flag(row, "_declined"))
			conflict(req, "already_declined", "You have declined this question already.");
		else if (!question_row_flag(row, "_may_decline"))
			question_forbidden(req, st->id, "Only the assignee may decline it.");
		else
			conflict(req, "invalid_state", "This question cannot be declined in its current state.");
		return;
	case ASSIGN:
	case MOVE:
		if (!question_row_flag(row, "_may_assign"))
			question_forbidden(req, st->id, "Only the community's managers and admins may assign it.");
		else
			conflict(req, "invalid_state", "This question cannot be assigned in its current state.");
		return;
	case MESSAGE:
		if (!question_row_flag(row, "_may_message"))
			question_forbidden(req, st->id, "Only the assignee, the claimer or a manager may write to the customer.");
		else
			conflict(req, "invalid_state", "This question takes no more messages.");
		return;
	}
}

static void acted(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct action_state *st = req->route_state;
	if (!http_db_answered(req, result))
		return;
	const PGresult *change = result->results[st->change], *row = result->results[result->count - 1];
	if (PQntuples(change) != 1) {
		refused(req, st, result);
		return;
	}
	json_t *question;
	if (question_row_visible(row)) {
		question = question_json(row, 0);
	} else {
		/* Moved to a community the caller does not belong to: done, but no longer theirs to see. */
		question = json_pack("{s:I, s:s}", "id", (json_int_t)strtoll(st->id, NULL, 10), "status",
		                     PQntuples(row) == 1 ? db_value(row, 0, "status") : "routing");
	}
	if (st->action == MESSAGE) {
		json_t *message = db_row_json(change, 0);
		http_reply_json(req, 201, json_pack("{s:o, s:o}", "message", message, "question", question));
		return;
	}
	http_reply_json(req, 200, question);
}

static struct action_state *start(struct http_req *req, enum action action, const char *id)
{
	struct action_state *st = arena_alloc(&req->arena, sizeof *st);
	st->action = action;
	st->id = id;
	st->check = -1;
	st->change = 0;
	req->route_state = st;
	return st;
}

static void send_batch(struct http_req *req, struct db_batch *b)
{
	question_add_row(b, req, ((struct action_state *)req->route_state)->id);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, acted, req);
}

static void simple(struct http_req *req, enum action action, const struct db_stmt *stmt)
{
	const char *id;
	if (!http_path_id(req, "id", &id))
		return;
	start(req, action, id);
	struct db_batch *b = db_batch_new();
	const char *v[] = {id, http_id_text(req, req->who.user_id), question_admin_text(req)};
	db_batch_add(b, stmt, v);
	send_batch(req, b);
}

void questions_claim(struct http_req *req)
{
	simple(req, CLAIM, &stmt_claim);
}

void questions_unclaim(struct http_req *req)
{
	simple(req, UNCLAIM, &stmt_unclaim);
}

/* Free text that must say something. */
static bool read_text(struct http_req *req, const char *name, size_t max, const char **out)
{
	if (!input_text(req, name, max, INPUT_REQUIRED, out))
		return false;
	if (strspn(*out, " \t\r\n") == strlen(*out))
		return input_fail(req, name, "This field is required.");
	return true;
}

void questions_decline(struct http_req *req)
{
	static const char *const fields[] = {"reason", NULL};
	const char *id, *reason;
	if (!http_path_id(req, "id", &id) || !input_only(req, fields) || !read_text(req, "reason", 500, &reason))
		return;
	start(req, DECLINE, id);
	const char *me = http_id_text(req, req->who.user_id), *a[4];
	audit_actor_params(req, a);
	struct db_batch *b = db_batch_new();
	const char *v[] = {id, me, question_admin_text(req), reason, a[0], a[1], a[2], a[3]};
	db_batch_add(b, &stmt_decline, v);
	const char *r[] = {id, me};
	db_batch_add(b, &stmt_declined_reroute, r);
	send_batch(req, b);
}

void questions_assign(struct http_req *req)
{
	static const char *const fields[] = {"user_id", "community_id", NULL};
	const char *id;
	long long user = 0, community = 0;
	bool has_user, has_community;
	if (!http_path_id(req, "id", &id) || !input_only(req, fields) ||
	    !input_int(req, "user_id", 1, INT64_MAX, INPUT_OPTIONAL, &user, &has_user) ||
	    !input_int(req, "community_id", 1, INT64_MAX, INPUT_OPTIONAL, &community, &has_community))
		return;
	if (has_user == has_community) {
		input_fail(req, has_user ? "community_id" : "user_id", "Give either user_id or community_id.");
		return;
	}
	struct action_state *st = start(req, has_user ? ASSIGN : MOVE, id);
	const char *me = http_id_text(req, req->who.user_id), *a[4];
	const char *target = http_id_text(req, has_user ? user : community);
	audit_actor_params(req, a);
	struct db_batch *b = db_batch_new();
	const char *v[] = {id, me, question_admin_text(req), target, a[0], a[1], a[2], a[3]};
	st->check = 0;
	st->change = 1;
	if (has_user) {
		const char *c[] = {id, target};
		db_batch_add(b, &stmt_assignable, c);
		db_batch_add(b, &stmt_assign, v);
		const char *s[] = {id};
		db_batch_add(b, &stmt_assigned_sla, s);
	} else {
		const char *c[] = {target};
		db_batch_add(b, &stmt_community_exists, c);
		db_batch_add(b, &stmt_move, v);
		const char *r[] = {id, me};
		db_batch_add(b, &stmt_moved_reroute, r);
	}
	send_batch(req, b);
}

void questions_message(struct http_req *req)
{
	static const char *const fields[] = {"body", "wait_for_customer", NULL};
	const char *id, *body;
	bool wait = false, has_wait;
	if (!http_path_id(req, "id", &id) || !input_only(req, fields) || !read_text(req, "body", 20000, &body) ||
	    !input_bool(req, "wait_for_customer", INPUT_OPTIONAL, &wait, &has_wait))
		return;
	start(req, MESSAGE, id);
	const char *me = http_id_text(req, req->who.user_id), *w = wait ? "true" : "false";
	struct db_batch *b = db_batch_new();
	const char *v[] = {id, me, question_admin_text(req), body, w};
	db_batch_add(b, &stmt_message, v);
	const char *p[] = {id, me, w};
	db_batch_add(b, &stmt_message_wait, p);
	send_batch(req, b);
}
