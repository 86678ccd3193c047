/* Perimeter rules and crisis topics of a community: its managers (and admins) read them and
 * replace the ordered list of rules in one transaction; intake.c applies them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "core/worker.h"
#include "db/rows.h"
#include "http/input.h"
#include "http/request.h"
#include "people/common.h"
#include "questions/questions.h"

#define MAX_RULES 100

/* $1 community, $2 caller, $3 caller is admin: visible (a secret community the caller is not
 * in answers 404) and manages. */
#define ACCESS_SQL                                                                                                     \
	"SELECT c.id, (c.visibility <> 'secret' OR $3::bool OR me.status IS NOT NULL) AS visible,"                     \
	" coalesce($3::bool OR (me.role = 'manager' AND me.status = 'active'), false) AS manages"                      \
	" FROM communities c LEFT JOIN community_members me ON me.community_id = c.id AND me.user_id = $2"             \
	" WHERE c.id = $1"

static struct db_stmt stmt_access = {"rules_access", ACCESS_SQL, 3, 0};
/* The same, locking the community: concurrent replacements of its rules run one at a time. */
static struct db_stmt stmt_access_lock = {"rules_access_lock", ACCESS_SQL " FOR UPDATE OF c", 3, 0};

#define RULE_COLUMNS                                                                                                   \
	"id, position, name, to_json(tags) AS tags, to_json(keywords) AS keywords, to_json(languages) AS languages,"   \
	" action, owner_user_id, canned_reply, topic"

static struct db_stmt stmt_rules = {
    "rules_list", "SELECT " RULE_COLUMNS " FROM perimeter_rules WHERE community_id = $1 ORDER BY position", 1, 0};

static struct db_stmt stmt_crisis = {
    "rules_crisis", "SELECT topic, reason, set_by, since FROM crisis_topics WHERE community_id = $1 ORDER BY topic", 1,
    0};

/* Positions of escalate rules whose owner is not an active account. $1 rules (JSON). */
static struct db_stmt stmt_bad_owners = {
    "rules_bad_owners",
    "SELECT (e.i - 1)::int AS idx FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY e(r, i)"
    " WHERE e.r->>'action' = 'escalate' AND NOT EXISTS (SELECT 1 FROM users u"
    "  WHERE u.id = (e.r->>'owner_user_id')::bigint AND u.status = 'active')"
    " ORDER BY 1 LIMIT 1",
    1, 0};

/* The replacement: only when the caller manages the community and every owner is active
 * (the batch's first statements tell which, and then nothing here changes anything). */
#define ALLOWED                                                                                                        \
	" EXISTS (SELECT 1 FROM communities c LEFT JOIN community_members me ON me.community_id = c.id"                \
	"   AND me.user_id = $2 WHERE c.id = $1 AND ($3::bool OR (me.role = 'manager' AND me.status = 'active')))"     \
	" AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements($4::jsonb) e(r) WHERE e.r->>'action' = 'escalate'"        \
	"   AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = (e.r->>'owner_user_id')::bigint AND u.status = "        \
	"'active'))"

static struct db_stmt stmt_delete = {"rules_delete", "DELETE FROM perimeter_rules WHERE community_id = $1 AND" ALLOWED,
                                     4, 0};

static struct db_stmt stmt_insert = {
    "rules_insert",
    "INSERT INTO perimeter_rules (community_id, position, name, tags, keywords, languages, action, owner_user_id,"
    " canned_reply, topic)"
    " SELECT $1, (e.i - 1)::int, coalesce(e.r->>'name', ''),"
    "  ARRAY(SELECT jsonb_array_elements_text(coalesce(e.r->'tags', '[]'))),"
    "  ARRAY(SELECT jsonb_array_elements_text(coalesce(e.r->'keywords', '[]'))),"
    "  ARRAY(SELECT jsonb_array_elements_text(coalesce(e.r->'languages', '[]'))),"
    "  e.r->>'action', CASE WHEN e.r->>'action' = 'escalate' THEN (e.r->>'owner_user_id')::bigint END,"
    "  CASE WHEN e.r->>'action' = 'refuse' THEN e.r->>'canned_reply' ELSE '' END, coalesce(e.r->>'topic', '')"
    " FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY e(r, i) WHERE" ALLOWED,
    4, 0};

/* Written only when the replacement is (same condition). $5-$8 audit, $9 count. */
static struct db_stmt stmt_rules_audit = {
    "rules_audit",
    "SELECT audit_record($5, $6, 'community.rules_replaced', 'community', $1::bigint::text, $7, $8,"
    " jsonb_build_object('rules', $9::int)) WHERE" ALLOWED,
    9, 0};

/* $1 community, $2 caller, $3 admin, $4 topic, $5 reason, $6-$9 audit */
static struct db_stmt stmt_crisis_set = {
    "rules_crisis_set",
    "WITH c AS (INSERT INTO crisis_topics (community_id, topic, reason, set_by)"
    "  SELECT $1, $4, coalesce($5, ''), $2 FROM communities co LEFT JOIN community_members me"
    "   ON me.community_id = co.id AND me.user_id = $2"
    "  WHERE co.id = $1 AND ($3::bool OR (me.role = 'manager' AND me.status = 'active'))"
    "  ON CONFLICT (community_id, topic) DO UPDATE SET reason = EXCLUDED.reason, set_by = EXCLUDED.set_by"
    "  RETURNING *)"
    " SELECT topic, reason, set_by, since, audit_record($6, $7, 'community.crisis_set', 'community', $1::text, $8, $9,"
    "  jsonb_build_object('topic', topic, 'reason', reason)) AS _audit FROM c",
    9, 0};

static struct db_stmt stmt_crisis_clear = {
    "rules_crisis_clear",
    "WITH c AS (DELETE FROM crisis_topics t USING communities co LEFT JOIN community_members me"
    "   ON me.community_id = co.id AND me.user_id = $2"
    "  WHERE t.community_id = $1 AND t.topic = $4 AND co.id = $1"
    "   AND ($3::bool OR (me.role = 'manager' AND me.status = 'active')) RETURNING t.topic)"
    " SELECT topic, audit_record($5, $6, 'community.crisis_cleared', 'community', $1::text, $7, $8,"
    "  jsonb_build_object('topic', topic)) AS _audit FROM c",
    8, 0};

void rules_register_statements(void)
{
	struct db_stmt *all[] = {&stmt_access,     &stmt_access_lock, &stmt_rules,  &stmt_crisis,
	                         &stmt_bad_owners, &stmt_delete,      &stmt_insert, &stmt_rules_audit,
	                         &stmt_crisis_set, &stmt_crisis_clear};
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		db_register_statement(all[i]);
}

static const char *is_admin(const struct http_req *req)
{
	return req->who.role && !strcmp(req->who.role, "admin") ? "true" : "false";
}

/* Answers 404 (not visible) or 403 (audited) unless the caller manages the community. */
static bool may_manage(struct http_req *req, const PGresult *access)
{
	if (PQntuples(access) != 1 || strcmp(db_value(access, 0, "visible"), "t") != 0) {
		http_reply_error(req, 404, "not_found", "No such community.", NULL);
		return false;
	}
	if (strcmp(db_value(access, 0, "manages"), "t") != 0) {
		audit_write(req, "access.denied", "community", http_param(req, "id"),
		            json_pack("{s:s}", "route", req->route->name));
		http_reply_error(req, 403, "forbidden", "Only the community's managers and admins manage its rules.",
		                 NULL);
		return false;
	}
	return true;
}

static json_t *rules_json(const PGresult *rules, const PGresult *crisis)
{
	return json_pack("{s:o, s:o}", "rules", db_rows_json(rules), "crisis", db_rows_json(crisis));
}

/* --- GET ------------------------------------------------------------------------------------- */

static void got(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result) || !may_manage(req, result->results[0]))
		return;
	http_reply_json(req, 200, rules_json(result->results[1], result->results[2]));
}

void rules_get(struct http_req *req)
{
	const char *id;
	if (!http_path_id(req, "id", &id))
		return;
	struct db_batch *b = db_batch_new();
	const char *a[] = {id, http_id_text(req, req->who.user_id), is_admin(req)};
	db_batch_add(b, &stmt_access, a);
	const char *c[] = {id};
	db_batch_add(b, &stmt_rules, c);
	db_batch_add(b, &stmt_crisis, c);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, got, req);
}

/* --- PUT rules ------------------------------------------------------------------------------- */

struct put {
	const char *community_id, *rules; /* rules: the validated list as JSON */
	size_t count;
};

static bool fail_at(struct http_req *req, size_t i, const char *member, const char *message)
{
	return input_fail(req, arena_printf(&req->arena, "rules[%zu].%s", i, member), message);
}

static bool line_ok(const char *s, size_t max)
{
	return text_is_single_line(s) && utf8_length(s) <= max;
}

/* A list of strings each accepted by `ok`, at most `max` of them. */
static bool string_list(json_t *v, size_t max, bool (*ok)(const char *))
{
	if (!v || json_is_null(v))
		return true;
	if (!json_is_array(v) || json_array_size(v) > max)
		return false;
	size_t i;
	json_t *s;
	json_array_foreach(v, i, s)
	{
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s) ||
		    !ok(json_string_value(s)))
			return false;
	}
	return true;
}

static bool valid_keyword(const char *s)
{
	return *s && line_ok(s, 100) && strspn(s, " ") != strlen(s);
}

static bool valid_rule_language(const char *s)
{
	return !strcmp(s, "en") || !strcmp(s, "fr");
}

/* Checks one rule; answers 422 naming rules[i].member on the first problem. */
static bool check_rule(struct http_req *req, size_t i, json_t *rule)
{
	static const char *const members[] = {"name",          "tags",         "keywords", "languages", "action",
	                                      "owner_user_id", "canned_reply", "topic",    NULL};
	if (!json_is_object(rule))
		return input_fail(req, arena_printf(&req->arena, "rules[%zu]", i), "Each rule is an object.");
	const char *key;
	json_t *v;
	json_object_foreach(rule, key, v)
	{
		bool known = false;
		for (const char *const *m = members; *m && !known; m++)
			known = !strcmp(*m, key);
		if (!known)
			return fail_at(req, i, key, "This field is not allowed.");
	}
	v = json_object_get(rule, "name");
	if (v && !json_is_null(v) &&
	    (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	     !line_ok(json_string_value(v), 100)))
		return fail_at(req, i, "name", "A name is one line of at most 100 characters.");
	if (!string_list(json_object_get(rule, "tags"), 20, valid_tag))
		return fail_at(req, i, "tags", "At most 20 tags: lower-case letters, digits and dashes.");
	if (!string_list(json_object_get(rule, "keywords"), 50, valid_keyword))
		return fail_at(req, i, "keywords", "At most 50 keywords of 1 to 100 characters.");
	if (!string_list(json_object_get(rule, "languages"), 2, valid_rule_language))
		return fail_at(req, i, "languages", "Languages are en and fr.");
	v = json_object_get(rule, "action");
	const char *action = json_is_string(v) ? json_string_value(v) : "";
	if (strcmp(action, "answer") && strcmp(action, "escalate") && strcmp(action, "refuse"))
		return fail_at(req, i, "action", "The action is answer, escalate or refuse.");
	v = json_object_get(rule, "owner_user_id");
	if (!strcmp(action, "escalate") && (!json_is_integer(v) || json_integer_value(v) < 1))
		return fail_at(req, i, "owner_user_id", "An escalate rule names its owner (a user id).");
	if (v && !json_is_null(v) && !json_is_integer(v))
		return fail_at(req, i, "owner_user_id", "The owner is a user id.");
	v = json_object_get(rule, "canned_reply");
	if (v && !json_is_null(v) &&
	    (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	     utf8_length(json_string_value(v)) > 4000))
		return fail_at(req, i, "canned_reply", "The canned reply is text of at most 4,000 characters.");
	if (!strcmp(action, "refuse") &&
	    (!json_is_string(v) || strspn(json_string_value(v), " \t\r\n") == strlen(json_string_value(v))))
		return fail_at(req, i, "canned_reply", "A refuse rule needs the canned reply sent to the customer.");
	v = json_object_get(rule, "topic");
	if (v && !json_is_null(v) &&
	    (!json_is_string(v) || (*json_string_value(v) && !valid_tag(json_string_value(v)))))
		return fail_at(req, i, "topic", "A topic is lower-case letters, digits and dashes.");
	return true;
}

static void replaced(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result) || !may_manage(req, result->results[0]))
		return;
	const PGresult *bad = result->results[1];
	if (PQntuples(bad) == 1) {
		input_fail(req, arena_printf(&req->arena, "rules[%s].owner_user_id", PQgetvalue(bad, 0, 0)),
		           "The owner must be an active account.");
		return;
	}
	http_reply_json(req, 200, rules_json(result->results[5], result->results[6]));
}

void rules_put(struct http_req *req)
{
	static const char *const fields[] = {"rules", NULL};
	const char *id;
	if (!http_path_id(req, "id", &id) || !input_only(req, fields))
		return;
	json_t *rules = input_member(req, "rules");
	if (!json_is_array(rules) || json_array_size(rules) > MAX_RULES) {
		input_fail(req, "rules", "Give a list of at most 100 rules.");
		return;
	}
	size_t i;
	json_t *rule;
	json_array_foreach(rules, i, rule)
	{
		if (!check_rule(req, i, rule))
			return;
	}
	char *text = json_dumps(rules, JSON_COMPACT);
	const char *list = arena_strdup(&req->arena, text);
	free(text);
	const char *who = http_id_text(req, req->who.user_id);
	struct db_batch *b = db_batch_new();
	const char *a[] = {id, who, is_admin(req)};
	db_batch_add(b, &stmt_access_lock, a);
	const char *o[] = {list};
	db_batch_add(b, &stmt_bad_owners, o);
	const char *v[] = {id, who, is_admin(req), list};
	db_batch_add(b, &stmt_delete, v);
	db_batch_add(b, &stmt_insert, v);
	const char *au[4];
	audit_actor_params(req, au);
	const char *w[] = {id,    who,   is_admin(req),
	                   list,  au[0], au[1],
	                   au[2], au[3], http_id_text(req, (long long)json_array_size(rules))};
	db_batch_add(b, &stmt_rules_audit, w);
	const char *c[] = {id};
	db_batch_add(b, &stmt_rules, c);
	db_batch_add(b, &stmt_crisis, c);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, replaced, req);
}

/* --- crisis topics --------------------------------------------------------------------------- */

static void crisis_done(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result) || !may_manage(req, result->results[0]))
		return;
	const PGresult *r = result->results[1];
	if (req->method == HTTP_DELETE) {
		if (PQntuples(r) == 0)
			http_reply_error(req, 404, "not_found", "This topic is not in crisis mode.", NULL);
		else
			http_reply_empty(req, 204);
		return;
	}
	http_reply_json(req, 200, db_row_json(r, 0));
}

static bool read_topic(struct http_req *req, const char **topic)
{
	*topic = http_param(req, "topic");
	if (!*topic || !valid_tag(*topic)) {
		http_reply_error(req, 404, "not_found", "A topic is lower-case letters, digits and dashes.", NULL);
		return false;
	}
	return true;
}

static void crisis_change(struct http_req *req, const char *id, const char *topic, const char *reason)
{
	const char *who = http_id_text(req, req->who.user_id);
	struct db_batch *b = db_batch_new();
	const char *a[] = {id, who, is_admin(req)};
	db_batch_add(b, &stmt_access, a);
	const char *au[4];
	audit_actor_params(req, au);
	if (req->method == HTTP_DELETE) {
		const char *v[] = {id, who, is_admin(req), topic, au[0], au[1], au[2], au[3]};
		db_batch_add(b, &stmt_crisis_clear, v);
	} else {
		const char *v[] = {id, who, is_admin(req), topic, reason, au[0], au[1], au[2], au[3]};
		db_batch_add(b, &stmt_crisis_set, v);
	}
	http_req_hold(req);
	db_batch_send(req->worker->db, b, crisis_done, req);
}

void crisis_set(struct http_req *req)
{
	static const char *const fields[] = {"reason", NULL};
	const char *id, *topic, *reason;
	if (!http_path_id(req, "id", &id) || !read_topic(req, &topic) || !input_only(req, fields) ||
	    !input_text(req, "reason", 500, INPUT_OPTIONAL, &reason))
		return;
	crisis_change(req, id, topic, reason);
}

void crisis_clear(struct http_req *req)
{
	const char *id, *topic;
	if (!http_path_id(req, "id", &id) || !read_topic(req, &topic))
		return;
	crisis_change(req, id, topic, NULL);
}
