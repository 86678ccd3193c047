/* The connections of relais's HTTP server (server.c): reading requests into per-connection
 * buffers, writing answers and streams, accepting, and the deadlines.
 *
 * One connection: a socket with a read event that stays enabled, a write event added only
 * when the kernel does not take a whole answer at once, an input buffer (taken from a
 * per-server free list while bytes are pending, given back when empty) and an output
 * evbuffer for what the kernel has not taken yet. Requests on a connection are handled one
 * at a time, in order (pipelining): the next one is parsed once the current one is answered.
 *
 * Deadlines, checked by a sweep every SWEEP_INTERVAL_MS:
 *  - header_timeout: a request's head must be complete this long after the connection
 *    opened or the previous answer was written (slow-loris clients);
 *  - keepalive_timeout: no byte received for this long while waiting for a request (or for
 *    its body), or an answer making no progress towards the client for this long;
 *  - streams: their own write timeout, no read deadline.
 * A connection is freed from the event loop only (never inside a reply or a stream call):
 * closing marks it dead and activates its write event, whose callback frees it. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/log.h"
#include "core/worker.h"
#include "http/internal.h"
#include "http/parse.h"
#include "http/server.h"

#define SWEEP_INTERVAL_MS 250
#define IN_BUF_SIZE (16 * 1024)
#define MAX_SPARE_BUFFERS 64
#define LINGER_MS 2000
#define ACCEPT_BATCH 64
/* Nothing is expected from a client once its stream is open: reading stops at this much. */
#define STREAM_INPUT_MAX 4096

static void conn_process(struct http_conn *c);
static void conn_start_close(struct http_conn *c);

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

void http_conn_free(struct http_conn *c)
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
bool http_conn_write(struct http_conn *c, struct iovec *iov, int n, bool last_static)
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
		http_conn_free(c);
		return;
	}
	int n = evbuffer_write(c->out, fd);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		http_conn_free(c);
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
			http_conn_free(c); /* its stream's closed callback runs now */
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
			/* Woken up for pipelined requests already buffered (http_conn_request_done). */
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
				http_request_error(c, rc);
				break;
			}
			c->head_len = (size_t)rc;
			c->body_len = h.content_length > 0 ? (size_t)h.content_length : 0;
			c->scanned = 0;
			http_request_start(c, &h);
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
				http_dispatch(s, req);
				continue;
			}
			if (h.expect_continue && avail < c->head_len + c->body_len) {
				static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
				struct iovec iov = {(void *)cont, sizeof cont - 1};
				http_conn_write(c, &iov, 1, true);
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
		http_dispatch(s, req);
	}
	c->busy--;
	if (!c->dead && c->state == C_READ && !c->current) {
		buf_compact(c);
		if (c->closing || c->read_eof)
			conn_start_close(c);
	}
}

/* The current request is answered: its bytes are consumed, the next one may start. */
void http_conn_request_done(struct http_conn *c, struct http_req *req)
{
	if (c->state == C_STREAM) {
		/* The stream goes on without the request. Bytes the client sent after its
		 * request count as sent on the stream. */
		size_t used = c->in_off + c->head_len + c->body_len;
		c->received += c->in_len > used ? c->in_len - used : 0;
		c->current = NULL;
		c->dispatched = false;
		buf_release(c); /* nothing points into it any more */
		rev_enable(c, true);
		return;
	}
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
			http_conn_free(c); /* the client takes nothing */
		} else if (c->state == C_LINGER) {
			if (now > c->linger_deadline_ms)
				http_conn_free(c);
		} else if (c->state == C_READ && !(c->current && c->dispatched)) {
			bool partial = c->current || c->in_len > c->in_off;
			if ((partial && now > c->header_deadline_ms && !c->current) || now > c->idle_deadline_ms)
				http_conn_free(c);
		}
	}
}

bool http_conn_listen(struct http_server *s)
{
	struct event_base *base = s->worker->base;
	s->listen_ev = event_new(base, s->listen_fd, EV_READ | EV_PERSIST, accept_cb, s);
	s->accept_pause = evtimer_new(base, accept_resume, s);
	s->sweep = event_new(base, -1, EV_PERSIST, sweep_cb, s);
	struct timeval tv = {0, SWEEP_INTERVAL_MS * 1000};
	return s->listen_ev && s->accept_pause && s->sweep && event_add(s->listen_ev, NULL) == 0 &&
	       event_add(s->sweep, &tv) == 0;
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

/* --- streams: the connection side ---------------------------------------------------------- */

bool http_conn_stream_start(struct http_req *req, struct http_stream *st, int64_t write_timeout_ms)
{
	struct http_conn *c = req->conn;
	req->status = 200;
	char *head;
	size_t hlen = http_render_head(req, 200, 0, true, &head);
	struct iovec iov = {head, hlen};
	if (!http_conn_write(c, &iov, 1, false))
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
