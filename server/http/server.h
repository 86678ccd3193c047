/* The HTTP front of a worker: relais's own HTTP/1.1 server (server.c, conn.c, answer.c), its
 * own listening socket (SO_REUSEPORT), connection tracking for the header deadline and the
 * connection cap, and the dispatcher that runs the route table. */
#ifndef RELAIS_HTTP_SERVER_H
#define RELAIS_HTTP_SERVER_H

#include <event2/event.h>

#include "core/common.h"
#include "http/router.h"

struct worker;
struct http_server;

struct http_server *http_server_start(struct worker *w, const struct route *routes, size_t nroutes) MUST_USE;
/* Closes the listening socket; requests in flight go on. */
void http_server_stop_accepting(struct http_server *s);
int http_server_in_flight(const struct http_server *s);
/* No request in flight, no stream open, and every answer written to its socket. */
bool http_server_drained(const struct http_server *s);
int http_server_connections(const struct http_server *s);
void http_server_free(struct http_server *s);

/* Opens a listening TCP socket, with SO_REUSEPORT for the workers; -1 with a logged reason
 * on failure. */
int http_listen_socket(const char *listen, int backlog, bool reuse_port);

/* The route table (routes.c). */
extern const struct route http_routes[];
extern const size_t http_route_count;

#endif
