/* Demo data of external questions: channels, perimeter rules, a crisis topic, a few answered
 * questions (for "similar questions") and open ones that the routing job assigns once the
 * server runs. Runs inside the transaction of `relais demo`; adds nothing when the channels
 * exist already. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "questions/questions.h"

/* $1, $2: the signing keys of the two api channels (32 bytes each, hex). */
static const char demo_channels[] =
    "WITH admin AS (SELECT id FROM users WHERE lower(email) = 'admin@relais.example'),"
    " spec(kind, name, slug, community, language, sla, secret) AS (VALUES"
    "  ('api', 'Help center', 'help-center', 'billing-help', 'en', 4 * 3600, $1),"
    "  ('web_form', 'Ask billing', 'ask-billing', 'billing-help', 'en', 8 * 3600, NULL),"
    "  ('web_form', 'Contact appli mobile', 'contact-mobile', 'mobile-app', 'fr', 8 * 3600, NULL),"
    "  ('api', 'Partner forum', 'partner-forum', 'api-integrations', 'en', 24 * 3600, $2)),"
    " created AS (INSERT INTO channels (kind, name, slug, community_id, language, sla_seconds, owner_user_id, created_by)"
    "  SELECT s.kind, s.name, s.slug, c.id, s.language, s.sla, admin.id, admin.id"
    "  FROM spec s JOIN communities c ON c.slug = s.community, admin"
    "  ON CONFLICT (slug) DO NOTHING RETURNING id, slug)"
    " INSERT INTO channel_secrets (channel_id, secret)"
    " SELECT created.id, decode(s.secret, 'hex') FROM created JOIN spec s ON s.slug = created.slug"
    " WHERE s.secret IS NOT NULL RETURNING channel_id";

/* Billing help escalates legal threats to the manager of Contracts & legal, refuses
 * cryptocurrency payments with a canned reply and answers the rest of its topics. */
static const char demo_rules[] =
    "WITH billing AS (SELECT id FROM communities WHERE slug = 'billing-help'),"
    " legal AS (SELECT m.user_id FROM community_members m JOIN communities c ON c.id = m.community_id"
    "  WHERE c.slug = 'contracts-legal' AND m.role = 'manager' ORDER BY m.user_id LIMIT 1)"
    " INSERT INTO perimeter_rules (community_id, position, name, tags, keywords, languages, action, owner_user_id,"
    "  canned_reply, topic)"
    " SELECT billing.id, r.position, r.name, r.tags, r.keywords, '{}', r.action,"
    "  CASE WHEN r.action = 'escalate' THEN (SELECT user_id FROM legal) END, r.reply, r.topic"
    " FROM billing, (VALUES"
    "  (0, 'Legal threats go to Legal', '{}'::text[], ARRAY['lawsuit','lawyer','avocat','tribunal','legal action'],"
    "   'escalate', '', 'legal'),"
    "  (1, 'No cryptocurrency payments', ARRAY['crypto'], ARRAY['bitcoin','crypto','ethereum'], 'refuse',"
    "   'Thank you for your question. We do not accept payments in cryptocurrencies; cards, transfers and"
    " direct debits are listed on our payment page.', 'crypto'),"
    "  (2, 'Billing topics', ARRAY['billing','invoices','refunds','payments','taxes'], '{}'::text[], 'answer', '',"
    "   'billing')) AS r(position, name, tags, keywords, action, reply, topic)"
    " ON CONFLICT DO NOTHING";

static const char demo_crisis[] =
    "INSERT INTO crisis_topics (community_id, topic, reason, set_by)"
    " SELECT c.id, 'outage', 'Service outage under way: every public answer is reviewed by comms.', u.id"
    " FROM communities c, users u WHERE c.slug = 'press-room' AND lower(u.email) = 'comms@relais.example'"
    " ON CONFLICT DO NOTHING";

/* Customers, then questions: answered ones (what "similar questions" finds) and open ones
 * waiting for the routing job, each with its intake events on the timeline. */
static const char demo_questions[] =
    "WITH spec(n, channel, external_id, cname, email, title, body, language, tags, status) AS (VALUES"
    "  (1, 'help-center', 'hc-1001', 'Margot Lemaire', 'margot.lemaire@example.com',"
    "   'How do I download last year''s invoices?', 'I need all my invoices from 2025 for my accountant. Where can I"
    " find them in one file?', 'en', ARRAY['invoices'], 'answered'),"
    "  (2, 'help-center', 'hc-1002', 'Tom Baker', 'tom.baker@example.com',"
    "   'Refund for a duplicate payment', 'My card was charged twice for order 4471. How long does a refund take?',"
    "   'en', ARRAY['refunds','payments'], 'answered'),"
    "  (3, 'contact-mobile', 'form-demo-3', 'Élise Caron', 'elise.caron@example.fr',"
    "   'L''application plante au démarrage', 'Depuis la mise à jour, l''application se ferme dès l''ouverture sur"
    " mon téléphone Android.', 'fr', ARRAY['mobile-app'], 'answered'),"
    "  (4, 'help-center', 'hc-1004', 'Priya Natarajan', 'priya.n@example.com',"
    "   'Invoice address is wrong', 'The company address on my last invoice is outdated. Can you issue a corrected"
    " invoice?', 'en', ARRAY['invoices','billing'], 'routing'),"
    "  (5, 'help-center', 'hc-1005', 'Lucas Meyer', 'lucas.meyer@example.com',"
    "   'Charged after cancelling', 'I cancelled my subscription on the 3rd but was charged on the 5th. Please refund"
    " me.', 'en', ARRAY['refunds'], 'routing'),"
    "  (6, 'ask-billing', 'form-demo-6', 'Sofia Rossi', 'sofia.rossi@example.com',"
    "   'Do you accept bank transfers for annual plans?', 'We would like to pay our annual plan by bank transfer."
    " Is that possible?', 'en', ARRAY['payments'], 'routing'),"
    "  (7, 'contact-mobile', 'form-demo-7', 'Hélène Dufour', 'helene.dufour@example.fr',"
    "   'Notifications absentes sur iPhone', 'Je ne reçois plus aucune notification depuis hier sur mon iPhone.',"
    "   'fr', ARRAY['mobile-app'], 'routing'),"
    "  (8, 'partner-forum', 'pf-88', 'Integrations team at Acme', 'dev@acme.example',"
    "   'Webhook retries after a timeout', 'If our endpoint times out, how many times do you retry a webhook and"
    " with which delays?', 'en', ARRAY['api','integrations'], 'routing')),"
    " customers_in AS (INSERT INTO customers (name, email)"
    "  SELECT cname, email FROM spec ON CONFLICT ((lower(email))) WHERE email <> '' DO UPDATE SET name = excluded.name"
    "  RETURNING id, email),"
    " questions_in AS (INSERT INTO questions (channel_id, external_id, community_id, customer_id, title, body, language,"
    "   tags, status, topic, first_response_at, created_at)"
    "  SELECT ch.id, s.external_id, ch.community_id, c.id, s.title, s.body, s.language, s.tags, s.status,"
    "   CASE ch.slug WHEN 'contact-mobile' THEN 'mobile-app' WHEN 'partner-forum' THEN 'api' ELSE 'billing' END,"
    "   CASE WHEN s.status = 'answered' THEN now() - make_interval(days => 20 - s.n) END,"
    "   now() - make_interval(days => CASE WHEN s.status = 'answered' THEN 21 - s.n ELSE 0 END, mins => 10 - s.n)"
    "  FROM spec s JOIN channels ch ON ch.slug = s.channel JOIN customers_in c ON c.email = s.email"
    "  ON CONFLICT (channel_id, external_id) DO NOTHING RETURNING id, status, channel_id),"
    " received AS (SELECT question_event(q.id, 'question.received', NULL,"
    "   jsonb_build_object('channel_id', q.channel_id)) FROM questions_in q),"
    " triaged AS (SELECT question_event(q.id, 'question.triaged', NULL, jsonb_build_object('action', 'answer',"
    "   'reason', 'rule')) FROM questions_in q)"
    " SELECT count(*) FILTER (WHERE status = 'routing' AND job_add('question.route',"
    "   jsonb_build_object('question_id', id), now()) IS NOT NULL), (SELECT count(*) FROM received),"
    "   (SELECT count(*) FROM triaged)"
    " FROM questions_in";

static const char demo_api_channels[] =
    "SELECT c.id, c.name, c.slug FROM channels c WHERE c.slug IN ('help-center', 'partner-forum') ORDER BY c.slug = 'partner-forum'";

static bool run(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *values,
                PGresult **keep)
{
	PGresult *r = PQexecParams(conn, sql, nparams, NULL, values, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "relais: demo: %s: %s", what, PQresultErrorMessage(r));
	if (ok && keep)
		*keep = r;
	else
		PQclear(r);
	return ok;
}

/* Prints the signing secrets of the api channels when they are created now (they are not
 * stored anywhere else: an admin can rotate them later in the web app). */
static void print_secrets(PGconn *conn, const unsigned char keys[2][32])
{
	PGresult *r = NULL;
	if (!run(conn, "api channels", demo_api_channels, 0, NULL, &r))
		return;
	printf("Signed intake (Standard Webhooks), demo channels:\n");
	for (int i = 0; i < PQntuples(r) && i < 2; i++) {
		char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof b64, keys[i], 32, sodium_base64_VARIANT_ORIGINAL);
		printf("  %-26s POST /api/v1/channels/%s/questions  secret whsec_%s\n", PQgetvalue(r, i, 1),
		       PQgetvalue(r, i, 0), b64);
		sodium_memzero(b64, sizeof b64);
	}
	PQclear(r);
}

/* The public ask forms, for trying the customer's side (no sign-in). */
static void print_forms(PGconn *conn)
{
	PGresult *r = NULL;
	if (!run(conn, "ask forms",
	         "SELECT c.slug, co.name FROM channels c JOIN communities co ON co.id = c.community_id"
	         " WHERE c.kind = 'web_form' AND c.status = 'active' ORDER BY c.id",
	         0, NULL, &r))
		return;
	if (PQntuples(r))
		printf("Public ask forms (customers, no sign-in):\n");
	for (int i = 0; i < PQntuples(r); i++)
		printf("  %-26s /ask/%s\n", PQgetvalue(r, i, 1), PQgetvalue(r, i, 0));
	PQclear(r);
}

bool questions_demo(PGconn *conn)
{
	unsigned char keys[2][32];
	char hex[2][65];
	randombytes_buf(keys, sizeof keys);
	for (int i = 0; i < 2; i++)
		sodium_bin2hex(hex[i], sizeof hex[i], keys[i], 32);
	const char *secrets[] = {hex[0], hex[1]};
	PGresult *created = NULL;
	bool ok = run(conn, "channels", demo_channels, 2, secrets, &created);
	bool fresh = ok && PQntuples(created) > 0;
	PQclear(created);
	ok = ok && run(conn, "perimeter rules", demo_rules, 0, NULL, NULL) &&
	     run(conn, "crisis topics", demo_crisis, 0, NULL, NULL) &&
	     run(conn, "questions", demo_questions, 0, NULL, NULL);
	if (ok && fresh)
		print_secrets(conn, (const unsigned char(*)[32])keys);
	if (ok)
		print_forms(conn);
	sodium_memzero(keys, sizeof keys);
	sodium_memzero(hex, sizeof hex);
	return ok;
}
