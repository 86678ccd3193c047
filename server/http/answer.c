/* Answers of relais's HTTP server: the status line and headers rendered into one buffer
 * (the common headers pre-rendered, the handler's own after them), written with the body in
 * one sendmsg (conn.c). */
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>

#include "http/internal.h"

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

/* "Date: ...\r\n", rendered once a second (a worker is a process: one per worker). */
static const char *date_header(void)
{
	static time_t date_at;
	static char date[40];
	time_t now = time(NULL);
	if (now != date_at) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(date, sizeof date, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
		date_at = now;
	}
	return date;
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
size_t http_render_head(struct http_req *req, int status, size_t body_len, bool stream, char **out)
{
	bool no_body = status == 204 || status == 304 || status < 200;
	const char *type = req->content_type;
	if (!type && !no_body)
		type = "application/json; charset=utf-8";
	/* A 304 has no Content-Type, yet browsers copy its headers onto the cached page. */
	bool html = req->page || (type && !strncmp(type, "text/html", 9));
	if (stream)
		req->close = true;
	/* Every request closes once the server is stopping, the client asked, or the connection
	 * is over the cap (http_dispatch). */
	bool close = req->close || !req->keep_alive;
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
	p = put_str(p, date_header());
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
	size_t hlen = http_render_head(req, status, len, false, &head);
	bool no_body = status == 204 || status == 304 || status < 200 || req->method == HTTP_HEAD;
	struct iovec iov[2] = {{head, hlen}, {(void *)body, no_body ? 0 : len}};
	http_conn_write(c, iov, iov[1].iov_len ? 2 : 1, static_body);
	req->bytes_out = len;
}
