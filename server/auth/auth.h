/* Authentication and access: the gate in front of every non-public route, sessions, API
 * tokens, passwords (hashed off the event loop) and their HTTP handlers. */
#ifndef RELAIS_AUTH_H
#define RELAIS_AUTH_H

#include "core/common.h"

struct http_req;

#define AUTH_SECRET_LEN 43     /* 32 random bytes, URL-safe base64 without padding */
#define AUTH_HASH_PARAM_LEN 67 /* "\\x" + 64 hex digits + NUL: SHA-256 as a bytea parameter */
#define PASSWORD_MIN_CHARS 10
#define PASSWORD_MAX_BYTES 1024

void auth_register_statements(void);
/* Must run once per worker before it serves (dummy hash for unknown e-mails, cookie name). */
void auth_init(bool insecure_cookies);

/* The gate (http_gate): authenticates, checks the route's access and CSRF, then runs the handler. */
void auth_gate(struct http_req *req);

/* Answers 403 forbidden and writes the access.denied audit row (for object-level rules). */
void auth_deny(struct http_req *req, const char *message);

/* A new random secret (session token, API token, reset token). */
void auth_new_secret(char out[AUTH_SECRET_LEN + 1]);
/* SHA-256 of a secret as a bytea parameter, the only form in which secrets are stored. */
void auth_secret_param(const char *secret, char out[AUTH_HASH_PARAM_LEN]);

/* Password rules; answers 422 naming `field` when broken. */
bool auth_password_acceptable(struct http_req *req, const char *field, const char *password) MUST_USE;
/* Argon2id on the worker's thread pool; `done` runs on the loop with the request held. */
typedef void (*auth_hash_done)(struct http_req *req, const char *hash);
typedef void (*auth_verify_done)(struct http_req *req, bool ok, bool needs_rehash);
void auth_hash_password(struct http_req *req, const char *password, auth_hash_done done);
/* A NULL hash is verified against a dummy one, so unknown accounts cost the same time. */
void auth_verify_password(struct http_req *req, const char *hash, const char *password, auth_verify_done done);
/* Blocking versions for the command line. */
bool auth_hash_password_now(const char *password, char out[128]) MUST_USE;

/* Handlers. */
void auth_login(struct http_req *req);
void auth_logout(struct http_req *req);
void auth_sessions_list(struct http_req *req);
void auth_session_revoke(struct http_req *req);
void auth_password_change(struct http_req *req);
void auth_reset_create(struct http_req *req);
void auth_reset_use(struct http_req *req);
void auth_tokens_list(struct http_req *req);
void auth_token_create(struct http_req *req);
void auth_token_revoke(struct http_req *req);

/* Deletes expired sign-in attempt counters (one worker calls it every minute). */
struct db_pool;
void auth_forget_old_attempts(struct db_pool *pool);

/* The session cookie's name ("__Host-relais_session", or "relais_session" when insecure). */
const char *auth_cookie_name(void);
void auth_set_session_cookie(struct http_req *req, const char *token, long long max_age_seconds);

#endif
