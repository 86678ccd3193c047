/* Live events: notifications (rows, then pg_notify) streamed as server-sent events. */
#ifndef RELAIS_NOTIFY_EVENTS_H
#define RELAIS_NOTIFY_EVENTS_H

struct worker;
struct http_req;

void events_start(struct worker *w);
/* SIGTERM: ends every stream so that the graceful stop completes. */
void events_shutdown(struct worker *w);
void events_stop(struct worker *w);
void events_stream(struct http_req *req);
void events_register_statements(void);

/* notifications.c */
void notifications_list(struct http_req *req);
void notifications_read(struct http_req *req);
void notifications_register_statements(void);

#endif
