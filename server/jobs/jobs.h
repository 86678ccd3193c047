/* The shared jobs queue (table `jobs`): any worker on any host claims due jobs with
 * FOR UPDATE SKIP LOCKED, woken by NOTIFY relais_jobs (sent by the SQL job_add()) and by a
 * one-second timer.
 *
 * A claim is a lease: the row's locked_until moves JOBS_LEASE_SECONDS ahead and its attempts
 * go up by one. A job whose worker died (or was stopped in the middle) is claimed again once
 * the lease has passed. A failure keeps last_error and puts the job back with exponential
 * backoff; after max_attempts the row stays in the table with status 'dead'. Success deletes
 * the row. Handlers must therefore be idempotent: guard every write on the state it expects.
 *
 * Usage: jobs_register("question.route", route_question) before jobs_start(); the handler
 * receives a job, starts its asynchronous work and ends it with exactly one of job_done() or
 * job_failed(), from any later callback. Both free the job. */
#ifndef RELAIS_JOBS_H
#define RELAIS_JOBS_H

#include <jansson.h>
#include <stdint.h>

#include "core/common.h"

struct worker;
struct db_batch;

#define JOBS_LEASE_SECONDS 30
/* Per worker; more due jobs wait for the next claim. Jobs share the worker's database pool
 * with requests: a burst of due timers queues at most this many batches ahead of them. */
#define JOBS_MAX_IN_FLIGHT 64
#define JOBS_MAX_KINDS 32

struct job {
	int64_t id;
	const char *kind;
	json_t *payload; /* owned by the job */
	int attempts;    /* including this one */
	int max_attempts;
	struct worker *worker; /* its pool is worker->db */
	char id_text[24];      /* id as a statement parameter */
	/* Private to jobs.c. */
	char attempts_text[12];
	bool completed_in_batch;
};

typedef void (*job_handler)(struct job *job);

/* Registers the handler of a kind ([a-z_.]{1,64}); call before jobs_start(). Aborts on a
 * duplicate kind or too many kinds: both are programming errors. */
void jobs_register(const char *kind, job_handler handler);

/* The same, for a kind that only the first worker of each host claims: its handler decides
 * from facts that its own earlier decisions change, so that decisions taken side by side by
 * the workers of one host would mostly be refused and redone (question.route). Hosts still
 * run side by side: the handler must stay correct under concurrency. */
void jobs_register_first_worker(const char *kind, job_handler handler);

/* The job succeeded: its row is deleted. */
void job_done(struct job *job);
/* The job failed: backoff, or dead after max_attempts. `error` is kept (cut at 1000 bytes). */
void job_failed(struct job *job, const char *error);
/* Adds the deletion of the job's row to a batch of the handler, so that the work and the end
 * of the job commit together (the job cannot run twice after a crash between the two). Call
 * job_done() once the batch succeeded: it then only frees the job. */
void jobs_batch_done(struct db_batch *batch, struct job *job);
/* The same for several jobs, in one statement. */
void jobs_batch_done_many(struct db_batch *batch, struct job *const *jobs, int count);

/* True once jobs_stop() ran (the database pool is going away): handlers that hold jobs back
 * end them with job_failed(), which then only frees them; their leases bring them back. */
bool jobs_stopping(void);

void jobs_start(struct worker *w);
void jobs_stop(struct worker *w);
void jobs_register_statements(void);

#endif
