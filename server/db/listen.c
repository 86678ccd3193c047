#include "db/listen.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define MAX_SUBSCRIPTIONS 64
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 1000

struct subscription {
	char channel[64];
	db_notify_cb cb;
	db_reconnect_cb on_reconnect;
	void *arg;
	bool listening; /* LISTEN sent on the current connection */
};

struct db_listener {
	struct event_base *base;
	char *conninfo, *application_name;
	PGconn *pg;
	bool connected, connecting, ever_connected, command_in_progress;
	struct event *io, *timer;
	short io_what;
	int io_fd;
	int64_t backoff_ms;
	struct subscription subs[MAX_SUBSCRIPTIONS];
	int nsubs;
};

static struct db_stmt stmt_notify = {"db_notify", "SELECT pg_notify($1, $2)", 2, 0};

void db_listen_register_statements(void)
{
	db_register_statement(&stmt_notify);
}

static void listener_connect(struct db_listener *l);
static void io_cb(evutil_socket_t fd, short what, void *arg);

static void watch(struct db_listener *l, short what)
{
	int fd = l->pg ? PQsocket(l->pg) : -1;
	if (l->io && l->io_fd == fd && l->io_what == what)
		return;
	if (l->io) {
		event_free(l->io);
		l->io = NULL;
	}
	if (fd < 0 || !what)
		return;
	l->io = event_new(l->base, fd, what | EV_PERSIST, io_cb, l);
	l->io_fd = fd;
	l->io_what = what;
	event_add(l->io, NULL);
}

static void schedule_reconnect(struct db_listener *l)
{
	if (l->pg) {
		PQfinish(l->pg);
		l->pg = NULL;
	}
	watch(l, 0);
	if (l->connected)
		log_warn("LISTEN connection lost; reconnecting");
	l->connected = l->connecting = false;
	for (int i = 0; i < l->nsubs; i++)
		l->subs[i].listening = false;
	struct timeval tv = {l->backoff_ms / 1000, (l->backoff_ms % 1000) * 1000};
	l->backoff_ms = l->backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : l->backoff_ms * 2;
	evtimer_add(l->timer, &tv);
}

/* Sends one "LISTEN a; LISTEN b" for the channels not yet listened to on this connection.
 * One command at a time: more subscriptions arriving meanwhile go in the next one. */
static void send_listens(struct db_listener *l)
{
	if (!l->connected || l->command_in_progress)
		return;
	char sql[MAX_SUBSCRIPTIONS * 80];
	size_t n = 0;
	for (int i = 0; i < l->nsubs; i++) {
		struct subscription *s = &l->subs[i];
		if (s->listening)
			continue;
		bool duplicate = false;
		for (int j = 0; j < i; j++)
			duplicate |= !strcmp(l->subs[j].channel, s->channel);
		/* The channel name was checked to be a plain identifier at subscription. */
		if (!duplicate)
			n += (size_t)snprintf(sql + n, sizeof sql - n, "LISTEN %s;", s->channel);
		s->listening = true;
	}
	if (n == 0)
		return;
	if (!PQsendQuery(l->pg, sql)) {
		schedule_reconnect(l);
		return;
	}
	l->command_in_progress = true;
	int rc = PQflush(l->pg);
	if (rc < 0) {
		schedule_reconnect(l);
		return;
	}
	watch(l, rc == 1 ? EV_READ | EV_WRITE : EV_READ);
}

static void on_connected(struct db_listener *l)
{
	bool reconnect = l->ever_connected;
	l->connected = true;
	l->connecting = false;
	l->ever_connected = true;
	l->command_in_progress = false;
	l->backoff_ms = RECONNECT_MIN_MS;
	evtimer_del(l->timer);
	if (PQsetnonblocking(l->pg, 1) != 0) {
		schedule_reconnect(l);
		return;
	}
	watch(l, EV_READ);
	send_listens(l);
	if (reconnect && l->pg)
		for (int i = 0; i < l->nsubs; i++)
			if (l->subs[i].on_reconnect)
				l->subs[i].on_reconnect(l->subs[i].arg);
}

static void poll_connect(struct db_listener *l)
{
	switch (PQconnectPoll(l->pg)) {
	case PGRES_POLLING_READING:
		watch(l, EV_READ);
		return;
	case PGRES_POLLING_WRITING:
		watch(l, EV_WRITE);
		return;
	case PGRES_POLLING_OK:
		on_connected(l);
		return;
	default:
		schedule_reconnect(l);
		return;
	}
}

static void dispatch_notifications(struct db_listener *l)
{
	PGnotify *n;
	while (l->pg && (n = PQnotifies(l->pg))) {
		for (int i = 0; i < l->nsubs; i++)
			if (!strcmp(l->subs[i].channel, n->relname))
				l->subs[i].cb(n->relname, n->extra, l->subs[i].arg);
		PQfreemem(n);
	}
}

static void io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_listener *l = arg;
	if (l->connecting) {
		poll_connect(l);
		return;
	}
	if (!PQconsumeInput(l->pg)) {
		schedule_reconnect(l);
		return;
	}
	int rc = PQflush(l->pg);
	if (rc < 0) {
		schedule_reconnect(l);
		return;
	}
	watch(l, rc == 1 ? EV_READ | EV_WRITE : EV_READ);
	while (l->command_in_progress && !PQisBusy(l->pg)) {
		PGresult *r = PQgetResult(l->pg);
		if (!r) {
			l->command_in_progress = false;
			break;
		}
		PQclear(r);
	}
	dispatch_notifications(l);
	if (l->pg && PQstatus(l->pg) == CONNECTION_BAD) {
		schedule_reconnect(l);
		return;
	}
	send_listens(l);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_listener *l = arg;
	if (l->connecting) {
		schedule_reconnect(l); /* the attempt took too long */
		return;
	}
	listener_connect(l);
}

static void listener_connect(struct db_listener *l)
{
	const char *keys[] = {"dbname", "application_name", NULL};
	const char *values[] = {l->conninfo, l->application_name, NULL};
	l->pg = PQconnectStartParams(keys, values, 1);
	if (!l->pg || PQstatus(l->pg) == CONNECTION_BAD) {
		schedule_reconnect(l);
		return;
	}
	l->connecting = true;
	struct timeval tv = {3, 0};
	evtimer_add(l->timer, &tv);
	poll_connect(l);
}

struct db_listener *db_listener_new(struct event_base *base, const char *conninfo, const char *application_name)
{
	struct db_listener *l = xcalloc(1, sizeof *l);
	l->base = base;
	l->conninfo = xstrdup(conninfo);
	l->application_name = xstrdup(application_name);
	l->io_fd = -1;
	l->backoff_ms = RECONNECT_MIN_MS;
	l->timer = evtimer_new(base, timer_cb, l);
	listener_connect(l);
	return l;
}

void db_listener_free(struct db_listener *l)
{
	if (!l)
		return;
	if (l->io)
		event_free(l->io);
	event_free(l->timer);
	if (l->pg)
		PQfinish(l->pg);
	free(l->conninfo);
	free(l->application_name);
	free(l);
}

static bool valid_channel(const char *c)
{
	size_t n = strlen(c);
	if (n == 0 || n > 63 || !(islower((unsigned char)c[0]) || c[0] == '_'))
		return false;
	for (const char *p = c; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

bool db_subscribe(struct db_listener *l, const char *channel, db_notify_cb cb, db_reconnect_cb on_reconnect,
                  void *arg)
{
	if (!valid_channel(channel) || l->nsubs == MAX_SUBSCRIPTIONS)
		return false;
	struct subscription *s = &l->subs[l->nsubs++];
	snprintf(s->channel, sizeof s->channel, "%s", channel);
	s->cb = cb;
	s->on_reconnect = on_reconnect;
	s->arg = arg;
	send_listens(l);
	return true;
}

bool db_listener_connected(const struct db_listener *l)
{
	return l && l->connected;
}

static void publish_done(const struct db_result *result, void *arg)
{
	if (result->status != DB_OK)
		log_warn("pg_notify failed: %s", result->message ? result->message : "unknown error");
}

void db_publish(struct db_pool *pool, const char *channel, const char *payload, db_callback cb, void *arg)
{
	const char *values[] = {channel, payload};
	db_query(pool, &stmt_notify, values, cb ? cb : publish_done, arg);
}
