#include "db/pool.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "core/log.h"

/* Batches sent on one connection without waiting for the previous ones' results: fewer
 * round trips and system calls under load; the picker prefers idle connections so that a
 * slow batch holds up as few others as possible. */
#define PIPELINE_DEPTH 8
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 1000
#define CONNECT_TIMEOUT_MS 3000

static struct db_stmt *statements[DB_MAX_STATEMENTS];
static bool planned_each_time[DB_MAX_STATEMENTS];
static int statement_count;

void db_register_statement(struct db_stmt *stmt)
{
	for (int i = 0; i < statement_count; i++)
		if (statements[i] == stmt)
			return;
	if (statement_count == DB_MAX_STATEMENTS) {
		log_error("too many prepared statements (DB_MAX_STATEMENTS)");
		abort();
	}
	stmt->id = statement_count;
	statements[statement_count++] = stmt;
}

void db_register_statement_planned_each_time(struct db_stmt *stmt)
{
	db_register_statement(stmt);
	planned_each_time[stmt->id] = true;
}

struct db_batch {
	TAILQ_ENTRY(db_batch) queue;
	struct db_pool *pool;
	struct db_conn *conn; /* while in flight */
	const struct db_stmt *stmts[DB_MAX_BATCH];
	char **values[DB_MAX_BATCH];
	int count;
	db_callback cb;
	void *arg;
	struct event *deadline;
	/* Results as they arrive; `expect` lists what the pipeline will answer in order:
	 * -1 for a Prepare we added, i >= 0 for statement i. */
	int expect[DB_MAX_BATCH * 2];
	int nexpect, next_expect;
	bool got_result_for_current;
	struct db_result result;
};

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_READY, CONN_BUSY };

TAILQ_HEAD(batch_queue, db_batch);

struct db_conn {
	struct db_pool *pool;
	PGconn *pg;
	enum conn_state state;
	struct event *io;
	int io_fd;
	short io_what;
	struct event *timer; /* reconnect backoff or connect deadline */
	int64_t backoff_ms;
	uint8_t prepared[DB_MAX_STATEMENTS / 8];
	struct batch_queue inflight; /* sent, oldest first: results arrive in this order */
	int ninflight;
	bool needs_flush;
};

struct db_pool {
	struct event_base *base;
	char *conninfo;
	char *application_name;
	char statement_timeout[128];
	int64_t timeout_ms;
	int size, queue_max, waiting;
	bool ever_failed; /* a connection attempt failed since the last success */
	uint64_t errors;
	struct db_conn *conns;
	struct batch_queue queue;
	struct event *flush; /* writes out what this loop iteration queued, in one go */
};

static void conn_start(struct db_conn *c);
static void conn_io_cb(evutil_socket_t fd, short what, void *arg);
static void dispatch(struct db_pool *pool);

static void conn_watch(struct db_conn *c, short what)
{
	int fd = c->pg ? PQsocket(c->pg) : -1;
	if (c->io && c->io_fd == fd && c->io_what == what)
		return;
	if (c->io) {
		event_free(c->io);
		c->io = NULL;
	}
	if (fd < 0 || !what)
		return;
	c->io = event_new(c->pool->base, fd, what | EV_PERSIST, conn_io_cb, c);
	c->io_fd = fd;
	c->io_what = what;
	event_add(c->io, NULL);
}

/* --- completing batches --------------------------------------------------------------- */

static void batch_free(struct db_batch *b)
{
	for (int i = 0; i < b->count; i++) {
		free(b->values[i]);
		if (b->result.results[i])
			PQclear(b->result.results[i]);
	}
	if (b->deadline)
		event_free(b->deadline);
	free(b);
}

static void batch_finish(struct db_batch *b, enum db_status status, const char *message)
{
	b->result.status = status;
	b->result.count = b->count;
	if (message && !b->result.message)
		b->result.message = message;
	if (status != DB_OK)
		b->pool->errors++;
	if (b->cb)
		b->cb(&b->result, b->arg);
	batch_free(b);
}

static void deferred_finish_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_batch *b = arg;
	batch_finish(b, b->result.status, b->result.message);
}

/* Runs the callback on the next loop iteration: callers of db_batch_send never see their
 * callback run inside it. */
static void batch_finish_later(struct db_batch *b, enum db_status status, const char *message)
{
	b->result.status = status;
	b->result.message = message;
	if (b->deadline)
		event_free(b->deadline);
	b->deadline = evtimer_new(b->pool->base, deferred_finish_cb, b);
	struct timeval zero = {0, 0};
	evtimer_add(b->deadline, &zero);
}

/* --- connection lifecycle -------------------------------------------------------------- */

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	if (c->state == CONN_DOWN) {
		conn_start(c);
	} else if (c->state == CONN_CONNECTING) {
		log_warn("database connection attempt timed out");
		c->pool->ever_failed = true;
		PQfinish(c->pg);
		c->pg = NULL;
		conn_watch(c, 0);
		c->state = CONN_DOWN;
		struct timeval tv = {c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000};
		c->backoff_ms = c->backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : c->backoff_ms * 2;
		evtimer_add(c->timer, &tv);
		dispatch(c->pool);
	}
}

static bool pool_has_live_connection(const struct db_pool *pool)
{
	for (int i = 0; i < pool->size; i++)
		if (pool->conns[i].state == CONN_READY || pool->conns[i].state == CONN_BUSY)
			return true;
	return false;
}

/* Drops the connection, fails its batch, and schedules a reconnect with backoff. */
static void conn_reset(struct db_conn *c, const char *why)
{
	struct db_pool *pool = c->pool;
	if (c->pg) {
		log_warn("database connection lost: %s", why);
		PQfinish(c->pg);
		c->pg = NULL;
	}
	conn_watch(c, 0);
	memset(c->prepared, 0, sizeof c->prepared);
	struct batch_queue failed;
	TAILQ_INIT(&failed);
	TAILQ_CONCAT(&failed, &c->inflight, queue);
	c->ninflight = 0;
	c->needs_flush = false;
	c->state = CONN_DOWN;
	if (!pool_has_live_connection(pool))
		pool->ever_failed = true;
	struct timeval tv = {c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000};
	c->backoff_ms = c->backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : c->backoff_ms * 2;
	evtimer_add(c->timer, &tv);
	struct db_batch *b;
	while ((b = TAILQ_FIRST(&failed))) {
		TAILQ_REMOVE(&failed, b, queue);
		b->conn = NULL;
		if (b->deadline)
			evtimer_del(b->deadline);
		batch_finish(b, DB_UNAVAILABLE, "the database connection was lost");
	}
	dispatch(pool);
}

static void conn_poll_connect(struct db_conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		conn_watch(c, EV_READ);
		return;
	case PGRES_POLLING_WRITING:
		conn_watch(c, EV_WRITE);
		return;
	case PGRES_POLLING_OK:
		break;
	default: {
		char why[256];
		snprintf(why, sizeof why, "%s", PQerrorMessage(c->pg));
		why[strcspn(why, "\n")] = '\0';
		c->pool->ever_failed = true;
		log_warn("cannot connect to the database: %s", why);
		PQfinish(c->pg);
		c->pg = NULL;
		conn_reset(c, why);
		return;
	}
	}
	evtimer_del(c->timer);
	if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1) {
		conn_reset(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = CONN_READY;
	c->backoff_ms = RECONNECT_MIN_MS;
	c->pool->ever_failed = false;
	conn_watch(c, EV_READ);
	log_debug("database connection ready");
	dispatch(c->pool);
}

static void conn_start(struct db_conn *c)
{
	struct db_pool *pool = c->pool;
	const char *keys[] = {"dbname", "application_name", "options", NULL};
	const char *values[] = {pool->conninfo, pool->application_name, pool->statement_timeout, NULL};
	c->pg = PQconnectStartParams(keys, values, 1);
	c->state = CONN_CONNECTING;
	if (!c->pg || PQstatus(c->pg) == CONNECTION_BAD) {
		pool->ever_failed = true;
		conn_reset(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
		return;
	}
	struct timeval tv = {CONNECT_TIMEOUT_MS / 1000, 0};
	evtimer_add(c->timer, &tv);
	conn_poll_connect(c);
}

/* --- sending and receiving --------------------------------------------------------------- */

static bool is_prepared(const struct db_conn *c, int id)
{
	return c->prepared[id / 8] & (1u << (id % 8));
}

/* Queues the batch's messages on the connection; they are written out at the end of the loop
 * iteration (flush_cb). The batch joins c->inflight first, so that a failure here fails it
 * with the others in conn_reset. */
static bool batch_send_on(struct db_conn *c, struct db_batch *b)
{
	TAILQ_INSERT_TAIL(&c->inflight, b, queue);
	c->ninflight++;
	b->conn = c;
	c->state = CONN_BUSY;
	b->nexpect = 0;
	/* Prepares first, so that none of them can be skipped because a statement of this very
	 * batch failed: only a Prepare's own error leaves a statement unprepared. They are
	 * marked when sent, not when confirmed, so that a batch sent behind this one on the same
	 * connection does not prepare them again (unmarked in batch_record if they fail). */
	for (int i = 0; i < b->count; i++) {
		const struct db_stmt *s = b->stmts[i];
		if (planned_each_time[s->id] || is_prepared(c, s->id))
			continue;
		if (!PQsendPrepare(c->pg, s->name, s->sql, s->nparams, NULL))
			return false;
		b->expect[b->nexpect++] = -1 - s->id;
		c->prepared[s->id / 8] |= (uint8_t)(1u << (s->id % 8));
	}
	for (int i = 0; i < b->count; i++) {
		const struct db_stmt *s = b->stmts[i];
		const char *const *values = (const char *const *)b->values[i];
		if (planned_each_time[s->id] ? !PQsendQueryParams(c->pg, s->sql, s->nparams, NULL, values, NULL, NULL, 0)
		                      : !PQsendQueryPrepared(c->pg, s->name, s->nparams, values, NULL, NULL, 0))
			return false;
		b->expect[b->nexpect++] = i;
	}
	if (!PQpipelineSync(c->pg))
		return false;
	b->next_expect = 0;
	b->got_result_for_current = false;
	if (!c->needs_flush) {
		c->needs_flush = true;
		event_active(c->pool->flush, EV_TIMEOUT, 1);
	}
	return true;
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_pool *pool = arg;
	for (int i = 0; i < pool->size; i++) {
		struct db_conn *c = &pool->conns[i];
		if (!c->needs_flush || !c->pg)
			continue;
		c->needs_flush = false;
		int rc = PQflush(c->pg);
		if (rc < 0) {
			conn_reset(c, PQerrorMessage(c->pg));
			continue;
		}
		conn_watch(c, rc == 1 ? EV_READ | EV_WRITE : EV_READ);
	}
}

static void batch_record(struct db_batch *b, PGresult *r)
{
	int item = b->expect[b->next_expect];
	ExecStatusType st = PQresultStatus(r);
	if (item < 0 && st != PGRES_COMMAND_OK)
		b->conn->prepared[(-1 - item) / 8] &= (uint8_t) ~(1u << ((-1 - item) % 8));
	if (st == PGRES_FATAL_ERROR && b->result.status == DB_OK) {
		b->result.status = DB_SQL_ERROR;
		b->result.failed = item;
		b->result.sqlstate = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		b->result.message = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		if (item >= 0 && !b->result.results[item]) {
			b->result.results[item] = r; /* keep it: sqlstate and message point into it */
			return;
		}
		if (item < 0) {
			/* Keep the failed Prepare's result alive for its message; park it in a free slot. */
			for (int i = 0; i < b->count; i++)
				if (!b->result.results[i]) {
					b->result.results[i] = r;
					return;
				}
		}
	}
	if (item >= 0 && !b->result.results[item] && st != PGRES_PIPELINE_ABORTED)
		b->result.results[item] = r;
	else
		PQclear(r);
}

static void conn_read_results(struct db_conn *c)
{
	int empty = 0;
	while (c->pg && c->ninflight && !PQisBusy(c->pg)) {
		struct db_batch *b = TAILQ_FIRST(&c->inflight);
		PGresult *r = PQgetResult(c->pg);
		if (!r) {
			/* End of one statement's results; two in a row would mean nothing is coming. */
			if (++empty > 1)
				break;
			if (b->got_result_for_current) {
				b->next_expect++;
				b->got_result_for_current = false;
			}
			continue;
		}
		empty = 0;
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			TAILQ_REMOVE(&c->inflight, b, queue);
			b->conn = NULL;
			if (--c->ninflight == 0)
				c->state = CONN_READY;
			if (b->deadline)
				evtimer_del(b->deadline);
			batch_finish(b, b->result.status, NULL);
			continue;
		}
		if (b->next_expect < b->nexpect)
			batch_record(b, r);
		else
			PQclear(r);
		b->got_result_for_current = true;
	}
	dispatch(c->pool);
}

static void conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	if (c->state == CONN_CONNECTING) {
		conn_poll_connect(c);
		return;
	}
	if (what & EV_READ) {
		if (!PQconsumeInput(c->pg)) {
			conn_reset(c, PQerrorMessage(c->pg));
			return;
		}
	}
	int rc = PQflush(c->pg);
	if (rc < 0) {
		conn_reset(c, PQerrorMessage(c->pg));
		return;
	}
	conn_watch(c, rc == 1 ? EV_READ | EV_WRITE : EV_READ);
	if (c->ninflight)
		conn_read_results(c);
	else if (PQstatus(c->pg) == CONNECTION_BAD)
		conn_reset(c, PQerrorMessage(c->pg));
	/* An idle connection may receive an error (server shutting down): PQconsumeInput reads it
	 * and the status turns bad, handled above. */
}

static void batch_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_batch *b = arg;
	struct db_pool *pool = b->pool;
	if (b->conn) {
		/* The server runs the same statement_timeout; a result this late means the
		 * connection itself is stuck, so start it afresh (failing what it carries). */
		struct db_conn *c = b->conn;
		TAILQ_REMOVE(&c->inflight, b, queue);
		c->ninflight--;
		b->conn = NULL;
		conn_reset(c, "a query passed its deadline");
		batch_finish(b, DB_TIMEOUT, "the database did not answer in time");
		return;
	}
	TAILQ_REMOVE(&pool->queue, b, queue);
	pool->waiting--;
	batch_finish(b, DB_TIMEOUT, "the database did not answer in time");
}

/* The connected connection carrying the fewest batches, if one has room. */
static struct db_conn *pick_connection(struct db_pool *pool)
{
	struct db_conn *best = NULL;
	for (int i = 0; i < pool->size; i++) {
		struct db_conn *c = &pool->conns[i];
		if ((c->state == CONN_READY || c->state == CONN_BUSY) && c->ninflight < PIPELINE_DEPTH &&
		    (!best || c->ninflight < best->ninflight))
			best = c;
	}
	return best;
}

static void dispatch(struct db_pool *pool)
{
	struct db_conn *c;
	while (!TAILQ_EMPTY(&pool->queue) && (c = pick_connection(pool))) {
		struct db_batch *b = TAILQ_FIRST(&pool->queue);
		TAILQ_REMOVE(&pool->queue, b, queue);
		pool->waiting--;
		if (!batch_send_on(c, b)) {
			conn_reset(c, PQerrorMessage(c->pg));
			return;
		}
	}
	/* With no live connection and the last attempt failed, waiting helps nobody: answer now
	 * so that callers can say 503 quickly. */
	if (!TAILQ_EMPTY(&pool->queue) && pool->ever_failed && !pool_has_live_connection(pool)) {
		struct db_batch *b;
		while ((b = TAILQ_FIRST(&pool->queue))) {
			TAILQ_REMOVE(&pool->queue, b, queue);
			pool->waiting--;
			evtimer_del(b->deadline);
			batch_finish_later(b, DB_UNAVAILABLE, "the database is unavailable");
		}
	}
}

/* --- public API -------------------------------------------------------------------------- */

struct db_pool *db_pool_new(struct event_base *base, const char *conninfo, int size, int queue_max,
                            int64_t timeout_ms, const char *application_name)
{
	struct db_pool *pool = xcalloc(1, sizeof *pool);
	pool->base = base;
	pool->conninfo = xstrdup(conninfo);
	pool->application_name = xstrdup(application_name);
	pool->timeout_ms = timeout_ms;
	/* The server gives up on a statement a little after we do, so that it never runs on
	 * for a request that has already been answered. */
	snprintf(pool->statement_timeout, sizeof pool->statement_timeout,
	         "-c statement_timeout=%lld -c TimeZone=UTC -c DateStyle=ISO", (long long)timeout_ms + 100);
	pool->size = size;
	pool->queue_max = queue_max;
	TAILQ_INIT(&pool->queue);
	pool->conns = xcalloc((size_t)size, sizeof *pool->conns);
	pool->flush = event_new(base, -1, 0, flush_cb, pool);
	for (int i = 0; i < size; i++) {
		struct db_conn *c = &pool->conns[i];
		TAILQ_INIT(&c->inflight);
		c->pool = pool;
		c->io_fd = -1;
		c->backoff_ms = RECONNECT_MIN_MS;
		c->timer = evtimer_new(base, conn_timer_cb, c);
		conn_start(c);
	}
	return pool;
}

void db_pool_free(struct db_pool *pool)
{
	if (!pool)
		return;
	struct db_batch *b;
	while ((b = TAILQ_FIRST(&pool->queue))) {
		TAILQ_REMOVE(&pool->queue, b, queue);
		batch_finish(b, DB_UNAVAILABLE, "shutting down");
	}
	for (int i = 0; i < pool->size; i++) {
		struct db_conn *c = &pool->conns[i];
		while ((b = TAILQ_FIRST(&c->inflight))) {
			TAILQ_REMOVE(&c->inflight, b, queue);
			b->conn = NULL;
			batch_finish(b, DB_UNAVAILABLE, "shutting down");
		}
		if (c->io)
			event_free(c->io);
		event_free(c->timer);
		if (c->pg)
			PQfinish(c->pg);
	}
	event_free(pool->flush);
	free(pool->conns);
	free(pool->conninfo);
	free(pool->application_name);
	free(pool);
}

void db_pool_stats(const struct db_pool *pool, struct db_pool_stats *out)
{
	memset(out, 0, sizeof *out);
	out->size = pool->size;
	out->waiting = pool->waiting;
	out->errors = pool->errors;
	for (int i = 0; i < pool->size; i++) {
		if (pool->conns[i].state == CONN_READY || pool->conns[i].state == CONN_BUSY)
			out->connected++;
		if (pool->conns[i].state == CONN_BUSY)
			out->busy++;
	}
}

bool db_pool_unavailable(const struct db_pool *pool)
{
	return pool && pool->ever_failed && !pool_has_live_connection(pool);
}

struct db_batch *db_batch_new(void)
{
	return xcalloc(1, sizeof(struct db_batch));
}

void db_batch_add(struct db_batch *b, const struct db_stmt *stmt, const char *const *values)
{
	if (b->count == DB_MAX_BATCH || stmt->nparams > DB_MAX_PARAMS) {
		log_error("batch too large for statement %s", stmt->name);
		abort();
	}
	/* One allocation: the pointer array followed by the copied strings. */
	size_t bytes = sizeof(char *) * (size_t)(stmt->nparams + 1);
	for (int i = 0; i < stmt->nparams; i++)
		if (values[i])
			bytes += strlen(values[i]) + 1;
	char **copy = xmalloc(bytes);
	char *p = (char *)(copy + stmt->nparams + 1);
	for (int i = 0; i < stmt->nparams; i++) {
		if (!values[i]) {
			copy[i] = NULL;
			continue;
		}
		size_t n = strlen(values[i]) + 1;
		memcpy(p, values[i], n);
		copy[i] = p;
		p += n;
	}
	copy[stmt->nparams] = NULL;
	b->stmts[b->count] = stmt;
	b->values[b->count] = copy;
	b->count++;
}

void db_batch_send(struct db_pool *pool, struct db_batch *b, db_callback cb, void *arg)
{
	b->pool = pool;
	b->cb = cb;
	b->arg = arg;
	b->result.status = DB_OK;
	b->result.failed = -1;
	if (pool->waiting >= pool->queue_max) {
		batch_finish_later(b, DB_OVERLOADED, "too many database requests are waiting");
		return;
	}
	if (pool->ever_failed && !pool_has_live_connection(pool)) {
		batch_finish_later(b, DB_UNAVAILABLE, "the database is unavailable");
		return;
	}
	b->deadline = evtimer_new(pool->base, batch_deadline_cb, b);
	struct timeval tv = {pool->timeout_ms / 1000, (pool->timeout_ms % 1000) * 1000};
	evtimer_add(b->deadline, &tv);
	TAILQ_INSERT_TAIL(&pool->queue, b, queue);
	pool->waiting++;
	dispatch(pool);
}

void db_query(struct db_pool *pool, const struct db_stmt *stmt, const char *const *values, db_callback cb,
              void *arg)
{
	struct db_batch *b = db_batch_new();
	db_batch_add(b, stmt, values);
	db_batch_send(pool, b, cb, arg);
}
