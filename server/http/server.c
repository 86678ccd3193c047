#include "http/server.h"

#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ipnet.h"
#include "core/log.h"
#include "core/worker.h"
#include "http/internal.h"
#include "http/metrics.h"
#include "http/parse.h"
#include "http/ratelimit.h"
#include "http/static.h"

/* Relais's own HTTP/1.1 server on libevent events (see docs/http.md for why: evhttp spent
 * about 65 % of a /healthz request in per-header allocations, printf and epoll_ctl):
 * requests (from a parsed head to the handler: the request id, the client address, the
 * route, the limits, the access gate, the JSON body), their end, and the server's setup.
 * Connections are conn.c's, answers answer.c's. */

static http_gate gate;

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
	if (c)
		http_conn_request_done(c, req);
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

static bool is_trusted_proxy(const struct http_server *s, const char *text)
{
	struct ipnet address;
	if (!ipnet_parse_address(text, &address))
		return false;
	for (int i = 0; i < s->ntrusted_proxies; i++)
		if (ipnet_contains(&s->trusted_proxies[i], &address))
			return true;
	return false;
}

/* The peer's address, or, when the peer is a trusted proxy, the last address in
 * X-Forwarded-For that is not itself a trusted proxy (earlier entries are the client's say). */
static void fill_client_ip(struct http_server *s, struct http_req *req)
{
	snprintf(req->client_ip, sizeof req->client_ip, "%s", req->conn->peer);
	if (!s->ntrusted_proxies)
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

void http_request_start(struct http_conn *c, const struct http_head *h)
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
void http_request_error(struct http_conn *c, long rc)
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

void http_dispatch(struct http_server *s, struct http_req *req)
{
	const struct config *cfg = s->worker->cfg;
	if (req->conn && req->conn->over_cap) {
		req->close = true;
		http_set_header(req, "Retry-After", "1");
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

/* "10.0.0.2, 192.168.0.0/16" as networks; the configuration has checked every one. */
static void parse_trusted_proxies(struct http_server *s, const char *text)
{
	s->trusted_proxies = xcalloc(strlen(text) / 2 + 1, sizeof *s->trusted_proxies);
	char *copy = xstrdup(text), *save = NULL;
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		if (ipnet_parse(t, &s->trusted_proxies[s->ntrusted_proxies]))
			s->ntrusted_proxies++;
	free(copy);
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
	if (!http_conn_listen(s))
		goto fail;
	s->limiter = ratelimit_new(cfg->rate_limit);
	parse_trusted_proxies(s, cfg->trusted_proxies);
	http_streams_init(&s->streams, w->base);
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
		http_conn_free(s->conns);
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
	free(s->trusted_proxies);
	free(s);
}
