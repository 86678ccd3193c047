/* Shared by the files of the http/ folder only. */
#ifndef RELAIS_HTTP_INTERNAL_H
#define RELAIS_HTTP_INTERNAL_H

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <sys/uio.h>

#include "http/parse.h"
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

/* --- streams (sse.c) and the connection side of them (conn.c) ---------------------------- */

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
/* The stream's connection is gone: called by conn.c, from the event loop. */
void http_stream_conn_gone(struct http_stream *st);

/* --- the server and its connections (server.c, conn.c, answer.c) ---------------------------- */

#define MAX_FIELDS 128

struct ipnet;
struct ratelimit;

enum conn_state { C_READ, C_STREAM, C_LINGER };

struct http_conn {
	struct http_conn *prev, *next; /* all connections */
	struct http_server *server;
	int fd;
	enum conn_state state;
	struct event rev, wev;
	bool rev_on, wev_on;
	char *in; /* input: [in_off, in_len) not consumed yet; NULL when empty */
	size_t in_cap, in_len, in_off, scanned;
	size_t head_len, body_len; /* of the current request, once its head is parsed */
	bool dispatched;           /* the current request has gone to its handler */
	struct evbuffer *out;      /* what the kernel has not taken yet */
	struct http_req *current;
	struct http_stream *stream;
	size_t received; /* bytes a stream's client sent after its request */
	int64_t header_deadline_ms, idle_deadline_ms, write_deadline_ms, linger_deadline_ms;
	int64_t write_timeout_ms;
	bool over_cap, close_after, dead, chunked;
	bool read_eof; /* the client has finished sending (what is buffered is still served) */
	bool closing;  /* an answer said Connection: close: no further request is served */
	int busy;      /* inside conn_process: pipelined requests are picked up by its loop */
	char peer[INET6_ADDRSTRLEN];
};

struct http_server {
	struct worker *worker;
	int listen_fd;
	struct event *listen_ev, *accept_pause;
	const struct route *routes;
	size_t nroutes;
	int64_t max_body; /* the largest body any route takes */
	struct http_conn *conns;
	int nconns, in_flight;
	struct event *sweep;
	struct http_req *spare; /* answered requests kept for reuse */
	int nspare;
	void *spare_bufs; /* input buffers of IN_BUF_SIZE kept for reuse (linked by their first bytes) */
	int nspare_bufs;
	struct http_field fields[MAX_FIELDS]; /* the head being parsed; copied into the request */
	struct ratelimit *limiter;
	struct ipnet *trusted_proxies;
	int ntrusted_proxies;
	char request_id_prefix[24];
	uint64_t request_counter;
	struct http_streams streams;
};

/* conn.c: connections. */
/* The listening, accept-pause and sweep events; false when one cannot be set up. */
bool http_conn_listen(struct http_server *s);
/* Queues or writes iov[0..n) (the last one not copied when `last_static`); false when the
 * connection failed. */
bool http_conn_write(struct http_conn *c, struct iovec *iov, int n, bool last_static);
/* The connection's current request is answered: the next one may start (or its stream
 * goes on without it). */
void http_conn_request_done(struct http_conn *c, struct http_req *req);
void http_conn_free(struct http_conn *c);

/* server.c: requests, from a parsed head (or a head that could not be parsed) to the handler. */
void http_request_start(struct http_conn *c, const struct http_head *h);
void http_request_error(struct http_conn *c, long rc);
void http_dispatch(struct http_server *s, struct http_req *req);

/* answer.c: the status line and headers of an answer, in the request's arena; `stream`: a
 * body of unknown length (chunked on HTTP/1.1), after which the connection closes. */
size_t http_render_head(struct http_req *req, int status, size_t body_len, bool stream, char **out);

#endif
