/* Not built yet. */
#include "questions/questions.h"
#include "http/request.h"

void channels_list(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void channels_create(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void channels_get(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void channels_update(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void channels_rotate_secret(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void channels_deliveries(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void channels_register_statements(void) {}
