/* The SLA job (`question.sla`, payload {"question_id", "version"}): at the deadline of a
 * step, moves the question one step up the escalation ladder with a fresh window (backup
 * expert, then a manager of the community, then the channel's owner), or records the breach
 * when no step is left. question_sla_arm() queued the job; every change of the deadline bumps
 * sla_version, so a job whose version is not the question's any more does nothing. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/worker.h"
#include "db/pool.h"
#include "db/rows.h"
#include "jobs/jobs.h"
#include "questions/questions.h"
#include "questions/routing.h"

/* Who each step would go to, counting only active accounts. The manager chosen is the
 * lowest id other than the current assignee. */
static struct db_stmt stmt_load = {
    "sla_load",
    "SELECT q.id, q.escalation_level, q.assignee_id,"
    "  (SELECT b.id FROM users b WHERE b.id = q.backup_expert_id AND b.status = 'active') AS backup_id,"
    "  (SELECT m.user_id FROM community_members m JOIN users mu ON mu.id = m.user_id AND mu.status = 'active'"
    "   WHERE m.community_id = q.community_id AND m.role = 'manager' AND m.status = 'active'"
    "   ORDER BY m.user_id = q.assignee_id, m.user_id LIMIT 1) AS manager_id,"
    "  (SELECT o.id FROM users o WHERE o.id = ch.owner_user_id AND o.status = 'active') AS owner_id"
    " FROM questions q JOIN channels ch ON ch.id = q.channel_id"
    " WHERE q.id = $1 AND q.sla_version = $2::int AND q.status IN ('assigned', 'claimed')",
    2, 0};

/* $1 question, $2 version, $3 new assignee, $4 level. Guarded by the version, so that a
 * question claimed, paused or re-routed meanwhile is not touched. */
static struct db_stmt stmt_escalate = {
    "sla_escalate",
    "WITH old AS (SELECT id, assignee_id FROM questions"
    "  WHERE id = $1 AND sla_version = $2::int AND status IN ('assigned', 'claimed') FOR UPDATE),"
    " u AS (UPDATE questions q SET assignee_id = $3, claimed_by = NULL, status = 'assigned',"
    "  escalation_level = $4::smallint, updated_at = now()"
    "  FROM old WHERE q.id = old.id"
    "  RETURNING q.id, q.channel_id, q.community_id, q.title, q.language, old.assignee_id AS previous)"
    " SELECT u.id,"
    "  question_event(u.id, 'sla.escalated', NULL,"
    "   jsonb_build_object('level', $4::int, 'from', u.previous, 'to', $3::bigint)) AS _event,"
    "  notification_add($3, 'question.escalated', u.id, NULL, jsonb_build_object('title', u.title,"
    "   'language', u.language, 'community_id', u.community_id, 'level', $4::int)) AS _escalated,"
    "  CASE WHEN u.previous IS DISTINCT FROM $3::bigint AND u.previous IS NOT NULL THEN"
    "   notification_add(u.previous, 'question.unassigned', u.id, NULL, jsonb_build_object('title', u.title,"
    "    'language', u.language, 'community_id', u.community_id, 'reason', 'sla', 'level', $4::int)) END"
    "   AS _unassigned,"
    "  question_sla_arm(u.id, ch.sla_seconds) AS sla_due_at"
    " FROM u JOIN channels ch ON ch.id = u.channel_id",
    4, 0};

/* The last step's deadline passed: on the timeline only, once (the job ends with it). */
static struct db_stmt stmt_breach = {
    "sla_breach",
    "SELECT q.id, question_event(q.id, 'sla.breached', NULL,"
    "  jsonb_build_object('level', q.escalation_level, 'assignee', q.assignee_id)) AS _event"
    " FROM (SELECT id, escalation_level, assignee_id FROM questions"
    "  WHERE id = $1 AND sla_version = $2::int AND status IN ('assigned', 'claimed') FOR UPDATE) q",
    2, 0};

static bool payload_params(const struct job *job, char *question, size_t qsize, char *version, size_t vsize);

static void written(const struct db_result *result, void *arg)
{
	struct job *job = arg;
	if (result->status != DB_OK) {
		job_failed(job, result->message ? result->message : "database error");
		return;
	}
	job_done(job);
}

static int64_t id_or_zero(const PGresult *r, const char *column)
{
	return db_value(r, 0, column) ? db_int(r, 0, column) : 0;
}

static void loaded(const struct db_result *result, void *arg)
{
	struct job *job = arg;
	if (result->status != DB_OK) {
		job_failed(job, result->message ? result->message : "database error");
		return;
	}
	const PGresult *r = result->results[0];
	if (PQntuples(r) == 0) {
		/* Answered, paused, re-routed or re-armed since: this timer is stale. */
		job_done(job);
		return;
	}
	char question[24], version[16];
	if (!payload_params(job, question, sizeof question, version, sizeof version)) {
		job_failed(job, "the payload needs question_id and version");
		return;
	}
	int level = (int)db_int(r, 0, "escalation_level");
	int64_t steps[3] = {id_or_zero(r, "backup_id"), id_or_zero(r, "manager_id"), id_or_zero(r, "owner_id")};
	int64_t to = 0;
	int next = routing_next_escalation(level, id_or_zero(r, "assignee_id"), steps, &to);
	struct db_batch *b = db_batch_new();
	if (next == 0) {
		log_info("question %s: SLA breached at escalation level %d", question, level);
		const char *v[] = {question, version};
		db_batch_add(b, &stmt_breach, v);
	} else {
		char who[24], lvl[8];
		snprintf(who, sizeof who, "%lld", (long long)to);
		snprintf(lvl, sizeof lvl, "%d", next);
		log_info("question %s: SLA deadline passed; escalated to %s (level %d)", question, who, next);
		const char *v[] = {question, version, who, lvl};
		db_batch_add(b, &stmt_escalate, v);
	}
	jobs_batch_done(b, job);
	db_batch_send(job->worker->db, b, written, job);
}

/* The payload as statement parameters. Version 0 (a question never armed) is valid: it just
 * finds nothing unless the question is in that state. */
static bool payload_params(const struct job *job, char *question, size_t qsize, char *version, size_t vsize)
{
	json_t *v = json_object_get(job->payload, "version");
	if (!routing_payload_id(job, "question_id", question, qsize) || !json_is_integer(v) ||
	    json_integer_value(v) < 0 || json_integer_value(v) > 2147483647)
		return false;
	snprintf(version, vsize, "%lld", (long long)json_integer_value(v));
	return true;
}

static void sla_due(struct job *job)
{
	char question[24], version[16];
	if (!payload_params(job, question, sizeof question, version, sizeof version)) {
		job_failed(job, "the payload needs question_id and version");
		return;
	}
	const char *v[] = {question, version};
	db_query(job->worker->db, &stmt_load, v, loaded, job);
}

void sla_register_jobs(void)
{
	db_register_statement(&stmt_load);
	db_register_statement(&stmt_escalate);
	db_register_statement(&stmt_breach);
	jobs_register("question.sla", sla_due);
}
