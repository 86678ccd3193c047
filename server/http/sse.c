/* Streamed answers on evhttp 2.1 (see sse.h). What evhttp does with a reply started by
 * evhttp_send_reply_start() and never ended, and what follows here:
 *  - it stops reading the socket once a request is complete, so a client that hangs up is
 *    only noticed when a write fails: we enable reading again (without a read callback the
 *    bytes just sit in the input buffer, bounded by a watermark) so EOF is seen at once;
 *  - on EOF or a timeout it detaches an unfinished request from its connection, frees the
 *    connection (our close callback runs) and leaves the request to us: we free it then;
 *  - its read timeout (keepalive_timeout) would end a quiet stream: the stream keeps only a
 *    write timeout, so a client that stops reading is dropped, one that stays silent is not;
 *  - after evhttp_send_reply_end() the request is freed once the last chunk is written (the
 *    on-complete callback tells us), then the connection closes ("Connection: close"). */
#include "http/sse.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/worker.h"
#include "http/internal.h"
#include "http/server.h"

/* Nothing is expected from the client once its stream is open: reading stops at this much. */
#define STREAM_INPUT_MAX 4096
/* At shutdown a stream with more than this still queued is dropped rather than flushed. */
#define END_FLUSH_MAX (64 * 1024)

struct http_stream {
	struct http_stream *prev, *next; /* the server's open streams */
	struct http_stream *end_next;    /* the server's list of deferred ends */
	struct http_streams *list;
	struct http_conn *conn;
	struct evhttp_request *ev; /* NULL once evhttp has completed (and freed) it */
	http_stream_closed_cb closed;
	void *arg;
	bool ending, aborted;
};

static void end_streams_cb(evutil_socket_t fd, short what, void *arg);

void http_streams_init(struct http_streams *streams, struct event_base *base)
{
	memset(streams, 0, sizeof *streams);
	streams->end_event = event_new(base, -1, 0, end_streams_cb, streams);
	streams->scratch = evbuffer_new();
}

void http_streams_free(struct http_streams *streams)
{
	/* Every connection is gone by now, and with it every stream. */
	if (streams->end_event)
		event_free(streams->end_event);
	if (streams->scratch)
		evbuffer_free(streams->scratch);
	memset(streams, 0, sizeof *streams);
}

static void stream_completed(struct evhttp_request *ev, void *arg)
{
	struct http_stream *st = arg;
	st->ev = NULL;
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
	/* Detached by evhttp (EOF, timeout): the request is ours to free. Still attached (the
	 * server is being freed): evhttp frees it right after this callback. */
	if (st->ev && !evhttp_request_get_connection(st->ev))
		evhttp_request_free(st->ev);
	st->ev = NULL;
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
	if (!req->ev || !c || req->method == HTTP_HEAD) {
		http_reply_empty(req, 200);
		return NULL;
	}
	struct evhttp_request *ev = req->ev;
	struct http_streams *list = http_server_streams(req->worker->http);
	http_finish_headers(req, 200);
	evhttp_send_reply_start(ev, 200, "OK");

	struct http_stream *st = xcalloc(1, sizeof *st);
	st->list = list;
	st->conn = c;
	st->ev = ev;
	st->closed = closed;
	st->arg = arg;
	st->next = list->all;
	if (list->all)
		list->all->prev = st;
	list->all = st;
	list->count++;
	evhttp_request_set_on_complete_cb(ev, stream_completed, st);

	/* The headers are on their way: their parsed copies would cost about 1 KiB per open
	 * stream. The Connection header stays, evhttp reads it to close after the last chunk. */
	evhttp_clear_headers(evhttp_request_get_input_headers(ev));
	evhttp_clear_headers(evhttp_request_get_output_headers(ev));
	evhttp_add_header(evhttp_request_get_output_headers(ev), "Connection", "close");

	struct bufferevent *bev = http_conn_bev(c);
	struct timeval wt = {write_timeout_ms / 1000, (write_timeout_ms % 1000) * 1000};
	bufferevent_set_timeouts(bev, NULL, &wt);
	bufferevent_setwatermark(bev, EV_READ, 0, STREAM_INPUT_MAX);
	bufferevent_enable(bev, EV_READ);

	http_after_reply(req); /* logged and counted now; the request struct is recycled */
	http_conn_set_stream(c, st);
	return st;
}

bool http_stream_write(struct http_stream *st, const char *data, size_t len)
{
	if (!st->ev || st->ending || st->aborted)
		return false;
	evbuffer_add(st->list->scratch, data, len);
	evhttp_send_reply_chunk(st->ev, st->list->scratch);
	evbuffer_drain(st->list->scratch, evbuffer_get_length(st->list->scratch));
	return true;
}

size_t http_stream_queued(const struct http_stream *st)
{
	return evbuffer_get_length(bufferevent_get_output(http_conn_bev(st->conn)));
}

size_t http_stream_received(const struct http_stream *st)
{
	return evbuffer_get_length(bufferevent_get_input(http_conn_bev(st->conn)));
}

static void end_streams_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_streams *list = arg;
	struct http_stream *st;
	while ((st = list->ending)) {
		list->ending = st->end_next;
		st->end_next = NULL;
		/* May free the request, the connection and the stream at once (the closed
		 * callback runs): nothing touches st after this call. */
		if (st->ev)
			evhttp_send_reply_end(st->ev);
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
	struct bufferevent *bev = http_conn_bev(st->conn);
	int fd = bufferevent_getfd(bev);
	if (fd < 0)
		return;
	/* Reset rather than flush: a subscriber dropped for not reading would otherwise keep
	 * its backlog in the kernel. Shutting down the reading side makes evhttp see EOF on the
	 * next loop iteration and free the connection (the closed callback runs then). */
	struct linger lg = {1, 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	bufferevent_enable(bev, EV_READ);
	shutdown(fd, SHUT_RD);
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
