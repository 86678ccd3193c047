/* One's own account: profile, expertise, availability. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/worker.h"
#include "db/rows.h"
#include "http/input.h"
#include "http/request.h"
#include "people/common.h"
#include "people/people.h"

#define ME_COLUMNS                                                                                                   \
	"u.id, u.email, u.display_name, u.department, u.job_title, u.locale, u.time_zone, u.role, u.status,"           \
	" to_json(u.languages) AS languages, u.weekly_cap, u.working_hours, u.expertise, u.created_at"

static struct db_stmt stmt_me = {
    "people_me",
    "SELECT " ME_COLUMNS ","
    " (SELECT coalesce(json_agg(json_build_object('id', o.id, 'starts_at', o.starts_at, 'ends_at', o.ends_at,"
    "   'note', o.note) ORDER BY o.starts_at), '[]') FROM out_of_office o WHERE o.user_id = u.id AND o.ends_at > now())"
    "   AS out_of_office,"
    " (SELECT coalesce(json_agg(json_build_object('id', c.id, 'slug', c.slug, 'name', c.name, 'role', m.role,"
    "   'status', m.status) ORDER BY c.name), '[]')"
    "   FROM community_members m JOIN communities c ON c.id = m.community_id WHERE m.user_id = u.id) AS communities"
    " FROM users u WHERE u.id = $1",
    1, 0};

/* Absent fields (NULL) keep their value; a time zone must be an IANA name (no row otherwise). */
static struct db_stmt stmt_update = {
    "people_me_update",
    "UPDATE users u SET display_name = coalesce($2, display_name), department = coalesce($3, department),"
    " job_title = coalesce($4, job_title), locale = coalesce($5, locale), time_zone = coalesce($6, time_zone),"
    " languages = coalesce($7::text[], languages), weekly_cap = coalesce($8::int, weekly_cap),"
    " working_hours = coalesce($9::jsonb, working_hours), updated_at = now()"
    " WHERE id = $1 AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $6))"
    " RETURNING " ME_COLUMNS,
    9, 0};

static struct db_stmt stmt_expertise_delete = {
    "people_expertise_delete", "DELETE FROM user_expertise WHERE user_id = $1 AND tag <> ALL ($2::text[])", 2, 0};
static struct db_stmt stmt_expertise_upsert = {
    "people_expertise_upsert",
    "INSERT INTO user_expertise (user_id, tag, level) SELECT $1, t, l FROM unnest($2::text[], $3::int[]) AS x(t, l)"
    " ON CONFLICT (user_id, tag) DO UPDATE SET level = EXCLUDED.level WHERE user_expertise.level <> EXCLUDED.level",
    3, 0};
static struct db_stmt stmt_expertise_get = {"people_expertise_get", "SELECT expertise FROM users WHERE id = $1", 1, 0};

/* Self, an admin, or a manager of a community where the person is an active member. */
static struct db_stmt stmt_may_edit_expertise = {
    "people_may_edit_expertise",
    "SELECT EXISTS (SELECT 1 FROM users WHERE id = $2) AS exists,"
    " ($1 = $2 OR $3 OR EXISTS (SELECT 1 FROM community_members mgr JOIN community_members mem USING (community_id)"
    "   WHERE mgr.user_id = $1 AND mgr.role = 'manager' AND mgr.status = 'active'"
    "     AND mem.user_id = $2 AND mem.status = 'active')) AS allowed",
    3, 0};

static struct db_stmt stmt_ooo_list = {
    "people_ooo_list",
    "SELECT id, starts_at, ends_at, note FROM out_of_office WHERE user_id = $1 AND ends_at > now() ORDER BY starts_at",
    1, 0};
/* A period away that has begun hands the external questions they hold back to routing. */
static struct db_stmt stmt_ooo_create = {
    "people_ooo_create",
    "WITH o AS (INSERT INTO out_of_office (user_id, starts_at, ends_at, note)"
    " SELECT $1, $2::timestamptz, $3::timestamptz, $4"
    " WHERE (SELECT count(*) FROM out_of_office WHERE user_id = $1 AND ends_at > now()) < 50"
    "   AND $3::timestamptz > now()"
    " RETURNING id, starts_at, ends_at, note),"
    " r AS (SELECT question_route_later(q.id, 'assignee_away', $1) FROM o JOIN questions q"
    "  ON (q.assignee_id = $1 OR q.claimed_by = $1) AND q.status IN ('assigned', 'claimed')"
    "  WHERE o.starts_at <= now())"
    " SELECT id, starts_at, ends_at, note, (SELECT count(*) FROM r) AS _rerouted FROM o",
    4, 0};
static struct db_stmt stmt_check_time = {"people_check_time", "SELECT $1::timestamptz", 1, 0};

static struct db_stmt stmt_ooo_delete = {
    "people_ooo_delete", "DELETE FROM out_of_office WHERE id = $1 AND user_id = $2 RETURNING id", 2, 0};

void people_me_register_statements(void);
void people_me_register_statements(void)
{
	struct db_stmt *all[] = {&stmt_me,          &stmt_update,    &stmt_expertise_delete, &stmt_expertise_upsert,
	                         &stmt_expertise_get, &stmt_may_edit_expertise, &stmt_ooo_list, &stmt_ooo_create,
	                         &stmt_ooo_delete, &stmt_check_time};
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		db_register_statement(all[i]);
}

/* --- GET /api/v1/me ----------------------------------------------------------------------- */

static void me_loaded(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	json_t *me = db_row_json(result->results[0], 0);
	json_object_set_new(me, "csrf_token", json_string(req->who.csrf_token));
	http_reply_json(req, 200, me);
}

void people_me(struct http_req *req)
{
	const char *v[] = {http_id_text(req, req->who.user_id)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_me, v, me_loaded, req);
}

/* --- PATCH /api/v1/me ---------------------------------------------------------------------- */

static bool valid_clock(const char *s)
{
	return strlen(s) == 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' &&
	       s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9' && strcmp(s, "24:00") <= 0;
}

/* {"mon": [["09:00", "17:30"]], ...}: days mon..sun, up to 4 ordered ranges a day. */
static bool read_working_hours(struct http_req *req, const char **out)
{
	static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
	json_t *wh = input_member(req, "working_hours");
	*out = NULL;
	if (!wh || json_is_null(wh))
		return true;
	if (!json_is_object(wh))
		return input_fail(req, "working_hours", "Give an object such as {\"mon\": [[\"09:00\", \"17:30\"]]}.");
	const char *day;
	json_t *ranges;
	json_object_foreach(wh, day, ranges)
	{
		bool known = false;
		for (size_t i = 0; i < ARRAY_LEN(days); i++)
			known |= !strcmp(day, days[i]);
		if (!known || !json_is_array(ranges) || json_array_size(ranges) > 4)
			return input_fail(req, "working_hours", "Days are mon to sun, each with up to 4 ranges.");
		const char *previous_end = "00:00";
		size_t i;
		json_t *range;
		json_array_foreach(ranges, i, range)
		{
			json_t *a = json_array_get(range, 0), *b = json_array_get(range, 1);
			if (!json_is_array(range) || json_array_size(range) != 2 || !json_is_string(a) || !json_is_string(b) ||
			    !valid_clock(json_string_value(a)) || !valid_clock(json_string_value(b)) ||
			    strcmp(json_string_value(a), json_string_value(b)) >= 0 ||
			    strcmp(json_string_value(a), previous_end) < 0)
				return input_fail(req, "working_hours", "Each range is [\"HH:MM\", \"HH:MM\"], in order, not overlapping.");
			previous_end = json_string_value(b);
		}
	}
	char *text = json_dumps(wh, JSON_COMPACT);
	*out = arena_strdup(&req->arena, text);
	free(text);
	return true;
}

static void me_updated(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	if (PQntuples(result->results[0]) != 1) {
		input_fail(req, "time_zone", "Unknown time zone; use a name such as Europe/Paris.");
		return;
	}
	http_reply_json(req, 200, db_row_json(result->results[0], 0));
}

void people_me_update(struct http_req *req)
{
	static const char *const fields[] = {"display_name", "department", "job_title", "locale", "time_zone",
	                                     "languages",    "weekly_cap", "working_hours", NULL};
	static const char *const locales[] = {"en", "fr", NULL};
	const char *name, *department, *title, *locale, *tz, *languages, *hours;
	long long cap = 0;
	bool has_languages, has_cap;
	if (!input_only(req, fields) || !input_line(req, "display_name", 1, 100, INPUT_OPTIONAL, &name) ||
	    !input_line(req, "department", 0, 100, INPUT_OPTIONAL, &department) ||
	    !input_line(req, "job_title", 0, 100, INPUT_OPTIONAL, &title) ||
	    !input_enum(req, "locale", locales, INPUT_OPTIONAL, &locale) ||
	    !input_line(req, "time_zone", 1, 64, INPUT_OPTIONAL, &tz) ||
	    !read_string_array(req, "languages", 20, valid_language, &languages, &has_languages) ||
	    !input_int(req, "weekly_cap", 0, 1000, INPUT_OPTIONAL, &cap, &has_cap) || !read_working_hours(req, &hours))
		return;
	const char *v[] = {http_id_text(req, req->who.user_id),
	                   name,
	                   department,
	                   title,
	                   locale,
	                   tz,
	                   languages,
	                   has_cap ? http_id_text(req, cap) : NULL,
	                   hours};
	struct db_batch *b = db_batch_new();
	db_batch_add(b, &stmt_update, v);
	audit_add(b, req, "profile.updated", "user", v[0], json_copy(req->json));
	http_req_hold(req);
	db_batch_send(req->worker->db, b, me_updated, req);
}

/* --- PUT /api/v1/me/expertise, PUT /api/v1/people/{id}/expertise -------------------------- */

static void expertise_saved(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	json_t *row = db_row_json(result->results[result->count - 1], 0);
	http_reply_json(req, 200, json_pack("{s:O}", "expertise", json_object_get(row, "expertise")));
	json_decref(row);
}

static void save_expertise(struct http_req *req, const char *user_id, const char *tags, const char *levels)
{
	struct db_batch *b = db_batch_new();
	const char *del[] = {user_id, tags};
	db_batch_add(b, &stmt_expertise_delete, del);
	const char *up[] = {user_id, tags, levels};
	db_batch_add(b, &stmt_expertise_upsert, up);
	audit_add(b, req, "profile.expertise_changed", "user", user_id,
	          json_pack("{s:O}", "expertise", input_member(req, "expertise")));
	const char *get[] = {user_id};
	db_batch_add(b, &stmt_expertise_get, get);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, expertise_saved, req);
}

static bool read_expertise_body(struct http_req *req, const char **tags, const char **levels)
{
	static const char *const fields[] = {"expertise", NULL};
	return input_only(req, fields) && read_expertise(req, "expertise", tags, levels);
}

void people_me_expertise(struct http_req *req)
{
	const char *tags, *levels;
	if (!read_expertise_body(req, &tags, &levels))
		return;
	save_expertise(req, http_id_text(req, req->who.user_id), tags, levels);
}

struct expertise_edit {
	const char *user_id, *tags, *levels;
};

static void expertise_permission(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct expertise_edit *e = req->route_state;
	if (!http_db_answered(req, result))
		return;
	const PGresult *r = result->results[0];
	if (strcmp(db_value(r, 0, "exists"), "t") != 0) {
		http_reply_error(req, 404, "not_found", "No such person.", NULL);
		return;
	}
	if (strcmp(db_value(r, 0, "allowed"), "t") != 0) {
		audit_write(req, "access.denied", "user", e->user_id, json_pack("{s:s}", "route", req->route->name));
		http_reply_error(req, 403, "forbidden", "Only the person, an admin or a manager of their community may do this.",
		                 NULL);
		return;
	}
	save_expertise(req, e->user_id, e->tags, e->levels);
}

void people_person_expertise(struct http_req *req)
{
	struct expertise_edit *e = arena_alloc(&req->arena, sizeof *e);
	if (!http_path_id(req, "id", &e->user_id) || !read_expertise_body(req, &e->tags, &e->levels))
		return;
	req->route_state = e;
	const char *v[] = {http_id_text(req, req->who.user_id), e->user_id,
	                   req->who.role && !strcmp(req->who.role, "admin") ? "true" : "false"};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_may_edit_expertise, v, expertise_permission, req);
}

/* --- /api/v1/me/out-of-office -------------------------------------------------------------- */

static void ooo_listed(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	http_reply_json(req, 200, json_pack("{s:o, s:n}", "items", db_rows_json(result->results[0]), "next_cursor"));
}

void people_ooo_list(struct http_req *req)
{
	const char *v[] = {http_id_text(req, req->who.user_id)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_ooo_list, v, ooo_listed, req);
}

static void ooo_created(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_req_release(req))
		return;
	/* The batch checks starts_at, then ends_at, then inserts: the failed index names the field. */
	if (result->status == DB_SQL_ERROR && result->sqlstate && !strncmp(result->sqlstate, "22", 2)) {
		input_fail(req, result->failed == 0 ? "starts_at" : "ends_at", "This is not a valid time.");
		return;
	}
	if (result->status == DB_SQL_ERROR && result->sqlstate && !strcmp(result->sqlstate, "23514")) {
		input_fail(req, "ends_at", "The end must come after the start.");
		return;
	}
	if (result->status != DB_OK) {
		http_reply_db_error(req, result);
		return;
	}
	if (PQntuples(result->results[2]) == 0) {
		http_reply_error(req, 422, "invalid_field", "A period away ends in the future; at most 50 can be planned.",
		                 "ends_at");
		return;
	}
	http_reply_json(req, 201, db_row_json(result->results[2], 0));
}

/* 2026-12-24, 2026-12-24T09:00, 2026-12-24T09:00:00Z, 2026-12-24T09:00:00.5+01:00 */
static bool looks_like_timestamp(const char *s)
{
	static const char shape[] = "dddd-dd-dd";
	for (int i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
			return false;
	for (const char *p = s + 10; *p; p++)
		if (!strchr("0123456789:.+-TZ ", *p))
			return false;
	return true;
}

void people_ooo_create(struct http_req *req)
{
	static const char *const fields[] = {"starts_at", "ends_at", "note", NULL};
	const char *starts, *ends, *note;
	if (!input_only(req, fields) || !input_line(req, "starts_at", 10, 40, INPUT_REQUIRED, &starts) ||
	    !input_line(req, "ends_at", 10, 40, INPUT_REQUIRED, &ends) ||
	    !input_text(req, "note", 500, INPUT_OPTIONAL, &note))
		return;
	if (!looks_like_timestamp(starts) || !looks_like_timestamp(ends)) {
		input_fail(req, looks_like_timestamp(starts) ? "ends_at" : "starts_at",
		           "Give an ISO 8601 time, such as 2026-12-24T09:00:00Z.");
		return;
	}
	struct db_batch *b = db_batch_new();
	const char *s1[] = {starts}, *s2[] = {ends};
	db_batch_add(b, &stmt_check_time, s1);
	db_batch_add(b, &stmt_check_time, s2);
	const char *v[] = {http_id_text(req, req->who.user_id), starts, ends, note ? note : ""};
	db_batch_add(b, &stmt_ooo_create, v);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, ooo_created, req);
}

static void ooo_deleted(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	if (PQntuples(result->results[0]) == 0) {
		http_reply_error(req, 404, "not_found", "No such period.", NULL);
		return;
	}
	http_reply_empty(req, 204);
}

void people_ooo_delete(struct http_req *req)
{
	const char *id;
	if (!http_path_id(req, "id", &id))
		return;
	const char *v[] = {id, http_id_text(req, req->who.user_id)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_ooo_delete, v, ooo_deleted, req);
}
