/* Streamed answers (see sse.h) on the server's own connections (conn.c): a stream is a
 * connection in stream state. Its headers go out at once; chunks are queued and written by
 * the connection's write event, so that a fan-out of many events in one loop iteration costs
 * one write per connection; the read event stays on to see the client hang up (bytes it sends
 * are counted, reading stops past STREAM_INPUT_MAX in conn.c); output that makes no
 * progress for the write timeout closes the connection. Every close goes through the event
 * loop, which then calls http_stream_conn_gone(): the `closed` callback never runs inside an
 * http_stream_* call. */
#include "http/sse.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "core/worker.h"
#include "http/internal.h"
#include "http/server.h"

/* At shutdown a stream with more than this still queued is dropped rather than flushed. */
#define END_FLUSH_MAX (64 * 1024)

struct http_stream {
	struct http_stream *prev, *next; /* the server's open streams */
	struct http_stream *end_next;    /* the server's list of deferred ends */
	struct http_streams *list;
	struct http_conn *conn;
	http_stream_closed_cb closed;
	void *arg;
	bool ending, aborted;
};

static void end_streams_cb(evutil_socket_t fd, short what, void *arg);

void http_streams_init(struct http_streams *streams, struct event_base *base)
{
	memset(streams, 0, sizeof *streams);
	streams->end_event = event_new(base, -1, 0, end_streams_cb, streams);
}

void http_streams_free(struct http_streams *streams)
{
	/* Every connection is gone by now, and with it every stream. */
	if (streams->end_event)
		event_free(streams->end_event);
	memset(streams, 0, sizeof *streams);
}

static void unlink_ending(struct http_stream *st)
{
	for (struct http_stream **pp = &st->list->ending; *pp; pp = &(*pp)->end_next)
		if (*pp == st) {
			*pp = st->end_next;
			break;
		}
}

void http_stream_conn_gone(struct http_stream *st)
{
	if (st->ending)
		unlink_ending(st);
	struct http_streams *list = st->list;
	if (st->prev)
		st->prev->next = st->next;
	else
		list->all = st->next;
	if (st->next)
		st->next->prev = st->prev;
	list->count--;
	if (st->closed)
		st->closed(st, st->arg);
	free(st);
}

struct http_stream *http_stream_start(struct http_req *req, int64_t write_timeout_ms, http_stream_closed_cb closed,
                                      void *arg)
{
	http_set_header(req, "Content-Type", "text/event-stream; charset=utf-8");
	http_set_header(req, "Cache-Control", "no-store");
	/* nginx and friends would otherwise buffer the stream. */
	http_set_header(req, "X-Accel-Buffering", "no");
	/* A stream is never followed by another request on its connection. */
	http_set_header(req, "Connection", "close");
	struct http_conn *c = req->conn;
	if (!c || req->method == HTTP_HEAD) {
		http_reply_empty(req, 200);
		return NULL;
	}
	struct http_streams *list = http_server_streams(req->worker->http);
	struct http_stream *st = xcalloc(1, sizeof *st);
	st->list = list;
	st->conn = c;
	st->closed = closed;
	st->arg = arg;
	if (!http_conn_stream_start(req, st, write_timeout_ms)) {
		free(st);
		http_after_reply(req); /* the connection failed: it closes from the loop */
		return NULL;
	}
	st->next = list->all;
	if (list->all)
		list->all->prev = st;
	list->all = st;
	list->count++;
	http_after_reply(req); /* logged and counted now; the request struct is recycled */
	return st;
}

bool http_stream_write(struct http_stream *st, const char *data, size_t len)
{
	if (!st->conn || st->ending || st->aborted)
		return false;
	if (len)
		http_conn_stream_write(st->conn, data, len, false);
	return true;
}

size_t http_stream_queued(const struct http_stream *st)
{
	return st->conn ? http_conn_queued(st->conn) : 0;
}

size_t http_stream_received(const struct http_stream *st)
{
	return st->conn ? http_conn_received(st->conn) : 0;
}

static void end_streams_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_streams *list = arg;
	struct http_stream *st;
	while ((st = list->ending)) {
		list->ending = st->end_next;
		st->end_next = NULL;
		/* The last chunk is queued; the connection closes once it is written, and the
		 * closed callback runs then. */
		http_conn_stream_write(st->conn, NULL, 0, true);
	}
}

void http_stream_end(struct http_stream *st)
{
	if (st->ending || st->aborted)
		return;
	st->ending = true;
	st->end_next = st->list->ending;
	st->list->ending = st;
	event_active(st->list->end_event, EV_TIMEOUT, 0);
}

void http_stream_abort(struct http_stream *st)
{
	if (st->aborted)
		return;
	if (st->ending)
		unlink_ending(st);
	st->ending = false;
	st->aborted = true;
	http_conn_abort(st->conn);
}

void http_stream_disown(struct http_stream *st)
{
	st->closed = NULL;
	st->arg = NULL;
}

void http_server_end_streams(struct http_server *s)
{
	struct http_streams *list = http_server_streams(s);
	for (struct http_stream *st = list->all; st; st = st->next) {
		if (http_stream_queued(st) > END_FLUSH_MAX)
			http_stream_abort(st);
		else
			http_stream_end(st);
	}
}

int http_server_stream_count(const struct http_server *s)
{
	return http_server_streams((struct http_server *)s)->count;
}
