/* Asynchronous PostgreSQL pool of one worker: non-blocking connections in pipeline mode,
 * statements prepared lazily on each connection, one "batch" of statements per round trip.
 *
 * A batch is one pipeline followed by one Sync, so its statements run as one implicit
 * transaction: either all of them take effect or none. Its callback runs exactly once, on
 * the event loop, never inside db_batch_send(). */
#ifndef RELAIS_DB_POOL_H
#define RELAIS_DB_POOL_H

#include <event2/event.h>
#include <libpq-fe.h>

#include "core/common.h"

#define DB_MAX_STATEMENTS 256 /* distinct prepared statements in the program */
#define DB_MAX_BATCH 16       /* statements in one batch */
#define DB_MAX_PARAMS 32

struct db_stmt {
	const char *name; /* unique, also the prepared statement's name */
	const char *sql;  /* constant text with $1..$n */
	int nparams;
	int id; /* set by db_register_statement */
};

enum db_status {
	DB_OK,          /* every statement succeeded */
	DB_SQL_ERROR,   /* a statement failed: see sqlstate and message; nothing was committed */
	DB_UNAVAILABLE, /* no usable connection */
	DB_TIMEOUT,     /* the deadline passed */
	DB_OVERLOADED,  /* too many requests waiting */
};

struct db_result {
	enum db_status status;
	int count;                       /* statements in the batch */
	PGresult *results[DB_MAX_BATCH]; /* owned by the pool, valid during the callback */
	const char *sqlstate;            /* on DB_SQL_ERROR */
	int failed;                      /* on DB_SQL_ERROR: index of the statement that failed, or -1 */
	const char *message;             /* on errors */
};

typedef void (*db_callback)(const struct db_result *result, void *arg);

struct db_pool;
struct db_batch;

struct db_pool_stats {
	int size, connected, busy, waiting;
	uint64_t errors;
};

/* Statements are registered once, before any pool starts. */
void db_register_statement(struct db_stmt *stmt);
/* The same, for a statement planned with its parameters at every run instead of prepared:
 * cheap statements on tables that grow from empty (jobs, questions), whose prepared plan,
 * fixed while the table was small, would keep reading it whole until the next ANALYZE
 * (measured: routing's job deletion scanned 17,000 jobs, 14 ms, for 32 rows). */
void db_register_statement_planned_each_time(struct db_stmt *stmt);

struct db_pool *db_pool_new(struct event_base *base, const char *conninfo, int size, int queue_max,
                            int64_t timeout_ms, const char *application_name);
void db_pool_free(struct db_pool *pool);
void db_pool_stats(const struct db_pool *pool, struct db_pool_stats *out);
/* True when no connection is up and the last attempt failed: requests fail at once. */
bool db_pool_unavailable(const struct db_pool *pool);

struct db_batch *db_batch_new(void);
/* Adds a statement; values are copied (NULL means SQL NULL). */
void db_batch_add(struct db_batch *batch, const struct db_stmt *stmt, const char *const *values);
/* Sends the batch (ownership passes to the pool); `cb` may be NULL when nobody waits. */
void db_batch_send(struct db_pool *pool, struct db_batch *batch, db_callback cb, void *arg);
/* One statement: a batch of one. */
void db_query(struct db_pool *pool, const struct db_stmt *stmt, const char *const *values, db_callback cb,
              void *arg);

#endif
