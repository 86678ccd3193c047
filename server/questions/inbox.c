/* Not built yet. */
#include "questions/questions.h"
#include "http/request.h"

void questions_list(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void questions_get(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void questions_claim(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void questions_unclaim(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void questions_decline(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void questions_assign(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void questions_message(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void questions_comments(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void questions_comment(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void questions_similar(struct http_req *req) { http_reply_error(req, 501, "not_implemented", "Not implemented yet.", NULL); }
void questions_register_statements(void) {}
