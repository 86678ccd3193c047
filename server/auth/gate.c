/* The gate: who is calling (session cookie or Bearer token), may they call this route, and,
 * for cookie-authenticated changes, does the CSRF token match. One place for every route. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "core/worker.h"
#include "db/rows.h"
#include "http/request.h"

void auth_password_init(void);

static const char *cookie_name = "__Host-relais_session";
static bool cookie_secure = true;

/* The session and its user in one round trip; last_seen_at is refreshed at most once a
 * minute so that reading does not mean writing on every request. */
static struct db_stmt stmt_session = {
    "auth_session",
    "WITH s AS ("
    "  SELECT id, user_id, csrf_token, last_seen_at FROM sessions"
    "  WHERE token_hash = $1 AND expires_at > now() AND last_seen_at > now() - make_interval(secs => $2::float8)"
    "), touched AS ("
    "  UPDATE sessions SET last_seen_at = now() FROM s"
    "  WHERE sessions.id = s.id AND s.last_seen_at < now() - interval '1 minute'"
    ")"
    " SELECT s.id AS session_id, s.csrf_token, u.id, u.email, u.display_name, u.role"
    " FROM s JOIN users u ON u.id = s.user_id AND u.status = 'active'",
    2, 0};

static struct db_stmt stmt_token = {
    "auth_token",
    "WITH t AS ("
    "  SELECT id, scopes, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
    "), touched AS ("
    "  UPDATE api_tokens SET last_used_at = now() FROM t"
    "  WHERE api_tokens.id = t.id AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')"
    ")"
    " SELECT id, 'read' = ANY (scopes) AS read, 'questions:write' = ANY (scopes) AS questions_write,"
    " 'admin' = ANY (scopes) AS admin FROM t",
    1, 0};

void auth_register_statements(void)
{
	db_register_statement(&stmt_session);
	db_register_statement(&stmt_token);
}

void auth_init(bool insecure_cookies)
{
	cookie_secure = !insecure_cookies;
	cookie_name = insecure_cookies ? "relais_session" : "__Host-relais_session";
	auth_password_init();
}

const char *auth_cookie_name(void)
{
	return cookie_name;
}

void auth_set_session_cookie(struct http_req *req, const char *token, long long max_age)
{
	char *cookie = arena_printf(&req->arena, "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%lld%s", cookie_name,
	                            token, max_age, cookie_secure ? "; Secure" : "");
	http_set_header(req, "Set-Cookie", cookie);
}

void auth_new_secret(char out[AUTH_SECRET_LEN + 1])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(out, AUTH_SECRET_LEN + 1, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

void auth_secret_param(const char *secret, char out[AUTH_HASH_PARAM_LEN])
{
	unsigned char hash[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(hash, (const unsigned char *)secret, strlen(secret));
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, AUTH_HASH_PARAM_LEN - 2, hash, sizeof hash);
}

static void deny(struct http_req *req, int status, const char *code, const char *message)
{
	if (status == 403)
		audit_write(req, code[0] == 'c' ? "access.csrf_failed" : "access.denied", "route", req->route->name,
		            json_pack("{s:s, s:s}", "method", http_method_label(req), "path", req->path));
	http_reply_error(req, status, code, message, NULL);
}

void auth_deny(struct http_req *req, const char *message)
{
	deny(req, 403, "forbidden", message);
}

static bool unsafe_method(int method)
{
	return method == HTTP_POST || method == HTTP_PUT || method == HTTP_PATCH || method == HTTP_DELETE;
}

static bool allowed(const struct http_req *req)
{
	const struct principal *who = &req->who;
	enum route_access access = req->route->access;
	if (who->user_id) {
		bool admin = !strcmp(who->role, "admin");
		switch (access) {
		case ACCESS_PUBLIC:
		case ACCESS_USER:
		case ACCESS_SESSION:
			return true;
		case ACCESS_COMMS:
			return admin || !strcmp(who->role, "comms");
		case ACCESS_ADMIN:
			return admin;
		}
		return false;
	}
	switch (access) {
	case ACCESS_PUBLIC:
		return true;
	case ACCESS_USER:
		return (who->scopes & (SCOPE_READ | SCOPE_ADMIN)) && (req->method == HTTP_GET || req->method == HTTP_HEAD);
	case ACCESS_SESSION:
		return false;
	case ACCESS_COMMS:
	case ACCESS_ADMIN:
		return who->scopes & SCOPE_ADMIN;
	}
	return false;
}

static void authorize(struct http_req *req)
{
	if (!allowed(req)) {
		deny(req, 403, "forbidden", req->who.token_id && req->route->access == ACCESS_SESSION
		                                ? "This needs a signed-in person, not an API token."
		                                : "You may not do this.");
		return;
	}
	if (req->who.session_id && unsafe_method(req->method)) {
		const char *sent = http_header(req, "X-CSRF-Token");
		const char *expected = req->who.csrf_token;
		if (!sent || strlen(sent) != strlen(expected) || sodium_memcmp(sent, expected, strlen(expected)) != 0) {
			deny(req, 403, "csrf_failed", "The X-CSRF-Token header is missing or wrong; reload the page.");
			return;
		}
	}
	http_run_handler(req);
}

static void session_found(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	const PGresult *r = result->results[0];
	if (PQntuples(r) != 1) {
		auth_set_session_cookie(req, "", 0);
		http_reply_error(req, 401, "unauthenticated", "Your session has ended; sign in again.", NULL);
		return;
	}
	struct principal *who = &req->who;
	who->session_id = db_int(r, 0, "session_id");
	who->user_id = db_int(r, 0, "id");
	who->role = arena_strdup(&req->arena, db_value(r, 0, "role"));
	who->csrf_token = arena_strdup(&req->arena, db_value(r, 0, "csrf_token"));
	who->email = arena_strdup(&req->arena, db_value(r, 0, "email"));
	who->display_name = arena_strdup(&req->arena, db_value(r, 0, "display_name"));
	authorize(req);
}

static void token_found(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	const PGresult *r = result->results[0];
	if (PQntuples(r) != 1) {
		http_set_header(req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
		http_reply_error(req, 401, "unauthenticated", "This API token is unknown or revoked.", NULL);
		return;
	}
	struct principal *who = &req->who;
	who->token_id = db_int(r, 0, "id");
	who->scopes = (!strcmp(db_value(r, 0, "read"), "t") ? SCOPE_READ : 0) |
	              (!strcmp(db_value(r, 0, "questions_write"), "t") ? SCOPE_QUESTIONS_WRITE : 0) |
	              (!strcmp(db_value(r, 0, "admin"), "t") ? SCOPE_ADMIN : 0);
	authorize(req);
}

void auth_gate(struct http_req *req)
{
	char hash[AUTH_HASH_PARAM_LEN];
	const char *authorization = http_header(req, "Authorization");
	if (authorization && !strncasecmp(authorization, "Bearer ", 7)) {
		const char *token = authorization + 7;
		if (!*token || strlen(token) > 256) {
			http_reply_error(req, 401, "unauthenticated", "This API token is unknown or revoked.", NULL);
			return;
		}
		auth_secret_param(token, hash);
		const char *values[] = {hash};
		http_req_hold(req);
		db_query(req->worker->db, &stmt_token, values, token_found, req);
		return;
	}
	const char *cookie = http_cookie(req, cookie_name);
	if (!cookie || strlen(cookie) != AUTH_SECRET_LEN) {
		http_reply_error(req, 401, "unauthenticated", "Sign in first.", NULL);
		return;
	}
	auth_secret_param(cookie, hash);
	const char *idle = http_id_text(req, (long long)(req->worker->cfg->session_idle_ms / 1000));
	const char *values[] = {hash, idle};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_session, values, session_found, req);
}
