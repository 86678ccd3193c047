#include "jobs/jobs.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/log.h"
#include "core/worker.h"
#include "db/listen.h"
#include "db/pool.h"
#include "db/rows.h"

#define BACKOFF_MAX_SECONDS 3600
/* A claim waits until at most this many jobs are in flight, so that claims come in batches:
 * claiming each freed slot alone cost one claim statement (a transaction of its own) per job
 * under a backlog, and handed handlers (routing) one job at a time. */
#define CLAIM_ROOM (JOBS_MAX_IN_FLIGHT / 2)

/* Claims up to $2 due jobs of the kinds this worker handles ($1) for a lease of $3 seconds.
 * run_at moves to the lease's end too, so that running jobs leave the index range that
 * claims scan. A job whose lease expired after its last attempt is not run again: it is
 * marked dead there (and skipped by C). Each kind is read from its own range of the index
 * (kind, run_at, id): a worker that does not handle a kind never reads that kind's backlog
 * (measured: a claim of SLA timers read thousands of waiting routing jobs, about 1 ms). */
static struct db_stmt stmt_claim = {
    "jobs_claim",
    "WITH due AS (SELECT d.id FROM unnest($1::text[]) AS k (kind),"
    "  LATERAL (SELECT id, run_at FROM jobs"
    "   WHERE kind = k.kind AND status = 'pending' AND run_at <= now()"
    "    AND (locked_until IS NULL OR locked_until <= now())"
    "   ORDER BY run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) d"
    "  ORDER BY d.run_at, d.id LIMIT $2)"
    " UPDATE jobs j SET"
    "  attempts = CASE WHEN j.attempts >= j.max_attempts THEN j.attempts ELSE j.attempts + 1 END,"
    "  status = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'pending' END,"
    "  last_error = CASE WHEN j.attempts >= j.max_attempts"
    "   THEN coalesce(j.last_error, 'the lease of the last attempt expired') ELSE j.last_error END,"
    "  locked_until = now() + make_interval(secs => $3::int), locked_by = $4,"
    "  run_at = now() + make_interval(secs => $3::int)"
    " FROM due WHERE j.id = due.id"
    " RETURNING j.id, j.kind, j.payload, j.attempts, j.max_attempts, j.status",
    4, 0};
static struct db_stmt stmt_done = {"jobs_done", "DELETE FROM jobs WHERE id = $1", 1, 0};
static struct db_stmt stmt_done_many = {"jobs_done_many", "DELETE FROM jobs WHERE id = ANY ($1::bigint[])", 1, 0};
/* Guarded by the attempt number: if our lease expired and another worker claimed the job
 * again, this late failure must not touch its row. */
static struct db_stmt stmt_failed = {
    "jobs_failed",
    "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'pending' END,"
    "  run_at = now() + make_interval(secs => $3::float8), locked_until = NULL, locked_by = NULL,"
    "  last_error = left($2, 1000)"
    " WHERE id = $1 AND attempts = $4::int AND status = 'pending'",
    4, 0};

void jobs_register_statements(void)
{
	db_register_statement(&stmt_claim);
	db_register_statement(&stmt_done);
	db_register_statement_planned_each_time(&stmt_done_many);
	db_register_statement(&stmt_failed);
}

struct kind {
	char name[65];
	job_handler handler;
	bool first_worker_only;
};

/* One worker per process: the queue's state is the process's. It outlives jobs_stop() for
 * the callbacks that the pool still runs while it shuts down. */
static struct {
	struct kind kinds[JOBS_MAX_KINDS];
	int nkinds;
	char kinds_param[JOBS_MAX_KINDS * 66 + 3]; /* {a,b,...} */
	char locked_by[100];
	struct worker *w;
	struct event *timer;
	bool running;
	bool claiming; /* one claim at a time */
	bool again;    /* a wake-up arrived during the claim, or the claim was full */
	int in_flight;
	int asked; /* the limit of the claim under way */
} q;

static void register_kind(const char *kind, job_handler handler, bool first_worker_only)
{
	size_t len = strlen(kind);
	bool valid = len >= 1 && len <= 64 && strspn(kind, "abcdefghijklmnopqrstuvwxyz_.") == len;
	for (int i = 0; i < q.nkinds; i++)
		if (!strcmp(q.kinds[i].name, kind)) {
			/* Statements are registered again in each worker process: same kind, same handler. */
			if (q.kinds[i].handler == handler)
				return;
			valid = false;
		}
	if (!valid || q.nkinds == JOBS_MAX_KINDS) {
		log_error("cannot register job kind %s", kind);
		abort();
	}
	memcpy(q.kinds[q.nkinds].name, kind, len + 1);
	q.kinds[q.nkinds].handler = handler;
	q.kinds[q.nkinds].first_worker_only = first_worker_only;
	q.nkinds++;
}

void jobs_register(const char *kind, job_handler handler)
{
	register_kind(kind, handler, false);
}

void jobs_register_first_worker(const char *kind, job_handler handler)
{
	register_kind(kind, handler, true);
}

static job_handler handler_of(const char *kind)
{
	for (int i = 0; i < q.nkinds; i++)
		if (!strcmp(q.kinds[i].name, kind))
			return q.kinds[i].handler;
	return NULL;
}

static void claim(void);

static void job_free(struct job *job)
{
	json_decref(job->payload);
	free((char *)job->kind);
	free(job);
	q.in_flight--;
	/* Room again: due jobs beyond the last full claim need not wait for the timer. */
	if (q.again && q.in_flight <= CLAIM_ROOM)
		claim();
}

static void finished(const struct db_result *result, void *arg)
{
	struct job *job = arg;
	if (result->status != DB_OK)
		log_warn("job %lld (%s): could not record its end: %s; it runs again after its lease",
		         (long long)job->id, job->kind, result->message ? result->message : "database error");
	job_free(job);
}

void job_done(struct job *job)
{
	if (job->completed_in_batch || !q.running) {
		job_free(job);
		return;
	}
	const char *v[] = {job->id_text};
	db_query(job->worker->db, &stmt_done, v, finished, job);
}

void jobs_batch_done(struct db_batch *batch, struct job *job)
{
	const char *v[] = {job->id_text};
	db_batch_add(batch, &stmt_done, v);
	job->completed_in_batch = true;
}

void jobs_batch_done_many(struct db_batch *batch, struct job *const *jobs, int count)
{
	char *ids = xmalloc((size_t)count * 24 + 3), *w = ids;
	*w++ = '{';
	for (int i = 0; i < count; i++) {
		w += sprintf(w, "%s%s", i ? "," : "", jobs[i]->id_text);
		jobs[i]->completed_in_batch = true;
	}
	strcpy(w, "}");
	const char *v[] = {ids};
	db_batch_add(batch, &stmt_done_many, v);
	free(ids);
}

/* 1, 2, 4, ... seconds (capped at an hour), stretched by up to a quarter so that jobs that
 * failed together do not come back together. */
static double backoff_seconds(int attempts)
{
	double base = attempts >= 13 ? BACKOFF_MAX_SECONDS : ldexp(1.0, attempts > 0 ? attempts - 1 : 0);
	if (base > BACKOFF_MAX_SECONDS)
		base = BACKOFF_MAX_SECONDS;
	return base * (1.0 + randombytes_uniform(250) / 1000.0);
}

void job_failed(struct job *job, const char *error)
{
	job->completed_in_batch = false;
	bool last = job->attempts >= job->max_attempts;
	if (last)
		log_warn("job %lld (%s) gave up after %d attempts: %s", (long long)job->id, job->kind, job->attempts,
		         error);
	else
		log_info("job %lld (%s) failed (attempt %d of %d): %s", (long long)job->id, job->kind, job->attempts,
		         job->max_attempts, error);
	if (!q.running) {
		/* Shutting down: the lease brings it back. */
		job_free(job);
		return;
	}
	char delay[32];
	snprintf(delay, sizeof delay, "%.3f", backoff_seconds(job->attempts));
	const char *v[] = {job->id_text, error ? error : "failed", delay, job->attempts_text};
	db_query(job->worker->db, &stmt_failed, v, finished, job);
}

static void start_job(const PGresult *r, int row)
{
	struct job *job = xcalloc(1, sizeof *job);
	job->id = db_int(r, row, "id");
	job->kind = xstrdup(db_value(r, row, "kind"));
	job->attempts = (int)db_int(r, row, "attempts");
	job->max_attempts = (int)db_int(r, row, "max_attempts");
	job->worker = q.w;
	snprintf(job->id_text, sizeof job->id_text, "%lld", (long long)job->id);
	snprintf(job->attempts_text, sizeof job->attempts_text, "%d", job->attempts);
	q.in_flight++;
	const char *payload = db_value(r, row, "payload");
	job->payload = payload ? json_loads(payload, 0, NULL) : NULL;
	job_handler handler = handler_of(job->kind);
	if (!job->payload || !handler) {
		job_failed(job, job->payload ? "no handler for this kind" : "the payload is not JSON");
		return;
	}
	handler(job);
}

static void claimed(const struct db_result *result, void *arg)
{
	(void)arg;
	q.claiming = false;
	if (!q.running)
		return;
	if (result->status != DB_OK) {
		/* The timer tries again within a second. */
		log_warn("jobs: claim failed: %s", result->message ? result->message : "database error");
		return;
	}
	const PGresult *r = result->results[0];
	int n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		const char *status = db_value(r, i, "status");
		if (status && !strcmp(status, "dead")) {
			log_warn("job %s (%s) is dead: its last attempt never finished", db_value(r, i, "id"),
			         db_value(r, i, "kind"));
			continue;
		}
		start_job(r, i);
	}
	/* A full claim means more may be due: claim again as soon as there is room. */
	if (n >= q.asked)
		q.again = true;
	if (q.again)
		claim();
}

static bool stopping(void)
{
	return !q.running || q.w->stop_deadline_ms != 0;
}

bool jobs_stopping(void)
{
	return !q.running;
}

static void claim(void)
{
	if (stopping() || q.nkinds == 0)
		return;
	if (q.claiming || q.in_flight > CLAIM_ROOM) {
		q.again = true;
		return;
	}
	q.again = false;
	q.claiming = true;
	char limit[12], lease[12];
	q.asked = JOBS_MAX_IN_FLIGHT - q.in_flight;
	snprintf(limit, sizeof limit, "%d", q.asked);
	snprintf(lease, sizeof lease, "%d", JOBS_LEASE_SECONDS);
	const char *v[] = {q.kinds_param, limit, lease, q.locked_by};
	db_query(q.w->db, &stmt_claim, v, claimed, NULL);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	claim();
}

static void notified(const char *channel, const char *payload, void *arg)
{
	(void)channel, (void)payload, (void)arg;
	claim();
}

/* Notifications may have been missed while the LISTEN connection was down. */
static void reconnected(void *arg)
{
	(void)arg;
	claim();
}

void jobs_start(struct worker *w)
{
	q.w = w;
	q.running = true;
	q.claiming = q.again = false;
	q.in_flight = 0;
	size_t off = 0;
	int claimed_kinds = 0;
	q.kinds_param[off++] = '{';
	for (int i = 0; i < q.nkinds; i++) {
		if (q.kinds[i].first_worker_only && w->index != 0)
			continue;
		off += (size_t)snprintf(q.kinds_param + off, sizeof q.kinds_param - off, "%s%s",
		                        claimed_kinds++ ? "," : "", q.kinds[i].name);
	}
	snprintf(q.kinds_param + off, sizeof q.kinds_param - off, "}");
	char host[64] = "";
	if (gethostname(host, sizeof host - 1) != 0)
		strcpy(host, "?");
	snprintf(q.locked_by, sizeof q.locked_by, "%s/%ld/worker-%d", host, (long)getpid(), w->index);
	if (!db_subscribe(w->listener, "relais_jobs", notified, reconnected, NULL))
		log_warn("jobs: cannot listen on relais_jobs; the timer alone claims jobs");
	q.timer = event_new(w->base, -1, EV_PERSIST, tick_cb, NULL);
	struct timeval second = {1, 0};
	event_add(q.timer, &second);
	claim();
}

void jobs_stop(struct worker *w)
{
	(void)w;
	q.running = false;
	if (q.timer) {
		event_free(q.timer);
		q.timer = NULL;
	}
	if (q.in_flight)
		log_info("jobs: %d in flight at stop; their leases bring them back", q.in_flight);
}
