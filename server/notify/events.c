/* Not built yet. */
#include "notify/events.h"
#include "http/request.h"

void events_stream(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void notifications_list(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void notifications_read(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void events_start(struct worker *w) { (void)w; }
void events_stop(struct worker *w) { (void)w; }
void events_register_statements(void) {}
