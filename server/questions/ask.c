/* The public ask form of `web_form` channels and the customer's follow page. No account:
 * the customer holds a follow token (32 random bytes, only its SHA-256 stored) and sees
 * their question, its customer-facing status and the messages exchanged, never anything
 * internal (assignee, experts' names, comments). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "core/worker.h"
#include "db/rows.h"
#include "http/input.h"
#include "http/request.h"
#include "questions/intake.h"
#include "questions/questions.h"

/* Questions one address may ask per hour, across all workers (rate_limits table). */
#define ASK_PER_HOUR 5
#define TOKEN_BYTES 32

static struct db_stmt stmt_form = {
    "ask_form",
    "SELECT c.id AS _id, c.slug, c.name, c.language, co.name AS community_name FROM channels c"
    " JOIN communities co ON co.id = c.community_id WHERE c.slug = $1 AND c.kind = 'web_form' AND c.status = 'active'",
    1, 0};

/* One-hour windows per address (schema: rate_limit_hit), like the sign-in limit. */
static struct db_stmt stmt_rate = {
    "ask_rate", "SELECT hits, retry FROM rate_limit_hit(ARRAY['ask:' || $1], interval '1 hour')", 1, 0};

/* Replies on follow pages: one-minute windows per address. */
#define FOLLOW_MESSAGES_PER_MINUTE 20
static struct db_stmt stmt_follow_rate = {
    "follow_rate", "SELECT hits, retry FROM rate_limit_hit(ARRAY['follow:' || $1], interval '1 minute')", 1, 0};

/* What the customer sees of the status. */
#define CUSTOMER_STATUS                                                                                                \
	"CASE q.status WHEN 'triage' THEN 'received' WHEN 'routing' THEN 'received'"                                   \
	" WHEN 'waiting_customer' THEN 'waiting_for_you' WHEN 'answered' THEN 'answered' WHEN 'closed' THEN 'closed'"  \
	" WHEN 'refused' THEN 'declined' ELSE 'in_progress' END"

static struct db_stmt stmt_follow = {"follow_question",
                                     "SELECT q.title, q.body, q.language, " CUSTOMER_STATUS
                                     " AS status, q.created_at FROM questions q"
                                     " WHERE q.follow_token_hash = decode($1, 'hex')",
                                     1, 0};

/* Experts' and the company's messages all read "company": no names leave the company. */
static struct db_stmt stmt_follow_messages = {
    "follow_messages",
    "SELECT m.id, CASE m.author WHEN 'customer' THEN 'customer' ELSE 'company' END AS author, m.body, m.created_at"
    " FROM questions q JOIN question_messages m ON m.question_id = q.id"
    " WHERE q.follow_token_hash = decode($1, 'hex') ORDER BY m.id LIMIT 500",
    1, 0};

void ask_register_statements(void)
{
	struct db_stmt *all[] = {&stmt_form, &stmt_rate, &stmt_follow, &stmt_follow_messages, &stmt_follow_rate};
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		db_register_statement(all[i]);
}

static void form_not_found(struct http_req *req)
{
	http_reply_error(req, 404, "not_found", "No such form.", NULL);
}

/* --- GET /ask/{slug} --------------------------------------------------------------------------- */

static void form_got(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	if (PQntuples(result->results[0]) != 1) {
		form_not_found(req);
		return;
	}
	http_reply_json(req, 200, json_pack("{s:o}", "channel", db_row_json(result->results[0], 0)));
}

void ask_form(struct http_req *req)
{
	const char *slug = http_param(req, "slug");
	if (!slug || strlen(slug) > 63) {
		form_not_found(req);
		return;
	}
	const char *v[] = {slug};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_form, v, form_got, req);
}

/* --- POST /ask/{slug} -------------------------------------------------------------------------- */

struct ask {
	struct intake_question q;
	char token[sodium_base64_ENCODED_LEN(TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
};

/* A fresh token and the hex SHA-256 of its text form. */
static void new_token(struct http_req *req, char *token, size_t token_size, const char **hash_hex)
{
	unsigned char raw[TOKEN_BYTES], hash[crypto_hash_sha256_BYTES];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(token, token_size, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
	char *hex = arena_alloc(&req->arena, sizeof hash * 2 + 1);
	sodium_bin2hex(hex, sizeof hash * 2 + 1, hash, sizeof hash);
	*hash_hex = hex;
}

static void reply_token(struct http_req *req, const char *token)
{
	http_reply_json(req, 202,
	                json_pack("{s:s, s:s}", "follow_token", token, "follow_url",
	                          arena_printf(&req->arena, "/follow/%s", token)));
}

static void asked(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct ask *a = req->route_state;
	if (!http_db_answered(req, result))
		goto done;
	const PGresult *r = result->results[result->count - 1];
	if (PQntuples(r) != 1 || !db_value(r, 0, "question_id")) {
		http_set_header(req, "Retry-After", "1");
		http_reply_error(req, 503, "busy", "Please send the question again.", NULL);
		goto done;
	}
	intake_routed(req, r);
	reply_token(req, a->token);
done:
	sodium_memzero(a->token, sizeof a->token);
}

static void checked(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct ask *a = req->route_state;
	if (!http_db_answered(req, result))
		return;
	const PGresult *rate = result->results[0], *form = result->results[1];
	if (PQntuples(form) != 1) {
		form_not_found(req);
		return;
	}
	if (db_int(rate, 0, "hits") > ASK_PER_HOUR) {
		audit_write(req, "ask.rate_limited", "channel", db_value(form, 0, "_id"), NULL);
		http_set_header(req, "Retry-After", db_value(rate, 0, "retry"));
		http_reply_error(req, 429, "rate_limited", "Too many questions from this address; try again later.",
		                 NULL);
		return;
	}
	a->q.channel_id = arena_strdup(&req->arena, db_value(form, 0, "_id"));
	unsigned char r[12];
	char hex[sizeof r * 2 + 1];
	randombytes_buf(r, sizeof r);
	sodium_bin2hex(hex, sizeof hex, r, sizeof r);
	a->q.external_id = arena_printf(&req->arena, "web-%s", hex);
	new_token(req, a->token, sizeof a->token, &a->q.follow_hash_hex);
	struct db_batch *b = db_batch_new();
	intake_add_question(b, req, &a->q);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, asked, req);
}

void ask_submit(struct http_req *req)
{
	static const char *const fields[] = {"title", "body", "name", "email", "language", "website", NULL};
	static const char *const languages[] = {"en", "fr", NULL};
	struct ask *a = arena_alloc(&req->arena, sizeof *a);
	memset(a, 0, sizeof *a);
	const char *slug = http_param(req, "slug"), *website;
	if (!slug || strlen(slug) > 63) {
		form_not_found(req);
		return;
	}
	if (!input_only(req, fields) || !input_line(req, "title", 1, 300, INPUT_REQUIRED, &a->q.title) ||
	    !input_text(req, "body", 20000, INPUT_REQUIRED, &a->q.body) ||
	    !input_line(req, "name", 0, 200, INPUT_OPTIONAL, &a->q.name) ||
	    !input_line(req, "email", 0, 254, INPUT_OPTIONAL, &a->q.email) ||
	    !input_enum(req, "language", languages, INPUT_OPTIONAL, &a->q.language) ||
	    !input_text(req, "website", 2000, INPUT_OPTIONAL, &website))
		return;
	if (strspn(a->q.body, " \t\r\n") == strlen(a->q.body)) {
		input_fail(req, "body", "This field must not be empty.");
		return;
	}
	if (a->q.email && *a->q.email && !intake_valid_email(a->q.email)) {
		input_fail(req, "email", "This is not an e-mail address.");
		return;
	}
	/* The honeypot: people never see this field, robots fill it. They get an answer that
	 * looks the same (a token that follows nothing) and nothing is stored. */
	if (website && *website) {
		const char *unused;
		new_token(req, a->token, sizeof a->token, &unused);
		reply_token(req, a->token);
		return;
	}
	req->route_state = a;
	struct db_batch *b = db_batch_new();
	const char *r[] = {req->client_ip};
	db_batch_add(b, &stmt_rate, r);
	const char *f[] = {slug};
	db_batch_add(b, &stmt_form, f);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, checked, req);
}

/* --- the follow page ------------------------------------------------------------------------- */

/* The hex SHA-256 of a well-formed token (43 URL-safe base64 characters); NULL otherwise. */
static const char *token_hash(struct http_req *req)
{
	const char *token = http_param(req, "token");
	unsigned char raw[TOKEN_BYTES], hash[crypto_hash_sha256_BYTES];
	size_t len = 0;
	if (!token || strlen(token) != 43 ||
	    sodium_base642bin(raw, sizeof raw, token, strlen(token), NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != TOKEN_BYTES) {
		http_reply_error(req, 404, "not_found", "No question follows this link.", NULL);
		return NULL;
	}
	sodium_memzero(raw, sizeof raw);
	crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
	char *hex = arena_alloc(&req->arena, sizeof hash * 2 + 1);
	sodium_bin2hex(hex, sizeof hash * 2 + 1, hash, sizeof hash);
	return hex;
}

static void followed(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	if (PQntuples(result->results[0]) != 1) {
		http_reply_error(req, 404, "not_found", "No question follows this link.", NULL);
		return;
	}
	http_set_header(req, "Cache-Control", "no-store");
	http_reply_json(req, 200,
	                json_pack("{s:o, s:o}", "question", db_row_json(result->results[0], 0), "messages",
	                          db_rows_json(result->results[1])));
}

void follow_get(struct http_req *req)
{
	const char *hash = token_hash(req);
	if (!hash)
		return;
	struct db_batch *b = db_batch_new();
	const char *v[] = {hash};
	db_batch_add(b, &stmt_follow, v);
	db_batch_add(b, &stmt_follow_messages, v);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, followed, req);
}

static void follow_sent(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	const PGresult *r = result->results[result->count - 1];
	if (!db_value(r, 0, "message_id")) {
		http_reply_error(req, 404, "not_found", "No question follows this link.", NULL);
		return;
	}
	json_t *out = db_row_json(r, 0);
	json_object_del(out, "duplicate");
	json_object_del(out, "question_id");
	http_reply_json(req, 201, out);
}

static void follow_rate_checked(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct intake_message *m = req->route_state;
	if (!http_db_answered(req, result))
		return;
	const PGresult *rate = result->results[0];
	if (db_int(rate, 0, "hits") > FOLLOW_MESSAGES_PER_MINUTE) {
		http_set_header(req, "Retry-After", db_value(rate, 0, "retry"));
		http_reply_error(req, 429, "rate_limited", "Too many messages from this address; wait a minute.", NULL);
		return;
	}
	struct db_batch *b = db_batch_new();
	intake_add_message(b, req, m);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, follow_sent, req);
}

void follow_message(struct http_req *req)
{
	static const char *const fields[] = {"body", NULL};
	struct intake_message *m = arena_alloc(&req->arena, sizeof *m);
	memset(m, 0, sizeof *m);
	m->follow_hash_hex = token_hash(req);
	if (!m->follow_hash_hex || !input_only(req, fields) ||
	    !input_text(req, "body", 20000, INPUT_REQUIRED, &m->body))
		return;
	if (strspn(m->body, " \t\r\n") == strlen(m->body)) {
		input_fail(req, "body", "This field must not be empty.");
		return;
	}
	m->channel_id = "0";
	req->route_state = m;
	const char *v[] = {req->client_ip};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_follow_rate, v, follow_rate_checked, req);
}
