/* Shared by the files of the http/ folder only. */
#ifndef RELAIS_HTTP_INTERNAL_H
#define RELAIS_HTTP_INTERNAL_H

#include "http/request.h"

/* One policy for every response: the web app needs nothing looser. */
#define HTTP_CSP                                                                                            \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

void http_finish_headers(struct http_req *req, int status);
void http_after_reply(struct http_req *req);

#endif
