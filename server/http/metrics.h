/* Request counters and latency histograms in Prometheus text format.
 *
 * Each worker owns one slot of a small shared anonymous mapping made by the supervisor
 * before forking; only that worker writes its slot, and /metrics (answered by any worker)
 * sums every slot. This keeps the "no shared state" rule for everything but statistics,
 * and a scrape sees the whole server whichever worker answers it. */
#ifndef RELAIS_HTTP_METRICS_H
#define RELAIS_HTTP_METRICS_H

#include <event2/buffer.h>

#include "core/common.h"
#include "db/pool.h"
#include "http/router.h"

#define METRICS_MAX_ROUTES 128
/* Slots beyond the route table, for requests that matched no route. */
enum { METRICS_SLOT_STATIC = METRICS_MAX_ROUTES, METRICS_SLOT_UNMATCHED, METRICS_SLOTS };

bool metrics_init_shared(int workers) MUST_USE;
void metrics_attach(int worker_index);
void metrics_observe(int slot, int status, int64_t latency_us);
void metrics_set_gauges(int connections, const struct db_pool_stats *db);
/* The LISTEN bus: whether this worker's connection is up, and notifications received on the
 * relais_ops channel (an end-to-end check of the bus: SELECT pg_notify('relais_ops', 'ping')). */
void metrics_set_listen(bool connected);
void metrics_count_notification(void);
/* Live events (notify/events.c): open streams, subscribers dropped at their buffer cap, and
 * events written to streams. */
void metrics_set_sse(int subscribers);
void metrics_count_sse_dropped(void);
void metrics_count_sse_events(uint64_t n);
void metrics_render(struct evbuffer *out, const struct route *routes, size_t nroutes);

#endif
