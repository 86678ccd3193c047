/* The built web app (web/dist), loaded into memory when a worker starts: only files found
 * under web_root at that moment can ever be served, so no request path can reach outside
 * it. Hashed assets are cached for a year; index.html answers unknown paths (the app's own
 * routes). */
#ifndef RELAIS_HTTP_STATIC_H
#define RELAIS_HTTP_STATIC_H

#include "core/common.h"

struct http_req;

/* Loads every regular file under `root`; false (and an empty set) when it cannot. */
bool static_load(const char *root);
void static_unload(void);
void static_serve(struct http_req *req);
/* Content type from a file name, e.g. "text/css; charset=utf-8". */
const char *static_content_type(const char *name);

#endif
