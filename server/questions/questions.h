/* External questions: channels, signed intake, the public ask form, perimeter rules,
 * routing, SLA, the expert inbox and the question view. Route handlers, one group per file. */
#ifndef RELAIS_QUESTIONS_H
#define RELAIS_QUESTIONS_H

#include <libpq-fe.h>

#include "core/common.h"

struct http_req;
struct job;

/* channels.c: admins manage channels and their signing secrets */
void channels_list(struct http_req *req);
void channels_create(struct http_req *req);
void channels_get(struct http_req *req);
void channels_update(struct http_req *req);
void channels_rotate_secret(struct http_req *req);
void channels_deliveries(struct http_req *req);
void channels_register_statements(void);

/* intake.c: signed deliveries of questions and customer follow-ups */
void intake_question(struct http_req *req);
void intake_message(struct http_req *req);
void intake_register_statements(void);

/* ask.c: the public ask form and the customer's follow page */
void ask_form(struct http_req *req);
void ask_submit(struct http_req *req);
void follow_get(struct http_req *req);
void follow_message(struct http_req *req);
void ask_register_statements(void);

/* rules.c: perimeter rules and crisis topics of a community */
void rules_get(struct http_req *req);
void rules_put(struct http_req *req);
void crisis_set(struct http_req *req);
void crisis_clear(struct http_req *req);
void rules_register_statements(void);

/* inbox.c, view.c, actions.c, thread.c: what employees do with questions */
void questions_list(struct http_req *req);
void questions_get(struct http_req *req);
void questions_claim(struct http_req *req);
void questions_unclaim(struct http_req *req);
void questions_decline(struct http_req *req);
void questions_assign(struct http_req *req);
void questions_message(struct http_req *req);
void questions_comments(struct http_req *req);
void questions_comment(struct http_req *req);
void questions_similar(struct http_req *req);
void questions_register_statements(void);

/* route_job.c, sla.c: the routing and SLA jobs */
void questions_register_jobs(void);
void routing_register_statements(void);
void sla_register_jobs(void);
/* The positive integer `name` of a job's payload, as text; false when missing or invalid. */
bool routing_payload_id(const struct job *job, const char *name, char *out, size_t size);

/* demo.c: channels, rules and questions for `relais demo`, inside its transaction */
bool questions_demo(PGconn *conn) MUST_USE;

#endif
