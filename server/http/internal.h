/* Shared by the files of the http/ folder only. */
#ifndef RELAIS_HTTP_INTERNAL_H
#define RELAIS_HTTP_INTERNAL_H

#include <event2/event.h>

#include "http/request.h"

/* One policy for every response: the web app needs nothing looser. */
#define HTTP_CSP                                                                                                       \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "          \
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

/* A header the answer carries besides the common ones (http_set_header). */
struct http_out_header {
	struct http_out_header *next;
	const char *name, *value;
};

/* Writes the answer: status line, common and own headers, body (not for HEAD, 204, 304).
 * `static_body`: the bytes outlive the request (otherwise copied when not written at once).
 * Then http_after_reply() ends the request. */
void http_send(struct http_req *req, int status, const void *body, size_t len, bool static_body);
void http_after_reply(struct http_req *req);
/* Percent-decoding into the arena; NULL when the result would hold a NUL. */
const char *http_percent_decode(struct arena *a, const char *s, size_t n);

/* --- streams (sse.c) and the connection tracking of server.c ------------------------------ */

struct http_stream;
struct http_server;

/* Per server: the open streams and the deferred ends. */
struct http_streams {
	struct http_stream *all;
	struct http_stream *ending; /* http_stream_end() waiting for the end of the loop iteration */
	struct event *end_event;
	int count;
};

void http_streams_init(struct http_streams *streams, struct event_base *base);
/* At server teardown, after every connection is gone. */
void http_streams_free(struct http_streams *streams);
struct http_streams *http_server_streams(struct http_server *s);

/* Sends the stream's headers; from then on the connection carries the stream: no read
 * deadline, a write deadline of `write_timeout_ms`. False when the connection failed. */
bool http_conn_stream_start(struct http_req *req, struct http_stream *st, int64_t write_timeout_ms);
/* Queues one chunk (len > 0), and/or the last one (`last`: then the connection closes once
 * everything is written). Written from the event loop. */
void http_conn_stream_write(struct http_conn *c, const void *data, size_t len, bool last);
size_t http_conn_queued(const struct http_conn *c);
size_t http_conn_received(const struct http_conn *c);
/* Resets the connection (queued output dropped), from the event loop. */
void http_conn_abort(struct http_conn *c);
/* The stream's connection is gone: called by server.c, from the event loop. */
void http_stream_conn_gone(struct http_stream *st);

#endif
