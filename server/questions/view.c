/* The question view (GET /api/v1/questions/{id}) and similar answered questions
 * (GET /api/v1/questions/{id}/similar). The view is one batch: the question with what the
 * caller may do, its messages, its routing decisions and its timeline. */
#include <stdlib.h>
#include <string.h>

#include "core/worker.h"
#include "db/rows.h"
#include "http/request.h"
#include "questions/common.h"
#include "questions/questions.h"

#define VISIBLE Q_VISIBLE(Q_ME, Q_ADMIN)

/* $1 question, $2 me, $3 admin. Not filtered by visibility, so that a refused action can
 * tell 404 from 403 and 409 (`_may_*`: who may; a refusal by someone who may is a state
 * conflict): callers check `_visible` first. */
static struct db_stmt stmt_row = {
    "questions_row",
    "SELECT " QUESTION_COLUMNS ", q.body, q.url, v.visible AS _visible,"
    " v.visible AND " Q_MAY_CLAIM(Q_ME) " AND " Q_STATE_CLAIM " AS _can_claim,"
    " v.visible AND " Q_MAY_UNCLAIM(Q_ME) " AND " Q_STATE_UNCLAIM " AS _can_unclaim,"
    " v.visible AND " Q_MAY_DECLINE(Q_ME) " AND " Q_STATE_DECLINE(Q_ME) " AS _can_decline,"
    " v.visible AND " Q_MAY_ASSIGN(Q_ME, Q_ADMIN) " AND " Q_STATE_ASSIGN " AS _can_assign,"
    " v.visible AND " Q_MAY_MESSAGE(Q_ME, Q_ADMIN) " AND " Q_STATE_MESSAGE " AS _can_message,"
    " " Q_MAY_CLAIM(Q_ME) " AS _may_claim, " Q_MAY_UNCLAIM(Q_ME) " AS _may_unclaim,"
    " " Q_MAY_DECLINE(Q_ME) " AS _may_decline, " Q_MAY_ASSIGN(Q_ME, Q_ADMIN) " AS _may_assign,"
    " " Q_MAY_MESSAGE(Q_ME, Q_ADMIN) " AS _may_message,"
    " EXISTS (SELECT 1 FROM question_declines d WHERE d.question_id = q.id AND d.user_id = $2) AS _declined"
    QUESTION_FROM " CROSS JOIN LATERAL (SELECT " VISIBLE " AS visible) v WHERE q.id = $1",
    3, 0};

static struct db_stmt stmt_visible = {
    "questions_visible", "SELECT " VISIBLE " AS _visible FROM questions q WHERE q.id = $1", 3, 0};

/* The parts below are sent only once the row said the caller may see the question. */
static struct db_stmt stmt_messages = {
    "questions_view_messages",
    "SELECT m.id, m.author, CASE WHEN u.id IS NULL THEN NULL"
    "  ELSE json_build_object('id', u.id, 'display_name', u.display_name) END AS author_user,"
    " m.body, m.created_at FROM question_messages m LEFT JOIN users u ON u.id = m.author_user_id"
    " WHERE m.question_id = $1 ORDER BY m.id LIMIT 500",
    1, 0};

static struct db_stmt stmt_routing = {
    "questions_view_routing",
    "SELECT json_build_object('id', u.id, 'display_name', u.display_name) AS user, r.rank, r.score, r.parts,"
    " r.created_at FROM question_routes r JOIN users u ON u.id = r.user_id"
    " WHERE r.question_id = $1 ORDER BY r.id LIMIT 200",
    1, 0};

static struct db_stmt stmt_timeline = {
    "questions_view_timeline",
    "SELECT e.id, e.kind, CASE WHEN u.id IS NULL THEN NULL"
    "  ELSE json_build_object('id', u.id, 'display_name', u.display_name) END AS actor, e.details, e.at"
    " FROM question_events e LEFT JOIN users u ON u.id = e.actor_user_id"
    " WHERE e.question_id = $1 ORDER BY e.id LIMIT 500",
    1, 0};

/* Answered or closed questions the caller may see that look like question $1: its title's
 * words (stemmed in its language, accents ignored) in their text, or a title close enough
 * for pg_trgm's `%` (questions_search_idx, questions_title_trgm_idx). Each index gives its
 * best 100 of at most 1000 matches (a bound on the work when many questions share words); `similarity` is the trigram similarity of the titles, or when better the mean of
 * that and the share of the title's words found in the other question (so that, among
 * questions with all the words, the closest title comes first). Never a customer column. $1 question, $2 me, $3 admin. */
static struct db_stmt stmt_similar = {
    "questions_similar",
    "WITH s AS (SELECT q.id, q.title, immutable_unaccent(lower(q.title)) AS key,"
    "   CASE q.language WHEN 'fr' THEN 'public.fr_unaccent'::regconfig ELSE 'public.en_unaccent'::regconfig END AS cfg"
    "  FROM questions q WHERE q.id = $1),"
    " w AS (SELECT s.*, tsvector_to_array(to_tsvector(s.cfg, s.title)) AS words FROM s),"
    " t AS (SELECT w.*, (SELECT string_agg(quote_literal(x), ' | ') FROM unnest(w.words) x)::tsquery AS tsq FROM w),"
    " fts AS (SELECT x.id FROM (SELECT q.id, q.search FROM questions q, t WHERE q.search @@ t.tsq"
    "   AND q.status IN ('answered', 'closed') AND q.id <> t.id LIMIT 1000) x, t"
    "   ORDER BY ts_rank(x.search, t.tsq) DESC, x.id DESC LIMIT 100),"
    " tri AS (SELECT x.id FROM (SELECT q.id, q.title FROM questions q, t WHERE immutable_unaccent(lower(q.title)) % t.key"
    "   AND q.status IN ('answered', 'closed') AND q.id <> t.id LIMIT 1000) x, t"
    "   ORDER BY similarity(immutable_unaccent(lower(x.title)), t.key) DESC, x.id DESC LIMIT 100),"
    " found AS (SELECT id FROM fts UNION SELECT id FROM tri),"
    " parts AS (SELECT q.id, q.title, q.status, q.language, q.community_id, q.created_at,"
    "   similarity(immutable_unaccent(lower(q.title)), t.key)::float8 AS trigram,"
    "   CASE WHEN cardinality(t.words) = 0 THEN 0 ELSE (SELECT count(*) FROM unnest(t.words) x"
    "     WHERE q.search @@ quote_literal(x)::tsquery)::float8 / cardinality(t.words) END AS words"
    "  FROM found JOIN questions q ON q.id = found.id, t WHERE " VISIBLE "),"
    " scored AS (SELECT parts.*, round(greatest(trigram, (trigram + words) / 2)::numeric, 3) AS similarity FROM parts)"
    " SELECT s.id, s.title, s.status, s.language, json_build_object('id', co.id, 'name', co.name) AS community,"
    " s.similarity, s.created_at FROM scored s JOIN communities co ON co.id = s.community_id"
    " ORDER BY s.similarity DESC, s.id DESC LIMIT 10",
    3, 0};

void questions_view_register(void)
{
	struct db_stmt *all[] = {&stmt_row, &stmt_visible, &stmt_messages, &stmt_routing, &stmt_timeline, &stmt_similar};
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		db_register_statement(all[i]);
}

void question_add_row(struct db_batch *b, struct http_req *req, const char *id)
{
	const char *v[] = {id, http_id_text(req, req->who.user_id), question_admin_text(req)};
	db_batch_add(b, &stmt_row, v);
}

void question_add_visible(struct db_batch *b, struct http_req *req, const char *id)
{
	const char *v[] = {id, http_id_text(req, req->who.user_id), question_admin_text(req)};
	db_batch_add(b, &stmt_visible, v);
}

bool question_row_flag(const PGresult *r, const char *column)
{
	const char *v = PQntuples(r) == 1 ? db_value(r, 0, column) : NULL;
	return v && !strcmp(v, "t");
}

bool question_row_visible(const PGresult *r)
{
	return question_row_flag(r, "_visible");
}

/* Timeline details are written by many modules; the customer's identity has no business in
 * them, but in case one ever carries it, only those who may see the customer get it. */
static void strip_customer(json_t *timeline)
{
	static const char *const keys[] = {"customer", "customer_name", "customer_email", "email",
	                                   "external_ref"};
	size_t i;
	json_t *event;
	json_array_foreach(timeline, i, event)
	{
		json_t *details = json_object_get(event, "details");
		if (json_is_object(details))
			for (size_t k = 0; k < ARRAY_LEN(keys); k++)
				json_object_del(details, keys[k]);
	}
}

static void viewed(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	const PGresult *row = result->results[0];
	if (!question_row_visible(row)) {
		question_not_found(req);
		return;
	}
	json_t *q = question_json(row, 0);
	json_object_set_new(q, "messages", db_rows_json(result->results[1]));
	json_object_set_new(q, "routing", db_rows_json(result->results[2]));
	json_t *timeline = db_rows_json(result->results[3]);
	if (!question_row_flag(row, "_sees_customer"))
		strip_customer(timeline);
	json_object_set_new(q, "timeline", timeline);
	http_reply_json(req, 200, q);
}

void questions_get(struct http_req *req)
{
	const char *id;
	if (!http_path_id(req, "id", &id))
		return;
	struct db_batch *b = db_batch_new();
	question_add_row(b, req, id);
	const char *v[] = {id};
	db_batch_add(b, &stmt_messages, v);
	db_batch_add(b, &stmt_routing, v);
	db_batch_add(b, &stmt_timeline, v);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, viewed, req);
}

static void similar_found(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	if (!question_row_visible(result->results[0])) {
		question_not_found(req);
		return;
	}
	http_reply_json(req, 200, json_pack("{s:o}", "items", db_rows_json(result->results[1])));
}

void questions_similar(struct http_req *req)
{
	const char *id;
	if (!http_path_id(req, "id", &id))
		return;
	struct db_batch *b = db_batch_new();
	question_add_visible(b, req, id);
	const char *v[] = {id, http_id_text(req, req->who.user_id), question_admin_text(req)};
	db_batch_add(b, &stmt_similar, v);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, similar_found, req);
}
