/* The audit log: append-only rows for every security event. A change and its audit row
 * go in the same batch, so one is never written without the other. */
#ifndef RELAIS_AUDIT_H
#define RELAIS_AUDIT_H

#include <jansson.h>

#include "db/pool.h"

struct http_req;

void audit_register_statements(void);
/* Adds the audit row to `batch`; `details` (stolen, may be NULL) must not hold secrets. */
void audit_add(struct db_batch *batch, struct http_req *req, const char *action, const char *object_type,
               const char *object_id, json_t *details);
/* Same, for rows whose actor is known by id only (sign-in, before a principal exists). */
void audit_add_as(struct db_batch *batch, struct http_req *req, const char *actor_user_id, const char *action,
                  const char *object_type, const char *object_id, json_t *details);
/* Writes one audit row on its own, not waiting for it (denials, failed sign-ins). */
void audit_write(struct http_req *req, const char *action, const char *object_type, const char *object_id,
                 json_t *details);

/* The four parameters of audit_record(actor_user_id, actor_token_id, ..., ip, request_id, ...)
 * for statements that audit only the rows they change: actor user, actor token, IP, request id. */
void audit_actor_params(struct http_req *req, const char *out[4]);

/* GET /api/v1/audit */
void audit_list(struct http_req *req);

#endif
