#include "http/metrics.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const int known_statuses[] = {200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405, 409,
                                     410, 413, 415, 422, 429, 431, 500, 501, 502, 503, 504};
#define N_STATUS (ARRAY_LEN(known_statuses) + 1) /* last: any other */
static const double bucket_seconds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define N_BUCKETS (ARRAY_LEN(bucket_seconds) + 1) /* last: +Inf */

struct metrics_slot {
	uint64_t requests[METRICS_SLOTS][N_STATUS];
	uint64_t latency[METRICS_SLOTS][N_BUCKETS];
	uint64_t latency_sum_us[METRICS_SLOTS];
	int64_t connections;
	int64_t db_size, db_connected, db_busy, db_waiting;
	uint64_t db_errors;
	int64_t listen_connected;
	uint64_t notifications;
	int64_t sse_subscribers;
	uint64_t sse_dropped, sse_events;
	int64_t pid;
};

static struct metrics_slot *slots;
static struct metrics_slot *mine;
static int slot_count;

bool metrics_init_shared(int workers)
{
	size_t size = sizeof(struct metrics_slot) * (size_t)workers;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	slots = p;
	slot_count = workers;
	return true;
}

void metrics_attach(int worker_index)
{
	if (!slots) {
		/* Single-process use (tests): a private slot. */
		if (!metrics_init_shared(1))
			return;
		worker_index = 0;
	}
	mine = &slots[worker_index];
	__atomic_store_n(&mine->pid, (int64_t)getpid(), __ATOMIC_RELAXED);
}

static size_t status_index(int status)
{
	for (size_t i = 0; i < ARRAY_LEN(known_statuses); i++)
		if (known_statuses[i] == status)
			return i;
	return N_STATUS - 1;
}

void metrics_observe(int slot, int status, int64_t latency_us)
{
	if (!mine || slot < 0 || slot >= METRICS_SLOTS)
		return;
	__atomic_fetch_add(&mine->requests[slot][status_index(status)], 1, __ATOMIC_RELAXED);
	size_t b = 0;
	while (b < ARRAY_LEN(bucket_seconds) && (double)latency_us > bucket_seconds[b] * 1e6)
		b++;
	__atomic_fetch_add(&mine->latency[slot][b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&mine->latency_sum_us[slot], (uint64_t)latency_us, __ATOMIC_RELAXED);
}

void metrics_set_gauges(int connections, const struct db_pool_stats *db)
{
	if (!mine)
		return;
	__atomic_store_n(&mine->connections, connections, __ATOMIC_RELAXED);
	__atomic_store_n(&mine->db_size, db->size, __ATOMIC_RELAXED);
	__atomic_store_n(&mine->db_connected, db->connected, __ATOMIC_RELAXED);
	__atomic_store_n(&mine->db_busy, db->busy, __ATOMIC_RELAXED);
	__atomic_store_n(&mine->db_waiting, db->waiting, __ATOMIC_RELAXED);
	__atomic_store_n(&mine->db_errors, db->errors, __ATOMIC_RELAXED);
}

void metrics_set_listen(bool connected)
{
	if (mine)
		__atomic_store_n(&mine->listen_connected, connected ? 1 : 0, __ATOMIC_RELAXED);
}

void metrics_count_notification(void)
{
	if (mine)
		__atomic_fetch_add(&mine->notifications, 1, __ATOMIC_RELAXED);
}

void metrics_set_sse(int subscribers)
{
	if (mine)
		__atomic_store_n(&mine->sse_subscribers, subscribers, __ATOMIC_RELAXED);
}

void metrics_count_sse_dropped(void)
{
	if (mine)
		__atomic_fetch_add(&mine->sse_dropped, 1, __ATOMIC_RELAXED);
}

void metrics_count_sse_events(uint64_t n)
{
	if (mine)
		__atomic_fetch_add(&mine->sse_events, n, __ATOMIC_RELAXED);
}

static const char *slot_name(int slot, const struct route *routes, size_t nroutes)
{
	if (slot == METRICS_SLOT_STATIC)
		return "static";
	if (slot == METRICS_SLOT_UNMATCHED)
		return "unmatched";
	return (size_t)slot < nroutes ? routes[slot].name : NULL;
}

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static int64_t load_gauge(const int64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void metrics_render(struct evbuffer *out, const struct route *routes, size_t nroutes)
{
	evbuffer_add_printf(out, "# HELP relais_http_requests_total HTTP requests answered, by route and status.\n"
	                         "# TYPE relais_http_requests_total counter\n");
	for (int r = 0; r < METRICS_SLOTS; r++) {
		const char *name = slot_name(r, routes, nroutes);
		if (!name)
			continue;
		for (size_t s = 0; s < N_STATUS; s++) {
			uint64_t total = 0;
			for (int w = 0; w < slot_count; w++)
				total += load(&slots[w].requests[r][s]);
			if (!total)
				continue;
			if (s < ARRAY_LEN(known_statuses))
				evbuffer_add_printf(out, "relais_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", name,
				                    known_statuses[s], (unsigned long long)total);
			else
				evbuffer_add_printf(out, "relais_http_requests_total{route=\"%s\",status=\"other\"} %llu\n", name,
				                    (unsigned long long)total);
		}
	}
	evbuffer_add_printf(out, "# HELP relais_http_request_duration_seconds Time from complete request to answer.\n"
	                         "# TYPE relais_http_request_duration_seconds histogram\n");
	for (int r = 0; r < METRICS_SLOTS; r++) {
		const char *name = slot_name(r, routes, nroutes);
		if (!name)
			continue;
		uint64_t counts[N_BUCKETS] = {0}, sum_us = 0, count = 0;
		for (int w = 0; w < slot_count; w++) {
			for (size_t b = 0; b < N_BUCKETS; b++)
				counts[b] += load(&slots[w].latency[r][b]);
			sum_us += load(&slots[w].latency_sum_us[r]);
		}
		for (size_t b = 0; b < N_BUCKETS; b++)
			count += counts[b];
		if (!count)
			continue;
		uint64_t cumulative = 0;
		for (size_t b = 0; b < ARRAY_LEN(bucket_seconds); b++) {
			cumulative += counts[b];
			evbuffer_add_printf(out, "relais_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
			                    name, bucket_seconds[b], (unsigned long long)cumulative);
		}
		evbuffer_add_printf(out,
		                    "relais_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
		                    "relais_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
		                    "relais_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
		                    name, (unsigned long long)count, name, (double)sum_us / 1e6, name,
		                    (unsigned long long)count);
	}
	static const struct {
		const char *name, *help;
		size_t offset;
	} gauges[] = {
	    {"relais_http_connections", "Open client connections.", offsetof(struct metrics_slot, connections)},
	    {"relais_db_pool_size", "Database connections configured.", offsetof(struct metrics_slot, db_size)},
	    {"relais_db_pool_connected", "Database connections up.", offsetof(struct metrics_slot, db_connected)},
	    {"relais_db_pool_in_use", "Database connections running a query.", offsetof(struct metrics_slot, db_busy)},
	    {"relais_db_pool_waiting", "Database requests waiting for a connection.",
	     offsetof(struct metrics_slot, db_waiting)},
	    {"relais_db_listen_connected", "1 when the worker's LISTEN connection is up.",
	     offsetof(struct metrics_slot, listen_connected)},
	    {"relais_sse_subscribers", "Open live event streams.", offsetof(struct metrics_slot, sse_subscribers)},
	};
	for (size_t g = 0; g < ARRAY_LEN(gauges); g++) {
		evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", gauges[g].name, gauges[g].help, gauges[g].name);
		for (int w = 0; w < slot_count; w++) {
			const struct metrics_slot *s = &slots[w];
			if (!load_gauge(&s->pid))
				continue;
			evbuffer_add_printf(out, "%s{worker=\"%d\"} %lld\n", gauges[g].name, w,
			                    (long long)load_gauge((const int64_t *)((const char *)s + gauges[g].offset)));
		}
	}
	evbuffer_add_printf(out, "# HELP relais_notifications_total Notifications received on relais_ops.\n"
	                         "# TYPE relais_notifications_total counter\n");
	for (int w = 0; w < slot_count; w++)
		if (load_gauge(&slots[w].pid))
			evbuffer_add_printf(out, "relais_notifications_total{worker=\"%d\"} %llu\n", w,
			                    (unsigned long long)load(&slots[w].notifications));
	evbuffer_add_printf(out, "# HELP relais_sse_dropped_total Live event subscribers dropped for exceeding their buffer cap.\n"
	                         "# TYPE relais_sse_dropped_total counter\n");
	for (int w = 0; w < slot_count; w++)
		if (load_gauge(&slots[w].pid))
			evbuffer_add_printf(out, "relais_sse_dropped_total{worker=\"%d\"} %llu\n", w,
			                    (unsigned long long)load(&slots[w].sse_dropped));
	evbuffer_add_printf(out, "# HELP relais_sse_events_total Events written to live event streams.\n"
	                         "# TYPE relais_sse_events_total counter\n");
	for (int w = 0; w < slot_count; w++)
		if (load_gauge(&slots[w].pid))
			evbuffer_add_printf(out, "relais_sse_events_total{worker=\"%d\"} %llu\n", w,
			                    (unsigned long long)load(&slots[w].sse_events));
	evbuffer_add_printf(out, "# HELP relais_db_errors_total Database requests that failed.\n"
	                         "# TYPE relais_db_errors_total counter\n");
	for (int w = 0; w < slot_count; w++)
		if (load_gauge(&slots[w].pid))
			evbuffer_add_printf(out, "relais_db_errors_total{worker=\"%d\"} %llu\n", w,
			                    (unsigned long long)load(&slots[w].db_errors));
}
