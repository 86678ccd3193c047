/* What the employee-side routes of questions share: who may see a question, who may act on
 * it, the columns of a question row and the one function that turns such a row into JSON.
 *
 * Customer privacy lives here and only here: every statement that returns a question selects
 * QUESTION_COLUMNS (which fetches the customer's identity only for the community's active
 * managers and admins), and every handler turns rows into JSON with question_json() (which
 * writes the identity only when the row says the caller may see it). A route that returns a
 * question without both cannot reveal anything, because the identity is never selected.
 *
 * The SQL macros take the caller as two SQL expressions: U, a bigint user id, and A, a bool
 * that is true for admins. They refer to the question as `q`. */
#ifndef RELAIS_QUESTIONS_COMMON_H
#define RELAIS_QUESTIONS_COMMON_H

#include <jansson.h>
#include <libpq-fe.h>

#include "core/common.h"

struct http_req;

/* The caller's role in the question's community when an active member, NULL otherwise. */
#define Q_ROLE(U)                                                                                              \
	"(SELECT m.role FROM community_members m WHERE m.community_id = q.community_id AND m.user_id = " U          \
	" AND m.status = 'active')"

/* Admins and the community's active managers: they see the customer and triage. */
#define Q_MANAGES(U, A) "(" A " OR coalesce(" Q_ROLE(U) " = 'manager', false))"

/* Is or was in charge: assignee, primary, backup, claimer now, or named by a routing decision,
 * a decline, a claim or an assignment before (events whose details carry the `user_id`). */
#define Q_INVOLVED(U)                                                                                          \
	"(coalesce(q.assignee_id = " U " OR q.primary_expert_id = " U " OR q.backup_expert_id = " U                    \
	" OR q.claimed_by = " U ", false)"                                                                         \
	" OR EXISTS (SELECT 1 FROM question_routes r WHERE r.question_id = q.id AND r.user_id = " U ")"             \
	" OR EXISTS (SELECT 1 FROM question_declines d WHERE d.question_id = q.id AND d.user_id = " U ")"           \
	" OR EXISTS (SELECT 1 FROM question_events e WHERE e.question_id = q.id"                                    \
	"   AND ((e.kind = 'question.claimed' AND e.actor_user_id = " U ")"                                          \
	"     OR (e.kind IN ('question.assigned', 'question.escalated', 'question.routed')"                          \
	"         AND e.details->>'user_id' = (" U ")::text))))"

/* Triage is the managers' queue; everything else is seen by the community and those involved. */
#define Q_VISIBLE(U, A)                                                                                        \
	"(" Q_MANAGES(U, A) " OR (q.status <> 'triage' AND (" Q_ROLE(U) " IS NOT NULL OR " Q_INVOLVED(U) ")))"

/* Who may do what (Q_MAY_*) and in which states it can be done (Q_STATE_*): kept apart so
 * that a refusal says 403 or 409, and used both by the actions and by the view's `can`. */
#define Q_MAY_CLAIM(U)                                                                                         \
	"(coalesce(q.assignee_id = " U " OR q.backup_expert_id = " U ", false)"                                    \
	" OR coalesce(" Q_ROLE(U) " IN ('expert', 'manager'), false))"
#define Q_STATE_CLAIM "(q.status IN ('assigned', 'escalated') AND q.claimed_by IS NULL)"
#define Q_MAY_UNCLAIM(U) "coalesce(q.claimed_by = " U ", false)"
#define Q_STATE_UNCLAIM "(q.status IN ('claimed', 'waiting_customer'))"
#define Q_MAY_DECLINE(U) "coalesce(q.assignee_id = " U ", false)"
#define Q_STATE_DECLINE(U)                                                                                     \
	"(q.status IN ('assigned', 'claimed', 'waiting_customer') AND (q.claimed_by IS NULL OR q.claimed_by = " U   \
	"))"
#define Q_MAY_ASSIGN(U, A) Q_MANAGES(U, A)
#define Q_STATE_ASSIGN "(q.status IN ('triage', 'routing', 'assigned', 'claimed', 'waiting_customer', 'escalated'))"
#define Q_STATE_MOVE "(q.status IN ('triage', 'routing', 'assigned', 'claimed', 'waiting_customer'))"
#define Q_MAY_MESSAGE(U, A) "(coalesce(q.assignee_id = " U " OR q.claimed_by = " U ", false) OR " Q_MANAGES(U, A) ")"
#define Q_STATE_MESSAGE Q_STATE_ASSIGN

#define Q_OPEN_STATUSES "('assigned', 'claimed', 'waiting_customer', 'escalated')"

/* In every statement that returns questions: $2 is the caller, $3 whether they are an admin. */
#define Q_ME "$2::bigint"
#define Q_ADMIN "$3::bool"

/* With the caller's active membership in the question's community as `qm` (at most one row:
 * the primary key), so that the columns read the caller's role once per row: as four
 * subqueries (Q_MANAGES) it was two thirds of PostgreSQL's time for an inbox page. */
#define QUESTION_FROM                                                                                          \
	" FROM questions q JOIN channels ch ON ch.id = q.channel_id JOIN communities co ON co.id = q.community_id"  \
	" JOIN customers cu ON cu.id = q.customer_id"                                                                \
	" LEFT JOIN users ua ON ua.id = q.assignee_id LEFT JOIN users up ON up.id = q.primary_expert_id"            \
	" LEFT JOIN users ub ON ub.id = q.backup_expert_id LEFT JOIN users uc ON uc.id = q.claimed_by"               \
	" LEFT JOIN community_members qm ON qm.community_id = q.community_id AND qm.user_id = " Q_ME                 \
	" AND qm.status = 'active'"

/* Q_MANAGES(Q_ME, Q_ADMIN) in a statement built on QUESTION_FROM. */
#define Q_MANAGES_JOINED "(" Q_ADMIN " OR coalesce(qm.role = 'manager', false))"

/* The remaining time is the database's: negative once the deadline has passed, the time that
 * was left while the clock is paused, null without a clock. */
#define QUESTION_COLUMNS                                                                                       \
	"q.id, q.title, q.status, q.language, to_json(q.tags) AS tags, q.topic, q.triage_reason,"                 \
	" q.sla_due_at, CASE WHEN q.sla_due_at IS NOT NULL"                                                         \
	"   THEN floor(extract(epoch FROM q.sla_due_at - now()))::bigint"                                           \
	"   ELSE floor(extract(epoch FROM q.sla_remaining))::bigint END AS sla_remaining_seconds,"                   \
	" q.escalation_level,"                                                                                      \
	" EXISTS (SELECT 1 FROM crisis_topics ct WHERE ct.community_id = q.community_id"                            \
	"   AND (ct.topic = q.topic OR ct.topic = ANY (q.tags))) AS crisis,"                                         \
	" q.first_response_at, q.created_at, q.updated_at,"                                                         \
	" ch.id AS _channel_id, ch.name AS _channel_name, ch.kind AS _channel_kind,"                                \
	" co.id AS _community_id, co.name AS _community_name, co.slug AS _community_slug,"                          \
	" " Q_MANAGES_JOINED " AS _sees_customer, cu.pseudonym AS _customer_pseudonym,"                             \
	" CASE WHEN " Q_MANAGES_JOINED " THEN cu.name END AS _customer_name,"                                       \
	" CASE WHEN " Q_MANAGES_JOINED " THEN cu.email END AS _customer_email,"                                     \
	" CASE WHEN " Q_MANAGES_JOINED " THEN cu.external_ref END AS _customer_external_ref,"                       \
	" ua.id AS _assignee_id, ua.display_name AS _assignee_name,"                                                \
	" up.id AS _primary_expert_id, up.display_name AS _primary_expert_name,"                                    \
	" ub.id AS _backup_expert_id, ub.display_name AS _backup_expert_name,"                                      \
	" uc.id AS _claimed_by_id, uc.display_name AS _claimed_by_name"

/* A question row as JSON: QUESTION_COLUMNS, plus channel, community, customer (identity only
 * when `_sees_customer`), the four people as {id, display_name} or null, and `can` when the
 * row has the `_can_*` columns. */
json_t *question_json(const PGresult *r, int row);
/* Every row of the result as an array, each as question_json makes it but for column `skip`
 * (NULL: none), written directly (lists: no tree to build, write and free). */
struct json_text;
void question_rows_write(struct json_text *text, const PGresult *r, const char *skip);

/* "true" / "false" for Q_ADMIN. */
const char *question_admin_text(const struct http_req *req);
/* 404 question_not_found. */
void question_not_found(struct http_req *req);
/* 403 forbidden, audited as access.denied on the question. */
void question_forbidden(struct http_req *req, const char *id, const char *message);
/* A cursor or a filter of a list: digits only, at most 18 of them. */
bool question_is_id(const char *s);

/* Adds to `b` the statement that reads question `id` as the caller sees it (QUESTION_COLUMNS,
 * body, url, `_visible`, the `_can_*` flags, and the `_may_*` and `_declined` columns that
 * tell a refused action's 403 from its 409). Added last in a batch, it shows the question
 * after the batch's changes. */
struct db_batch;
void question_add_row(struct db_batch *b, struct http_req *req, const char *id);
/* Adds the statement that only says whether the caller may see question `id` (`_visible`). */
void question_add_visible(struct db_batch *b, struct http_req *req, const char *id);
/* The row's `_visible` column (false without a row). */
bool question_row_visible(const PGresult *r);
bool question_row_flag(const PGresult *r, const char *column);

/* Statements of each file, registered by questions_register_statements(). */
void questions_view_register(void);
void questions_actions_register(void);
void questions_thread_register(void);

#endif
