#include "core/worker.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "core/log.h"
#include "core/supervisor.h"
#include "core/threadpool.h"
#include "db/listen.h"
#include "jobs/jobs.h"
#include "notify/events.h"
#include "db/pool.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/request.h"
#include "http/static.h"

void routes_register_statements(void);

/* Once a second: flush the log, refresh this worker's gauges, and end a graceful stop
 * whose grace period has passed. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct db_pool_stats stats;
	db_pool_stats(w->db, &stats);
	metrics_set_gauges(http_server_connections(w->http), &stats);
	metrics_set_listen(db_listener_connected(w->listener));
	if (w->index == 0 && ++w->ticks % 60 == 0)
		auth_forget_old_attempts(w->db);
	if (w->stop_deadline_ms && now_ms() >= w->stop_deadline_ms) {
		log_warn("grace period over with %d requests in flight; stopping", http_server_in_flight(w->http));
		event_base_loopexit(w->base, NULL);
	}
	log_flush();
}

/* While stopping: exit once every request is answered and its answer written out. */
static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	if (http_server_drained(w->http))
		event_base_loopexit(w->base, NULL);
}

static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct worker *w = arg;
	if (w->stop_deadline_ms)
		return;
	log_info("stopping: no new connections, %d requests in flight", http_server_in_flight(w->http));
	w->stop_deadline_ms = now_ms() + w->cfg->shutdown_grace_ms + 1;
	http_server_stop_accepting(w->http);
	events_shutdown(w); /* streams never end on their own */
	w->drain = event_new(w->base, -1, EV_PERSIST, drain_cb, w);
	struct timeval often = {0, 20 * 1000};
	event_add(w->drain, &often);
	drain_cb(-1, 0, w);
}

static void ops_notification(const char *channel, const char *payload, void *arg)
{
	metrics_count_notification();
	log_debug("notification on %s: %s", channel, payload);
}

int worker_run(const struct config *cfg, int index, const char *conninfo)
{
	char name[32];
	snprintf(name, sizeof name, "worker-%d", index);
	log_set_process(name);
	signal(SIGPIPE, SIG_IGN);

	struct worker w = {.index = index, .cfg = cfg};
	int status = 1;
	w.base = event_base_new();
	if (!w.base)
		return 1;
	metrics_attach(index);
	routes_register_statements();
	db_listen_register_statements();
	static_load(cfg->web_root);
	auth_init(cfg->insecure_cookies);
	http_set_gate(auth_gate);
	int threads = cfg->password_threads;
	if (threads == 0) {
		threads = (int)sysconf(_SC_NPROCESSORS_ONLN) / supervisor_worker_count(cfg);
		threads = threads < 1 ? 1 : threads;
	}
	w.cpu = threadpool_new(w.base, threads, 64);

	char app_name[64];
	snprintf(app_name, sizeof app_name, "relais %s", name);
	w.db = db_pool_new(w.base, conninfo, cfg->db_pool_size, cfg->db_queue_max, cfg->db_query_timeout_ms, app_name);
	w.listener = db_listener_new(w.base, conninfo, app_name);
	if (!db_subscribe(w.listener, "relais_ops", ops_notification, NULL, NULL))
		goto done;
	w.http = http_server_start(&w, http_routes, http_route_count);
	if (!w.http)
		goto done;
	events_start(&w);
	jobs_start(&w);

	w.sigterm = evsignal_new(w.base, SIGTERM, stop_cb, &w);
	w.sigint = evsignal_new(w.base, SIGINT, stop_cb, &w);
	w.tick = event_new(w.base, -1, EV_PERSIST, tick_cb, &w);
	event_add(w.sigterm, NULL);
	event_add(w.sigint, NULL);
	struct timeval second = {1, 0};
	event_add(w.tick, &second);

	log_info("worker ready on %s", cfg->listen);
	event_base_dispatch(w.base);
	status = 0;
done:
	/* The pool first: its pending callbacks still answer through the HTTP server. */
	jobs_stop(&w);
	events_stop(&w);
	threadpool_free(w.cpu);
	db_listener_free(w.listener);
	db_pool_free(w.db);
	http_server_free(w.http);
	if (w.sigterm)
		event_free(w.sigterm);
	if (w.sigint)
		event_free(w.sigint);
	if (w.tick)
		event_free(w.tick);
	if (w.drain)
		event_free(w.drain);
	event_base_free(w.base);
	static_unload();
	log_info("worker stopped");
	log_flush();
	return status;
}
