/* Long-lived responses (server-sent events).
 *
 * A stream is a 200 answer whose body never ends on its own: chunked output written as things
 * happen. Starting one ends the request as far as the rest of the server is concerned (it is
 * logged and counted as a 200, its arena and struct are recycled, it no longer counts as in
 * flight), frees what a stream does not need (the request and response headers), exempts the
 * connection from the header deadline and the idle timeout, and watches the socket for
 * the client going away.
 *
 * Lifetime: `closed` runs exactly once, when the connection is gone for whatever reason
 * (client hung up, http_stream_end() or http_stream_abort() took effect, write timeout,
 * server freed), always from the event loop and never inside an http_stream_* call; the
 * stream is invalid after it. http_stream_disown() stops the callback (owner going away). */
#ifndef RELAIS_HTTP_SSE_H
#define RELAIS_HTTP_SSE_H

#include "core/common.h"

struct http_req;
struct http_server;
struct http_stream;

typedef void (*http_stream_closed_cb)(struct http_stream *st, void *arg);

/* Answers `req` with 200 and the event-stream headers and returns the open stream; NULL when
 * the client is already gone or for HEAD (answered with the headers alone). `write_timeout_ms`:
 * output that makes no progress this long closes the stream. */
struct http_stream *http_stream_start(struct http_req *req, int64_t write_timeout_ms, http_stream_closed_cb closed,
                                      void *arg);
/* Queues bytes (one chunk). False once the stream is ending or aborted. */
bool http_stream_write(struct http_stream *st, const char *data, size_t len);
/* Bytes queued in user space and not yet taken by the kernel. */
size_t http_stream_queued(const struct http_stream *st);
/* Bytes the client sent after its request (nothing is expected on a stream). */
size_t http_stream_received(const struct http_stream *st);
/* Ends the body cleanly (last chunk, then the connection closes) at the end of this loop
 * iteration; what was queued is still delivered. */
void http_stream_end(struct http_stream *st);
/* Drops the connection now (reset), discarding queued output. */
void http_stream_abort(struct http_stream *st);
/* No `closed` callback any more; the stream goes on until the connection goes. */
void http_stream_disown(struct http_stream *st);

/* SIGTERM: ends every stream (aborts those with a large backlog) so that a graceful stop
 * does not wait for clients that never hang up. */
void http_server_end_streams(struct http_server *s);
int http_server_stream_count(const struct http_server *s);

#endif
