/* Live events: notifications streamed to signed-in people as server-sent events (the list
 * and "mark read" are notifications.c's).
 *
 * Notifications are rows first, then pg_notify('relais_events') at commit (notification_add
 * in schema/0003). Each worker LISTENs once and fans an event out to its own subscribers of
 * that user, found through a hash index by user id, so an event costs O(subscribers of
 * that user). A subscriber is one open stream (a browser tab).
 *
 * No gaps, no duplicates. A subscriber sends `Last-Event-ID` (or ?last_event_id=) to replay
 * what it missed (the latest 500 rows after that id, oldest first: LIMIT in stmt_replay). It is registered
 * before the replay query is sent, so an event committed while the query runs is either in
 * the query's snapshot or arrives by NOTIFY afterwards; live events that arrive during the
 * replay wait in the subscriber's pending list and are sent after the replayed rows, minus
 * those the replay already had; as the NOTIFY of a replayed row may also be read after the
 * replay's answer (another connection), the replayed ids stay fenced off until a probe sent
 * after the answer comes back on the bus ("probes and fences"). After a LISTEN reconnect
 * every subscriber replays the same way from the last id it was sent (or, if it was sent
 * nothing, from the highest id the worker had seen when it subscribed), once a probe shows
 * that LISTEN is in effect again, so an outage of the bus loses nothing either.
 * Limit: ids are taken at insert and announced at commit, so a replay (after "id > N") can
 * miss an event whose transaction committed after a later-numbered one was delivered and
 * the client then disconnected, within that commit window (notification_add is called in
 * short request transactions).
 *
 * Ordering: payloads over pg_notify's size limit arrive as {"id","user_id","truncated"} and
 * the row is fetched; events queue behind such a fetch so each user's events keep their
 * commit order.
 *
 * Bounds: output a client has not read is capped (sse_buffer_cap): live events beyond it
 * drop the subscriber (counted in /metrics; the browser reconnects and replays); a replay
 * that would exceed it ends the stream cleanly after what fits, so the client reconnects
 * with the last id it got and continues. Live events waiting behind a replay count against
 * the same cap.
 *
 * Sessions: a stream belongs to the session that opened it. Deleting sessions (sign-out,
 * revocation, a disabled user) NOTIFYs 'relais_sessions' (trigger in schema/0003), in commit
 * order with events, so the stream ends before any later event; at every heartbeat one
 * query per worker also re-checks all its streams' sessions (expiry, idle timeout, a user
 * disabled some other way). A stream does not keep its session alive. */
#include "notify/events.h"

#include <event2/event.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/worker.h"
#include "db/listen.h"
#include "db/rows.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/server.h"
#include "http/sse.h"

#define REPLAY_BATCH 1000     /* subscribers per replay query */
#define CATCHUP_POLL_MS 200   /* while the LISTEN connection is down */
#define PROBE_TIMEOUT_MS 1000 /* a probe not heard back by then is sent again */
#define RETRY_HINT "retry: 2000\n\n"
#define HEARTBEAT ":\n\n"

/* One event's bytes on the wire, shared by every subscriber it goes to. */
struct frame {
	int refs;
	int64_t id;
	size_t len;
	char text[];
};

struct pending {
	struct pending *next;
	struct frame *frame;
};

struct replay;

struct subscriber {
	struct subscriber *prev, *next;   /* every subscriber of the worker */
	struct subscriber *hprev, *hnext; /* same bucket of the user index */
	struct http_stream *stream;
	int64_t user_id, session_id;
	int64_t cursor; /* the last id sent (or the worker's high-water id at subscription) */
	bool cursor_known;
	bool replaying;    /* a replay query is running: live events go to `pending` */
	bool replay_again; /* the bus reconnected during the replay */
	bool stale;        /* must catch up once the bus is back */
	bool closing;      /* ended or dropped; the closed callback will free it */
	struct replay *replay;
	int replay_index;
	struct pending *pending_head, *pending_tail;
	size_t pending_bytes;
	/* Ids the last replay sent, kept until the bus has caught up with its snapshot (see
	 * "probes and fences" below), so that a late NOTIFY of one of them is not sent again. */
	int64_t *replayed;
	int nreplayed;
	uint64_t fence;                   /* the probe that must come back first */
	struct subscriber *fprev, *fnext; /* the fence list, in probe order */
};

/* One replay query for up to REPLAY_BATCH subscribers; a slot is NULL once its subscriber is gone. */
struct replay {
	int n;
	struct subscriber *subs[];
};

/* An event waiting for its turn (behind a fetch of a truncated payload). */
struct queued {
	struct queued *next;
	char id[24], user_id[24];
	int64_t user;
	struct frame *frame;
	bool fetching, done, failed, orphan;
};

static struct {
	struct worker *w;
	bool running;
	struct subscriber *all;
	struct subscriber **buckets;
	size_t nbuckets;
	int count;
	struct queued *qhead, *qtail;
	int64_t high_water;
	bool high_water_known, high_water_loading;
	struct event *heartbeat, *catchup, *replay_event;
	struct replay *building; /* replays asked for in this loop iteration */
	bool catchup_armed;
	bool listening; /* a probe sent since the bus last (re)connected came back */
	char nonce[17]; /* tells our probes from other workers' */
	uint64_t probe_sent, probe_heard, catchup_probe;
	struct subscriber *fence_head, *fence_tail;
	bool checking_sessions, recheck_sessions;
} E;

static struct db_stmt stmt_replay = {
    "events_replay",
    "SELECT s.ord AS _ord, n.id, n.kind, n.question_id, n.actor_user_id, n.data, n.created_at"
    " FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS s(user_id, after_id, ord)"
    " CROSS JOIN LATERAL (SELECT id, kind, question_id, actor_user_id, data, created_at FROM notifications"
    "   WHERE user_id = s.user_id AND id > s.after_id ORDER BY id DESC LIMIT 500) n"
    " ORDER BY s.ord, n.id",
    2, 0};

static struct db_stmt stmt_fetch = {
    "events_fetch",
    "SELECT id, kind, question_id, actor_user_id, data, created_at FROM notifications WHERE id = $1 AND user_id = $2",
    2, 0};

static struct db_stmt stmt_high_water = {"events_high_water", "SELECT coalesce(max(id), 0) AS id FROM notifications", 0,
                                         0};

static struct db_stmt stmt_sessions_valid = {
    "events_sessions_valid",
    "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id AND u.status = 'active'"
    " WHERE s.id = ANY ($1::bigint[]) AND s.expires_at > now()"
    " AND s.last_seen_at > now() - make_interval(secs => $2::float8) ORDER BY s.id",
    2, 0};

void events_register_statements(void)
{
	db_register_statement(&stmt_replay);
	db_register_statement(&stmt_fetch);
	db_register_statement(&stmt_high_water);
	db_register_statement(&stmt_sessions_valid);
}

/* --- frames ------------------------------------------------------------------------------- */

static void frame_unref(struct frame *f)
{
	if (f && --f->refs == 0)
		free(f);
}

/* "id: 12\nevent: question.assigned\ndata: {...}\n\n" from a notification object (stolen). */
static struct frame *frame_from_json(json_t *n)
{
	json_t *id = json_object_get(n, "id"), *kind = json_object_get(n, "kind");
	char *data = json_dumps(n, JSON_COMPACT);
	struct frame *f = NULL;
	if (json_is_integer(id) && json_is_string(kind) && data) {
		/* The kind is [a-z_.]{1,64} (a CHECK) and the JSON is on one line: nothing to escape. */
		size_t cap = strlen(data) + json_string_length(kind) + 64;
		f = xmalloc(sizeof *f + cap);
		f->refs = 1;
		f->id = json_integer_value(id);
		int n_written = snprintf(f->text, cap, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)f->id,
		                         json_string_value(kind), data);
		f->len = (size_t)n_written;
	}
	free(data);
	json_decref(n);
	return f;
}

/* json_build_object() writes timestamptz in the writer's time zone ("...+02:00"); the API
 * writes UTC with a Z (db/rows.c). */
static void normalize_time(json_t *n, const char *key)
{
	const char *v = json_string_value(json_object_get(n, key));
	int y, mo, d, h, mi, s, n_read = 0;
	if (!v || sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n_read) != 6)
		return;
	const char *p = v + n_read;
	char frac[16] = "";
	if (*p == '.') {
		size_t k = strspn(p + 1, "0123456789");
		if (k == 0 || k > 9)
			return;
		snprintf(frac, sizeof frac, ".%.*s", (int)k, p + 1);
		p += 1 + k;
	}
	long offset = 0;
	if (*p == '+' || *p == '-') {
		int oh = 0, om = 0, os = 0;
		int parts = sscanf(p + 1, "%2d:%2d:%2d", &oh, &om, &os);
		if (parts < 1)
			return;
		offset = (oh * 3600L + om * 60L + os) * (*p == '-' ? -1 : 1);
	} else if (*p != 'Z') {
		return;
	}
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
	time_t t = timegm(&tm) - offset;
	struct tm utc;
	gmtime_r(&t, &utc);
	char out[64];
	size_t len = strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &utc);
	snprintf(out + len, sizeof out - len, "%sZ", frac);
	json_object_set_new(n, key, json_string(out));
}

/* --- the user index ----------------------------------------------------------------------- */

static size_t bucket_of(int64_t user_id)
{
	uint64_t x = (uint64_t)user_id * 0x9E3779B97F4A7C15ull;
	return (size_t)(x >> 32) & (E.nbuckets - 1);
}

static void bucket_insert(struct subscriber *sub)
{
	struct subscriber **b = &E.buckets[bucket_of(sub->user_id)];
	sub->hprev = NULL;
	sub->hnext = *b;
	if (*b)
		(*b)->hprev = sub;
	*b = sub;
}

static void bucket_remove(struct subscriber *sub)
{
	if (sub->hprev)
		sub->hprev->hnext = sub->hnext;
	else
		E.buckets[bucket_of(sub->user_id)] = sub->hnext;
	if (sub->hnext)
		sub->hnext->hprev = sub->hprev;
}

/* Keeps about one subscriber per bucket, so a user's lookup walks their own streams only. */
static void index_grow(void)
{
	if ((size_t)E.count < E.nbuckets)
		return;
	free(E.buckets);
	E.nbuckets *= 2;
	E.buckets = xcalloc(E.nbuckets, sizeof *E.buckets);
	for (struct subscriber *s = E.all; s; s = s->next)
		bucket_insert(s);
}

static int subscriber_count(int64_t user_id)
{
	int n = 0;
	for (struct subscriber *s = E.buckets[bucket_of(user_id)]; s; s = s->hnext)
		n += s->user_id == user_id && !s->closing;
	return n;
}

static bool has_subscribers(int64_t user_id)
{
	for (struct subscriber *s = E.buckets[bucket_of(user_id)]; s; s = s->hnext)
		if (s->user_id == user_id)
			return true;
	return false;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static bool id_in(const int64_t *ids, size_t n, int64_t id)
{
	return n && bsearch(&id, ids, n, sizeof *ids, cmp_id) != NULL;
}

/* --- probes and fences --------------------------------------------------------------------
 * A probe is a NOTIFY of our own sent through the pool. NOTIFYs arrive in commit order, so
 * when probe n comes back on our LISTEN connection, every event committed before probe n
 * was sent has been seen. That tells (a) when LISTEN has taken effect after a reconnection
 * (the listener does not say) and (b) when a replay's snapshot is behind us: an event in
 * the snapshot may have its NOTIFY processed after the replay's answer (two connections),
 * so the replayed ids are kept until a probe sent after the answer comes back. */

static uint64_t send_probe(void)
{
	char payload[64];
	E.probe_sent++;
	snprintf(payload, sizeof payload, "{\"probe\":\"%s-%llu\"}", E.nonce, (unsigned long long)E.probe_sent);
	db_publish(E.w->db, "relais_events", payload, NULL, NULL);
	return E.probe_sent;
}

static void fence_remove(struct subscriber *sub)
{
	if (sub->fence) {
		if (sub->fprev)
			sub->fprev->fnext = sub->fnext;
		else
			E.fence_head = sub->fnext;
		if (sub->fnext)
			sub->fnext->fprev = sub->fprev;
		else
			E.fence_tail = sub->fprev;
		sub->fprev = sub->fnext = NULL;
		sub->fence = 0;
	}
	free(sub->replayed);
	sub->replayed = NULL;
	sub->nreplayed = 0;
}

/* Keeps `ids` (sorted; taken), with those still kept from before, until a new probe is back. */
static void fence_keep(struct subscriber *sub, int64_t *ids, int n)
{
	if (sub->replayed) {
		ids = xrealloc(ids, (size_t)(n + sub->nreplayed) * sizeof *ids);
		memcpy(ids + n, sub->replayed, (size_t)sub->nreplayed * sizeof *ids);
		n += sub->nreplayed;
		qsort(ids, (size_t)n, sizeof *ids, cmp_id);
	}
	fence_remove(sub); /* frees the old ids */
	sub->replayed = ids;
	sub->nreplayed = n;
	sub->fence = send_probe();
	sub->fprev = E.fence_tail;
	if (E.fence_tail)
		E.fence_tail->fnext = sub;
	else
		E.fence_head = sub;
	E.fence_tail = sub;
}

static void fences_release(void)
{
	while (E.fence_head && E.fence_head->fence <= E.probe_heard)
		fence_remove(E.fence_head);
}

/* --- subscribers -------------------------------------------------------------------------- */

static void pending_clear(struct subscriber *sub)
{
	struct pending *p = sub->pending_head, *next;
	for (; p; p = next) {
		next = p->next;
		frame_unref(p->frame);
		free(p);
	}
	sub->pending_head = sub->pending_tail = NULL;
	sub->pending_bytes = 0;
}

/* Ends the stream cleanly: the client keeps what was sent and reconnects. */
static void subscriber_end(struct subscriber *sub)
{
	if (sub->closing)
		return;
	sub->closing = true;
	http_stream_end(sub->stream);
}

/* Drops a subscriber over its buffer cap. */
static void subscriber_drop(struct subscriber *sub)
{
	if (sub->closing)
		return;
	sub->closing = true;
	metrics_count_sse_dropped();
	log_info("live events: dropping a subscriber of user %lld with %zu bytes unread", (long long)sub->user_id,
	         http_stream_queued(sub->stream) + sub->pending_bytes);
	http_stream_abort(sub->stream);
}

static void subscriber_closed(struct http_stream *st, void *arg)
{
	struct subscriber *sub = arg;
	if (sub->prev)
		sub->prev->next = sub->next;
	else
		E.all = sub->next;
	if (sub->next)
		sub->next->prev = sub->prev;
	bucket_remove(sub);
	if (sub->replay)
		sub->replay->subs[sub->replay_index] = NULL;
	pending_clear(sub);
	fence_remove(sub);
	free(sub);
	E.count--;
	metrics_set_sse(E.count);
}

static bool over_cap(size_t queued, size_t more)
{
	/* One frame larger than the cap still goes out alone, or it could never be delivered. */
	return queued > 0 && queued + more > (size_t)E.w->cfg->sse_buffer_cap;
}

/* Writes one event; false when the subscriber is being closed (by this or before). The
 * first frame of a replay always goes out, so that every reconnection makes progress. */
static bool send_frame(struct subscriber *sub, const struct frame *f, bool replaying, bool first)
{
	if (sub->closing)
		return false;
	if (!first && over_cap(http_stream_queued(sub->stream), f->len)) {
		if (replaying)
			subscriber_end(sub);
		else
			subscriber_drop(sub);
		return false;
	}
	if (!http_stream_write(sub->stream, f->text, f->len))
		return false;
	if (f->id > sub->cursor)
		sub->cursor = f->id;
	sub->cursor_known = true;
	metrics_count_sse_events(1);
	return true;
}

static void fan_out(struct frame *f, int64_t user_id)
{
	for (struct subscriber *sub = E.buckets[bucket_of(user_id)]; sub; sub = sub->hnext) {
		if (sub->user_id != user_id || sub->closing)
			continue;
		if (!sub->replaying) {
			if (!id_in(sub->replayed, (size_t)sub->nreplayed, f->id))
				send_frame(sub, f, false, false);
			continue;
		}
		struct pending *p = xmalloc(sizeof *p);
		p->next = NULL;
		p->frame = f;
		f->refs++;
		if (sub->pending_tail)
			sub->pending_tail->next = p;
		else
			sub->pending_head = p;
		sub->pending_tail = p;
		sub->pending_bytes += f->len;
		if (over_cap(sub->pending_bytes, 0))
			subscriber_drop(sub);
	}
}

/* --- replay ------------------------------------------------------------------------------- */

static void replay_done(const struct db_result *result, void *arg);
static void replay_start(struct subscriber *sub);

/* Replays from each subscriber's cursor, in one query. */
/* Sends the batch being gathered: one query for every subscriber that asked for a replay in
 * this loop iteration (a reconnection storm after a failover is then a few queries, not
 * one per client). */
static void replay_flush(void)
{
	struct replay *rp = E.building;
	E.building = NULL;
	if (!rp)
		return;
	int n = 0;
	for (int i = 0; i < rp->n; i++)
		if (rp->subs[i]) { /* NULL: gone since it asked */
			rp->subs[n] = rp->subs[i];
			rp->subs[n]->replay_index = n;
			n++;
		}
	rp->n = n;
	if (n == 0) {
		free(rp);
		return;
	}
	size_t cap = (size_t)n * 21 + 3;
	char *users = xmalloc(cap), *afters = xmalloc(cap);
	size_t lu = 0, la = 0;
	users[lu++] = '{';
	afters[la++] = '{';
	for (int i = 0; i < n; i++) {
		lu += (size_t)snprintf(users + lu, cap - lu, "%s%lld", i ? "," : "", (long long)rp->subs[i]->user_id);
		la += (size_t)snprintf(afters + la, cap - la, "%s%lld", i ? "," : "", (long long)rp->subs[i]->cursor);
	}
	snprintf(users + lu, cap - lu, "}");
	snprintf(afters + la, cap - la, "}");
	const char *values[] = {users, afters};
	db_query(E.w->db, &stmt_replay, values, replay_done, rp);
	free(users);
	free(afters);
}

static void replay_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	replay_flush();
}

/* Replays from the subscriber's cursor, at the end of this loop iteration; live events wait
 * in its pending list meanwhile. */
static void replay_start(struct subscriber *sub)
{
	if (!E.building) {
		E.building = xmalloc(sizeof *E.building + REPLAY_BATCH * sizeof E.building->subs[0]);
		E.building->n = 0;
		event_active(E.replay_event, EV_TIMEOUT, 0);
	}
	sub->replay = E.building;
	sub->replay_index = E.building->n;
	sub->replaying = true;
	E.building->subs[E.building->n++] = sub;
	if (E.building->n == REPLAY_BATCH)
		replay_flush();
}

/* Sends rows [first, last) of the replay, then the live events that waited, minus those the
 * replay (or the one before it, while its fence is up) already had. */
static void replay_deliver(struct subscriber *sub, const PGresult *r, int first, int last)
{
	int n = last - first;
	int64_t *ids = xmalloc((size_t)(n + 1) * sizeof *ids);
	int id_col = PQfnumber(r, "id");
	for (int i = 0; i < n; i++)
		ids[i] = strtoll(PQgetvalue(r, first + i, id_col), NULL, 10); /* ascending: ORDER BY */
	bool ok = true;
	for (int row = first; row < last && ok; row++) {
		struct frame *f = frame_from_json(db_row_json(r, row));
		if (f)
			ok = send_frame(sub, f, true, row == first);
		frame_unref(f);
	}
	sub->replaying = false;
	for (struct pending *p = sub->pending_head; p && ok; p = p->next)
		if (!id_in(ids, (size_t)n, p->frame->id) && !id_in(sub->replayed, (size_t)sub->nreplayed, p->frame->id))
			ok = send_frame(sub, p->frame, false, false);
	pending_clear(sub);
	if (n > 0 && ok)
		fence_keep(sub, ids, n);
	else
		free(ids);
	if (ok && sub->replay_again) {
		sub->replay_again = false;
		replay_start(sub);
	}
}

static void replay_done(const struct db_result *result, void *arg)
{
	struct replay *rp = arg;
	const PGresult *r = result->status == DB_OK ? result->results[0] : NULL;
	int rows = r ? PQntuples(r) : 0, row = 0;
	int ord_col = r ? PQfnumber(r, "_ord") : -1;
	if (!r && E.running)
		log_warn("live events: replay failed (%s); ending %d streams so that they reconnect",
		         result->message ? result->message : "database error", rp->n);
	for (int i = 0; i < rp->n; i++) {
		int first = row;
		while (row < rows && strtoll(PQgetvalue(r, row, ord_col), NULL, 10) == i + 1)
			row++;
		struct subscriber *sub = rp->subs[i];
		if (!sub)
			continue;
		sub->replay = NULL;
		if (!r) {
			/* The client reconnects with the last id it got and tries again. */
			sub->replaying = false;
			pending_clear(sub);
			subscriber_end(sub);
			continue;
		}
		replay_deliver(sub, r, first, row);
	}
	free(rp);
}

/* --- the bus ------------------------------------------------------------------------------ */

static void pump(void);
static void probe_heard(uint64_t seq);

static void fetch_done(const struct db_result *result, void *arg)
{
	struct queued *q = arg;
	if (q->orphan) {
		free(q);
		return;
	}
	q->fetching = false;
	q->done = true;
	if (result->status != DB_OK)
		q->failed = true;
	else if (PQntuples(result->results[0]) == 1)
		q->frame = frame_from_json(db_row_json(result->results[0], 0));
	pump();
}

/* Delivers queued events in order; stops at an event whose row is still being fetched. */
static void pump(void)
{
	while (E.qhead) {
		struct queued *q = E.qhead;
		if (!q->done) {
			if (!q->fetching) {
				q->fetching = true;
				const char *values[] = {q->id, q->user_id};
				db_query(E.w->db, &stmt_fetch, values, fetch_done, q);
			}
			return;
		}
		E.qhead = q->next;
		if (!E.qhead)
			E.qtail = NULL;
		if (q->frame) {
			fan_out(q->frame, q->user);
			frame_unref(q->frame);
		} else if (q->failed) {
			/* The event cannot be read now: its subscribers reconnect and replay it. */
			for (struct subscriber *s = E.buckets[bucket_of(q->user)]; s; s = s->hnext)
				if (s->user_id == q->user)
					subscriber_end(s);
		}
		free(q);
	}
}

static void on_event(const char *channel, const char *payload, void *arg)
{
	if (!E.running)
		return;
	if (!strncmp(payload, "{\"probe\":\"", 10)) {
		size_t k = strlen(E.nonce);
		if (!strncmp(payload + 10, E.nonce, k) && payload[10 + k] == '-')
			probe_heard(strtoull(payload + 11 + k, NULL, 10));
		return; /* or another worker's */
	}
	json_t *j = json_loads(payload, 0, NULL);
	json_t *jid = json_object_get(j, "id"), *juser = json_object_get(j, "user_id");
	if (!json_is_integer(jid) || !json_is_integer(juser)) {
		log_warn("live events: ignoring a malformed payload on relais_events");
		json_decref(j);
		return;
	}
	int64_t id = json_integer_value(jid), user = json_integer_value(juser);
	if (id > E.high_water)
		E.high_water = id;
	if (!has_subscribers(user)) {
		json_decref(j);
		return;
	}
	struct frame *f = NULL;
	bool truncated = json_is_true(json_object_get(j, "truncated"));
	if (!truncated) {
		json_object_del(j, "user_id");
		normalize_time(j, "created_at");
		f = frame_from_json(json_incref(j));
	}
	json_decref(j);
	if (!truncated && !f)
		return;
	if (!E.qhead && f) {
		fan_out(f, user);
		frame_unref(f);
		return;
	}
	struct queued *q = xcalloc(1, sizeof *q);
	snprintf(q->id, sizeof q->id, "%lld", (long long)id);
	snprintf(q->user_id, sizeof q->user_id, "%lld", (long long)user);
	q->user = user;
	q->frame = f;
	q->done = f != NULL;
	if (E.qtail)
		E.qtail->next = q;
	else
		E.qhead = q;
	E.qtail = q;
	pump();
}

static void arm_catchup(int64_t ms)
{
	if (E.catchup_armed)
		return;
	E.catchup_armed = true;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(E.catchup, &tv);
}

/* The bus is back: everyone replays from the last id they were sent, once a probe sent
 * since the reconnection has come back (LISTEN is in effect: see "probes and fences"). */
static void catchup_cb(evutil_socket_t fd, short what, void *arg)
{
	E.catchup_armed = false;
	if (!db_listener_connected(E.w->listener)) {
		E.listening = false;
		E.catchup_probe = 0;
		arm_catchup(CATCHUP_POLL_MS);
		return;
	}
	if (!E.listening) {
		uint64_t seq = send_probe(); /* again after PROBE_TIMEOUT_MS; any of them will do */
		if (!E.catchup_probe)
			E.catchup_probe = seq;
		arm_catchup(PROBE_TIMEOUT_MS);
		return;
	}
	for (struct subscriber *sub = E.all; sub; sub = sub->next) {
		if (!sub->stale || sub->closing)
			continue;
		sub->stale = false;
		if (sub->replaying) {
			sub->replay_again = true;
		} else if (!sub->cursor_known) {
			subscriber_end(sub); /* cannot tell what it missed: let it reconnect */
		} else {
			replay_start(sub);
		}
	}
}

static void probe_heard(uint64_t seq)
{
	if (seq > E.probe_heard)
		E.probe_heard = seq;
	fences_release();
	if (!E.listening && E.catchup_probe && E.probe_heard >= E.catchup_probe) {
		E.listening = true;
		if (E.catchup_armed) {
			evtimer_del(E.catchup);
			E.catchup_armed = false;
		}
		catchup_cb(-1, 0, NULL);
	}
}

static void on_reconnect(void *arg)
{
	if (!E.running)
		return;
	for (struct subscriber *sub = E.all; sub; sub = sub->next)
		sub->stale = true;
	E.listening = false;
	E.catchup_probe = 0;
	if (E.catchup_armed) {
		evtimer_del(E.catchup);
		E.catchup_armed = false;
	}
	arm_catchup(0);
}

/* --- sessions ----------------------------------------------------------------------------- */

struct session_check {
	size_t n;
	int64_t ids[];
};

static void sessions_checked(const struct db_result *result, void *arg);

/* One query for every session that has a stream here. */
static void sessions_check(void)
{
	if (E.checking_sessions) {
		E.recheck_sessions = true;
		return;
	}
	if (!E.count)
		return;
	struct session_check *c = xmalloc(sizeof *c + (size_t)E.count * sizeof c->ids[0]);
	c->n = 0;
	for (struct subscriber *sub = E.all; sub; sub = sub->next)
		if (!sub->closing)
			c->ids[c->n++] = sub->session_id;
	qsort(c->ids, c->n, sizeof c->ids[0], cmp_id);
	size_t u = 0;
	for (size_t i = 0; i < c->n; i++)
		if (u == 0 || c->ids[u - 1] != c->ids[i])
			c->ids[u++] = c->ids[i];
	c->n = u;
	size_t cap = u * 21 + 3, len = 0;
	char *list = xmalloc(cap);
	list[len++] = '{';
	for (size_t i = 0; i < u; i++)
		len += (size_t)snprintf(list + len, cap - len, "%s%lld", i ? "," : "", (long long)c->ids[i]);
	snprintf(list + len, cap - len, "}");
	char idle[32];
	snprintf(idle, sizeof idle, "%lld", (long long)(E.w->cfg->session_idle_ms / 1000));
	const char *values[] = {list, idle};
	E.checking_sessions = true;
	db_query(E.w->db, &stmt_sessions_valid, values, sessions_checked, c);
	free(list);
}

static void sessions_checked(const struct db_result *result, void *arg)
{
	struct session_check *c = arg;
	if (!E.running) {
		free(c);
		return;
	}
	E.checking_sessions = false;
	if (result->status == DB_OK) {
		const PGresult *r = result->results[0];
		size_t nvalid = (size_t)PQntuples(r);
		int64_t *valid = xmalloc((nvalid + 1) * sizeof *valid);
		for (size_t i = 0; i < nvalid; i++)
			valid[i] = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
		/* Only sessions that were asked about: streams opened meanwhile are not judged. */
		for (struct subscriber *sub = E.all; sub; sub = sub->next)
			if (id_in(c->ids, c->n, sub->session_id) && !id_in(valid, nvalid, sub->session_id))
				subscriber_end(sub);
		free(valid);
	}
	free(c);
	if (E.recheck_sessions) {
		E.recheck_sessions = false;
		sessions_check();
	}
}

/* Payload: the ended session ids, comma-separated, or "*" (too many: check them all). */
static void on_sessions(const char *channel, const char *payload, void *arg)
{
	if (!E.running || !E.count)
		return;
	if (!strcmp(payload, "*")) {
		sessions_check();
		return;
	}
	size_t cap = 16, n = 0;
	int64_t *ended = xmalloc(cap * sizeof *ended);
	for (const char *p = payload; *p;) {
		char *end;
		long long v = strtoll(p, &end, 10);
		if (end == p)
			break;
		if (n == cap)
			ended = xrealloc(ended, (cap *= 2) * sizeof *ended);
		ended[n++] = v;
		p = *end == ',' ? end + 1 : end;
	}
	qsort(ended, n, sizeof *ended, cmp_id);
	for (struct subscriber *sub = E.all; sub; sub = sub->next)
		if (id_in(ended, n, sub->session_id))
			subscriber_end(sub);
	free(ended);
}

static void on_sessions_reconnect(void *arg)
{
	if (E.running)
		sessions_check(); /* sign-outs announced while the bus was down */
}

/* --- heartbeat ---------------------------------------------------------------------------- */

static void high_water_loaded(const struct db_result *result, void *arg)
{
	if (!E.running)
		return;
	E.high_water_loading = false;
	if (result->status != DB_OK)
		return; /* tried again at the next heartbeat */
	int64_t id = db_int(result->results[0], 0, "id");
	if (id > E.high_water)
		E.high_water = id;
	E.high_water_known = true;
	for (struct subscriber *sub = E.all; sub; sub = sub->next)
		if (!sub->cursor_known) {
			sub->cursor = sub->cursor > E.high_water ? sub->cursor : E.high_water;
			sub->cursor_known = true;
		}
}

static void load_high_water(void)
{
	if (E.high_water_known || E.high_water_loading)
		return;
	E.high_water_loading = true;
	db_query(E.w->db, &stmt_high_water, NULL, high_water_loaded, NULL);
}

static void heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	const size_t len = sizeof HEARTBEAT - 1;
	for (struct subscriber *sub = E.all; sub; sub = sub->next) {
		if (sub->closing)
			continue;
		if (http_stream_received(sub->stream) > 0) {
			/* Nothing is to be sent on a stream after its request. */
			sub->closing = true;
			http_stream_abort(sub->stream);
			continue;
		}
		if (sub->replaying)
			continue;
		if (over_cap(http_stream_queued(sub->stream), len))
			subscriber_drop(sub);
		else
			http_stream_write(sub->stream, HEARTBEAT, len);
	}
	sessions_check();
	load_high_water();
}

/* --- handlers ----------------------------------------------------------------------------- */

static bool parse_id(const char *v, long long *out)
{
	size_t n = strlen(v);
	if (n == 0 || n > 18 || strspn(v, "0123456789") != n)
		return false;
	*out = strtoll(v, NULL, 10);
	return true;
}

void events_stream(struct http_req *req)
{
	const char *field = "Last-Event-ID";
	const char *raw = http_header(req, "Last-Event-ID");
	if (!raw || !*raw) {
		field = "last_event_id";
		raw = http_query(req, "last_event_id");
	}
	long long after = -1;
	if (raw && *raw && !parse_id(raw, &after)) {
		http_reply_error(req, 400, "invalid_query", "The last event id is a notification id (digits).", field);
		return;
	}
	if (!E.running || req->worker->stop_deadline_ms) {
		http_set_header(req, "Retry-After", "1");
		http_reply_error(req, 503, "shutting_down", "The server is restarting; reconnect shortly.", NULL);
		return;
	}
	/* Browsers hold at most a handful per person (6 connections per host over HTTP/1.1); a
	 * script reconnecting in a loop without closing would otherwise use up the descriptors. */
	int cap = req->worker->cfg->sse_max_per_user;
	if (cap && subscriber_count(req->who.user_id) >= cap) {
		http_set_header(req, "Retry-After", "5");
		http_reply_error(req, 429, "too_many_streams", "You have too many live event streams open; close some.",
		                 NULL);
		return;
	}
	struct subscriber *sub = xcalloc(1, sizeof *sub);
	sub->user_id = req->who.user_id;
	sub->session_id = req->who.session_id;
	int64_t heartbeat = req->worker->cfg->sse_heartbeat_ms;
	int64_t write_timeout = heartbeat * 3 > 30000 ? heartbeat * 3 : 30000;
	struct http_stream *st = http_stream_start(req, write_timeout, subscriber_closed, sub);
	if (!st) {
		free(sub);
		return;
	}
	sub->stream = st;
	E.count++;
	index_grow(); /* rehashes those already in E.all: the new one goes in after */
	sub->next = E.all;
	if (E.all)
		E.all->prev = sub;
	E.all = sub;
	bucket_insert(sub);
	metrics_set_sse(E.count);
	http_stream_write(st, RETRY_HINT, sizeof RETRY_HINT - 1);
	if (after >= 0) {
		sub->cursor = after;
		sub->cursor_known = true;
		replay_start(sub);
	} else {
		sub->cursor = E.high_water;
		sub->cursor_known = E.high_water_known;
	}
	if (!db_listener_connected(E.w->listener)) {
		sub->stale = true;
		arm_catchup(CATCHUP_POLL_MS);
	}
}

/* --- start and stop ----------------------------------------------------------------------- */

void events_start(struct worker *w)
{
	memset(&E, 0, sizeof E);
	E.w = w;
	E.nbuckets = 8; /* grows with the subscribers (index_grow) */
	E.buckets = xcalloc(E.nbuckets, sizeof *E.buckets);
	E.heartbeat = event_new(w->base, -1, EV_PERSIST, heartbeat_cb, NULL);
	E.catchup = evtimer_new(w->base, catchup_cb, NULL);
	E.replay_event = event_new(w->base, -1, 0, replay_flush_cb, NULL);
	int64_t hb = w->cfg->sse_heartbeat_ms;
	struct timeval tv = {hb / 1000, (hb % 1000) * 1000};
	event_add(E.heartbeat, &tv);
	if (!db_subscribe(w->listener, "relais_events", on_event, on_reconnect, NULL) ||
	    !db_subscribe(w->listener, "relais_sessions", on_sessions, on_sessions_reconnect, NULL))
		log_error("live events: cannot subscribe to the bus");
	unsigned char nonce[8];
	randombytes_buf(nonce, sizeof nonce);
	sodium_bin2hex(E.nonce, sizeof E.nonce, nonce, sizeof nonce);
	E.running = true;
	load_high_water();
}

void events_shutdown(struct worker *w)
{
	if (w->http)
		http_server_end_streams(w->http);
}

void events_stop(struct worker *w)
{
	if (!E.running && !E.buckets)
		return;
	E.running = false;
	struct subscriber *sub, *next;
	for (sub = E.all; sub; sub = next) {
		next = sub->next;
		http_stream_disown(sub->stream);
		if (sub->replay)
			sub->replay->subs[sub->replay_index] = NULL;
		pending_clear(sub);
		free(sub->replayed);
		free(sub);
	}
	E.all = NULL;
	E.fence_head = E.fence_tail = NULL;
	E.count = 0;
	struct queued *q, *qnext;
	for (q = E.qhead; q; q = qnext) {
		qnext = q->next;
		frame_unref(q->frame);
		if (q->fetching)
			q->orphan = true; /* fetch_done frees it */
		else
			free(q);
	}
	E.qhead = E.qtail = NULL;
	if (E.heartbeat)
		event_free(E.heartbeat);
	if (E.catchup)
		event_free(E.catchup);
	if (E.replay_event)
		event_free(E.replay_event);
	free(E.building); /* its subscribers are gone: nothing was sent */
	E.building = NULL;
	E.replay_event = NULL;
	E.heartbeat = E.catchup = NULL;
	free(E.buckets);
	E.buckets = NULL;
	metrics_set_sse(0);
}
