/* Signed intake (Standard Webhooks): questions and customer follow-ups sent by `api`
 * channels. Each delivery is verified against the channel's unexpired secrets, stored once
 * (same webhook-id or same external id: the same question, also under concurrency), triaged
 * by the community's perimeter rules in the same transaction, and logged for the admins. */
#include "questions/intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/worker.h"
#include "db/listen.h"
#include "db/rows.h"
#include "http/input.h"
#include "http/request.h"
#include "people/common.h"
#include "questions/questions.h"
#include "questions/signature.h"

#define MAX_KEYS 8 /* unexpired secrets considered per channel; rotation keeps two or three */

static struct db_stmt stmt_secrets = {
    "intake_secrets",
    "SELECT c.kind, c.status, encode(s.secret, 'hex') AS secret,"
    " coalesce(extract(epoch FROM s.expires_at)::bigint, 0) AS expires FROM channels c"
    " LEFT JOIN channel_secrets s ON s.channel_id = c.id AND (s.expires_at IS NULL OR s.expires_at > now())"
    " WHERE c.id = $1 ORDER BY s.id DESC LIMIT 8",
    1, 0};

/* Failed deliveries of a known channel, for the admins' log. */
static struct db_stmt stmt_log = {
    "intake_log",
    "INSERT INTO channel_deliveries (channel_id, webhook_id, status, error_code, ip)"
    " SELECT id, left(coalesce($2, ''), 256), $3::int, $4, left($5, 64) FROM channels WHERE id = $1",
    5, 0};

/* Concurrent deliveries of one question (or of one webhook-id) wait here for each other;
 * the next statement, with a fresh snapshot, then sees what the first one stored. Locks are
 * always taken external id first, so two deliveries cannot wait for each other in a cycle. */
static struct db_stmt stmt_lock = {
    "intake_lock",
    "SELECT pg_advisory_xact_lock(hashtextextended('q:' || $1 || ':' || $2, 0)),"
    " pg_advisory_xact_lock(hashtextextended('w:' || $1 || ':' || coalesce($3, ''), 0)) WHERE $3::text IS NOT NULL",
    3, 0};

/* The question, stored once and triaged (docs/questions.md, "Triage").
 * $1 channel, $2 webhook id (NULL: no receipt), $3 external id, $4 title, $5 body,
 * $6 language (NULL: the channel's), $7 tags, $8 url, $9 name, $10 email, $11 external ref,
 * $12 client address, $13 follow token hash (hex). Rules are tried in position order and the
 * first match decides; keywords are looked for in the title and body without case or accents.
 * Volatile CTEs (events, notifications) are referenced by the final SELECT so that they run.
 * unaccent() is called directly rather than through immutable_unaccent(): that SQL wrapper
 * is not inlined (it declares IMMUTABLE what is STABLE), so each call ran as a statement of
 * its own, about seven per delivery.
 * The routing job is the row job_add() would write, without its pg_notify: a transaction that
 * notifies holds PostgreSQL's notify lock from before its commit record until after the WAL
 * flush, so every intake would commit one at a time (measured: 6 of 8 connections waiting on
 * that lock, about half the throughput). The job runner is woken after commit instead, at most
 * once per JOBS_WAKE_DELAY_MS per worker (intake_routed). */
static struct db_stmt stmt_question = {
    "intake_question",
    "WITH ch AS (SELECT c.id, c.community_id, c.language, co.topics FROM channels c"
    "  JOIN communities co ON co.id = c.community_id WHERE c.id = $1),"
    " seen AS (SELECT x.id, x.status FROM ("
    "   SELECT q.id, q.status, 0 AS o FROM intake_receipts r JOIN questions q ON q.id = r.question_id"
    "    WHERE r.channel_id = $1 AND r.webhook_id = $2"
    "   UNION ALL SELECT id, status, 1 FROM questions WHERE channel_id = $1 AND external_id = $3) x"
    "  ORDER BY x.o LIMIT 1),"
    " fresh AS (SELECT ch.community_id, ch.topics, coalesce($6, ch.language) AS lang,"
    "   coalesce($7::text[], '{}') AS qtags, public.unaccent('public.unaccent'::regdictionary, lower($4 || E'\\n' || $5)) AS haystack"
    "  FROM ch WHERE NOT EXISTS (SELECT 1 FROM seen)),"
    " rule AS (SELECT r.id, r.action, r.owner_user_id, r.canned_reply, r.topic,"
    "   EXISTS (SELECT 1 FROM users u WHERE u.id = r.owner_user_id AND u.status = 'active') AS owner_active"
    "  FROM perimeter_rules r, fresh f"
    "  WHERE r.community_id = f.community_id"
    "   AND (cardinality(r.tags) = 0 OR r.tags && f.qtags)"
    "   AND (cardinality(r.languages) = 0 OR f.lang = ANY (r.languages))"
    "   AND (cardinality(r.keywords) = 0 OR EXISTS (SELECT 1 FROM unnest(r.keywords) k"
    "        WHERE position(public.unaccent('public.unaccent'::regdictionary, lower(k)) IN f.haystack) > 0))"
    "  ORDER BY r.position LIMIT 1),"
    " decision AS (SELECT f.community_id, f.lang, f.qtags, r.id AS rule_id, r.action, r.owner_user_id,"
    "   r.canned_reply, coalesce(r.topic, '') AS rule_topic,"
    "   CASE r.action WHEN 'answer' THEN 'routing' WHEN 'refuse' THEN 'refused'"
    "    WHEN 'escalate' THEN CASE WHEN r.owner_active THEN 'escalated' ELSE 'triage' END"
    "    ELSE CASE WHEN cardinality(f.topics) = 0 OR f.topics && f.qtags THEN 'routing' ELSE 'triage' END"
    "   END AS status"
    "  FROM fresh f LEFT JOIN rule r ON true),"
    " cust AS (INSERT INTO customers (name, email, external_ref)"
    "  SELECT coalesce($9, ''), coalesce($10, ''), coalesce($11, '') FROM fresh"
    "  ON CONFLICT (lower(email)) WHERE email <> '' DO UPDATE SET"
    "   name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE customers.name END,"
    "   external_ref = CASE WHEN EXCLUDED.external_ref <> '' THEN EXCLUDED.external_ref ELSE customers.external_ref END"
    "  RETURNING id),"
    " q AS (INSERT INTO questions (channel_id, external_id, community_id, customer_id, title, body, language, tags,"
    "   url, status, triage_reason, rule_id, topic, assignee_id, follow_token_hash)"
    "  SELECT $1, $3, d.community_id, cust.id, $4, $5, d.lang, d.qtags, coalesce($8, ''), d.status,"
    "   CASE WHEN d.status <> 'triage' THEN '' WHEN d.rule_id IS NULL THEN 'no_rule' ELSE 'owner_inactive' END,"
    "   d.rule_id, d.rule_topic,"
    "   CASE WHEN d.status = 'escalated' THEN d.owner_user_id END, decode($13, 'hex')"
    "  FROM decision d, cust"
    "  ON CONFLICT (channel_id, external_id) DO NOTHING"
    "  RETURNING id, status, community_id, assignee_id, title, triage_reason),"
    " receipt AS (INSERT INTO intake_receipts (channel_id, webhook_id, question_id)"
    "  SELECT $1, $2, q.id FROM q WHERE $2::text IS NOT NULL ON CONFLICT DO NOTHING RETURNING 1),"
    " canned AS (INSERT INTO question_messages (question_id, author, body)"
    "  SELECT q.id, 'system', d.canned_reply FROM q, decision d WHERE q.status = 'refused' RETURNING 1),"
    " events AS (INSERT INTO question_events (question_id, kind, details)"
    "  SELECT q.id, e.kind, e.details FROM q, decision d, LATERAL (VALUES"
    "   ('question.received', jsonb_build_object('channel_id', $1::bigint)),"
    "   ('question.triaged', jsonb_build_object("
    "    'action', CASE WHEN q.status = 'triage' THEN 'triage' ELSE coalesce(d.action, 'answer') END,"
    "    'rule_id', d.rule_id,"
    "    'reason', CASE WHEN q.status = 'triage' THEN q.triage_reason WHEN d.rule_id IS NOT NULL THEN 'rule'"
    "     ELSE 'topics' END))) e(kind, details) RETURNING 1),"
    " effects AS (SELECT notification_add(q.assignee_id, 'question.escalated', q.id, NULL,"
    "   jsonb_build_object('title', q.title, 'rule_id', d.rule_id)) AS escalated"
    "  FROM q, decision d WHERE q.status = 'escalated'),"
    " job AS (INSERT INTO jobs (kind, payload, run_at)"
    "  SELECT 'question.route', jsonb_build_object('question_id', q.id), now() FROM q WHERE q.status = 'routing'"
    "  RETURNING 1),"
    " managers AS (SELECT notification_add(m.user_id, 'question.triage', q.id, NULL,"
    "   jsonb_build_object('title', q.title, 'reason', q.triage_reason)) AS n"
    "  FROM q JOIN community_members m ON m.community_id = q.community_id AND m.role = 'manager'"
    "   AND m.status = 'active' JOIN users u ON u.id = m.user_id AND u.status = 'active'"
    "  WHERE q.status = 'triage'),"
    " delivery AS (INSERT INTO channel_deliveries (channel_id, webhook_id, status, question_id, ip)"
    "  SELECT $1, coalesce($2, ''), CASE WHEN q.id IS NULL THEN 200 ELSE 202 END, coalesce(q.id, s.id),"
    "   left(coalesce($12, ''), 64)"
    "  FROM ch LEFT JOIN q ON true LEFT JOIN seen s ON true RETURNING 1)"
    " SELECT coalesce(q.id, s.id) AS question_id, coalesce(q.status, s.status) AS status, q.id IS NULL AS duplicate,"
    "  (SELECT count(*) FROM effects) + (SELECT count(*) FROM managers) + (SELECT count(*) FROM canned)"
    "   + (SELECT count(*) FROM receipt) + (SELECT count(*) FROM delivery) + (SELECT count(*) FROM events) AS _effects,"
    "  (SELECT count(*) FROM job) AS _routed"
    " FROM ch LEFT JOIN q ON true LEFT JOIN seen s ON true",
    13, 0};

/* A customer's message. $1 channel, $2 webhook id (NULL from the follow page), $3 the
 * question's external id, $4 follow token hash (hex), $5 the message's external id, $6 body,
 * $7 client address. The same webhook-id, or the same message external id on the question,
 * is the same message. A question waiting for the customer gets its SLA clock back. */
static struct db_stmt stmt_message = {
    "intake_message",
    "WITH qq AS (SELECT id, assignee_id FROM questions"
    "  WHERE (channel_id = $1 AND external_id = $3) OR follow_token_hash = decode($4, 'hex') LIMIT 1),"
    " seen AS (SELECT r.question_id, r.message_id FROM intake_receipts r WHERE r.channel_id = $1 AND r.webhook_id = $2"
    "  UNION ALL SELECT m.question_id, m.id FROM question_messages m JOIN qq ON m.question_id = qq.id"
    "   WHERE $5::text IS NOT NULL AND m.external_id = $5 AND m.author = 'customer' LIMIT 1),"
    " m AS (INSERT INTO question_messages (question_id, author, external_id, body)"
    "  SELECT qq.id, 'customer', $5, $6 FROM qq WHERE NOT EXISTS (SELECT 1 FROM seen) RETURNING id, question_id),"
    " r AS (INSERT INTO intake_receipts (channel_id, webhook_id, question_id, message_id)"
    "  SELECT $1, $2, m.question_id, m.id FROM m WHERE $2::text IS NOT NULL ON CONFLICT DO NOTHING RETURNING 1),"
    " fx AS (SELECT question_sla_resume(m.question_id)::text AS resumed,"
    "   question_event(m.question_id, 'customer.message', NULL, jsonb_build_object('message_id', m.id)) AS ev,"
    "   CASE WHEN qq.assignee_id IS NOT NULL THEN notification_add(qq.assignee_id, 'question.customer_message',"
    "    m.question_id, NULL, jsonb_build_object('message_id', m.id)) END AS n"
    "  FROM m JOIN qq ON qq.id = m.question_id),"
    " d AS (INSERT INTO channel_deliveries (channel_id, webhook_id, status, error_code, question_id, ip)"
    "  SELECT $1, $2, CASE WHEN m.id IS NOT NULL THEN 202 WHEN s.question_id IS NOT NULL THEN 200 ELSE 404 END,"
    "   CASE WHEN m.id IS NULL AND s.question_id IS NULL THEN 'question_not_found' ELSE '' END,"
    "   coalesce(m.question_id, s.question_id), left(coalesce($7, ''), 64)"
    "  FROM (SELECT 1) one LEFT JOIN m ON true LEFT JOIN seen s ON true WHERE $2::text IS NOT NULL RETURNING 1)"
    " SELECT coalesce(m.id, s.message_id) AS message_id, coalesce(m.question_id, s.question_id) AS question_id,"
    "  m.id IS NULL AS duplicate, (SELECT count(*) FROM fx) + (SELECT count(*) FROM r) + (SELECT count(*) FROM d)"
    "   AS _effects"
    " FROM (SELECT 1) one LEFT JOIN m ON true LEFT JOIN seen s ON true",
    7, 0};

static struct db_stmt stmt_message_lock = {
    "intake_message_lock",
    "SELECT pg_advisory_xact_lock(hashtextextended('w:' || $1 || ':' || $2, 0)) WHERE $2::text IS NOT NULL", 2, 0};

/* --- waking the job runner after commit ---------------------------------------------------- */

#define JOBS_WAKE_DELAY_MS 10

static bool wake_pending;

static void wake_jobs(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct worker *w = arg;
	wake_pending = false;
	db_publish(w->db, "relais_jobs", "", NULL, NULL);
}

void intake_routed(struct http_req *req, const PGresult *r)
{
	const char *routed = PQntuples(r) == 1 ? db_value(r, 0, "_routed") : NULL;
	if (!routed || !strcmp(routed, "0") || wake_pending)
		return;
	const struct timeval delay = {0, JOBS_WAKE_DELAY_MS * 1000};
	wake_pending = event_base_once(req->worker->base, -1, EV_TIMEOUT, wake_jobs, req->worker, &delay) == 0;
}

void intake_register_statements(void)
{
	struct db_stmt *all[] = {&stmt_secrets,  &stmt_log,     &stmt_lock,
	                         &stmt_question, &stmt_message, &stmt_message_lock};
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		db_register_statement(all[i]);
}

void intake_add_question(struct db_batch *b, struct http_req *req, const struct intake_question *q)
{
	const char *l[] = {q->channel_id, q->external_id, q->webhook_id};
	db_batch_add(b, &stmt_lock, l);
	const char *v[] = {q->channel_id,     q->webhook_id, q->external_id, q->title, q->body,         q->language,
	                   q->tags,           q->url,        q->name,        q->email, q->external_ref, req->client_ip,
	                   q->follow_hash_hex};
	db_batch_add(b, &stmt_question, v);
}

void intake_add_message(struct db_batch *b, struct http_req *req, const struct intake_message *m)
{
	const char *l[] = {m->channel_id, m->webhook_id};
	db_batch_add(b, &stmt_message_lock, l);
	const char *v[] = {m->channel_id,  m->webhook_id, m->question_external_id, m->follow_hash_hex,
	                   m->external_id, m->body,       req->client_ip};
	db_batch_add(b, &stmt_message, v);
}

bool intake_valid_email(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);
	if (!at || at == s || strchr(at + 1, '@') || n > 254 || !strchr(at + 1, '.') || at[1] == '.' || s[n - 1] == '.')
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == ',' || *p == '<' || *p == '>')
			return false;
	return true;
}

/* --- the delivery ----------------------------------------------------------------------------- */

struct delivery {
	const char *channel_id, *webhook_id, *timestamp, *signature, *question_external_id;
	char *body;
	size_t body_len;
	bool message;
};

static void log_failure(struct http_req *req, const struct delivery *d, int status, const char *code)
{
	const char *v[] = {d->channel_id, d->webhook_id, http_id_text(req, status), code, req->client_ip};
	db_query(req->worker->db, &stmt_log, v, NULL, NULL);
}

static void refuse(struct http_req *req, const struct delivery *d, bool log, const char *why)
{
	if (log)
		log_failure(req, d, 401, why);
	http_reply_error(req, 401, "invalid_signature", "The signature is missing or does not match.", NULL);
}

static bool read_question(struct http_req *req, struct intake_question *q)
{
	static const char *const fields[] = {"external_id", "title", "body", "customer",
	                                     "language",    "tags",  "url",  NULL};
	static const char *const languages[] = {"en", "fr", NULL};
	bool has_tags;
	if (!input_only(req, fields) || !input_line(req, "external_id", 1, 200, INPUT_REQUIRED, &q->external_id) ||
	    !input_line(req, "title", 1, 300, INPUT_REQUIRED, &q->title) ||
	    !input_text(req, "body", 20000, INPUT_REQUIRED, &q->body) ||
	    !input_enum(req, "language", languages, INPUT_OPTIONAL, &q->language) ||
	    !read_string_array(req, "tags", 20, valid_tag, &q->tags, &has_tags) ||
	    !input_line(req, "url", 0, 2000, INPUT_OPTIONAL, &q->url))
		return false;
	if (!*q->body || strspn(q->body, " \t\r\n") == strlen(q->body))
		return input_fail(req, "body", "This field must not be empty.");
	if (q->url && *q->url && strncmp(q->url, "https://", 8) != 0 && strncmp(q->url, "http://", 7) != 0)
		return input_fail(req, "url", "The address starts with https:// or http://.");
	json_t *customer = input_member(req, "customer");
	if (customer && !json_is_null(customer)) {
		if (!json_is_object(customer))
			return input_fail(req, "customer", "The customer is an object {name, email, external_ref}.");
		const char *key;
		json_t *value;
		json_object_foreach(customer, key, value)
		{
			if (strcmp(key, "name") && strcmp(key, "email") && strcmp(key, "external_ref"))
				return input_fail(req, arena_printf(&req->arena, "customer.%s", key),
				                  "This field is not allowed.");
		}
		if (!input_line_of(req, customer, "name", "customer.name", 0, 200, INPUT_OPTIONAL, &q->name) ||
		    !input_line_of(req, customer, "email", "customer.email", 0, 254, INPUT_OPTIONAL, &q->email) ||
		    !input_line_of(req, customer, "external_ref", "customer.external_ref", 0, 200, INPUT_OPTIONAL,
		                   &q->external_ref))
			return false;
		if (q->email && *q->email && !intake_valid_email(q->email))
			return input_fail(req, "customer.email", "This is not an e-mail address.");
	}
	return true;
}

static bool read_message(struct http_req *req, struct intake_message *m)
{
	static const char *const fields[] = {"external_id", "body", NULL};
	if (!input_only(req, fields) || !input_line(req, "external_id", 1, 200, INPUT_OPTIONAL, &m->external_id) ||
	    !input_text(req, "body", 20000, INPUT_REQUIRED, &m->body))
		return false;
	if (!*m->body || strspn(m->body, " \t\r\n") == strlen(m->body))
		return input_fail(req, "body", "This field must not be empty.");
	return true;
}

static void stored(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct delivery *d = req->route_state;
	if (!http_db_answered(req, result))
		return;
	const PGresult *r = result->results[result->count - 1];
	json_t *out = db_row_json(r, 0);
	bool duplicate = json_is_true(json_object_get(out, "duplicate"));
	if (d->message && json_is_null(json_object_get(out, "question_id"))) {
		json_decref(out);
		http_reply_error(req, 404, "question_not_found", "No question of this channel has this external id.",
		                 NULL);
		return;
	}
	if (json_is_null(json_object_get(out, "question_id"))) {
		json_decref(out);
		http_set_header(req, "Retry-After", "1");
		http_reply_error(req, 503, "busy", "Another delivery of this question is being stored; retry.", NULL);
		return;
	}
	if (!duplicate)
		json_object_del(out, "duplicate");
	if (!d->message)
		intake_routed(req, r);
	http_reply_json(req, duplicate ? 200 : 202, out);
}

/* Verified: read the body and store it. */
static void store(struct http_req *req, struct delivery *d)
{
	struct db_batch *b;
	if (!d->message) {
		struct intake_question q = {0};
		if (!read_question(req, &q)) {
			log_failure(req, d, 422, "invalid_field");
			return;
		}
		q.channel_id = d->channel_id;
		q.webhook_id = d->webhook_id;
		b = db_batch_new();
		intake_add_question(b, req, &q);
	} else {
		struct intake_message m = {0};
		if (!read_message(req, &m)) {
			log_failure(req, d, 422, "invalid_field");
			return;
		}
		m.channel_id = d->channel_id;
		m.webhook_id = d->webhook_id;
		m.question_external_id = d->question_external_id;
		b = db_batch_new();
		intake_add_message(b, req, &m);
	}
	http_req_hold(req);
	db_batch_send(req->worker->db, b, stored, req);
}

/* --- the per-worker cache of channel secrets ------------------------------------------------- *
 * Verifying a delivery needs the channel's kind, status and unexpired keys: cached per worker
 * process (one event loop, no locking) for CACHE_TTL_MS, so that a steady stream of deliveries
 * costs one round trip instead of two. Changes reach the cache three ways: NOTIFY
 * relais_channels (sent by channels.c on every change, payload the channel id), the TTL, and
 * a fresh read whenever a cached entry does not verify a signature, so that a sender who
 * starts using a just-rotated secret is never refused by a worker that has not heard of it.
 * Key expiry times are cached with the keys and checked on every use. */
#define CACHE_SLOTS 64
#define CACHE_TTL_MS 5000

struct cached_channel {
	int64_t id; /* 0: empty slot */
	int64_t fetched_ms;
	bool api, active;
	size_t nkeys;
	struct signature_key keys[MAX_KEYS];
	int64_t expires[MAX_KEYS]; /* Unix seconds, 0 = no expiry */
};

static struct cached_channel cache[CACHE_SLOTS];
static bool cache_subscribed;

static struct cached_channel *cache_slot(int64_t id)
{
	return &cache[(uint64_t)id % CACHE_SLOTS];
}

static void cache_forget(struct cached_channel *c)
{
	sodium_memzero(c, sizeof *c);
}

static void cache_notified(const char *channel, const char *payload, void *arg)
{
	(void)channel;
	(void)arg;
	int64_t id = payload ? strtoll(payload, NULL, 10) : 0;
	struct cached_channel *c = cache_slot(id);
	if (id > 0 && c->id == id)
		cache_forget(c);
}

/* After a reconnect of the LISTEN connection, notifications may have been missed. */
static void cache_reconnected(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		cache_forget(&cache[i]);
}

static void cache_subscribe(struct worker *w)
{
	if (cache_subscribed || !w->listener)
		return;
	cache_subscribed = db_subscribe(w->listener, "relais_channels", cache_notified, cache_reconnected, NULL);
}

/* The cached entry for `id` if it is fresh, else NULL. */
static struct cached_channel *cache_get(int64_t id)
{
	struct cached_channel *c = cache_slot(id);
	if (c->id != id || now_ms() - c->fetched_ms > CACHE_TTL_MS)
		return NULL;
	return c;
}

/* Keys of the entry still valid at `now`, copied into keys[] (zeroed by the caller). */
static size_t live_keys(const struct cached_channel *c, int64_t now, struct signature_key *keys)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nkeys; i++)
		if (!c->expires[i] || c->expires[i] > now)
			keys[n++] = c->keys[i];
	return n;
}

static void cache_fill(struct cached_channel *c, int64_t id, const PGresult *r)
{
	cache_forget(c);
	c->id = id;
	c->fetched_ms = now_ms();
	c->api = !strcmp(db_value(r, 0, "kind"), "api");
	c->active = !strcmp(db_value(r, 0, "status"), "active");
	for (int i = 0; i < PQntuples(r) && c->nkeys < MAX_KEYS; i++) {
		const char *hex = db_value(r, i, "secret");
		struct signature_key *k = &c->keys[c->nkeys];
		if (hex && sodium_hex2bin(k->bytes, sizeof k->bytes, hex, strlen(hex), NULL, &k->len, NULL) == 0) {
			c->expires[c->nkeys] = db_int(r, i, "expires");
			c->nkeys++;
		}
	}
}

/* Verifies the delivery with a cached entry; `final` when a refusal is the answer (the entry
 * was just read from the database). Returns true when the request was answered or stored. */
static bool verify_with(struct http_req *req, struct delivery *d, const struct cached_channel *c, bool final)
{
	if (!c->api) {
		refuse(req, d, true, "not_api_channel");
		return true;
	}
	if (!c->active) {
		if (!final)
			return false;
		refuse(req, d, true, "channel_disabled");
		return true;
	}
	int64_t now = (int64_t)time(NULL);
	struct signature_key keys[MAX_KEYS];
	size_t nkeys = live_keys(c, now, keys);
	enum signature_result verdict =
	    signature_verify(keys, nkeys, d->webhook_id, d->timestamp, d->body, d->body_len, d->signature, now);
	sodium_memzero(keys, sizeof keys);
	if (verdict == SIGNATURE_STALE) {
		log_failure(req, d, 401, "stale_timestamp");
		http_reply_error(req, 401, "stale_timestamp", "webhook-timestamp is more than 5 minutes off.", NULL);
		return true;
	}
	if (verdict != SIGNATURE_OK) {
		if (!final)
			return false;
		refuse(req, d, true, "invalid_signature");
		return true;
	}
	store(req, d);
	return true;
}

static void secrets_fetched(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct delivery *d = req->route_state;
	if (!http_db_answered(req, result))
		return;
	const PGresult *r = result->results[0];
	if (PQntuples(r) == 0) {
		refuse(req, d, false, NULL);
		return;
	}
	int64_t id = strtoll(d->channel_id, NULL, 10);
	struct cached_channel *c = cache_slot(id);
	cache_fill(c, id, r);
	(void)verify_with(req, d, c, true);
}

static bool valid_webhook_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > 256)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static void start(struct http_req *req, bool message)
{
	struct delivery *d = arena_alloc(&req->arena, sizeof *d);
	memset(d, 0, sizeof *d);
	d->message = message;
	const char *id = http_param(req, "id");
	/* An unknown channel looks like a bad signature: nothing tells a prober which ids exist. */
	if (!id || !*id || strlen(id) > 18 || strspn(id, "0123456789") != strlen(id) || id[0] == '0') {
		refuse(req, d, false, NULL);
		return;
	}
	d->channel_id = arena_strdup(&req->arena, id);
	if (message) {
		d->question_external_id = http_param(req, "external_id");
		if (!d->question_external_id || !*d->question_external_id || strlen(d->question_external_id) > 200) {
			http_reply_error(req, 404, "question_not_found",
			                 "No question of this channel has this external id.", NULL);
			return;
		}
	}
	const char *wid = http_header(req, "webhook-id"), *ts = http_header(req, "webhook-timestamp"),
	           *sig = http_header(req, "webhook-signature");
	d->webhook_id = wid && strlen(wid) <= 256 ? arena_strdup(&req->arena, wid) : NULL;
	if (!valid_webhook_id(wid) || !ts || !sig || strlen(sig) > 4096) {
		refuse(req, d, true, "invalid_signature");
		return;
	}
	d->timestamp = arena_strdup(&req->arena, ts);
	d->signature = arena_strdup(&req->arena, sig);
	size_t len;
	const void *body = http_raw_body(req, &len);
	d->body = arena_alloc(&req->arena, len + 1);
	memcpy(d->body, body, len);
	d->body_len = len;
	req->route_state = d;
	cache_subscribe(req->worker);
	const struct cached_channel *c = cache_get(strtoll(d->channel_id, NULL, 10));
	if (c && verify_with(req, d, c, false))
		return;
	const char *v[] = {d->channel_id};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_secrets, v, secrets_fetched, req);
}

void intake_question(struct http_req *req)
{
	start(req, false);
}

void intake_message(struct http_req *req)
{
	start(req, true);
}
