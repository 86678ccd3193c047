/* API tokens: created by admins with scopes, shown once, stored as a hash, revocable. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "core/worker.h"
#include "db/rows.h"
#include "http/input.h"
#include "http/request.h"

static struct db_stmt stmt_list = {
    "tokens_list",
    "SELECT t.id, t.name, to_json(t.scopes) AS scopes, t.created_by, u.display_name AS created_by_name, t.created_at,"
    " t.last_used_at, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.created_by ORDER BY t.id DESC LIMIT 500",
    0, 0};
static struct db_stmt stmt_create = {
    "tokens_create",
    "WITH t AS (INSERT INTO api_tokens (name, token_hash, scopes, created_by)"
    "  SELECT $1, $2, array_agg(DISTINCT s ORDER BY s), $4 FROM unnest($3::text[]) AS s RETURNING *)"
    " SELECT id, name, to_json(scopes) AS scopes, created_at, audit_record($4, $5, 'token.created', 'token', id::text,"
    "   $6, $7, jsonb_build_object('name', name, 'scopes', scopes)) AS _audit FROM t",
    7, 0};
static struct db_stmt stmt_revoke = {
    "tokens_revoke",
    "WITH r AS (UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id)"
    " SELECT r.id, audit_record($2, $3, 'token.revoked', 'token', r.id::text, $4, $5, '{}') FROM r",
    5, 0};

void auth_tokens_register_statements(void);
void auth_tokens_register_statements(void)
{
	db_register_statement(&stmt_list);
	db_register_statement(&stmt_create);
	db_register_statement(&stmt_revoke);
}

static void listed(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	http_reply_json(req, 200, json_pack("{s:o, s:n}", "items", db_rows_json(result->results[0]), "next_cursor"));
}

void auth_tokens_list(struct http_req *req)
{
	http_req_hold(req);
	db_query(req->worker->db, &stmt_list, NULL, listed, req);
}

static void created(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	json_t *token = db_row_json(result->results[0], 0);
	json_object_set_new(token, "token", json_string(req->route_state));
	http_reply_json(req, 201, token);
}

void auth_token_create(struct http_req *req)
{
	static const char *const fields[] = {"name", "scopes", NULL};
	static const char *const known[] = {"read", "questions:write", "admin"};
	const char *name;
	if (!input_only(req, fields) || !input_line(req, "name", 1, 100, INPUT_REQUIRED, &name))
		return;
	if (!req->who.user_id) {
		auth_deny(req, "API tokens are created by an admin person, not a token.");
		return;
	}
	json_t *scopes = input_member(req, "scopes");
	if (!json_is_array(scopes) || json_array_size(scopes) == 0 || json_array_size(scopes) > 3) {
		input_fail(req, "scopes", "Give one or more scopes: read, questions:write, admin.");
		return;
	}
	char literal[64] = "{";
	size_t i;
	json_t *s;
	json_array_foreach(scopes, i, s)
	{
		size_t k = 0;
		while (k < ARRAY_LEN(known) && !(json_is_string(s) && !strcmp(json_string_value(s), known[k])))
			k++;
		if (k == ARRAY_LEN(known)) {
			input_fail(req, "scopes", "Unknown scope; the scopes are read, questions:write and admin.");
			return;
		}
		strcat(literal, i ? "," : "");
		strcat(literal, known[k]);
	}
	strcat(literal, "}");
	char *token = arena_alloc(&req->arena, AUTH_SECRET_LEN + 5);
	char secret[AUTH_SECRET_LEN + 1], hash[AUTH_HASH_PARAM_LEN];
	auth_new_secret(secret);
	snprintf(token, AUTH_SECRET_LEN + 5, "rlt_%s", secret);
	auth_secret_param(token, hash);
	req->route_state = token;
	const char *a[4];
	audit_actor_params(req, a);
	const char *v[] = {name, hash, literal, a[0], a[1], a[2], a[3]};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_create, v, created, req);
}

static void revoked(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	if (PQntuples(result->results[0]) == 0) {
		http_reply_error(req, 404, "not_found", "No such active token.", NULL);
		return;
	}
	http_reply_empty(req, 204);
}

void auth_token_revoke(struct http_req *req)
{
	const char *id;
	if (!http_path_id(req, "id", &id))
		return;
	const char *a[4];
	audit_actor_params(req, a);
	const char *v[] = {id, a[0], a[1], a[2], a[3]};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_revoke, v, revoked, req);
}
