/* Channels: where external questions come from. Admins create them, rotate the signing
 * secrets of `api` channels and read the log of inbound deliveries (docs/questions.md). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "core/worker.h"
#include "db/rows.h"
#include "http/input.h"
#include "http/request.h"
#include "questions/questions.h"
#include "questions/signature.h"

#define SECRET_BYTES 32

#define CHANNEL_COLUMNS                                                                                                \
	"c.id, c.kind, c.name, c.slug, c.community_id, co.name AS community_name, c.language, c.sla_seconds,"          \
	" c.owner_user_id, c.status, c.created_at"

static struct db_stmt stmt_list = {"channels_list",
                                   "SELECT " CHANNEL_COLUMNS
                                   " FROM channels c JOIN communities co ON co.id = c.community_id"
                                   " WHERE ($1::bigint IS NULL OR c.id > $1) ORDER BY c.id LIMIT $2",
                                   2, 0};

static struct db_stmt stmt_get = {
    "channels_get",
    "SELECT " CHANNEL_COLUMNS " FROM channels c JOIN communities co ON co.id = c.community_id WHERE c.id = $1", 1, 0};

/* Why a create or an update would insert nothing: a missing community, an inactive owner. */
static struct db_stmt stmt_check = {
    "channels_check",
    "SELECT ($1::bigint IS NULL OR EXISTS (SELECT 1 FROM communities WHERE id = $1)) AS community_ok,"
    " ($2::bigint IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = $2 AND status = 'active')) AS owner_ok,"
    " (SELECT kind FROM channels WHERE id = $3) AS kind",
    3, 0};

/* $1 kind, $2 name, $3 slug, $4 community, $5 language, $6 sla, $7 owner, $8 creator,
 * $9 secret (hex, api channels only), $10-$13 audit. The secret never reaches the audit row. */
static struct db_stmt stmt_create = {
    "channels_create",
    "WITH owner AS (SELECT id FROM users WHERE id = $7 AND status = 'active'),"
    " c AS (INSERT INTO channels (kind, name, slug, community_id, language, sla_seconds, owner_user_id, created_by)"
    "  SELECT $1, $2, $3, co.id, $5, $6::int, owner.id, $8 FROM communities co, owner WHERE co.id = $4 RETURNING *),"
    " s AS (INSERT INTO channel_secrets (channel_id, secret) SELECT c.id, decode($9, 'hex') FROM c"
    "  WHERE $9::text IS NOT NULL RETURNING id)"
    " SELECT " CHANNEL_COLUMNS ", (SELECT count(*) FROM s) AS _secrets,"
    " audit_record($10, $11, 'channel.created', 'channel', c.id::text, $12, $13,"
    "   jsonb_build_object('kind', c.kind, 'slug', c.slug, 'community_id', c.community_id)) AS _audit"
    " FROM c JOIN communities co ON co.id = c.community_id",
    13, 0};

/* $1 id, $2 name, $3 language, $4 sla, $5 status, $6 owner, $7-$10 audit, $11 details. */
static struct db_stmt stmt_update = {
    "channels_update",
    "WITH c AS (UPDATE channels c SET name = coalesce($2, c.name), language = coalesce($3, c.language),"
    "  sla_seconds = coalesce($4::int, c.sla_seconds), status = coalesce($5, c.status),"
    "  owner_user_id = coalesce($6::bigint, c.owner_user_id)"
    "  WHERE c.id = $1 AND ($6::bigint IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = $6 AND status = 'active'))"
    "  RETURNING c.*)"
    " SELECT " CHANNEL_COLUMNS ", audit_record($7, $8, 'channel.updated', 'channel', c.id::text, $9, $10, $11::jsonb)"
    "   AS _audit, pg_notify('relais_channels', c.id::text) AS _notify"
    " FROM c JOIN communities co ON co.id = c.community_id",
    11, 0};

/* Workers cache channel secrets (intake.c): every change is announced on relais_channels. */

/* Taken first, in its own statement of the batch: concurrent rotations then run one after
 * the other, and each rotation's statement (whose snapshot starts after the lock) sees the
 * secret that the previous one added. A lock inside the rotation's own statement would not:
 * its snapshot would be older than the lock. */
static struct db_stmt stmt_lock = {"channels_lock", "SELECT id FROM channels WHERE id = $1 FOR UPDATE", 1, 0};

/* The secrets in use get 24 hours more (not more than they had); the new one has no expiry. */
static struct db_stmt stmt_rotate = {
    "channels_rotate",
    "WITH c AS (SELECT id FROM channels WHERE id = $1 AND kind = 'api'),"
    " old AS (UPDATE channel_secrets s SET expires_at = now() + interval '24 hours' FROM c"
    "  WHERE s.channel_id = c.id AND (s.expires_at IS NULL OR s.expires_at > now() + interval '24 hours')"
    "  RETURNING s.expires_at),"
    " new AS (INSERT INTO channel_secrets (channel_id, secret) SELECT c.id, decode($2, 'hex') FROM c RETURNING id)"
    " SELECT (SELECT max(expires_at) FROM old) AS previous_expires_at,"
    " audit_record($3, $4, 'channel.secret_rotated', 'channel', $1::text, $5, $6,"
    "   jsonb_build_object('secret_id', new.id)) AS _audit, pg_notify('relais_channels', $1::text) AS _notify FROM new",
    6, 0};

static struct db_stmt stmt_deliveries = {
    "channels_deliveries",
    "SELECT id, webhook_id, received_at, status, error_code, question_id, ip FROM channel_deliveries"
    " WHERE channel_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
    3, 0};

void channels_register_statements(void)
{
	struct db_stmt *all[] = {&stmt_list,   &stmt_get,    &stmt_check,     &stmt_create,
	                         &stmt_update, &stmt_rotate, &stmt_deliveries, &stmt_lock};
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		db_register_statement(all[i]);
}

static void not_found(struct http_req *req)
{
	http_reply_error(req, 404, "not_found", "No such channel.", NULL);
}

static bool valid_slug(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 63 || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

/* "Billing help (FR)" -> "billing-help-fr". Letters outside ASCII become dashes; a name that
 * leaves too little gets a random suffix so that the slug is still valid. */
static const char *slug_from_name(struct http_req *req, const char *name)
{
	char out[64];
	size_t n = 0;
	for (const char *p = name; *p && n < 63; p++) {
		unsigned char ch = (unsigned char)*p;
		if (isalnum(ch) && ch < 0x80)
			out[n++] = (char)tolower(ch);
		else if (n > 0 && out[n - 1] != '-')
			out[n++] = '-';
	}
	while (n > 0 && out[n - 1] == '-')
		n--;
	out[n] = '\0';
	if (n < 2) {
		unsigned char r[3];
		char hex[7];
		randombytes_buf(r, sizeof r);
		sodium_bin2hex(hex, sizeof hex, r, sizeof r);
		return arena_printf(&req->arena, "channel-%s%s%s", out, n ? "-" : "", hex);
	}
	return arena_strdup(&req->arena, out);
}

/* --- list, get ------------------------------------------------------------------------------- */

void channels_list(struct http_req *req)
{
	long long *limit = arena_alloc(&req->arena, sizeof *limit);
	const char *cursor;
	if (!http_read_limit(req, limit) || !http_read_cursor(req, &cursor))
		return;
	req->route_state = limit;
	const char *v[] = {cursor, http_id_text(req, *limit)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_list, v, http_page_answered, req);
}

static void got(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	if (PQntuples(result->results[0]) != 1) {
		not_found(req);
		return;
	}
	http_reply_json(req, 200, db_row_json(result->results[0], 0));
}

void channels_get(struct http_req *req)
{
	const char *id;
	if (!http_path_id(req, "id", &id))
		return;
	const char *v[] = {id};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_get, v, got, req);
}

/* --- create ---------------------------------------------------------------------------------- */

static bool is_unique_violation(const struct db_result *result)
{
	return result->status == DB_SQL_ERROR && result->sqlstate && !strcmp(result->sqlstate, "23505");
}

static void created(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	char *secret = req->route_state;
	if (!http_req_release(req))
		goto done;
	if (is_unique_violation(result)) {
		http_reply_error(req, 409, "slug_taken", "Another channel has this slug.", "slug");
		goto done;
	}
	if (result->status != DB_OK) {
		http_reply_db_error(req, result);
		goto done;
	}
	const PGresult *check = result->results[0], *r = result->results[1];
	if (strcmp(db_value(check, 0, "community_ok"), "t") != 0) {
		input_fail(req, "community_id", "No such community.");
		goto done;
	}
	if (PQntuples(r) != 1) {
		input_fail(req, "owner_user_id", "The owner must be an active account.");
		goto done;
	}
	json_t *c = db_row_json(r, 0);
	if (secret)
		json_object_set_new(c, "secret", json_string(secret));
	http_reply_json(req, 201, c);
done:
	if (secret)
		sodium_memzero(secret, strlen(secret));
}

static const char *const kinds[] = {"api", "web_form", "email", NULL};
static const char *const languages[] = {"en", "fr", NULL};
static const char *const statuses[] = {"active", "disabled", NULL};

void channels_create(struct http_req *req)
{
	static const char *const fields[] = {"kind",        "name", "community_id",  "language",
	                                     "sla_seconds", "slug", "owner_user_id", NULL};
	const char *kind, *name, *slug, *language;
	long long community = 0, sla = 0, owner = 0;
	bool has_owner;
	if (!input_only(req, fields) || !input_enum(req, "kind", kinds, INPUT_REQUIRED, &kind) ||
	    !input_line(req, "name", 1, 100, INPUT_REQUIRED, &name) ||
	    !input_int(req, "community_id", 1, INT64_MAX, INPUT_REQUIRED, &community, NULL) ||
	    !input_enum(req, "language", languages, INPUT_REQUIRED, &language) ||
	    !input_int(req, "sla_seconds", 1, 2592000, INPUT_REQUIRED, &sla, NULL) ||
	    !input_line(req, "slug", 2, 63, INPUT_OPTIONAL, &slug) ||
	    !input_int(req, "owner_user_id", 1, INT64_MAX, INPUT_OPTIONAL, &owner, &has_owner))
		return;
	if (slug && !valid_slug(slug)) {
		input_fail(req, "slug", "A slug is 2 to 63 lower-case letters, digits and dashes.");
		return;
	}
	if (!req->who.user_id) {
		auth_deny(req, "Channels are created by a person, not a token.");
		return;
	}
	if (!slug)
		slug = slug_from_name(req, name);
	const char *creator = http_id_text(req, req->who.user_id);
	const char *owner_id = has_owner ? http_id_text(req, owner) : creator;
	const char *secret_hex = NULL;
	char *secret = NULL;
	if (!strcmp(kind, "api")) {
		struct signature_key key;
		secret = arena_alloc(&req->arena, SIGNATURE_SECRET_MAX);
		signature_new_secret(&key, SECRET_BYTES, secret);
		char *hex = arena_alloc(&req->arena, SECRET_BYTES * 2 + 1);
		sodium_bin2hex(hex, SECRET_BYTES * 2 + 1, key.bytes, key.len);
		sodium_memzero(&key, sizeof key);
		secret_hex = hex;
	}
	req->route_state = secret;
	const char *a[4];
	audit_actor_params(req, a);
	struct db_batch *b = db_batch_new();
	const char *c[] = {http_id_text(req, community), owner_id, NULL};
	db_batch_add(b, &stmt_check, c);
	const char *v[] = {kind,       name,
	                   slug,       http_id_text(req, community),
	                   language,   http_id_text(req, sla),
	                   owner_id,   creator,
	                   secret_hex, a[0],
	                   a[1],       a[2],
	                   a[3]};
	db_batch_add(b, &stmt_create, v);
	/* The batch copied the key: the arena copy is not needed any more. */
	if (secret_hex)
		sodium_memzero((char *)secret_hex, strlen(secret_hex));
	http_req_hold(req);
	db_batch_send(req->worker->db, b, created, req);
}

/* --- update ---------------------------------------------------------------------------------- */

static void updated(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	const PGresult *check = result->results[0], *r = result->results[1];
	if (!db_value(check, 0, "kind")) {
		not_found(req);
		return;
	}
	if (PQntuples(r) != 1) {
		input_fail(req, "owner_user_id", "The owner must be an active account.");
		return;
	}
	http_reply_json(req, 200, db_row_json(r, 0));
}

void channels_update(struct http_req *req)
{
	static const char *const fields[] = {"name", "language", "sla_seconds", "status", "owner_user_id", NULL};
	const char *id, *name, *language, *status;
	long long sla = 0, owner = 0;
	bool has_sla, has_owner;
	if (!http_path_id(req, "id", &id) || !input_only(req, fields) ||
	    !input_line(req, "name", 1, 100, INPUT_OPTIONAL, &name) ||
	    !input_enum(req, "language", languages, INPUT_OPTIONAL, &language) ||
	    !input_int(req, "sla_seconds", 1, 2592000, INPUT_OPTIONAL, &sla, &has_sla) ||
	    !input_enum(req, "status", statuses, INPUT_OPTIONAL, &status) ||
	    !input_int(req, "owner_user_id", 1, INT64_MAX, INPUT_OPTIONAL, &owner, &has_owner))
		return;
	const char *owner_id = has_owner ? http_id_text(req, owner) : NULL;
	struct db_batch *b = db_batch_new();
	const char *c[] = {NULL, owner_id, id};
	db_batch_add(b, &stmt_check, c);
	const char *a[4];
	audit_actor_params(req, a);
	char *details = json_dumps(req->json, JSON_COMPACT);
	const char *v[] = {id,   name, language, has_sla ? http_id_text(req, sla) : NULL, status, owner_id, a[0],
	                   a[1], a[2], a[3],     arena_strdup(&req->arena, details)};
	free(details);
	db_batch_add(b, &stmt_update, v);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, updated, req);
}

/* --- secret rotation ----------------------------------------------------------------------- */

static void rotated(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	char *secret = req->route_state;
	if (!http_db_answered(req, result))
		goto done;
	const PGresult *check = result->results[1], *r = result->results[2];
	if (!db_value(check, 0, "kind")) {
		not_found(req);
		goto done;
	}
	if (PQntuples(r) != 1) {
		http_reply_error(req, 409, "not_api_channel", "Only api channels have a signing secret.", NULL);
		goto done;
	}
	json_t *out = db_row_json(r, 0);
	json_object_set_new(out, "secret", json_string(secret));
	http_reply_json(req, 201, out);
done:
	sodium_memzero(secret, strlen(secret));
}

void channels_rotate_secret(struct http_req *req)
{
	const char *id;
	if (!http_path_id(req, "id", &id))
		return;
	struct signature_key key;
	char *secret = arena_alloc(&req->arena, SIGNATURE_SECRET_MAX);
	signature_new_secret(&key, SECRET_BYTES, secret);
	char hex[SECRET_BYTES * 2 + 1];
	sodium_bin2hex(hex, sizeof hex, key.bytes, key.len);
	sodium_memzero(&key, sizeof key);
	req->route_state = secret;
	struct db_batch *b = db_batch_new();
	const char *lock[] = {id};
	db_batch_add(b, &stmt_lock, lock);
	const char *c[] = {NULL, NULL, id};
	db_batch_add(b, &stmt_check, c);
	const char *a[4];
	audit_actor_params(req, a);
	const char *v[] = {id, hex, a[0], a[1], a[2], a[3]};
	db_batch_add(b, &stmt_rotate, v);
	sodium_memzero(hex, sizeof hex);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, rotated, req);
}

/* --- deliveries ------------------------------------------------------------------------------ */

static void deliveries_listed(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	long long *limit = req->route_state;
	if (!http_db_answered(req, result))
		return;
	if (PQntuples(result->results[0]) != 1) {
		not_found(req);
		return;
	}
	http_reply_json(req, 200, http_page_json(req, result->results[1], *limit));
}

void channels_deliveries(struct http_req *req)
{
	const char *id, *cursor;
	long long *limit = arena_alloc(&req->arena, sizeof *limit);
	if (!http_path_id(req, "id", &id) || !http_read_limit(req, limit) || !http_read_cursor(req, &cursor))
		return;
	req->route_state = limit;
	struct db_batch *b = db_batch_new();
	const char *g[] = {id};
	db_batch_add(b, &stmt_get, g);
	const char *v[] = {id, cursor, http_id_text(req, *limit)};
	db_batch_add(b, &stmt_deliveries, v);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, deliveries_listed, req);
}
