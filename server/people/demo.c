/* `relais demo`: a believable company to try Relais with. Idempotent: running it again adds
 * nothing and changes nothing. Every demo account has the same password. */
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "people/people.h"
#include "questions/questions.h"

#define DEMO_PASSWORD "relais-demo-2026"

/* 64 employees in 8 departments, with expertise from their department's pool and languages.
 * $1 is the password hash shared by every demo account. */
static const char demo_people[] =
    "WITH first(n, i) AS (SELECT * FROM unnest(ARRAY['Amélie','Benoît','Chloé','David','Élodie','François','Gaëlle',"
    "  'Hugo','Inès','Julien','Karim','Léa','Mathis','Nadia','Olivier','Pauline','Quentin','Rosa','Samuel','Thaïs',"
    "  'Ugo','Valérie','William','Yasmine','Zoé','Arthur','Brigitte','Cédric','Diane','Émile','Fatou','Grégoire'])"
    "  WITH ORDINALITY),"
    " last(n, i) AS (SELECT * FROM unnest(ARRAY['Martin','Bernard','Dubois','Thomas','Robert','Richard','Petit',"
    "  'Durand','Leroy','Moreau','Simon','Laurent','Lefèvre','Michel','García','Müller','Smith','Nguyen','Okafor',"
    "  'Rossi','Fontaine','Chevalier','Gauthier','Perrin','Morel','Girard','André','Mercier','Dupont','Lambert',"
    "  'Bonnet','François']) WITH ORDINALITY),"
    " dept(n, titles, tags, i) AS (SELECT d.n, d.t, d.g, d.i FROM (VALUES"
    "  ('Customer Support', ARRAY['Support agent','Support lead','Customer success manager'], ARRAY['billing','refunds','account-access','mobile-app','shipping'], 1),"
    "  ('Engineering', ARRAY['Software engineer','Site reliability engineer','Engineering manager'], ARRAY['api','integrations','mobile-app','security','performance'], 2),"
    "  ('Billing', ARRAY['Billing specialist','Accountant','Revenue manager'], ARRAY['billing','invoices','refunds','taxes','payments'], 3),"
    "  ('Legal', ARRAY['Legal counsel','Privacy officer','Paralegal'], ARRAY['gdpr','contracts','privacy','compliance','terms'], 4),"
    "  ('Communications', ARRAY['Communications officer','Press officer','Content writer'], ARRAY['press','social-media','brand','crisis','internal-comms'], 5),"
    "  ('Human Resources', ARRAY['HR business partner','Recruiter','Learning manager'], ARRAY['onboarding','benefits','training','recruiting','payroll'], 6),"
    "  ('Sales', ARRAY['Account executive','Sales engineer','Partner manager'], ARRAY['pricing','partners','integrations','contracts','demos'], 7),"
    "  ('Product', ARRAY['Product manager','Designer','Data analyst'], ARRAY['roadmap','mobile-app','analytics','api','accessibility'], 8)"
    "  ) AS d(n, t, g, i)),"
    " people AS (SELECT g AS k, f.n AS first, l.n AS last, d.n AS department, d.titles[1 + g % 3] AS title,"
    "   d.tags AS tags, CASE WHEN g % 3 = 0 THEN 'fr' ELSE 'en' END AS locale,"
    "   (ARRAY['Europe/Paris','Europe/London','America/Montreal','Europe/Berlin','Asia/Singapore','America/New_York'])[1 + g % 6] AS tz,"
    "   string_to_array((ARRAY['fr,en','en','fr,en,es','en,de','fr'])[1 + g % 5], ',') AS langs"
    "  FROM generate_series(0, 63) AS g"
    "  JOIN first f ON f.i = 1 + g % 32 JOIN last l ON l.i = 1 + (g * 7 + g / 32) % 32 JOIN dept d ON d.i = 1 + g % 8),"
    " inserted AS (INSERT INTO users (email, display_name, department, job_title, locale, time_zone, languages,"
    "   password_hash, working_hours)"
    "  SELECT replace(immutable_unaccent(lower(first || '.' || last)), ' ', '-')"
    "     || '@relais.example', first || ' ' || last, department, title, locale, tz, langs, $1,"
    "   '{\"mon\":[[\"09:00\",\"17:30\"]],\"tue\":[[\"09:00\",\"17:30\"]],\"wed\":[[\"09:00\",\"17:30\"]],"
    "     \"thu\":[[\"09:00\",\"17:30\"]],\"fri\":[[\"09:00\",\"16:00\"]]}'"
    "  FROM people ON CONFLICT ((lower(email))) DO NOTHING RETURNING id, department)"
    " INSERT INTO user_expertise (user_id, tag, level)"
    " SELECT i.id, d.tags[1 + (i.id::int + s) % 5], 1 + (i.id::int * 3 + s) % 5"
    " FROM inserted i JOIN dept d ON d.n = i.department, generate_series(0, 2) AS s"
    " ON CONFLICT DO NOTHING";

static const char demo_staff[] =
    "INSERT INTO users (email, display_name, department, job_title, role, locale, time_zone, languages, password_hash)"
    " VALUES ('admin@relais.example', 'Ada Admin', 'IT', 'Platform administrator', 'admin', 'en', 'Europe/Paris', '{en,fr}', $1),"
    " ('comms@relais.example', 'Camille Comms', 'Communications', 'Head of internal communication', 'comms', 'fr',"
    "  'Europe/Paris', '{fr,en}', $1)"
    " ON CONFLICT ((lower(email))) DO NOTHING";

/* Eight communities; managers from the matching department, experts among people whose
 * expertise covers the topics, and a few members. Only when the community is new. */
static const char demo_communities[] =
    "WITH admin AS (SELECT id FROM users WHERE lower(email) = 'admin@relais.example'),"
    " spec(slug, name, description, visibility, topics, department) AS (VALUES"
    "  ('billing-help', 'Billing help', 'Invoices, refunds and payments: we answer customers'' billing questions.', 'open', ARRAY['billing','invoices','refunds','payments'], 'Billing'),"
    "  ('api-integrations', 'API & integrations', 'Developers helping partners and customers integrate with our API.', 'open', ARRAY['api','integrations'], 'Engineering'),"
    "  ('mobile-app', 'Mobile app', 'Everything about the iOS and Android apps.', 'open', ARRAY['mobile-app','accessibility'], 'Product'),"
    "  ('privacy-security', 'Privacy & security', 'GDPR requests, security questions, responsible disclosure.', 'request', ARRAY['gdpr','privacy','security'], 'Legal'),"
    "  ('contracts-legal', 'Contracts & legal', 'Terms, contracts and compliance questions, reviewed by Legal.', 'request', ARRAY['contracts','terms','compliance'], 'Legal'),"
    "  ('press-room', 'Press room', 'Media requests and crisis coordination. Members only.', 'secret', ARRAY['press','crisis','brand'], 'Communications'),"
    "  ('onboarding', 'Welcome aboard', 'Onboarding, benefits and training for new colleagues.', 'open', ARRAY['onboarding','benefits','training'], 'Human Resources'),"
    "  ('sales-partners', 'Sales & partners', 'Pricing, partner programmes and demos.', 'request', ARRAY['pricing','partners','demos'], 'Sales')),"
    " created AS (INSERT INTO communities (slug, name, description, visibility, topics, created_by)"
    "  SELECT s.slug, s.name, s.description, s.visibility, s.topics, admin.id FROM spec s, admin"
    "  ON CONFLICT (slug) DO NOTHING RETURNING id, slug, topics)"
    " INSERT INTO community_members (community_id, user_id, role, status)"
    " SELECT c.id, u.id,"
    "   CASE WHEN u.rank = 1 THEN 'manager'"
    "        WHEN EXISTS (SELECT 1 FROM user_expertise e WHERE e.user_id = u.id AND e.tag = ANY (c.topics) AND e.level >= 3)"
    "        THEN 'expert' ELSE 'member' END, 'active'"
    " FROM created c JOIN spec s ON s.slug = c.slug"
    " CROSS JOIN LATERAL (SELECT x.id, row_number() OVER (ORDER BY x.id) AS rank FROM users x"
    "   WHERE x.email LIKE '%@relais.example' AND x.role = 'employee'"
    "     AND (x.department = s.department OR EXISTS (SELECT 1 FROM user_expertise e"
    "       WHERE e.user_id = x.id AND e.tag = ANY (c.topics)))) AS u"
    " ON CONFLICT DO NOTHING";

/* The comms user manages the press room too. */
static const char demo_comms_manager[] =
    "INSERT INTO community_members (community_id, user_id, role, status)"
    " SELECT c.id, u.id, 'manager', 'active' FROM communities c, users u"
    " WHERE c.slug = 'press-room' AND lower(u.email) = 'comms@relais.example' ON CONFLICT DO NOTHING";

/* The expert printed as "expert in Billing help" is the one that the example question of
 * docs/questions.md (tagged invoices, billing and refunds) reaches whenever it is tried: top
 * level on Billing help's four topics, 60 points above any other expert for that question,
 * and on call (no working hours). Otherwise a new user who signs in as that expert would find
 * the question in a colleague's inbox, or at night in nobody's they can sign in as. */
static const char demo_billing_expert[] =
    "WITH e AS (SELECT u.id FROM community_members m JOIN communities c ON c.id = m.community_id"
    "  JOIN users u ON u.id = m.user_id WHERE c.slug = 'billing-help' AND m.role = 'expert' ORDER BY u.id LIMIT 1),"
    " on_call AS (UPDATE users SET working_hours = '{}' FROM e WHERE users.id = e.id)"
    " INSERT INTO user_expertise (user_id, tag, level)"
    " SELECT e.id, t, 5 FROM e, unnest(ARRAY['billing', 'invoices', 'refunds', 'payments']) AS t"
    " ON CONFLICT (user_id, tag) DO UPDATE SET level = 5";

static const char demo_logins[] =
    "(SELECT 'admin' AS what, email FROM users WHERE lower(email) = 'admin@relais.example')"
    " UNION ALL (SELECT 'comms', email FROM users WHERE lower(email) = 'comms@relais.example')"
    " UNION ALL (SELECT 'manager of Billing help', u.email FROM community_members m JOIN communities c ON c.id = m.community_id"
    "   JOIN users u ON u.id = m.user_id WHERE c.slug = 'billing-help' AND m.role = 'manager' ORDER BY u.id LIMIT 1)"
    " UNION ALL (SELECT 'expert in Billing help', u.email FROM community_members m JOIN communities c ON c.id = m.community_id"
    "   JOIN users u ON u.id = m.user_id WHERE c.slug = 'billing-help' AND m.role = 'expert' ORDER BY u.id LIMIT 1)"
    " UNION ALL (SELECT 'employee', email FROM users WHERE email LIKE '%@relais.example' AND role = 'employee'"
    "   AND id NOT IN (SELECT user_id FROM community_members WHERE role <> 'member') ORDER BY id LIMIT 1)";

static bool run(PGconn *conn, const char *what, const char *sql, const char *hash)
{
	const char *v[] = {hash};
	PGresult *r = PQexecParams(conn, sql, hash ? 1 : 0, NULL, hash ? v : NULL, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "relais: demo: %s: %s", what, PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

int people_demo(const char *conninfo);
int people_demo(const char *conninfo)
{
	char hash[128];
	if (!auth_hash_password_now(DEMO_PASSWORD, hash))
		return 1;
	PGconn *conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "relais: cannot connect to the database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	bool ok = run(conn, "begin", "BEGIN", NULL) && run(conn, "staff", demo_staff, hash) &&
	          run(conn, "people", demo_people, hash) && run(conn, "communities", demo_communities, NULL) &&
	          run(conn, "press room", demo_comms_manager, NULL) &&
	          run(conn, "billing expert", demo_billing_expert, NULL) && questions_demo(conn) &&
	          run(conn, "commit", "COMMIT", NULL);
	if (ok) {
		PGresult *r = PQexec(conn, demo_logins);
		printf("Demo logins (password for all: %s):\n", DEMO_PASSWORD);
		for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++)
			printf("  %-26s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
		PQclear(r);
	}
	PQfinish(conn);
	sodium_memzero(hash, sizeof hash);
	return ok ? 0 : 1;
}
