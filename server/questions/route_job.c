/* The routing job (`question.route`, payload {"question_id"}): loads the question and its
 * candidate experts in one round trip, ranks them with routing.c, and writes the decision in
 * one transaction together with the end of the job. A question that is no longer in
 * `routing`, or that changed between the two round trips, is left alone: whoever changed it
 * queued its own routing if it needs one. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/log.h"
#include "core/worker.h"
#include "db/pool.h"
#include "db/rows.h"
#include "jobs/jobs.h"
#include "questions/questions.h"
#include "questions/routing.h"

/* Statuses in which a question counts in its expert's load. */
#define OPEN_STATUSES "('assigned', 'claimed', 'waiting_customer', 'escalated')"

/* A group's facts come in two result sets of one batch, so that what depends on the expert
 * alone (time of day, absence, load, routing tallies, expertise) is read and sent once per
 * expert, not once per question and expert (measured: a hundred experts times a dozen
 * questions was most of a group's cost, in PostgreSQL and in parsing here).
 *
 * First, the questions of the group ($1, an array of ids) still waiting for routing, with who
 * declined them and the newest route id (`seen_route`, read before the experts' facts: the
 * write's freshness guard compares with it). `version` is updated_at, which the write checks.
 * Lists are comma-separated: tags and languages are [a-z0-9-] words. */
static struct db_stmt stmt_load_questions = {
    "routing_questions",
    "SELECT q.id, q.community_id, q.language, array_to_string(q.tags, ',') AS tags, q.updated_at::text AS version,"
    "  array_to_string(ARRAY(SELECT d.user_id FROM question_declines d WHERE d.question_id = q.id), ',') AS declined_by,"
    "  (SELECT coalesce(max(id), 0) FROM question_routes) AS seen_route"
    " FROM questions q WHERE q.id = ANY ($1::bigint[]) AND q.status = 'routing' ORDER BY q.id",
    1, 0};

/* Then the active experts of those questions' communities, by community then id, with their
 * expertise as "tag:level,...". */
static struct db_stmt stmt_load_experts = {
    "routing_experts",
    "WITH e AS (SELECT m.community_id, u.id, u.languages, u.working_hours, u.weekly_cap, u.time_zone"
    "  FROM (SELECT DISTINCT community_id FROM questions WHERE id = ANY ($1::bigint[])) qc"
    "  JOIN community_members m ON m.community_id = qc.community_id AND m.role = 'expert' AND m.status = 'active'"
    "  JOIN users u ON u.id = m.user_id AND u.status = 'active'),"
    /* local_now() catches an unknown zone in a subtransaction: once per zone, not per expert. */
    " zone AS (SELECT z.time_zone, local_now(z.time_zone) AS local FROM (SELECT DISTINCT time_zone FROM e) z),"
    /* Open load counted for all of them in one pass over the questions (each heap page read
     * once, not once per expert): what is assigned to them, plus what they claimed of others'. */
    " load AS MATERIALIZED (SELECT who, count(*) AS n FROM ("
    "   SELECT l.assignee_id AS who FROM questions l"
    "    WHERE l.status IN " OPEN_STATUSES " AND l.assignee_id IN (SELECT id FROM e)"
    "   UNION ALL SELECT l.claimed_by FROM questions l"
    "    WHERE l.status IN " OPEN_STATUSES " AND l.claimed_by IN (SELECT id FROM e)"
    "     AND l.assignee_id IS DISTINCT FROM l.claimed_by) x GROUP BY who)"
    " SELECT e.community_id, e.id AS user_id, array_to_string(e.languages, ',') AS languages, e.working_hours,"
    "  e.weekly_cap, extract(isodow FROM tz.local)::int AS weekday,"
    "  (extract(hour FROM tz.local) * 60 + extract(minute FROM tz.local))::int AS minute,"
    "  EXISTS (SELECT 1 FROM out_of_office o WHERE o.user_id = e.id AND o.ends_at > now() AND o.starts_at <= now())"
    "   AS away,"
    "  coalesce(load.n, 0) AS load,"
    "  (SELECT coalesce(sum(t.routed), 0) FROM expert_route_days t WHERE t.user_id = e.id"
    "   AND t.day > (now() AT TIME ZONE 'UTC')::date - 7) AS routed_week,"
    "  (SELECT (extract(epoch FROM t.last_routed_at) * 1000000)::bigint FROM expert_route_days t"
    "   WHERE t.user_id = e.id ORDER BY t.day DESC LIMIT 1) AS last_routed,"
    "  (SELECT string_agg(x.tag || ':' || x.level, ',') FROM user_expertise x WHERE x.user_id = e.id) AS expertise"
    " FROM e JOIN zone tz ON tz.time_zone = e.time_zone LEFT JOIN load ON load.who = e.id"
    " ORDER BY e.community_id, e.id",
    1, 0};

/* Decisions in one community are serialised: the write batch first takes this lock (for
 * every community of the group, in key order, so that two groups cannot wait for each other
 * in a cycle), then writes a decision only if none of its candidates was routed a question
 * since the load (routes after $2, the highest question_routes id then), leaving out the
 * routes of the group itself ($3), which were decided knowing each other. Otherwise two
 * decisions made at the same time from the same facts would send a burst of questions to the
 * same expert; the stale one is queued again instead (stmt_requeue). Those routes are read
 * once per statement (`fresh`: usually none, as a host routes one group at a time) rather
 * than once per decision and candidate. */
static struct db_stmt stmt_lock = {
    "routing_lock",
    "SELECT count(pg_advisory_xact_lock(1919250540, k)) FROM"
    " (SELECT DISTINCT (c % 2147483647)::int AS k FROM unnest($1::bigint[]) AS c ORDER BY 1) x",
    1, 0};

#define FRESH_ROUTES                                                                                                   \
	" fresh AS MATERIALIZED (SELECT DISTINCT r.user_id FROM question_routes r"                                     \
	"  WHERE r.id > $2::bigint AND r.rank = 1 AND r.question_id <> ALL ($3::bigint[])),"
#define NO_FRESH_ROUTE_TO_CANDIDATES " NOT EXISTS (SELECT 1 FROM fresh f WHERE d.candidates @> to_jsonb(f.user_id))"

/* The group's assignments in one statement: executor start-up of a statement this size cost
 * about as much as its work when it ran once per decision. $1 the decisions, a JSON array of
 * {"id", "version", "primary", "backup" (or null), "pscore", "pparts", "bscore", "bparts",
 * "candidates"}; $2 $3 the freshness guard. The SLA clock is armed in the same UPDATE, as
 * question_sla_arm() would in a second one: every row version of a question is an entry in
 * each of its indexes. */
static struct db_stmt stmt_assign = {
    "routing_assign",
    "WITH d AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS d (id bigint, version timestamptz,"
    "   \"primary\" bigint, backup bigint, pscore int, pparts jsonb, bscore int, bparts jsonb,"
    "   candidates jsonb)),"
    FRESH_ROUTES
    " u AS (UPDATE questions q SET status = 'assigned', assignee_id = d.\"primary\", primary_expert_id = d.\"primary\","
    "  backup_expert_id = d.backup, claimed_by = NULL, escalation_level = 0, triage_reason = '', updated_at = now(),"
    "  sla_due_at = now() + make_interval(secs => ch.sla_seconds), sla_remaining = NULL,"
    "  sla_version = q.sla_version + 1"
    "  FROM d, channels ch"
    "  WHERE q.id = d.id AND ch.id = q.channel_id AND q.status = 'routing' AND q.updated_at = d.version"
    "   AND" NO_FRESH_ROUTE_TO_CANDIDATES
    "  RETURNING q.id, q.community_id, q.title, q.language, q.sla_due_at, q.sla_version,"
    "   d.\"primary\", d.backup, d.pscore, d.pparts, d.bscore, d.bparts),"
    " r AS (INSERT INTO question_routes (question_id, user_id, rank, score, parts)"
    "  SELECT u.id, x.user_id, x.rank, x.score, x.parts FROM u,"
    "   LATERAL (VALUES (u.\"primary\", 1, u.pscore, u.pparts), (u.backup, 2, u.bscore, u.bparts))"
    "   AS x (user_id, rank, score, parts)"
    "  WHERE x.user_id IS NOT NULL ORDER BY u.id, x.rank RETURNING id),"
    " e AS (INSERT INTO question_events (question_id, kind, details) SELECT u.id, 'question.routed',"
    "  jsonb_build_object('primary', u.\"primary\", 'backup', u.backup) FROM u ORDER BY u.id RETURNING id)"
    " SELECT u.id, (SELECT count(*) FROM r) AS _routes, (SELECT count(*) FROM e) AS _events,"
    "  notification_add(u.\"primary\", 'question.assigned', u.id, NULL, jsonb_build_object('title', u.title,"
    "   'language', u.language, 'community_id', u.community_id, 'role', 'primary')) AS _notification,"
    "  job_add('question.sla', jsonb_build_object('question_id', u.id, 'version', u.sla_version), u.sla_due_at)"
    "   AS _timer, u.sla_due_at"
    " FROM u ORDER BY u.id",
    3, 0};

/* Nobody can take them: the community's managers triage them. $1 the decisions, a JSON array
 * of {"id", "version", "candidates"} (every candidate, excluded or not, since a route to any
 * of them may change the outcome); $2 $3 the freshness guard. (The timeline rows are inserted
 * here rather than with question_event(): a SQL function that writes is parsed and planned
 * again on every call.) */
static struct db_stmt stmt_triage = {
    "routing_triage",
    "WITH d AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS d (id bigint, version timestamptz, candidates jsonb)),"
    FRESH_ROUTES
    " u AS (UPDATE questions q SET status = 'triage', triage_reason = 'no_expert', assignee_id = NULL,"
    "  claimed_by = NULL, updated_at = now() FROM d"
    "  WHERE q.id = d.id AND q.status = 'routing' AND q.updated_at = d.version"
    "   AND" NO_FRESH_ROUTE_TO_CANDIDATES
    "  RETURNING q.id, q.community_id, q.title, q.language),"
    " e AS (INSERT INTO question_events (question_id, kind, details) SELECT u.id, 'question.triaged',"
    "  jsonb_build_object('action', 'triage', 'reason', 'no_expert') FROM u ORDER BY u.id RETURNING id)"
    " SELECT u.id, (SELECT count(*) FROM e) AS _events,"
    "  (SELECT count(notification_add(m.user_id, 'question.triage', u.id, NULL, jsonb_build_object('title', u.title,"
    "    'language', u.language, 'community_id', u.community_id, 'reason', 'no_expert')))"
    "   FROM community_members m JOIN users mu ON mu.id = m.user_id AND mu.status = 'active'"
    "   WHERE m.community_id = u.community_id AND m.role = 'manager' AND m.status = 'active') AS notified"
    " FROM u ORDER BY u.id",
    3, 0};

/* After the writes, in the same transaction: still waiting with the same version means the
 * freshness guard refused the decision, so the question is routed again from fresh facts.
 * $1 the group's questions, $2 their versions (same order). */
static struct db_stmt stmt_requeue = {
    "routing_requeue",
    "SELECT q.id, job_add('question.route', jsonb_build_object('question_id', q.id), NULL) AS job_id"
    " FROM unnest($1::bigint[], $2::timestamptz[]) AS g (id, version)"
    " JOIN questions q ON q.id = g.id AND q.status = 'routing' AND q.updated_at = g.version",
    2, 0};

void routing_register_statements(void)
{
	db_register_statement_planned_each_time(&stmt_load_questions);
	db_register_statement_planned_each_time(&stmt_load_experts);
	db_register_statement_planned_each_time(&stmt_assign);
	db_register_statement_planned_each_time(&stmt_triage);
	db_register_statement(&stmt_lock);
	db_register_statement_planned_each_time(&stmt_requeue);
}

static bool flag(const PGresult *r, int row, const char *column)
{
	const char *v = db_value(r, row, column);
	return v && v[0] == 't';
}

bool routing_payload_id(const struct job *job, const char *name, char *out, size_t size)
{
	json_t *v = json_object_get(job->payload, name);
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return false;
	snprintf(out, size, "%lld", (long long)json_integer_value(v));
	return true;
}

/* Routing jobs run in groups: the jobs this worker holds (up to GROUP_MAX) are loaded in one
 * statement, decided one after the other in C (each decision counts the ones made before it
 * in the group: a chosen expert's load and weekly count go up, and they become the most
 * recently routed), and written in one transaction with the end of every job. Measured on
 * the intake benchmark, one job at a time cost a claim, a load, a lock and a commit per
 * question, and every commit that notifies (the assignee's notification) waits for the one
 * before it: the routing fell far behind the intake.
 *
 * One group at a time, in the first worker of each host only (jobs_register_first_worker):
 * decisions made side by side would be taken from the same facts and then refused by the
 * freshness guard, over and over during a burst (measured: half of the decisions were
 * redone when every worker routed). Others wait here (at most JOBS_MAX_IN_FLIGHT, the jobs
 * this worker holds); hosts still decide side by side, which the guard settles. A group that
 * fails is tried again one job at a time, so that one bad question does not fail the others. */
#define GROUP_MAX 32
_Static_assert(GROUP_MAX <= JOBS_MAX_IN_FLIGHT / 2, "the next group is claimed while one is decided");
_Static_assert(5 <= DB_MAX_BATCH, "a group's write (lock, triage, assign, requeue, done) fits in one batch");

static struct {
	struct job *waiting[JOBS_MAX_IN_FLIGHT];
	int head, count;
	bool busy;
	int solo; /* jobs to take one at a time (after a failed group) */
} serial;

static struct {
	struct job *jobs[GROUP_MAX];
	char ids[GROUP_MAX][24];
	int count;
	/* Experts chosen as primary so far in this group, for the decisions after them. */
	int64_t chosen[GROUP_MAX];
	int nchosen;
} group;

static void start_group(void);
static struct db_pool *serial_db;

static struct job *pop(void)
{
	struct job *job = serial.waiting[serial.head];
	serial.head = (serial.head + 1) % JOBS_MAX_IN_FLIGHT;
	serial.count--;
	return job;
}

/* Ends the current group and starts the next one. */
static void next(void)
{
	serial.busy = false;
	group.count = 0;
	if (serial.count == 0)
		return;
	serial.busy = true;
	start_group();
}

static void group_failed(const char *error)
{
	if (group.count > 1) {
		/* Back to the front of the queue (it has room: it holds what this worker holds), to be
		 * tried one by one. */
		for (int i = group.count - 1; i >= 0; i--) {
			serial.head = (serial.head + JOBS_MAX_IN_FLIGHT - 1) % JOBS_MAX_IN_FLIGHT;
			serial.waiting[serial.head] = group.jobs[i];
			serial.count++;
		}
		serial.solo += group.count;
		log_info("routing: a group of %d failed (%s); trying its jobs one by one", group.count, error);
	} else if (group.count == 1) {
		job_failed(group.jobs[0], error);
	}
	next();
}

static void written(const struct db_result *result, void *arg)
{
	(void)arg;
	if (result->status != DB_OK) {
		group_failed(result->message ? result->message : "database error");
		return;
	}
	const PGresult *requeued = result->results[result->count - 2];
	for (int i = 0; i < PQntuples(requeued); i++)
		log_info("question %s: another decision came first or it changed; routing it again",
		         db_value(requeued, i, "id"));
	for (int i = 0; i < group.count; i++)
		job_done(group.jobs[i]);
	next();
}

/* "{"a","b",...}" of `count` texts, as one array parameter. */
static char *array_text(const char *const *items, int count)
{
	size_t size = 3;
	for (int i = 0; i < count; i++)
		size += strlen(items[i]) + 3;
	char *out = xmalloc(size), *w = out;
	*w++ = '{';
	for (int i = 0; i < count; i++)
		w += sprintf(w, "%s\"%s\"", i ? "," : "", items[i]);
	strcpy(w, "}");
	return out;
}

/* Whether `word` is one of the comma-separated words of `list` (NULL: none). */
static bool list_has(const char *list, const char *word, size_t len)
{
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ",");
		if (n == len && !memcmp(p, word, len))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/* Σ of the levels in `expertise` ("tag:level,...") over the tags of `tags` ("a,b"). */
static int expertise_levels(const char *expertise, const char *tags)
{
	int sum = 0;
	for (const char *p = expertise; p && *p;) {
		size_t n = strcspn(p, ","), tag = strcspn(p, ":");
		if (tag < n && list_has(tags, p, tag))
			sum += atoi(p + tag + 1);
		p += n + (p[n] == ',');
	}
	return sum;
}

/* An expert of one of the group's communities, as loaded: the facts that do not depend on
 * the question are final; the others are filled per question from the lists. */
struct loaded_expert {
	const char *community_id;
	struct routing_candidate facts;
	const char *languages, *expertise; /* comma-separated, may be NULL */
};

static void load_expert(struct loaded_expert *x, const PGresult *r, int row)
{
	x->community_id = db_value(r, row, "community_id");
	x->languages = db_value(r, row, "languages");
	x->expertise = db_value(r, row, "expertise");
	struct routing_candidate *c = &x->facts;
	c->user_id = db_int(r, row, "user_id");
	const char *hours = db_value(r, row, "working_hours");
	json_t *h = hours ? json_loads(hours, 0, NULL) : NULL;
	c->in_working_hours = routing_in_working_hours(h, (int)db_int(r, row, "weekday"), (int)db_int(r, row, "minute"));
	json_decref(h);
	c->open_load = (int)db_int(r, row, "load");
	c->routed_week = (int)db_int(r, row, "routed_week");
	c->weekly_cap = (int)db_int(r, row, "weekly_cap");
	c->out_of_office = flag(r, row, "away");
	c->last_routed_us = db_value(r, row, "last_routed") ? db_int(r, row, "last_routed") : 0;
}

/* Decides question `row` of `questions` among the experts of its community
 * (experts[0..count-1]): appends it to `assignments` or to `triaged`. */
static void decide(json_t *assignments, json_t *triaged, const PGresult *questions, int row,
                   const struct loaded_expert *experts, int count)
{
	const char *question = db_value(questions, row, "id"), *version = db_value(questions, row, "version");
	const char *language = db_value(questions, row, "language"), *tags = db_value(questions, row, "tags");
	/* Who declined it: usually nobody, and then no expert's id needs writing out. */
	const char *declined_by = db_value(questions, row, "declined_by");
	bool any_declined = declined_by && *declined_by;
	struct routing_candidate *c = xcalloc((size_t)count + 1, sizeof *c);
	int *order = xcalloc((size_t)count + 1, sizeof *order);
	for (int i = 0; i < count; i++) {
		const struct loaded_expert *e = &experts[i];
		struct routing_candidate *x = &c[i];
		*x = e->facts;
		x->expertise_levels = expertise_levels(e->expertise, tags);
		x->speaks_language = language && list_has(e->languages, language, strlen(language));
		if (any_declined) {
			char id[JSON_TEXT_DECIMAL_MAX];
			x->declined = list_has(declined_by, id, json_text_decimal(id, x->user_id));
		}
		/* The group's earlier decisions, which the load could not see yet. */
		for (int k = 0; k < group.nchosen; k++)
			if (group.chosen[k] == x->user_id) {
				x->open_load++;
				x->routed_week++;
				x->last_routed_us = INT64_MAX / 2 + k; /* more recent than any row */
			}
	}
	int eligible = routing_rank(c, count, order);
	/* Every candidate, excluded or not, since a route to any of them may change the outcome. */
	json_t *candidates = json_array();
	for (int i = 0; i < count; i++)
		json_array_append_new(candidates, json_integer(c[i].user_id));
	if (eligible == 0) {
		log_info("question %s: no expert available among %d; to triage", question, count);
		json_array_append_new(triaged, json_pack("{s:s, s:s, s:o}", "id", question, "version", version,
		                                         "candidates", candidates));
	} else {
		const struct routing_candidate *p = &c[order[0]], *k = eligible > 1 ? &c[order[1]] : NULL;
		log_info("question %s: best expert %lld (score %d), backup %lld", question, (long long)p->user_id,
		         p->score, k ? (long long)k->user_id : 0LL);
		json_array_append_new(
		    assignments,
		    json_pack("{s:s, s:s, s:I, s:o, s:i, s:o, s:o, s:o, s:o}", "id", question, "version", version,
		              "primary", (json_int_t)p->user_id, "backup", k ? json_integer(k->user_id) : json_null(),
		              "pscore", p->score, "pparts", routing_parts_json(&p->parts), "bscore",
		              k ? json_integer(k->score) : json_null(), "bparts",
		              k ? routing_parts_json(&k->parts) : json_null(), "candidates", candidates));
		group.chosen[group.nchosen++] = p->user_id;
	}
	free(c);
	free(order);
}

/* Adds `stmt` ($1 the decisions, $2 $3 the freshness guard) when there are decisions. */
static void add_decisions(struct db_batch *b, const struct db_stmt *stmt, json_t *decisions, const PGresult *questions,
                          const char *group_ids)
{
	if (json_array_size(decisions) > 0) {
		char *text = json_dumps(decisions, JSON_COMPACT);
		const char *v[] = {text, db_value(questions, 0, "seen_route"), group_ids};
		db_batch_add(b, stmt, v);
		free(text);
	}
	json_decref(decisions);
}

static void loaded(const struct db_result *result, void *arg)
{
	(void)arg;
	if (result->status != DB_OK) {
		group_failed(result->message ? result->message : "database error");
		return;
	}
	/* The questions still waiting for routing (the others are left alone) and the experts of
	 * their communities, by community. */
	const PGresult *qr = result->results[0], *er = result->results[1];
	int n = PQntuples(qr) < GROUP_MAX ? PQntuples(qr) : GROUP_MAX, nexperts = PQntuples(er);
	struct loaded_expert *experts = xcalloc((size_t)nexperts + 1, sizeof *experts);
	for (int i = 0; i < nexperts; i++)
		load_expert(&experts[i], er, i);
	const char *communities[GROUP_MAX] = {0}, *questions[GROUP_MAX] = {0}, *versions[GROUP_MAX] = {0};
	for (int i = 0; i < n; i++) {
		communities[i] = db_value(qr, i, "community_id");
		questions[i] = db_value(qr, i, "id");
		versions[i] = db_value(qr, i, "version");
	}
	struct db_batch *b = db_batch_new();
	char *lock_ids = array_text(communities, n), *question_ids = array_text(questions, n),
	     *version_list = array_text(versions, n);
	const char *lv[] = {lock_ids};
	db_batch_add(b, &stmt_lock, lv);
	group.nchosen = 0;
	json_t *assignments = json_array(), *triaged = json_array();
	for (int i = 0; i < n; i++) {
		int first = 0, count = 0;
		while (first < nexperts && strcmp(experts[first].community_id, communities[i]))
			first++;
		while (first + count < nexperts && !strcmp(experts[first + count].community_id, communities[i]))
			count++;
		decide(assignments, triaged, qr, i, experts + first, count);
	}
	/* Triage, then assignments; both statements leave the group's own routes out of the
	 * freshness guard. */
	add_decisions(b, &stmt_triage, triaged, qr, question_ids);
	add_decisions(b, &stmt_assign, assignments, qr, question_ids);
	const char *rv[] = {question_ids, version_list};
	db_batch_add(b, &stmt_requeue, rv);
	jobs_batch_done_many(b, group.jobs, group.count);
	free(experts);
	free(lock_ids);
	free(question_ids);
	free(version_list);
	db_batch_send(serial_db, b, written, NULL);
}

static void start_group(void)
{
	int take = serial.solo > 0 ? 1 : serial.count < GROUP_MAX ? serial.count : GROUP_MAX;
	if (serial.solo > 0)
		serial.solo--;
	group.count = 0;
	for (int i = 0; i < take; i++) {
		struct job *job = pop();
		char id[24];
		if (jobs_stopping())
			job_failed(job, "the worker is stopping");
		else if (!routing_payload_id(job, "question_id", id, sizeof id))
			job_failed(job, "the payload needs a positive integer question_id");
		else {
			memcpy(group.ids[group.count], id, sizeof id);
			group.jobs[group.count++] = job;
		}
	}
	if (group.count == 0) {
		next();
		return;
	}
	serial_db = group.jobs[0]->worker->db;
	const char *ids[GROUP_MAX];
	for (int i = 0; i < group.count; i++)
		ids[i] = group.ids[i];
	char *list = array_text(ids, group.count);
	const char *v[] = {list};
	struct db_batch *b = db_batch_new();
	db_batch_add(b, &stmt_load_questions, v);
	db_batch_add(b, &stmt_load_experts, v);
	db_batch_send(serial_db, b, loaded, NULL);
	free(list);
}

static void start_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	start_group();
}

static void route_question(struct job *job)
{
	/* The queue holds what jobs.c lets this worker hold, so it cannot overflow. */
	serial.waiting[(serial.head + serial.count) % JOBS_MAX_IN_FLIGHT] = job;
	serial.count++;
	if (!serial.busy) {
		/* Started from the event loop, once the rest of this claim has been queued too. */
		serial.busy = true;
		const struct timeval now = {0, 0};
		if (event_base_once(job->worker->base, -1, EV_TIMEOUT, start_later, NULL, &now) != 0)
			start_group();
	}
}

void questions_register_jobs(void)
{
	jobs_register_first_worker("question.route", route_question);
	sla_register_jobs();
}
