/* Not built yet. */
#include "questions/questions.h"
#include "http/request.h"

void ask_form(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void ask_submit(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void follow_get(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void follow_message(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void ask_register_statements(void) {}
