/* Signing in and out, one's sessions, password changes and one-time reset links. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "core/worker.h"
#include "db/rows.h"
#include "http/input.h"
#include "http/request.h"

#define LOGIN_ATTEMPTS_PER_MINUTE 10
#define RESET_LINK_HOURS 24

/* Counts one attempt for each key (fixed one-minute windows, shared by all workers). */
static struct db_stmt stmt_rate = {
    "auth_rate",
    "SELECT hits, retry FROM rate_limit_hit(array_remove(ARRAY[$1::text, lower($2::text)], NULL), interval '1 minute')",
    2, 0};

/* A sign-in that succeeds gives its attempt back: only failures use up the budget, while
 * counting before the check keeps concurrent guesses within it. */
static struct db_stmt stmt_rate_refund = {
    "auth_rate_refund",
    "UPDATE rate_limits SET hits = greatest(hits - 1, 0) WHERE key IN ($1, lower($2))", 2, 0};

static struct db_stmt stmt_user_by_email = {
    "auth_user_by_email",
    "SELECT id, email, display_name, role, locale, status, password_hash FROM users WHERE lower(email) = lower($1)", 1,
    0};

static struct db_stmt stmt_session_insert = {
    "auth_session_insert",
    "INSERT INTO sessions (user_id, token_hash, csrf_token, expires_at, ip, user_agent)"
    " VALUES ($1, $2, $3, now() + make_interval(secs => $4::float8), $5, left(coalesce($6, ''), 300))"
    " RETURNING id",
    6, 0};

static struct db_stmt stmt_session_delete_by_hash = {"auth_session_delete_hash",
                                                     "DELETE FROM sessions WHERE token_hash = $1", 1, 0};
static struct db_stmt stmt_session_delete = {"auth_session_delete", "DELETE FROM sessions WHERE id = $1", 1, 0};
static struct db_stmt stmt_sessions_of_user_delete = {"auth_sessions_user_delete",
                                                      "DELETE FROM sessions WHERE user_id = $1", 1, 0};
static struct db_stmt stmt_rehash = {"auth_rehash", "UPDATE users SET password_hash = $2 WHERE id = $1", 2, 0};

static struct db_stmt stmt_sessions_list = {
    "auth_sessions_list",
    "SELECT id, created_at, last_seen_at, expires_at, ip, user_agent, id = $2 AS current FROM sessions"
    " WHERE user_id = $1 AND expires_at > now() ORDER BY last_seen_at DESC LIMIT 100",
    2, 0};

static struct db_stmt stmt_session_revoke = {
    "auth_session_revoke",
    "WITH r AS (DELETE FROM sessions WHERE id = $1 AND user_id = $2 RETURNING id)"
    " SELECT r.id, audit_record($3, $4, 'session.revoked', 'session', r.id::text, $5, $6, '{}') FROM r",
    6, 0};

static struct db_stmt stmt_password_of = {"auth_password_of", "SELECT password_hash FROM users WHERE id = $1", 1, 0};
static struct db_stmt stmt_password_set = {
    "auth_password_set", "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", 2, 0};

/* A new link replaces the user's unused ones. */
static struct db_stmt stmt_reset_create = {
    "auth_reset_create",
    "WITH target AS (SELECT id FROM users WHERE id = $1),"
    " expired AS (UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL),"
    " created AS (INSERT INTO password_resets (user_id, token_hash, created_by, expires_at)"
    "  SELECT id, $2, $3, now() + make_interval(hours => $4::int) FROM target RETURNING user_id, expires_at)"
    " SELECT user_id, expires_at, audit_record($3, NULL, 'password.reset_issued', 'user', user_id::text, $5, $6, '{}')"
    "   AS _audit FROM created",
    6, 0};

/* The link is used once; the new password takes effect and every session of the user ends. */
static struct db_stmt stmt_reset_use = {
    "auth_reset_use",
    "WITH r AS (UPDATE password_resets SET used_at = now()"
    "  WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING user_id),"
    " u AS (UPDATE users SET password_hash = $2, updated_at = now() FROM r"
    "  WHERE users.id = r.user_id AND users.status = 'active' RETURNING users.id),"
    " s AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM u))"
    " SELECT id, audit_record(id, NULL, 'password.reset_used', 'user', id::text, $3, $4, '{}') AS _audit FROM u",
    4, 0};

/* Windows older than the longest limit (the ask form's hour) count nothing any more. */
static struct db_stmt stmt_rate_cleanup = {
    "auth_rate_cleanup", "DELETE FROM rate_limits WHERE window_start < now() - interval '1 hour'", 0, 0};

void auth_forget_old_attempts(struct db_pool *pool)
{
	db_query(pool, &stmt_rate_cleanup, NULL, NULL, NULL);
}

void auth_session_register_statements(void);
void auth_session_register_statements(void)
{
	struct db_stmt *all[] = {&stmt_rate,
	                         &stmt_rate_cleanup,
	                         &stmt_rate_refund,
	                         &stmt_user_by_email,
	                         &stmt_session_insert,
	                         &stmt_session_delete_by_hash,
	                         &stmt_session_delete,
	                         &stmt_sessions_of_user_delete,
	                         &stmt_rehash,
	                         &stmt_sessions_list,
	                         &stmt_session_revoke,
	                         &stmt_password_of,
	                         &stmt_password_set,
	                         &stmt_reset_create,
	                         &stmt_reset_use};
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		db_register_statement(all[i]);
}

/* Audits and answers 429, returning true, when any counter of the rate statement's result
 * is over. The request is answered (and may be gone) when this returns true. */
static bool rate_limited(struct http_req *req, const PGresult *r)
{
	int retry = 0;
	for (int i = 0; i < PQntuples(r); i++)
		if (db_int(r, i, "hits") > LOGIN_ATTEMPTS_PER_MINUTE && db_int(r, i, "retry") > retry)
			retry = (int)db_int(r, i, "retry");
	if (!retry)
		return false;
	audit_write(req, "login.rate_limited", "route", req->route->name, NULL);
	http_set_header(req, "Retry-After", arena_printf(&req->arena, "%d", retry));
	http_reply_error(req, 429, "rate_limited", "Too many attempts; wait a minute and try again.", NULL);
	return true;
}

/* --- POST /api/v1/session ------------------------------------------------------------------- */

struct login {
	long long user_id;
	const char *user_json;
	char token[AUTH_SECRET_LEN + 1];
	char csrf[AUTH_SECRET_LEN + 1];
};

static void login_failed(struct http_req *req, long long user_id, const char *reason)
{
	struct db_batch *b = db_batch_new();
	const char *email = json_string_value(json_object_get(req->json, "email"));
	audit_add_as(b, req, user_id ? http_id_text(req, user_id) : NULL, "login.failed", "user",
	             user_id ? http_id_text(req, user_id) : "", json_pack("{s:s, s:s}", "email", email, "reason", reason));
	db_batch_send(req->worker->db, b, NULL, NULL);
	http_reply_error(req, 401, "invalid_credentials", "The e-mail or the password is wrong.", NULL);
}

/* Adds a new session for `user_id` to `b`: its token and CSRF token go into `l`. */
static void add_new_session(struct http_req *req, struct db_batch *b, struct login *l, const char *user_id)
{
	char hash[AUTH_HASH_PARAM_LEN];
	auth_new_secret(l->token);
	auth_new_secret(l->csrf);
	auth_secret_param(l->token, hash);
	const char *v[] = {user_id, hash, l->csrf, http_id_text(req, req->worker->cfg->session_absolute_ms / 1000),
	                   req->client_ip, http_header(req, "User-Agent")};
	db_batch_add(b, &stmt_session_insert, v);
}

/* The batch that made a session is done: set the cookie and answer the CSRF token (and the
 * user, for a sign-in). The token is wiped whatever happens. */
static void session_started(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct login *l = req->route_state;
	if (http_db_answered(req, result)) {
		auth_set_session_cookie(req, l->token, req->worker->cfg->session_absolute_ms / 1000);
		json_t *body = json_pack("{s:s}", "csrf_token", l->csrf);
		if (l->user_json)
			json_object_set_new(body, "user", json_loads(l->user_json, 0, NULL));
		http_reply_json(req, 200, body);
	}
	sodium_memzero(l->token, sizeof l->token);
}

/* A new session for the user, replacing the one the browser had (no session fixation). */
static void login_create_session(struct http_req *req, const char *new_hash)
{
	struct login *l = req->route_state;
	char old_hash[AUTH_HASH_PARAM_LEN];
	const char *user_id = http_id_text(req, l->user_id);
	struct db_batch *b = db_batch_new();
	const char *old = http_cookie(req, auth_cookie_name());
	if (old) {
		auth_secret_param(old, old_hash);
		const char *v[] = {old_hash};
		db_batch_add(b, &stmt_session_delete_by_hash, v);
	}
	add_new_session(req, b, l, user_id);
	if (new_hash) {
		const char *r[] = {user_id, new_hash};
		db_batch_add(b, &stmt_rehash, r);
	}
	audit_add_as(b, req, user_id, "login.succeeded", "user", user_id, NULL);
	const char *refund[] = {arena_printf(&req->arena, "login:ip:%s", req->client_ip),
	                        arena_printf(&req->arena, "login:email:%s",
	                                     json_string_value(json_object_get(req->json, "email")))};
	db_batch_add(b, &stmt_rate_refund, refund);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, session_started, req);
}

static void login_rehashed(struct http_req *req, const char *hash)
{
	login_create_session(req, hash);
}

static void login_verified(struct http_req *req, bool ok, bool needs_rehash)
{
	struct login *l = req->route_state;
	if (!ok) {
		login_failed(req, l->user_id, l->user_id ? "wrong_password" : "unknown_or_disabled");
		return;
	}
	if (needs_rehash) {
		/* The hashing limits changed since this hash was made: store a new one. */
		auth_hash_password(req, json_string_value(json_object_get(req->json, "password")), login_rehashed);
		return;
	}
	login_create_session(req, NULL);
}

static void login_looked_up(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	if (rate_limited(req, result->results[0]))
		return;
	const PGresult *r = result->results[1];
	struct login *l = arena_alloc(&req->arena, sizeof *l);
	memset(l, 0, sizeof *l);
	req->route_state = l;
	const char *hash = NULL;
	if (PQntuples(r) == 1) {
		l->user_id = db_int(r, 0, "id");
		/* A disabled account is checked like the others, then refused like an unknown one. */
		if (!strcmp(db_value(r, 0, "status"), "active"))
			hash = db_value(r, 0, "password_hash");
		else
			l->user_id = 0;
		json_t *user = json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)db_int(r, 0, "id"), "email",
		                         db_value(r, 0, "email"), "display_name", db_value(r, 0, "display_name"), "role",
		                         db_value(r, 0, "role"), "locale", db_value(r, 0, "locale"));
		char *text = json_dumps(user, JSON_COMPACT);
		l->user_json = arena_strdup(&req->arena, text);
		free(text);
		json_decref(user);
		hash = hash ? arena_strdup(&req->arena, hash) : NULL;
	}
	auth_verify_password(req, hash, json_string_value(json_object_get(req->json, "password")), login_verified);
}

void auth_login(struct http_req *req)
{
	static const char *const fields[] = {"email", "password", NULL};
	const char *email;
	json_t *password = input_member(req, "password");
	if (!input_only(req, fields) || !input_line(req, "email", 3, 254, INPUT_REQUIRED, &email))
		return;
	if (!json_is_string(password) || json_string_length(password) > PASSWORD_MAX_BYTES) {
		input_fail(req, "password", "This field must be a string of at most 1024 bytes.");
		return;
	}
	struct db_batch *b = db_batch_new();
	const char *rv[] = {arena_printf(&req->arena, "login:ip:%s", req->client_ip),
	                    arena_printf(&req->arena, "login:email:%s", email)};
	db_batch_add(b, &stmt_rate, rv);
	const char *uv[] = {email};
	db_batch_add(b, &stmt_user_by_email, uv);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, login_looked_up, req);
}

/* --- DELETE /api/v1/session -------------------------------------------------------------------- */

static void logged_out(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	auth_set_session_cookie(req, "", 0);
	http_reply_empty(req, 204);
}

void auth_logout(struct http_req *req)
{
	struct db_batch *b = db_batch_new();
	const char *v[] = {http_id_text(req, req->who.session_id)};
	db_batch_add(b, &stmt_session_delete, v);
	audit_add(b, req, "logout", "session", v[0], NULL);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, logged_out, req);
}

/* --- GET /api/v1/me/sessions, DELETE /api/v1/me/sessions/{id} ---------------------------------- */

static void sessions_listed(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	http_reply_json(req, 200, json_pack("{s:o, s:n}", "items", db_rows_json(result->results[0]), "next_cursor"));
}

void auth_sessions_list(struct http_req *req)
{
	const char *v[] = {http_id_text(req, req->who.user_id), http_id_text(req, req->who.session_id)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_sessions_list, v, sessions_listed, req);
}

static void session_revoked(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	if (PQntuples(result->results[0]) == 0) {
		http_reply_error(req, 404, "not_found", "No such session.", NULL);
		return;
	}
	http_reply_empty(req, 204);
}

void auth_session_revoke(struct http_req *req)
{
	const char *id;
	if (!http_path_id(req, "id", &id))
		return;
	const char *a[4];
	audit_actor_params(req, a);
	/* Only the caller's own sessions: another user's id is simply not found. */
	const char *v[] = {id, http_id_text(req, req->who.user_id), a[0], a[1], a[2], a[3]};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_session_revoke, v, session_revoked, req);
}

/* --- POST /api/v1/me/password ------------------------------------------------------------------ */

static void new_password_hashed(struct http_req *req, const char *hash)
{
	if (!hash) {
		http_reply_error(req, 500, "internal_error", "The password could not be hashed.", NULL);
		return;
	}
	/* Every session of the user ends, this one included; this client gets a fresh one. */
	struct login *l = arena_alloc(&req->arena, sizeof *l);
	memset(l, 0, sizeof *l);
	req->route_state = l;
	const char *user_id = http_id_text(req, req->who.user_id);
	struct db_batch *b = db_batch_new();
	const char *set[] = {user_id, hash};
	db_batch_add(b, &stmt_password_set, set);
	const char *kill[] = {user_id};
	db_batch_add(b, &stmt_sessions_of_user_delete, kill);
	add_new_session(req, b, l, user_id);
	audit_add(b, req, "password.changed", "user", user_id, NULL);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, session_started, req);
}

static void current_password_checked(struct http_req *req, bool ok, bool needs_rehash)
{
	if (!ok) {
		audit_write(req, "password.change_failed", "user", http_id_text(req, req->who.user_id), NULL);
		http_reply_error(req, 422, "invalid_field", "The current password is wrong.", "current_password");
		return;
	}
	auth_hash_password(req, json_string_value(json_object_get(req->json, "new_password")), new_password_hashed);
}

static void password_loaded(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	const char *hash = db_value(result->results[0], 0, "password_hash");
	auth_verify_password(req, hash ? arena_strdup(&req->arena, hash) : NULL,
	                     json_string_value(json_object_get(req->json, "current_password")), current_password_checked);
}

void auth_password_change(struct http_req *req)
{
	static const char *const fields[] = {"current_password", "new_password", NULL};
	json_t *current = input_member(req, "current_password"), *next = input_member(req, "new_password");
	if (!input_only(req, fields))
		return;
	if (!json_is_string(current) || json_string_length(current) > PASSWORD_MAX_BYTES) {
		input_fail(req, "current_password", "This field is required.");
		return;
	}
	if (!json_is_string(next)) {
		input_fail(req, "new_password", "This field is required.");
		return;
	}
	if (strlen(json_string_value(next)) != json_string_length(next)) {
		input_fail(req, "new_password", "A password cannot contain NUL characters.");
		return;
	}
	if (!auth_password_acceptable(req, "new_password", json_string_value(next)))
		return;
	const char *v[] = {http_id_text(req, req->who.user_id)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_password_of, v, password_loaded, req);
}

/* --- POST /api/v1/users/{id}/password-reset (admin), POST /api/v1/password-reset ---------------- */

static void reset_created(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	const char *token = req->route_state;
	if (!http_db_answered(req, result))
		return;
	const PGresult *r = result->results[0];
	if (PQntuples(r) != 1) {
		http_reply_error(req, 404, "not_found", "No such user.", NULL);
		return;
	}
	json_t *expires = db_row_json(r, 0);
	http_reply_json(req, 201,
	                json_pack("{s:s, s:s, s:O}", "reset_url", arena_printf(&req->arena, "/reset-password?token=%s", token),
	                          "token", token, "expires_at", json_object_get(expires, "expires_at")));
	json_decref(expires);
}

void auth_reset_create(struct http_req *req)
{
	const char *id;
	if (!http_path_id(req, "id", &id))
		return;
	char *token = arena_alloc(&req->arena, AUTH_SECRET_LEN + 1);
	char hash[AUTH_HASH_PARAM_LEN];
	auth_new_secret(token);
	auth_secret_param(token, hash);
	req->route_state = token;
	if (!req->who.user_id) {
		auth_deny(req, "Reset links are issued by an admin person, not a token.");
		return;
	}
	char hours[8];
	snprintf(hours, sizeof hours, "%d", RESET_LINK_HOURS);
	const char *v[] = {id, hash, http_id_text(req, req->who.user_id), hours, req->client_ip, req->request_id};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_reset_create, v, reset_created, req);
}

static void reset_used(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	if (PQntuples(result->results[0]) != 1) {
		http_reply_error(req, 400, "invalid_token", "This reset link is unknown, used or expired.", "token");
		return;
	}
	http_reply_empty(req, 204);
}

static void reset_password_hashed(struct http_req *req, const char *hash)
{
	if (!hash) {
		http_reply_error(req, 500, "internal_error", "The password could not be hashed.", NULL);
		return;
	}
	char token_hash[AUTH_HASH_PARAM_LEN];
	auth_secret_param(req->route_state, token_hash);
	const char *v[] = {token_hash, hash, req->client_ip, req->request_id};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_reset_use, v, reset_used, req);
}

static void reset_rate_checked(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	if (rate_limited(req, result->results[0]))
		return;
	auth_hash_password(req, json_string_value(json_object_get(req->json, "password")), reset_password_hashed);
}

void auth_reset_use(struct http_req *req)
{
	static const char *const fields[] = {"token", "password", NULL};
	const char *token;
	json_t *password = input_member(req, "password");
	if (!input_only(req, fields) || !input_line(req, "token", AUTH_SECRET_LEN, AUTH_SECRET_LEN, INPUT_REQUIRED, &token))
		return;
	req->route_state = (void *)token;
	if (!json_is_string(password) || strlen(json_string_value(password)) != json_string_length(password)) {
		input_fail(req, "password", "This field is required.");
		return;
	}
	if (!auth_password_acceptable(req, "password", json_string_value(password)))
		return;
	const char *v[] = {arena_printf(&req->arena, "reset:ip:%s", req->client_ip), NULL};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_rate, v, reset_rate_checked, req);
}
