#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/worker.h"
#include "http/internal.h"
#include "http/metrics.h"
#include "http/parse.h"
#include "http/ratelimit.h"
#include "http/static.h"

/* Relais's own HTTP/1.1 server on libevent events (see docs/http.md for why: evhttp spent
 * about 65 % of a /healthz request in per-header allocations, printf and epoll_ctl).
 *
 * One connection: a socket with a read event that stays enabled, a write event added only
 * when the kernel does not take a whole answer at once, an input buffer (taken from a
 * per-server free list while bytes are pending, given back when empty) and an output
 * evbuffer for what the kernel has not taken yet. Requests on a connection are handled one
 * at a time, in order (pipelining): the next one is parsed once the current one is answered.
 * An answer is rendered into one buffer (status line, pre-rendered common headers, the
 * handler's own) and written with the body in one sendmsg.
 *
 * Deadlines, checked by a sweep every SWEEP_INTERVAL_MS:
 *  - header_timeout: a request's head must be complete this long after the connection
 *    opened or the previous answer was written (slow-loris clients);
 *  - keepalive_timeout: no byte received for this long while waiting for a request (or for
 *    its body), or an answer making no progress towards the client for this long;
 *  - streams: their own write timeout, no read deadline.
 * A connection is freed from the event loop only (never inside a reply or a stream call):
 * closing marks it dead and activates its write event, whose callback frees it. */

#define SWEEP_INTERVAL_MS 250
#define IN_BUF_SIZE (16 * 1024)
#define MAX_SPARE_BUFFERS 64
#define MAX_FIELDS 128
#define LINGER_MS 2000
#define ACCEPT_BATCH 64
/* Nothing is expected from a client once its stream is open: reading stops at this much. */
#define STREAM_INPUT_MAX 4096

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
	int busy;      /* inside process_input: pipelined requests are picked up by its loop */
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
	char **trusted_proxies; /* NULL-terminated */
	char request_id_prefix[24];
	uint64_t request_counter;
	struct http_streams streams;
	time_t date_at;
	char date[40]; /* "Date: ...\r\n", rendered once a second */
};

static http_gate gate;

static void conn_process(struct http_conn *c);
static void conn_start_close(struct http_conn *c);
static void request_start(struct http_conn *c, const struct http_head *h);
static void request_error(struct http_conn *c, long rc);
static void dispatch(struct http_server *s, struct http_req *req);

/* --- input buffers ------------------------------------------------------------------------ */

static bool buf_reserve(struct http_conn *c, size_t need)
{
	struct http_server *s = c->server;
	if (!c->in) {
		if (s->spare_bufs && need <= IN_BUF_SIZE) {
			c->in = s->spare_bufs;
			memcpy(&s->spare_bufs, c->in, sizeof(void *));
			s->nspare_bufs--;
		} else {
			c->in_cap = need > IN_BUF_SIZE ? need : IN_BUF_SIZE;
			c->in = xmalloc(c->in_cap);
			return true;
		}
		c->in_cap = IN_BUF_SIZE;
		return true;
	}
	if (need <= c->in_cap)
		return true;
	/* A request being handled must not see its buffer move under it. */
	if (c->current && c->dispatched)
		return false;
	size_t cap = c->in_cap * 2 > need ? c->in_cap * 2 : need;
	/* A head waiting for its body: its fields follow the buffer (kept as offsets across
	 * the move). */
	struct http_field *f = c->current ? (struct http_field *)c->current->fields : NULL;
	int nf = c->current ? c->current->nfields : 0;
	for (int i = 0; i < nf; i++) {
		f[i].name = (const char *)(uintptr_t)(f[i].name - c->in);
		f[i].value = (const char *)(uintptr_t)(f[i].value - c->in);
	}
	c->in = xrealloc(c->in, cap);
	c->in_cap = cap;
	for (int i = 0; i < nf; i++) {
		f[i].name = c->in + (uintptr_t)f[i].name;
		f[i].value = c->in + (uintptr_t)f[i].value;
	}
	return true;
}

static void buf_release(struct http_conn *c)
{
	struct http_server *s = c->server;
	if (c->in) {
		if (c->in_cap == IN_BUF_SIZE && s->nspare_bufs < MAX_SPARE_BUFFERS) {
			memcpy(c->in, &s->spare_bufs, sizeof(void *));
			s->spare_bufs = c->in;
			s->nspare_bufs++;
		} else {
			free(c->in);
		}
	}
	c->in = NULL;
	c->in_cap = c->in_len = c->in_off = c->scanned = 0;
}

/* Moves what is not consumed to the start of the buffer (no request points into it). */
static void buf_compact(struct http_conn *c)
{
	if (c->in_off == c->in_len) {
		buf_release(c);
		return;
	}
	if (c->in_off == 0)
		return;
	memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
	c->in_len -= c->in_off;
	c->in_off = 0;
}

/* --- connections -------------------------------------------------------------------------- */

static void rev_enable(struct http_conn *c, bool on)
{
	if (on == c->rev_on)
		return;
	c->rev_on = on;
	if (on)
		event_add(&c->rev, NULL);
	else
		event_del(&c->rev);
}

static void conn_free(struct http_conn *c)
{
	struct http_server *s = c->server;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	event_del(&c->rev);
	event_del(&c->wev);
	if (c->current) {
		/* The client went away while its request was being handled: the request keeps
		 * the buffer its fields point into until it ends. */
		c->current->gone = true;
		c->current->conn = NULL;
		c->current->own_buffer = c->in;
		c->in = NULL;
	}
	buf_release(c);
	if (c->stream)
		http_stream_conn_gone(c->stream);
	close(c->fd);
	evbuffer_free(c->out);
	free(c);
}

/* Closes the connection from the event loop (its write callback), never in the caller's
 * stack: a reply or a stream call may be several frames deep inside this connection's work. */
static void conn_kill(struct http_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	rev_enable(c, false);
	event_active(&c->wev, EV_WRITE, 1);
}

/* Queues or writes iov[0..n); false when the connection failed. */
static bool conn_write(struct http_conn *c, struct iovec *iov, int n, bool last_static)
{
	if (c->dead)
		return false;
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	size_t done = 0;
	if (evbuffer_get_length(c->out) == 0) {
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				conn_kill(c);
				return false;
			}
			w = 0;
		}
		done = (size_t)w;
	}
	if (done == total)
		return true;
	for (int i = 0; i < n; i++) {
		if (done >= iov[i].iov_len) {
			done -= iov[i].iov_len;
			continue;
		}
		const char *p = (const char *)iov[i].iov_base + done;
		size_t len = iov[i].iov_len - done;
		done = 0;
		if (i == n - 1 && last_static)
			evbuffer_add_reference(c->out, p, len, NULL, NULL);
		else
			evbuffer_add(c->out, p, len);
	}
	if (!c->wev_on) {
		c->wev_on = true;
		event_add(&c->wev, NULL);
		c->write_deadline_ms = now_ms() + (c->state == C_STREAM ? c->write_timeout_ms
		                                                        : c->server->worker->cfg->keepalive_timeout_ms);
	}
	return true;
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	if (c->dead) {
		conn_free(c);
		return;
	}
	int n = evbuffer_write(c->out, fd);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		conn_free(c);
		return;
	}
	if (n > 0)
		c->write_deadline_ms = now_ms() + (c->state == C_STREAM ? c->write_timeout_ms
		                                                        : c->server->worker->cfg->keepalive_timeout_ms);
	if (evbuffer_get_length(c->out))
		return;
	c->wev_on = false;
	c->write_deadline_ms = 0;
	event_del(&c->wev);
	if (c->close_after) {
		if (c->state == C_STREAM)
			conn_free(c); /* its stream's closed callback runs now */
		else
			conn_start_close(c);
	}
}

/* After an answer that closes the connection, once it is written: stop sending, and read
 * (and drop) what the client still sends until it closes, so that the kernel does not reset
 * the connection over unread bytes before the client has read the answer. */
static void conn_start_close(struct http_conn *c)
{
	if (c->dead)
		return;
	if (c->current) { /* answered but not ended: the request still points into the buffer */
		c->close_after = true;
		return;
	}
	if (evbuffer_get_length(c->out)) {
		c->close_after = true;
		return;
	}
	shutdown(c->fd, SHUT_WR);
	if (c->read_eof) {
		conn_kill(c);
		return;
	}
	c->state = C_LINGER;
	c->linger_deadline_ms = now_ms() + LINGER_MS;
	buf_release(c);
	rev_enable(c, true);
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	if (c->dead)
		return;
	if (c->state != C_READ) {
		char scratch[4096];
		ssize_t n = recv(fd, scratch, sizeof scratch, 0);
		if (n > 0) {
			if (c->state == C_STREAM) {
				c->received += (size_t)n;
				if (c->received > STREAM_INPUT_MAX)
					rev_enable(c, false);
			}
			return;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		conn_kill(c); /* EOF or error: a stream's closed callback runs from the write event */
		return;
	}

	if (c->read_eof) { /* woken up to serve what is buffered, then close */
		conn_process(c);
		return;
	}
	/* Room to read. While a request is being handled its fields point into the buffer:
	 * read only into what is free (pipelined requests), never moving it. */
	const struct config *cfg = c->server->worker->cfg;
	if (!c->current) {
		buf_compact(c);
		buf_reserve(c, c->in_len + 4096);
	} else if (!c->dispatched) {
		buf_reserve(c, c->in_off + c->head_len + c->body_len);
	}
	if (!c->in || c->in_len == c->in_cap) {
		/* A request in flight and its buffer full of the next ones: wait for the answer. */
		rev_enable(c, false);
		return;
	}
	ssize_t n = recv(fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			/* Woken up for pipelined requests already buffered (conn_request_done). */
			if (!c->current && c->in_len > c->in_off)
				conn_process(c);
			else if (c->in_len == c->in_off)
				buf_release(c);
			return;
		}
		conn_kill(c);
		return;
	}
	if (n == 0) {
		/* The client has finished sending. Mid-request with nothing complete, or idle:
		 * close. With a request being handled: answer it, then close. */
		c->read_eof = true;
		rev_enable(c, false);
		if (!c->current || !c->dispatched)
			conn_kill(c);
		return;
	}
	c->in_len += (size_t)n;
	c->idle_deadline_ms = now_ms() + cfg->keepalive_timeout_ms;
	conn_process(c);
}

/* Parses and dispatches the requests in the input buffer, one at a time. */
static void conn_process(struct http_conn *c)
{
	struct http_server *s = c->server;
	const struct config *cfg = s->worker->cfg;
	c->busy++;
	while (!c->dead && c->state == C_READ && !c->closing && !(c->current && c->dispatched)) {
		size_t avail = c->in_len - c->in_off;
		if (!c->current) {
			if (avail == 0)
				break;
			struct http_head h = {.fields = s->fields, .max_fields = MAX_FIELDS};
			long rc =
			    http_parse_head(c->in + c->in_off, avail, (size_t)cfg->max_header_size, &c->scanned, &h);
			if (rc == HTTP_PARSE_MORE)
				break;
			if (rc < 0) {
				request_error(c, rc);
				break;
			}
			c->head_len = (size_t)rc;
			c->body_len = h.content_length > 0 ? (size_t)h.content_length : 0;
			c->scanned = 0;
			request_start(c, &h);
			struct http_req *req = c->current;
			/* A body over every limit is refused before it is read. The route's own limit
			 * is checked by dispatch with the announced length. */
			int64_t limit = s->max_body;
			if (req->path && h.content_length > 0) {
				struct route_params params;
				int allowed = 0;
				int index =
				    router_match(s->routes, s->nroutes, req->method, req->path, &params, &allowed);
				limit = index >= 0 && s->routes[index].body_limit ? s->routes[index].body_limit
				                                                  : cfg->max_body_size;
			}
			if (h.content_length > limit) {
				req->body_len = (size_t)h.content_length;
				req->close = true;
				c->body_len = 0;
				c->dispatched = true;
				dispatch(s, req);
				continue;
			}
			if (h.expect_continue && avail < c->head_len + c->body_len) {
				static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
				struct iovec iov = {(void *)cont, sizeof cont - 1};
				conn_write(c, &iov, 1, true);
			}
		}
		if (avail < c->head_len + c->body_len) {
			/* The body is still on its way: make room for all of it. */
			buf_reserve(c, c->in_off + c->head_len + c->body_len);
			break;
		}
		struct http_req *req = c->current;
		req->body = c->in + c->in_off + c->head_len;
		req->body_len = c->body_len;
		c->dispatched = true;
		dispatch(s, req);
	}
	c->busy--;
	if (!c->dead && c->state == C_READ && !c->current) {
		buf_compact(c);
		if (c->closing || c->read_eof)
			conn_start_close(c);
	}
}

/* The current request is answered: its bytes are consumed, the next one may start. */
static void conn_request_done(struct http_conn *c, struct http_req *req)
{
	const struct config *cfg = c->server->worker->cfg;
	c->current = NULL;
	c->dispatched = false;
	c->in_off += c->head_len + c->body_len;
	if (c->in_off > c->in_len)
		c->in_off = c->in_len;
	c->head_len = c->body_len = 0;
	c->scanned = 0;
	int64_t now = now_ms();
	c->header_deadline_ms = now + cfg->header_timeout_ms;
	c->idle_deadline_ms = now + cfg->keepalive_timeout_ms;
	if (req->close)
		c->closing = true;
	if (c->busy)
		return; /* conn_process goes on with pipelined requests, or closes */
	if (c->closing) {
		conn_start_close(c);
		return;
	}
	/* Answered later (database): pick up pipelined requests on the next iteration. */
	buf_compact(c);
	if (!c->read_eof)
		rev_enable(c, true);
	if (c->read_eof || (c->in && c->in_len > c->in_off))
		event_active(&c->rev, EV_READ, 1);
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg);

static void accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *s = arg;
	if (s->listen_ev)
		event_add(s->listen_ev, NULL);
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct http_server *s = arg;
	const struct config *cfg = s->worker->cfg;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: stop accepting for a moment rather than spin. */
				log_warn("accept: %s; pausing for 100 ms", strerror(errno));
				event_del(s->listen_ev);
				struct timeval tv = {0, 100 * 1000};
				event_add(s->accept_pause, &tv);
			}
			return; /* EAGAIN, or an aborted connection: the next event brings the rest */
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct http_conn *c = xcalloc(1, sizeof *c);
		c->server = s;
		c->fd = fd;
		c->out = evbuffer_new();
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->peer, sizeof c->peer);
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->peer, sizeof c->peer);
		int64_t now = now_ms();
		c->header_deadline_ms = now + cfg->header_timeout_ms;
		c->idle_deadline_ms = now + cfg->keepalive_timeout_ms;
		c->over_cap = s->nconns >= cfg->max_connections;
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		event_assign(&c->rev, s->worker->base, fd, EV_READ | EV_PERSIST, read_cb, c);
		event_assign(&c->wev, s->worker->base, fd, EV_WRITE | EV_PERSIST, write_cb, c);
		rev_enable(c, true);
	}
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *s = arg;
	int64_t now = now_ms();
	struct http_conn *next;
	for (struct http_conn *c = s->conns; c; c = next) {
		next = c->next;
		if (c->dead)
			continue;
		if (c->write_deadline_ms && now > c->write_deadline_ms) {
			conn_free(c); /* the client takes nothing */
		} else if (c->state == C_LINGER) {
			if (now > c->linger_deadline_ms)
				conn_free(c);
		} else if (c->state == C_READ && !(c->current && c->dispatched)) {
			bool partial = c->current || c->in_len > c->in_off;
			if ((partial && now > c->header_deadline_ms && !c->current) || now > c->idle_deadline_ms)
				conn_free(c);
		}
	}
}

struct http_streams *http_server_streams(struct http_server *s)
{
	return &s->streams;
}

int http_server_connections(const struct http_server *s)
{
	return s->nconns;
}

int http_server_in_flight(const struct http_server *s)
{
	return s->in_flight;
}

bool http_server_drained(const struct http_server *s)
{
	/* Streams are ended at SIGTERM (http_server_end_streams): wait for their last chunk. */
	if (s->in_flight || s->streams.count)
		return false;
	for (const struct http_conn *c = s->conns; c; c = c->next)
		if (!c->dead && evbuffer_get_length(c->out))
			return false;
	return true;
}

/* --- answers ------------------------------------------------------------------------------ */

static const char *reason_phrase(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 411:
		return "Length Required";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 423:
		return "Locked";
	case 428:
		return "Precondition Required";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
	}
}

/* The headers every answer carries, rendered once. Pages get the app's policy and the framing
 * and opener guards; everything else (JSON, files) loads nothing and may be framed by no one:
 * a short policy says both. */
static const char COMMON_OTHER[] = "X-Content-Type-Options: nosniff\r\n"
                                   "Referrer-Policy: no-referrer\r\n"
                                   "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n";
static const char COMMON_PAGE[] = "X-Content-Type-Options: nosniff\r\n"
                                  "Referrer-Policy: no-referrer\r\n"
                                  "Content-Security-Policy: " HTTP_CSP "\r\n"
                                  "X-Frame-Options: DENY\r\n"
                                  "Cross-Origin-Opener-Policy: same-origin\r\n";

static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}
#define PUT_LIT(p, lit) put((p), (lit), sizeof(lit) - 1)

static char *put_str(char *p, const char *s)
{
	return put(p, s, strlen(s));
}

static char *put_uint(char *p, unsigned long long v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

static const char *date_header(struct http_server *s)
{
	time_t now = time(NULL);
	if (now != s->date_at) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(s->date, sizeof s->date, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
		s->date_at = now;
	}
	return s->date;
}

void http_set_header(struct http_req *req, const char *name, const char *value)
{
	if (!req->conn || req->answered)
		return;
	/* A header line must stay one line. */
	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return;
	if (!strcasecmp(name, "Connection")) {
		if (!strcasecmp(value, "close"))
			req->close = true;
		return;
	}
	if (!strcasecmp(name, "Content-Type")) {
		req->content_type = arena_strdup(&req->arena, value);
		return;
	}
	if (!strcasecmp(name, "Content-Length") || !strcasecmp(name, "Transfer-Encoding"))
		return; /* ours to write */
	if (!strcasecmp(name, "Cache-Control"))
		req->has_cache_control = true;
	struct http_out_header *h = arena_alloc(&req->arena, sizeof *h);
	h->name = arena_strdup(&req->arena, name);
	h->value = arena_strdup(&req->arena, value);
	h->next = NULL;
	struct http_out_header **pp = &req->out_headers;
	while (*pp)
		pp = &(*pp)->next;
	*pp = h;
}

/* Renders the status line and headers into the arena; `stream`: a body of unknown length
 * (chunked on HTTP/1.1), after which the connection closes. */
static size_t render_head(struct http_req *req, int status, size_t body_len, bool stream, char **out)
{
	struct http_server *s = req->worker->http;
	bool no_body = status == 204 || status == 304 || status < 200;
	const char *type = req->content_type;
	if (!type && !no_body)
		type = "application/json; charset=utf-8";
	/* A 304 has no Content-Type, yet browsers copy its headers onto the cached page. */
	bool html = req->page || (type && !strncmp(type, "text/html", 9));
	if (stream)
		req->close = true;
	/* Every request closes once the server is stopping or the client asked. */
	bool close = req->close || !req->keep_alive || req->conn->over_cap;
	req->close = close;

	size_t cap = 64 + 48 + (html ? sizeof COMMON_PAGE : sizeof COMMON_OTHER) + 96 + 32 + 64;
	if (type)
		cap += strlen(type) + 16;
	for (const struct http_out_header *h = req->out_headers; h; h = h->next)
		cap += strlen(h->name) + strlen(h->value) + 4;
	char *buf = arena_alloc(&req->arena, cap), *p = buf;
	p = PUT_LIT(p, "HTTP/1.1 ");
	p = put_uint(p, (unsigned)status);
	*p++ = ' ';
	p = put_str(p, reason_phrase(status));
	p = PUT_LIT(p, "\r\n");
	p = put_str(p, date_header(s));
	if (type) {
		p = PUT_LIT(p, "Content-Type: ");
		p = put_str(p, type);
		p = PUT_LIT(p, "\r\n");
	}
	if (stream) {
		if (req->minor >= 1)
			p = PUT_LIT(p, "Transfer-Encoding: chunked\r\n");
	} else if (!no_body) {
		p = PUT_LIT(p, "Content-Length: ");
		p = put_uint(p, body_len);
		p = PUT_LIT(p, "\r\n");
	}
	if (close)
		p = PUT_LIT(p, "Connection: close\r\n");
	else if (req->minor == 0)
		p = PUT_LIT(p, "Connection: keep-alive\r\n");
	p = PUT_LIT(p, "X-Request-Id: ");
	p = put_str(p, req->request_id);
	p = PUT_LIT(p, "\r\n");
	p = html ? PUT_LIT(p, COMMON_PAGE) : PUT_LIT(p, COMMON_OTHER);
	if (!req->has_cache_control)
		p = PUT_LIT(p, "Cache-Control: no-store\r\n");
	for (const struct http_out_header *h = req->out_headers; h; h = h->next) {
		p = put_str(p, h->name);
		p = PUT_LIT(p, ": ");
		p = put_str(p, h->value);
		p = PUT_LIT(p, "\r\n");
	}
	p = PUT_LIT(p, "\r\n");
	*out = buf;
	return (size_t)(p - buf);
}

void http_send(struct http_req *req, int status, const void *body, size_t len, bool static_body)
{
	req->status = status;
	struct http_conn *c = req->conn;
	char *head;
	size_t hlen = render_head(req, status, len, false, &head);
	bool no_body = status == 204 || status == 304 || status < 200 || req->method == HTTP_HEAD;
	struct iovec iov[2] = {{head, hlen}, {(void *)body, no_body ? 0 : len}};
	conn_write(c, iov, iov[1].iov_len ? 2 : 1, static_body);
	req->bytes_out = len;
}

/* --- streams: the connection side ---------------------------------------------------------- */

bool http_conn_stream_start(struct http_req *req, struct http_stream *st, int64_t write_timeout_ms)
{
	struct http_conn *c = req->conn;
	req->status = 200;
	char *head;
	size_t hlen = render_head(req, 200, 0, true, &head);
	struct iovec iov = {head, hlen};
	if (!conn_write(c, &iov, 1, false))
		return false;
	c->state = C_STREAM;
	c->chunked = req->minor >= 1;
	c->stream = st;
	c->write_timeout_ms = write_timeout_ms;
	c->received = 0;
	return true;
}

void http_conn_stream_write(struct http_conn *c, const void *data, size_t len, bool last)
{
	if (c->dead)
		return;
	/* Streams write from notification fan-out: queue, and let the write event send all
	 * that was queued in this loop iteration at once. */
	if (len) {
		if (c->chunked) {
			char size[24];
			int n = snprintf(size, sizeof size, "%zx\r\n", len);
			evbuffer_add(c->out, size, (size_t)n);
		}
		evbuffer_add(c->out, data, len);
		if (c->chunked)
			evbuffer_add(c->out, "\r\n", 2);
	}
	if (last) {
		if (c->chunked)
			evbuffer_add(c->out, "0\r\n\r\n", 5);
		c->close_after = true;
	}
	if (!c->wev_on) {
		c->wev_on = true;
		event_add(&c->wev, NULL);
		c->write_deadline_ms = now_ms() + c->write_timeout_ms;
	}
}

size_t http_conn_queued(const struct http_conn *c)
{
	return evbuffer_get_length(c->out);
}

size_t http_conn_received(const struct http_conn *c)
{
	return c->received;
}

void http_conn_abort(struct http_conn *c)
{
	if (c->dead)
		return;
	/* Reset rather than flush: a subscriber dropped for not reading would otherwise keep
	 * its backlog in the kernel. */
	struct linger lg = {1, 0};
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	evbuffer_drain(c->out, evbuffer_get_length(c->out));
	conn_kill(c);
}

/* --- requests ----------------------------------------------------------------------------- */

static bool valid_request_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 64)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || *p == '.'))
			return false;
	return true;
}

#define MAX_SPARE_REQUESTS 256

/* A cleared request struct: reused from earlier requests when there is one (a request is
 * about 1.4 KiB with its inline arena block; clearing all of it each time shows up). */
static struct http_req *req_new(struct http_server *s)
{
	struct http_req *req = s->spare;
	if (req) {
		s->spare = req->next_spare;
		s->nspare--;
	} else {
		req = xmalloc(sizeof *req);
	}
	memset(req, 0, offsetof(struct http_req, arena));
	arena_init(&req->arena);
	return req;
}

/* The request is answered (or its client gone) and nothing refers to it any more. */
static void req_done(struct http_req *req)
{
	struct http_server *s = req->worker->http;
	if (req->json)
		json_decref(req->json);
	free(req->own_buffer);
	arena_free(&req->arena);
	s->in_flight--;
	if (s->nspare < MAX_SPARE_REQUESTS) {
		req->next_spare = s->spare;
		s->spare = req;
		s->nspare++;
	} else {
		free(req);
	}
}

static void access_log(struct http_req *req, int64_t elapsed_us)
{
	const struct config *cfg = req->worker->cfg;
	if (!cfg->access_log || !log_enabled(LOG_INFO))
		return;
	log_fields(LOG_INFO,
	           json_pack("{s:s, s:s, s:s, s:i, s:f, s:I, s:s, s:s}", "msg", "request", "method",
	                     router_method_name(req->method), "path", req->path ? req->path : "", "status", req->status,
	                     "ms", (double)elapsed_us / 1000.0, "bytes", (json_int_t)req->bytes_out, "request_id",
	                     req->request_id, "ip", req->client_ip));
}

/* Everything common to every answer once it is written: metrics, log, and the connection's
 * next request. */
void http_after_reply(struct http_req *req)
{
	int64_t elapsed = now_us() - req->start_us;
	int slot = req->route_index;
	metrics_observe(slot, req->status, elapsed);
	access_log(req, elapsed);
	req->answered = true;
	struct http_conn *c = req->conn;
	req->conn = NULL;
	if (c) {
		if (c->state == C_STREAM) {
			/* The stream goes on without the request: its bytes are consumed. */
			/* Bytes the client sent after its request count as sent on the stream. */
			size_t used = c->in_off + c->head_len + c->body_len;
			c->received += c->in_len > used ? c->in_len - used : 0;
			c->current = NULL;
			c->dispatched = false;
			buf_release(c); /* nothing points into it any more */
			rev_enable(c, true);
		} else {
			conn_request_done(c, req);
		}
	}
	if (req->pending == 0)
		req_done(req);
}

void http_req_hold(struct http_req *req)
{
	req->pending++;
}

bool http_req_release(struct http_req *req)
{
	req->pending--;
	if (req->gone || req->answered) {
		if (req->pending == 0)
			req_done(req);
		return false;
	}
	return true;
}

const char *http_header(struct http_req *req, const char *name)
{
	if (!req->conn)
		return NULL;
	for (int i = 0; i < req->nfields; i++)
		if (!strcasecmp(req->fields[i].name, name))
			return req->fields[i].value;
	return NULL;
}

const void *http_raw_body(struct http_req *req, size_t *len)
{
	*len = 0;
	if (!req->conn || !req->body)
		return req->conn ? "" : NULL;
	*len = req->body_len;
	return req->body;
}

static bool is_json_content_type(const char *ct)
{
	if (!ct)
		return false;
	static const char base[] = "application/json";
	if (strncasecmp(ct, base, sizeof base - 1) != 0)
		return false;
	const char *rest = ct + sizeof base - 1;
	while (*rest == ' ')
		rest++;
	if (*rest == '\0')
		return true;
	if (*rest != ';')
		return false;
	rest++;
	while (*rest == ' ')
		rest++;
	return strncasecmp(rest, "charset=utf-8", 13) == 0 && (rest[13] == '\0' || rest[13] == ';' || rest[13] == ' ');
}

/* Reads and checks the body of a BODY_JSON route; answers and returns false on bad input. */
static bool parse_json_body(struct http_req *req)
{
	if (!is_json_content_type(http_header(req, "Content-Type"))) {
		http_reply_error(req, 415, "unsupported_media_type", "The request body must be application/json.",
		                 NULL);
		return false;
	}
	size_t len = 0;
	const char *data = http_raw_body(req, &len);
	json_error_t error;
	req->json = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &error);
	if (!req->json) {
		char msg[256];
		snprintf(msg, sizeof msg, "The request body is not valid JSON: %s (at byte %d).", error.text,
		         error.position);
		http_reply_error(req, 400, "invalid_json", msg, NULL);
		return false;
	}
	if (!json_is_object(req->json)) {
		http_reply_error(req, 400, "invalid_json", "The request body must be a JSON object.", NULL);
		return false;
	}
	return true;
}

static bool is_trusted_proxy(const struct http_server *s, const char *address)
{
	for (char **p = s->trusted_proxies; p && *p; p++)
		if (!strcmp(*p, address))
			return true;
	return false;
}

/* The peer's address, or, when the peer is a trusted proxy, the last address in
 * X-Forwarded-For that is not itself a trusted proxy (earlier entries are the client's say). */
static void fill_client_ip(struct http_server *s, struct http_req *req)
{
	snprintf(req->client_ip, sizeof req->client_ip, "%s", req->conn->peer);
	if (!s->trusted_proxies[0])
		return;
	const char *xff = http_header(req, "X-Forwarded-For");
	if (!xff || !is_trusted_proxy(s, req->client_ip) || strlen(xff) > 1024)
		return;
	char *list = arena_strdup(&req->arena, xff);
	for (;;) {
		char *comma = strrchr(list, ',');
		char *item = comma ? comma + 1 : list;
		while (*item == ' ')
			item++;
		size_t n = strcspn(item, " ");
		item[n] = '\0';
		if (!*item || n >= sizeof req->client_ip)
			return;
		snprintf(req->client_ip, sizeof req->client_ip, "%s", item);
		if (!comma || !is_trusted_proxy(s, item))
			return;
		*comma = '\0';
	}
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes [s, s+n) into the arena ('+' stays '+', a '%' not followed by two hex
 * digits stays as it is); NULL when the result would hold a NUL. */
const char *http_percent_decode(struct arena *a, const char *s, size_t n)
{
	char *out = arena_alloc(a, n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < n && (hi = hex_value(s[i + 1])) >= 0 && (lo = hex_value(s[i + 2])) >= 0) {
			char ch = (char)(hi * 16 + lo);
			if (!ch)
				return NULL;
			*o++ = ch;
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static void request_init(struct http_conn *c, struct http_req *req)
{
	struct http_server *s = c->server;
	req->worker = s->worker;
	req->start_us = now_us();
	req->route_index = METRICS_SLOT_UNMATCHED;
	req->conn = c;
	c->current = req;
	c->dispatched = false;
	s->in_flight++;
}

static void request_id(struct http_server *s, struct http_req *req)
{
	const char *id = http_header(req, "X-Request-Id");
	if (id && valid_request_id(id))
		snprintf(req->request_id, sizeof req->request_id, "%s", id);
	else
		snprintf(req->request_id, sizeof req->request_id, "%s-%llx", s->request_id_prefix,
		         (unsigned long long)++s->request_counter);
}

static void request_start(struct http_conn *c, const struct http_head *h)
{
	struct http_server *s = c->server;
	struct http_req *req = req_new(s);
	request_init(c, req);
	req->method = h->method;
	req->minor = h->minor;
	req->keep_alive = h->keep_alive;
	struct http_field *fields = arena_alloc(&req->arena, sizeof *fields * (size_t)(h->nfields ? h->nfields : 1));
	memcpy(fields, h->fields, sizeof *fields * (size_t)h->nfields);
	req->fields = fields;
	req->nfields = h->nfields;
	request_id(s, req);
	fill_client_ip(s, req);

	const char *target = h->target;
	size_t plen = strcspn(target, "?#");
	req->path = http_percent_decode(&req->arena, target, plen);
	if (target[plen] == '?') {
		const char *q = target + plen + 1;
		req->query = arena_strndup(&req->arena, q, strcspn(q, "#"));
	}
}

/* A request whose head could not be parsed: answered, then the connection closes. */
static void request_error(struct http_conn *c, long rc)
{
	struct http_server *s = c->server;
	struct http_req *req = req_new(s);
	request_init(c, req);
	req->method = HTTP_GET;
	req->minor = 1;
	req->close = true;
	c->head_len = c->in_len - c->in_off;
	c->body_len = 0;
	c->dispatched = true;
	request_id(s, req);
	fill_client_ip(s, req);
	switch (rc) {
	case HTTP_PARSE_TOO_LARGE:
		http_reply_error(req, 431, "headers_too_large", "The request headers are too large.", NULL);
		break;
	case HTTP_PARSE_LENGTH:
		http_reply_error(req, 411, "length_required", "Send the request body with a Content-Length.", NULL);
		break;
	case HTTP_PARSE_TE:
		http_reply_error(req, 501, "not_implemented", "This transfer coding is not supported.", NULL);
		break;
	case HTTP_PARSE_METHOD:
		http_reply_error(req, 501, "not_implemented", "This method is not supported.", NULL);
		break;
	case HTTP_PARSE_VERSION:
		http_reply_error(req, 505, "http_version_not_supported", "Use HTTP/1.1.", NULL);
		break;
	default:
		http_reply_error(req, 400, "bad_request", "The request is malformed.", NULL);
		break;
	}
}

static void dispatch(struct http_server *s, struct http_req *req)
{
	const struct config *cfg = s->worker->cfg;
	if (req->conn && req->conn->over_cap) {
		http_set_header(req, "Retry-After", "1");
		http_set_header(req, "Connection", "close");
		http_reply_error(req, 503, "overloaded", "The server has too many open connections; retry shortly.",
		                 NULL);
		return;
	}
	if (s->worker->stop_deadline_ms)
		http_set_header(req, "Connection", "close");
	int retry;
	if (!ratelimit_allow(s->limiter, req->client_ip, now_ms(), &retry)) {
		http_set_header(req, "Retry-After", arena_printf(&req->arena, "%d", retry));
		http_reply_error(req, 429, "rate_limited", "Too many requests from your address; slow down.", NULL);
		return;
	}
	if (!req->path) {
		http_reply_error(req, 400, "invalid_path", "The request path is malformed.", NULL);
		return;
	}

	int allowed = 0;
	int index = router_match(s->routes, s->nroutes, req->method, req->path, &req->params, &allowed);
	if (index < 0) {
		bool api = strncmp(req->path, "/api/", 5) == 0 || !strcmp(req->path, "/api");
		if (!allowed && !api) {
			req->route_index = METRICS_SLOT_STATIC;
			static_serve(req);
			return;
		}
		if (!allowed) {
			http_reply_error(req, 404, "not_found", "No such resource.", NULL);
			return;
		}
		char allow[128];
		router_format_allow(allowed, allow, sizeof allow);
		http_set_header(req, "Allow", allow);
		if (req->method == HTTP_OPTIONS) {
			http_reply_empty(req, 204);
			return;
		}
		http_reply_error(req, 405, "method_not_allowed", "This method is not allowed on this resource.", NULL);
		return;
	}
	req->route = &s->routes[index];
	req->route_index = index;

	int64_t limit = req->route->body_limit ? req->route->body_limit : cfg->max_body_size;
	if ((int64_t)req->body_len > limit) {
		http_set_header(req, "Connection", "close");
		http_reply_error(req, 413, "body_too_large", "The request body is too large.", NULL);
		return;
	}
	if (req->route->uses_database && db_pool_unavailable(s->worker->db)) {
		http_set_header(req, "Retry-After", "2");
		http_reply_error(req, 503, "database_unavailable", "The database is unavailable; retry shortly.", NULL);
		return;
	}
	if (req->route->access != ACCESS_PUBLIC) {
		if (!gate) {
			http_reply_error(req, 500, "internal_error", "No access check is configured.", NULL);
			return;
		}
		gate(req);
		return;
	}
	http_run_handler(req);
}

void http_set_gate(http_gate g)
{
	gate = g;
}

void http_run_handler(struct http_req *req)
{
	if (req->route->body == BODY_JSON && !parse_json_body(req))
		return;
	req->route->handler(req);
}

/* --- setup -------------------------------------------------------------------------------- */

int http_listen_socket(const char *listen_addr, int backlog, bool reuse_port)
{
	char host[256];
	int port;
	if (!config_split_listen(listen_addr, host, sizeof host, &port)) {
		log_error("invalid listen address %s", listen_addr);
		return -1;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
	char portstr[16];
	snprintf(portstr, sizeof portstr, "%d", port);
	int rc = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res);
	if (rc != 0) {
		log_error("cannot resolve listen address %s: %s", listen_addr, gai_strerror(rc));
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
		log_error("cannot listen on %s: %s", listen_addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* "a, b,c" -> {"a", "b", "c", NULL} */
static char **split_list(const char *text)
{
	size_t n = 0;
	char **out = xcalloc(strlen(text) / 2 + 2, sizeof *out);
	char *copy = xstrdup(text), *save = NULL;
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		out[n++] = xstrdup(t);
	free(copy);
	return out;
}

struct http_server *http_server_start(struct worker *w, const struct route *routes, size_t nroutes)
{
	const struct config *cfg = w->cfg;
	struct http_server *s = xcalloc(1, sizeof *s);
	s->worker = w;
	s->routes = routes;
	s->nroutes = nroutes;
	s->listen_fd = -1;
	unsigned char prefix[8];
	randombytes_buf(prefix, sizeof prefix);
	sodium_bin2hex(s->request_id_prefix, sizeof s->request_id_prefix, prefix, sizeof prefix);
	s->max_body = cfg->max_body_size;
	for (size_t i = 0; i < nroutes; i++)
		if (routes[i].body_limit > s->max_body)
			s->max_body = routes[i].body_limit;

	s->listen_fd = http_listen_socket(cfg->listen, 1024, true);
	if (s->listen_fd < 0)
		goto fail;
	s->listen_ev = event_new(w->base, s->listen_fd, EV_READ | EV_PERSIST, accept_cb, s);
	s->accept_pause = evtimer_new(w->base, accept_resume, s);
	if (!s->listen_ev || !s->accept_pause || event_add(s->listen_ev, NULL) != 0)
		goto fail;
	s->limiter = ratelimit_new(cfg->rate_limit);
	s->trusted_proxies = split_list(cfg->trusted_proxies);
	http_streams_init(&s->streams, w->base);
	s->sweep = event_new(w->base, -1, EV_PERSIST, sweep_cb, s);
	struct timeval tv = {0, SWEEP_INTERVAL_MS * 1000};
	event_add(s->sweep, &tv);
	return s;
fail:
	log_error("cannot start the HTTP server");
	http_server_free(s);
	return NULL;
}

void http_server_stop_accepting(struct http_server *s)
{
	if (s->listen_ev) {
		event_free(s->listen_ev);
		s->listen_ev = NULL;
	}
	if (s->accept_pause) {
		event_free(s->accept_pause);
		s->accept_pause = NULL;
	}
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		s->listen_fd = -1;
	}
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	http_server_stop_accepting(s);
	while (s->conns)
		conn_free(s->conns);
	http_streams_free(&s->streams);
	if (s->sweep)
		event_free(s->sweep);
	while (s->spare) {
		struct http_req *next = s->spare->next_spare;
		free(s->spare);
		s->spare = next;
	}
	while (s->spare_bufs) {
		void *next;
		memcpy(&next, s->spare_bufs, sizeof next);
		free(s->spare_bufs);
		s->spare_bufs = next;
	}
	ratelimit_free(s->limiter);
	for (char **p = s->trusted_proxies; p && *p; p++)
		free(*p);
	free(s->trusted_proxies);
	free(s);
}
