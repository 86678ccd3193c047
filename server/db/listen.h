/* One LISTEN connection per worker and a small publish/subscribe API on top of it.
 * Subscribers name a channel; after a reconnect every channel is listened to again and
 * subscribers are told (`on_reconnect`) so they can catch up on what they missed. */
#ifndef RELAIS_DB_LISTEN_H
#define RELAIS_DB_LISTEN_H

#include <event2/event.h>

#include "core/common.h"
#include "db/pool.h"

struct db_listener;

typedef void (*db_notify_cb)(const char *channel, const char *payload, void *arg);
typedef void (*db_reconnect_cb)(void *arg);

struct db_listener *db_listener_new(struct event_base *base, const char *conninfo, const char *application_name);
void db_listener_free(struct db_listener *l);
/* Channel names are identifiers: [a-z_][a-z0-9_]*, at most 63 bytes. */
bool db_subscribe(struct db_listener *l, const char *channel, db_notify_cb cb, db_reconnect_cb on_reconnect,
                  void *arg) MUST_USE;
bool db_listener_connected(const struct db_listener *l);
/* pg_notify(channel, payload) through the pool; `cb` may be NULL. */
void db_publish(struct db_pool *pool, const char *channel, const char *payload, db_callback cb, void *arg);
void db_listen_register_statements(void);

#endif
