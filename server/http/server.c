#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sodium.h>
#include <unistd.h>

#include "core/log.h"
#include "core/worker.h"
#include "http/internal.h"
#include "http/metrics.h"
#include "http/ratelimit.h"
#include "http/static.h"

/* How often idle connections are checked against their deadline. */
#define SWEEP_INTERVAL_MS 250

/* libevent 2.1's evhttp has neither a deadline for receiving a request nor a connection
 * cap. We create each connection's bufferevent ourselves (evhttp_set_bevcb), keep a
 * reference to it, and track the connection here:
 *  - `deadline_ms`: the time by which a complete request must have arrived, counted from
 *    the connection's opening or from its previous response; a sweep shuts down sockets
 *    past it (evhttp then sees EOF and frees the connection);
 *  - when evhttp frees a connection it shuts the socket down for writing and drops its
 *    reference; ours keeps the bufferevent (and, with BEV_OPT_CLOSE_ON_FREE, the descriptor)
 *    until we notice, either at once through the close callback or, for connections that
 *    never completed a request, at the next sweep (bufferevent_free clears the callbacks).
 *    Dropping the last reference deletes the bufferevent's events before closing the
 *    descriptor, so a new connection that reuses the number never meets stale events. */
struct http_conn {
	struct http_conn *prev, *next; /* all connections */
	struct http_conn *hash_next;
	struct bufferevent *bev;
	struct evhttp_connection *evcon; /* known after its first complete request */
	struct http_server *server;
	struct http_req *current;
	struct http_stream *stream; /* a streamed answer (sse.c) owns the connection */
	int64_t deadline_ms;        /* 0 while a request is being handled or a stream is open */
	bool over_cap;
};

struct http_server {
	struct worker *worker;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	const struct route *routes;
	size_t nroutes;
	struct http_conn *conns;
	struct http_conn **hash;
	size_t hash_size;
	int nconns, in_flight;
	struct event *sweep;
	struct http_req *spare; /* answered requests kept for reuse */
	int nspare;
	struct ratelimit *limiter;
	char **trusted_proxies; /* NULL-terminated */
	char request_id_prefix[24];
	uint64_t request_counter;
	struct http_streams streams;
};

static http_gate gate;

/* --- connection tracking ------------------------------------------------------------------ */

static size_t hash_slot(const struct http_server *s, const void *bev)
{
	uintptr_t x = (uintptr_t)bev >> 4;
	x *= 0x9E3779B97F4A7C15ull;
	return (size_t)(x >> 20) & (s->hash_size - 1);
}

static struct http_conn *conn_find(struct http_server *s, const struct bufferevent *bev)
{
	for (struct http_conn *c = s->hash[hash_slot(s, bev)]; c; c = c->hash_next)
		if (c->bev == bev)
			return c;
	return NULL;
}

static void conn_forget(struct http_conn *c)
{
	struct http_server *s = c->server;
	struct http_conn **pp = &s->hash[hash_slot(s, c->bev)];
	while (*pp != c)
		pp = &(*pp)->hash_next;
	*pp = c->hash_next;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	if (c->current) {
		/* The client went away while its request was being handled. */
		c->current->gone = true;
		c->current->ev = NULL;
		c->current->conn = NULL;
	}
	if (c->stream)
		http_stream_conn_gone(c->stream);
	bufferevent_decref(c->bev);
	free(c);
}

static struct bufferevent *conn_new_bev(struct event_base *base, void *arg)
{
	struct http_server *s = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		return NULL;
	bufferevent_incref(bev);
	struct http_conn *c = xcalloc(1, sizeof *c);
	c->bev = bev;
	c->server = s;
	c->deadline_ms = now_ms() + s->worker->cfg->header_timeout_ms;
	c->over_cap = s->nconns >= s->worker->cfg->max_connections;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	size_t slot = hash_slot(s, bev);
	c->hash_next = s->hash[slot];
	s->hash[slot] = c;
	s->nconns++;
	return bev;
}

static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	conn_forget(arg);
}

static bool bev_freed_by_evhttp(struct bufferevent *bev)
{
	bufferevent_data_cb r, w;
	bufferevent_event_cb e;
	void *cbarg;
	bufferevent_getcb(bev, &r, &w, &e, &cbarg);
	return !r && !w && !e && !cbarg;
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *s = arg;
	int64_t now = now_ms();
	struct http_conn *next;
	for (struct http_conn *c = s->conns; c; c = next) {
		next = c->next;
		if (bev_freed_by_evhttp(c->bev)) {
			conn_forget(c);
		} else if (c->deadline_ms && now > c->deadline_ms) {
			int sock = bufferevent_getfd(c->bev);
			if (sock >= 0)
				shutdown(sock, SHUT_RDWR);
			c->deadline_ms = 0;
		}
	}
}

struct bufferevent *http_conn_bev(const struct http_conn *c)
{
	return c->bev;
}

void http_conn_set_stream(struct http_conn *c, struct http_stream *st)
{
	c->stream = st;
	c->deadline_ms = 0;
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
		if (!bev_freed_by_evhttp(c->bev) && evbuffer_get_length(bufferevent_get_output(c->bev)))
			return false;
	return true;
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
		s->spare = (struct http_req *)req->ev;
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
	arena_free(&req->arena);
	s->in_flight--;
	if (s->nspare < MAX_SPARE_REQUESTS) {
		req->ev = (struct evhttp_request *)s->spare; /* the free list's link */
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
	log_fields(LOG_INFO, json_pack("{s:s, s:s, s:s, s:i, s:f, s:I, s:s, s:s}", "msg", "request", "method",
	                               router_method_name(req->method), "path", req->path ? req->path : "",
	                               "status", req->status, "ms", (double)elapsed_us / 1000.0, "bytes",
	                               (json_int_t)req->bytes_out, "request_id", req->request_id, "ip",
	                               req->client_ip));
}

/* Everything common to every answer: headers, metrics, log, and the connection's next
 * deadline. Called once per request, just before the evhttp reply. */
void http_finish_headers(struct http_req *req, int status)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req->ev);
	const char *type = evhttp_find_header(h, "Content-Type");
	/* A 304 has no Content-Type, yet browsers copy its headers onto the cached page. */
	bool html = req->page || (type && !strncmp(type, "text/html", 9));
	evhttp_add_header(h, "X-Request-Id", req->request_id);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	/* Pages get the app's policy and the framing and opener guards; everything else (JSON,
	 * files) loads nothing and may be framed by no one: a short policy says both. */
	if (html) {
		evhttp_add_header(h, "Content-Security-Policy", HTTP_CSP);
		evhttp_add_header(h, "X-Frame-Options", "DENY");
		evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
	} else {
		evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
	}
	if (!evhttp_find_header(h, "Cache-Control"))
		evhttp_add_header(h, "Cache-Control", "no-store");
	req->status = status;
}

void http_after_reply(struct http_req *req)
{
	int64_t elapsed = now_us() - req->start_us;
	int slot = req->route_index;
	metrics_observe(slot, req->status, elapsed);
	access_log(req, elapsed);
	req->answered = true;
	req->ev = NULL;
	if (req->conn) {
		req->conn->current = NULL;
		req->conn->deadline_ms = now_ms() + req->worker->cfg->header_timeout_ms;
		req->conn = NULL;
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

static size_t header_bytes(struct evhttp_request *ev)
{
	size_t n = strlen(evhttp_request_get_uri(ev)) + 16;
	struct evkeyvalq *h = evhttp_request_get_input_headers(ev);
	for (struct evkeyval *kv = h->tqh_first; kv; kv = kv->next.tqe_next)
		n += strlen(kv->key) + strlen(kv->value) + 4;
	return n;
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
	struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);
	size_t len = evbuffer_get_length(in);
	if (!is_json_content_type(http_header(req, "Content-Type"))) {
		http_reply_error(req, 415, "unsupported_media_type", "The request body must be application/json.", NULL);
		return false;
	}
	const char *data = (const char *)evbuffer_pullup(in, -1);
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
	char *addr = NULL;
	ev_uint16_t port = 0;
	evhttp_connection_get_peer(evhttp_request_get_connection(req->ev), &addr, &port);
	snprintf(req->client_ip, sizeof req->client_ip, "%s", addr ? addr : "");
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

static void dispatch(struct http_server *s, struct http_req *req)
{
	const struct config *cfg = s->worker->cfg;
	if (req->conn && req->conn->over_cap) {
		http_set_header(req, "Retry-After", "1");
		http_set_header(req, "Connection", "close");
		http_reply_error(req, 503, "overloaded", "The server has too many open connections; retry shortly.", NULL);
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
	if ((int64_t)header_bytes(req->ev) > cfg->max_header_size) {
		http_set_header(req, "Connection", "close");
		http_reply_error(req, 431, "headers_too_large", "The request headers are too large.", NULL);
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
	if ((int64_t)evbuffer_get_length(evhttp_request_get_input_buffer(req->ev)) > limit) {
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

static void request_cb(struct evhttp_request *ev, void *arg)
{
	struct http_server *s = arg;
	struct http_req *req = req_new(s);
	req->ev = ev;
	req->worker = s->worker;
	req->start_us = now_us();
	req->method = (int)evhttp_request_get_command(ev);
	req->route_index = METRICS_SLOT_UNMATCHED;
	s->in_flight++;

	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	struct http_conn *c = conn_find(s, evhttp_connection_get_bufferevent(evcon));
	if (c) {
		if (!c->evcon) {
			c->evcon = evcon;
			evhttp_connection_set_closecb(evcon, conn_closed, c);
		}
		c->current = req;
		c->deadline_ms = 0;
		req->conn = c;
	}

	const char *id = evhttp_find_header(evhttp_request_get_input_headers(ev), "X-Request-Id");
	if (id && valid_request_id(id))
		snprintf(req->request_id, sizeof req->request_id, "%s", id);
	else
		snprintf(req->request_id, sizeof req->request_id, "%s-%llx", s->request_id_prefix,
		         (unsigned long long)++s->request_counter);
	fill_client_ip(s, req);

	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
	const char *raw_path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (raw_path && raw_path[0] == '/') {
		size_t decoded_len = 0;
		char *decoded = evhttp_uridecode(raw_path, 0, &decoded_len);
		/* A decoded NUL would cut the path short in every string function. */
		if (decoded && strlen(decoded) == decoded_len)
			req->path = arena_strdup(&req->arena, decoded);
		free(decoded);
	}
	const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
	req->query = q ? arena_strdup(&req->arena, q) : NULL;
	dispatch(s, req);
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
	s->hash_size = 1024;
	while (s->hash_size < (size_t)cfg->max_connections * 2 && s->hash_size < (1u << 20))
		s->hash_size *= 2;
	s->hash = xcalloc(s->hash_size, sizeof *s->hash);
	unsigned char prefix[8];
	randombytes_buf(prefix, sizeof prefix);
	sodium_bin2hex(s->request_id_prefix, sizeof s->request_id_prefix, prefix, sizeof prefix);

	s->http = evhttp_new(w->base);
	if (!s->http)
		goto fail;
	/* Replace evhttp's unsafe defaults (see NOTES): sizes, timeouts, methods. The header cap
	 * here is a hard stop far above max_header_size, which the dispatcher enforces with a
	 * JSON 431; bodies up to the largest route limit are read, then checked per route. */
	evhttp_set_max_headers_size(s->http, (ev_ssize_t)cfg->max_header_size * 4);
	int64_t max_body = cfg->max_body_size;
	for (size_t i = 0; i < nroutes; i++)
		if (routes[i].body_limit > max_body)
			max_body = routes[i].body_limit;
	evhttp_set_max_body_size(s->http, (ev_ssize_t)max_body);
	struct timeval idle = {cfg->keepalive_timeout_ms / 1000, (cfg->keepalive_timeout_ms % 1000) * 1000};
	evhttp_set_timeout_tv(s->http, &idle);
	evhttp_set_allowed_methods(s->http, HTTP_GET | HTTP_POST | HTTP_HEAD | HTTP_PUT | HTTP_DELETE | HTTP_OPTIONS |
	                                        HTTP_PATCH | HTTP_TRACE | HTTP_CONNECT);
	evhttp_set_default_content_type(s->http, "application/json; charset=utf-8");
	evhttp_set_bevcb(s->http, conn_new_bev, s);
	evhttp_set_gencb(s->http, request_cb, s);

	int fd = http_listen_socket(cfg->listen, 1024, true);
	if (fd < 0)
		goto fail;
	s->bound = evhttp_accept_socket_with_handle(s->http, fd);
	if (!s->bound) {
		close(fd);
		goto fail;
	}
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
	if (s->bound) {
		evhttp_del_accept_socket(s->http, s->bound);
		s->bound = NULL;
	}
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	if (s->http)
		evhttp_free(s->http); /* closes connections: conn_closed runs for the known ones */
	while (s->conns)
		conn_forget(s->conns);
	http_streams_free(&s->streams);
	if (s->sweep)
		event_free(s->sweep);
	free(s->hash);
	while (s->spare) {
		struct http_req *next = (struct http_req *)s->spare->ev;
		free(s->spare);
		s->spare = next;
	}
	ratelimit_free(s->limiter);
	for (char **p = s->trusted_proxies; p && *p; p++)
		free(*p);
	free(s->trusted_proxies);
	free(s);
}
