/* Not built yet. */
#include "questions/questions.h"
#include "http/request.h"

void intake_question(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void intake_message(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void intake_register_statements(void) {}
