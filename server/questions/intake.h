/* Storing a question or a customer message exactly once, shared by the signed intake
 * (intake.c) and the public ask form and follow page (ask.c). */
#ifndef RELAIS_QUESTIONS_INTAKE_H
#define RELAIS_QUESTIONS_INTAKE_H

#include "core/common.h"
#include "db/pool.h"

struct http_req;

/* A question as received. NULL fields take their defaults (language: the channel's). */
struct intake_question {
	const char *channel_id, *webhook_id, *external_id, *title, *body, *language, *tags, *url;
	const char *name, *email, *external_ref;
	const char *follow_hash_hex; /* SHA-256 of the follow token (ask form), or NULL */
};

/* Adds to `b` the statements that store the question once (concurrent identical deliveries
 * included), its customer, its receipt and delivery row, and triage it: the batch's last
 * result has question_id, status and duplicate (a single row; question_id NULL only if a
 * conflicting insert raced past the lock, which the caller answers 503). */
void intake_add_question(struct db_batch *b, struct http_req *req, const struct intake_question *q);
/* Call with that last result once the batch committed: wakes the job runner (NOTIFY
 * relais_jobs, coalesced per worker) when the question was handed to routing. */
void intake_routed(struct http_req *req, const PGresult *r);

/* A customer message on the question (channel_id, question_external_id) or on the question
 * whose follow token hashes to follow_hash_hex. The last result has message_id, question_id
 * and duplicate; both ids NULL when no such question. */
struct intake_message {
	const char *channel_id, *webhook_id, *question_external_id, *follow_hash_hex, *external_id, *body;
};
void intake_add_message(struct db_batch *b, struct http_req *req, const struct intake_message *m);

/* customer.email and friends: a plausible address (something@domain.tld, no spaces). */
bool intake_valid_email(const char *s);

#endif
