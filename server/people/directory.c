/* The people directory (accent-insensitive search on name, department, title, expertise),
 * a person's profile, and the admin's list and edits of accounts. */
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
#include "people/people.h"

/* Every word of q must appear in search_text (LIKE wildcards in q are escaped). The cursor
 * is the last row's sort key, hex-encoded. */
static struct db_stmt stmt_directory = {
    "people_directory",
    "SELECT u.id, u.display_name, u.department, u.job_title, to_json(u.languages) AS languages, u.expertise,"
    " encode(convert_to(lower(u.display_name) || E'\\n' || u.id, 'UTF8'), 'hex') AS cursor"
    " FROM users u"
    " WHERE u.status = 'active'"
    "   AND ($1::text IS NULL OR NOT EXISTS ("
    "     SELECT 1 FROM regexp_split_to_table(immutable_unaccent(lower($1)), '\\s+') AS w"
    "     WHERE w <> '' AND u.search_text NOT LIKE"
    "       '%' || replace(replace(replace(w, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'))"
    "   AND ($2::text IS NULL OR u.department = $2)"
    "   AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM user_expertise e WHERE e.user_id = u.id AND e.tag = $3))"
    "   AND ($4::text IS NULL OR (lower(u.display_name), u.id) >"
    "     (split_part(convert_from(decode($4, 'hex'), 'UTF8'), E'\\n', 1),"
    "      split_part(convert_from(decode($4, 'hex'), 'UTF8'), E'\\n', 2)::bigint))"
    " ORDER BY lower(u.display_name), u.id LIMIT $5",
    5, 0};

/* $3: the caller is an admin, who also sees disabled accounts and secret communities. */
static struct db_stmt stmt_profile = {
    "people_profile",
    "SELECT u.id, u.display_name, u.email, u.department, u.job_title, u.time_zone, to_json(u.languages) AS languages,"
    " u.expertise, u.status,"
    " (SELECT max(o.ends_at) FROM out_of_office o WHERE o.user_id = u.id AND o.starts_at <= now() AND o.ends_at > now())"
    "   AS away_until,"
    " (SELECT coalesce(json_agg(json_build_object('id', c.id, 'slug', c.slug, 'name', c.name, 'role', m.role)"
    "   ORDER BY c.name), '[]') FROM community_members m JOIN communities c ON c.id = m.community_id"
    "   WHERE m.user_id = u.id AND m.status = 'active' AND (c.visibility <> 'secret' OR $3::bool OR EXISTS ("
    "     SELECT 1 FROM community_members v WHERE v.community_id = c.id AND v.user_id = $2 AND v.status = 'active')))"
    "   AS communities"
    " FROM users u WHERE u.id = $1 AND (u.status = 'active' OR $3::bool)",
    3, 0};

#define USER_COLUMNS "id, email, display_name, department, job_title, locale, time_zone, role, status, created_at"

static struct db_stmt stmt_users = {
    "people_users",
    "SELECT " USER_COLUMNS " FROM users"
    " WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR role = $2) AND ($3::text IS NULL OR status = $3)"
    "   AND ($4::text IS NULL OR immutable_unaccent(lower(email || ' ' || display_name))"
    "        LIKE '%' || replace(replace(replace(immutable_unaccent(lower($4)), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')"
    " ORDER BY id DESC LIMIT $5",
    5, 0};

/* A time zone must be an IANA name: no row otherwise (422). */
static struct db_stmt stmt_user_create = {
    "people_user_create",
    "WITH u AS (INSERT INTO users (email, display_name, department, job_title, locale, time_zone, role, password_hash)"
    "  SELECT $1, $2, coalesce($3, ''), coalesce($4, ''), coalesce($5, 'en'), coalesce($6, 'UTC'),"
    "   coalesce($7, 'employee'), $8"
    "  WHERE $6::text IS NULL OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $6) RETURNING *)"
    " SELECT " USER_COLUMNS ", audit_record($9, $10, 'user.created', 'user', id::text, $11, $12,"
    "   jsonb_build_object('email', email, 'role', role)) AS _audit FROM u",
    12, 0};

/* Disabling a user ends every one of their sessions in the same statement, and hands the
 * external questions they hold back to routing. $7 is the audit action, $8 its details, then
 * the audit parameters. */
static struct db_stmt stmt_user_update = {
    "people_user_update",
    "WITH u AS (UPDATE users SET role = coalesce($2, role), status = coalesce($3, status),"
    "  display_name = coalesce($4, display_name), department = coalesce($5, department),"
    "  job_title = coalesce($6, job_title), updated_at = now() WHERE id = $1 RETURNING *),"
    " s AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM u WHERE status = 'disabled')),"
    " r AS (SELECT question_route_later(q.id, 'assignee_disabled', $9) FROM questions q"
    "  WHERE $3 = 'disabled' AND (q.assignee_id = $1 OR q.claimed_by = $1) AND q.status IN ('assigned', 'claimed'))"
    " SELECT " USER_COLUMNS ", audit_record($9, $10, $7, 'user', id::text, $11, $12, $8::jsonb) AS _audit,"
    " (SELECT count(*) FROM r) AS _rerouted FROM u",
    12, 0};

void people_directory_register_statements(void);
void people_directory_register_statements(void)
{
	struct db_stmt *all[] = {&stmt_directory, &stmt_profile, &stmt_users, &stmt_user_create, &stmt_user_update};
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		db_register_statement(all[i]);
}

static bool bad_query(struct http_req *req, const struct db_result *result)
{
	if (result->status == DB_SQL_ERROR && result->sqlstate && !strncmp(result->sqlstate, "22", 2)) {
		http_reply_error(req, 400, "invalid_query", "A query parameter has a malformed value.", NULL);
		return true;
	}
	return false;
}

/* A query parameter as one line of at most `max` characters; 400 otherwise. */
static bool query_param(struct http_req *req, const char *name, size_t max, const char **out)
{
	const char *v = http_query(req, name);
	*out = v && *v ? v : NULL;
	if (*out && (utf8_length(*out) > max || !text_is_single_line(*out))) {
		http_reply_error(req, 400, "invalid_query", "A query parameter is too long or malformed.", name);
		return false;
	}
	return true;
}

/* --- GET /api/v1/people ---------------------------------------------------------------------- */

struct page {
	long long limit;
};

/* A page of rows, or 400 for a malformed filter or cursor. */
static void page_listed(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct page *p = req->route_state;
	if (!http_req_release(req) || bad_query(req, result))
		return;
	if (result->status != DB_OK) {
		http_reply_db_error(req, result);
		return;
	}
	http_reply_json(req, 200, http_page_json(req, result->results[0], p->limit));
}

void people_directory(struct http_req *req)
{
	struct page *p = arena_alloc(&req->arena, sizeof *p);
	const char *q, *department, *expertise, *cursor;
	if (!query_param(req, "q", 200, &q) || !query_param(req, "department", 100, &department) ||
	    !query_param(req, "expertise", 48, &expertise) || !query_param(req, "cursor", 400, &cursor) ||
	    !http_read_limit(req, &p->limit))
		return;
	req->route_state = p;
	const char *v[] = {q, department, expertise, cursor, http_id_text(req, p->limit)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_directory, v, page_listed, req);
}

/* --- GET /api/v1/people/{id} -------------------------------------------------------------- */

static void profile_loaded(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	if (PQntuples(result->results[0]) != 1) {
		http_reply_error(req, 404, "not_found", "No such person.", NULL);
		return;
	}
	http_reply_json(req, 200, db_row_json(result->results[0], 0));
}

void people_profile(struct http_req *req)
{
	const char *id;
	if (!http_path_id(req, "id", &id))
		return;
	bool admin = (req->who.role && !strcmp(req->who.role, "admin")) || (req->who.scopes & SCOPE_ADMIN);
	const char *v[] = {id, http_id_text(req, req->who.user_id), admin ? "true" : "false"};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_profile, v, profile_loaded, req);
}

/* --- GET/POST /api/v1/users, PATCH /api/v1/users/{id} (admin) ---------------------------------- */

void people_users_list(struct http_req *req)
{
	struct page *p = arena_alloc(&req->arena, sizeof *p);
	const char *cursor, *role, *status, *q;
	if (!query_param(req, "cursor", 18, &cursor) || !query_param(req, "role", 16, &role) ||
	    !query_param(req, "status", 16, &status) || !query_param(req, "q", 200, &q) || !http_read_limit(req, &p->limit))
		return;
	req->route_state = p;
	const char *v[] = {cursor, role, status, q, http_id_text(req, p->limit)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_users, v, page_listed, req);
}

static void user_created(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_req_release(req))
		return;
	if (result->status == DB_SQL_ERROR && result->sqlstate && !strcmp(result->sqlstate, "23505")) {
		http_reply_error(req, 409, "email_taken", "An account with this e-mail already exists.", "email");
		return;
	}
	if (result->status == DB_SQL_ERROR && result->sqlstate && !strcmp(result->sqlstate, "23514")) {
		input_fail(req, "email", "This is not an e-mail address.");
		return;
	}
	if (result->status != DB_OK) {
		http_reply_db_error(req, result);
		return;
	}
	if (PQntuples(result->results[0]) != 1) {
		input_fail(req, "time_zone", "Unknown time zone; use a name such as Europe/Paris.");
		return;
	}
	http_reply_json(req, 201, db_row_json(result->results[0], 0));
}

/* The checked (trimmed) fields of a new account, kept across the password hashing. */
struct new_user {
	const char *email, *name, *department, *title, *locale, *time_zone, *role;
};

static void create_user_with_hash(struct http_req *req, const char *hash)
{
	const struct new_user *u = req->route_state;
	const char *a[4];
	audit_actor_params(req, a);
	const char *v[] = {u->email, u->name, u->department, u->title, u->locale, u->time_zone, u->role, hash,
	                   a[0],     a[1],    a[2],          a[3]};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_user_create, v, user_created, req);
}

static void new_user_hashed(struct http_req *req, const char *hash)
{
	if (!hash) {
		http_reply_error(req, 500, "internal_error", "The password could not be hashed.", NULL);
		return;
	}
	create_user_with_hash(req, hash);
}

void people_user_create(struct http_req *req)
{
	static const char *const fields[] = {"email",  "display_name", "department", "job_title",
	                                     "locale", "time_zone",    "role",       "password", NULL};
	static const char *const roles[] = {"admin", "comms", "employee", NULL};
	static const char *const locales[] = {"en", "fr", NULL};
	struct new_user *u = arena_alloc(&req->arena, sizeof *u);
	if (!input_only(req, fields) || !input_line(req, "email", 3, 254, INPUT_REQUIRED, &u->email) ||
	    !input_line(req, "display_name", 1, 100, INPUT_REQUIRED, &u->name) ||
	    !input_line(req, "department", 0, 100, INPUT_OPTIONAL, &u->department) ||
	    !input_line(req, "job_title", 0, 100, INPUT_OPTIONAL, &u->title) ||
	    !input_enum(req, "locale", locales, INPUT_OPTIONAL, &u->locale) ||
	    !input_line(req, "time_zone", 1, 64, INPUT_OPTIONAL, &u->time_zone) ||
	    !input_enum(req, "role", roles, INPUT_OPTIONAL, &u->role))
		return;
	if (!strchr(u->email, '@')) {
		input_fail(req, "email", "This is not an e-mail address.");
		return;
	}
	req->route_state = u;
	json_t *password = input_member(req, "password");
	if (password && !json_is_null(password)) {
		if (!json_is_string(password) || strlen(json_string_value(password)) != json_string_length(password)) {
			input_fail(req, "password", "This field must be a string.");
			return;
		}
		if (!auth_password_acceptable(req, "password", json_string_value(password)))
			return;
		auth_hash_password(req, json_string_value(password), new_user_hashed);
		return;
	}
	/* No password: the admin sends a reset link. */
	create_user_with_hash(req, NULL);
}

static void user_updated(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	if (PQntuples(result->results[0]) != 1) {
		http_reply_error(req, 404, "not_found", "No such user.", NULL);
		return;
	}
	http_reply_json(req, 200, db_row_json(result->results[0], 0));
}

void people_user_update(struct http_req *req)
{
	static const char *const fields[] = {"role", "status", "display_name", "department", "job_title", NULL};
	static const char *const roles[] = {"admin", "comms", "employee", NULL};
	static const char *const statuses[] = {"active", "disabled", NULL};
	const char *id, *role, *status, *name, *department, *title;
	if (!http_path_id(req, "id", &id) || !input_only(req, fields) || !input_enum(req, "role", roles, INPUT_OPTIONAL, &role) ||
	    !input_enum(req, "status", statuses, INPUT_OPTIONAL, &status) ||
	    !input_line(req, "display_name", 1, 100, INPUT_OPTIONAL, &name) ||
	    !input_line(req, "department", 0, 100, INPUT_OPTIONAL, &department) ||
	    !input_line(req, "job_title", 0, 100, INPUT_OPTIONAL, &title))
		return;
	/* An admin cannot lock themselves out; another admin can. */
	if (req->who.user_id == atoll(id) && ((role && strcmp(role, "admin")) || (status && !strcmp(status, "disabled")))) {
		http_reply_error(req, 422, "own_account", "You cannot remove your own admin role or disable yourself.",
		                 role ? "role" : "status");
		return;
	}
	const char *action = role ? "user.role_changed"
	                     : status ? (!strcmp(status, "disabled") ? "user.disabled" : "user.enabled")
	                              : "user.updated";
	const char *a[4];
	audit_actor_params(req, a);
	char *details = json_dumps(req->json, JSON_COMPACT);
	const char *v[] = {id, role, status, name, department, title, action, arena_strdup(&req->arena, details),
	                   a[0], a[1], a[2], a[3]};
	free(details);
	http_req_hold(req);
	db_query(req->worker->db, &stmt_user_update, v, user_updated, req);
}
