/* Shared by the files of the http/ folder only. */
#ifndef RELAIS_HTTP_INTERNAL_H
#define RELAIS_HTTP_INTERNAL_H

#include <event2/event.h>

#include "http/request.h"

/* One policy for every response: the web app needs nothing looser. */
#define HTTP_CSP                                                                                            \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

void http_finish_headers(struct http_req *req, int status);
void http_after_reply(struct http_req *req);

/* --- streams (sse.c) and the connection tracking of server.c ------------------------------ */

struct http_stream;
struct http_server;
struct bufferevent;

/* Per server: the open streams and the deferred ends. */
struct http_streams {
	struct http_stream *all;
	struct http_stream *ending; /* http_stream_end() waiting for the end of the loop iteration */
	struct event *end_event;
	struct evbuffer *scratch; /* one chunk's bytes on their way to a connection */
	int count;
};

void http_streams_init(struct http_streams *streams, struct event_base *base);
/* At server teardown, after every connection is gone. */
void http_streams_free(struct http_streams *streams);
struct http_streams *http_server_streams(struct http_server *s);

struct bufferevent *http_conn_bev(const struct http_conn *c);
/* The connection carries a stream from now on: no header deadline until it closes. */
void http_conn_set_stream(struct http_conn *c, struct http_stream *st);
/* The stream's connection is gone (evhttp's close callback): called by server.c. */
void http_stream_conn_gone(struct http_stream *st);

#endif
