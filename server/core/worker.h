/* What one worker process owns: its event loop, database pool, LISTEN connection and HTTP
 * server. Handlers reach it through req->worker. */
#ifndef RELAIS_WORKER_H
#define RELAIS_WORKER_H

#include <event2/event.h>

#include "core/config.h"

struct db_pool;
struct db_listener;
struct http_server;
struct threadpool;

struct worker {
	int index;
	const struct config *cfg;
	struct event_base *base;
	struct db_pool *db;
	struct db_listener *listener;
	struct http_server *http;
	struct threadpool *cpu; /* password hashing, off the loop */
	struct event *sigterm, *sigint, *tick, *drain;
	int64_t stop_deadline_ms; /* set once SIGTERM arrived */
	unsigned ticks;
};

/* Runs a worker until it is told to stop; returns the process exit status. */
int worker_run(const struct config *cfg, int index, const char *conninfo);

#endif
