/* Every endpoint of relais, in one table: method, path, handler, metrics name, who may call
 * it, body handling and limit, and whether it needs the database. docs/openapi.yaml
 * describes each of them (tests/api/openapi.test.mjs), and tests/api/access.test.mjs holds
 * the expected status of each for anonymous callers and every role. */
#include "audit/audit.h"
#include "auth/auth.h"
#include "communities/communities.h"
#include "http/router.h"
#include "http/server.h"
#include "jobs/jobs.h"
#include "notify/events.h"
#include "ops/ops.h"
#include "people/people.h"
#include "questions/questions.h"

#define GET HTTP_GET
#define POST HTTP_POST
#define PUT HTTP_PUT
#define PATCH HTTP_PATCH
#define DELETE HTTP_DELETE
#define KB 1024

const struct route http_routes[] = {
    /* operations */
    {GET, "/healthz", ops_healthz, "healthz", ACCESS_PUBLIC, BODY_NONE, 0, false},
    {GET, "/readyz", ops_readyz, "readyz", ACCESS_PUBLIC, BODY_NONE, 0, true},
    {GET, "/metrics", ops_metrics, "metrics", ACCESS_PUBLIC, BODY_NONE, 0, false},
    {GET, "/api/v1/version", ops_version, "version", ACCESS_PUBLIC, BODY_NONE, 0, false},
    {POST, "/api/v1/client-errors", ops_client_error, "client_errors", ACCESS_PUBLIC, BODY_JSON, 16 * KB, false},

    /* sessions and one's own account */
    {POST, "/api/v1/session", auth_login, "session_create", ACCESS_PUBLIC, BODY_JSON, 4 * KB, true},
    {DELETE, "/api/v1/session", auth_logout, "session_delete", ACCESS_SESSION, BODY_NONE, 0, true},
    {POST, "/api/v1/password-reset", auth_reset_use, "password_reset_use", ACCESS_PUBLIC, BODY_JSON, 4 * KB, true},
    {GET, "/api/v1/me", people_me, "me", ACCESS_SESSION, BODY_NONE, 0, true},
    {PATCH, "/api/v1/me", people_me_update, "me_update", ACCESS_SESSION, BODY_JSON, 16 * KB, true},
    {PUT, "/api/v1/me/expertise", people_me_expertise, "me_expertise", ACCESS_SESSION, BODY_JSON, 16 * KB, true},
    {POST, "/api/v1/me/password", auth_password_change, "me_password", ACCESS_SESSION, BODY_JSON, 4 * KB, true},
    {GET, "/api/v1/me/sessions", auth_sessions_list, "me_sessions", ACCESS_SESSION, BODY_NONE, 0, true},
    {DELETE, "/api/v1/me/sessions/{id}", auth_session_revoke, "me_session_delete", ACCESS_SESSION, BODY_NONE, 0, true},
    {GET, "/api/v1/me/out-of-office", people_ooo_list, "me_ooo", ACCESS_SESSION, BODY_NONE, 0, true},
    {POST, "/api/v1/me/out-of-office", people_ooo_create, "me_ooo_create", ACCESS_SESSION, BODY_JSON, 4 * KB, true},
    {DELETE, "/api/v1/me/out-of-office/{id}", people_ooo_delete, "me_ooo_delete", ACCESS_SESSION, BODY_NONE, 0, true},

    /* people */
    {GET, "/api/v1/people", people_directory, "people", ACCESS_USER, BODY_NONE, 0, true},
    {GET, "/api/v1/people/{id}", people_profile, "person", ACCESS_USER, BODY_NONE, 0, true},
    {PUT, "/api/v1/people/{id}/expertise", people_person_expertise, "person_expertise", ACCESS_SESSION, BODY_JSON,
     16 * KB, true},

    /* communities */
    {GET, "/api/v1/communities", communities_list, "communities", ACCESS_USER, BODY_NONE, 0, true},
    {POST, "/api/v1/communities", communities_create, "community_create", ACCESS_COMMS, BODY_JSON, 16 * KB, true},
    {GET, "/api/v1/communities/{id}", communities_get, "community", ACCESS_USER, BODY_NONE, 0, true},
    {PATCH, "/api/v1/communities/{id}", communities_update, "community_update", ACCESS_SESSION, BODY_JSON, 16 * KB,
     true},
    {GET, "/api/v1/communities/{id}/members", communities_members, "community_members", ACCESS_USER, BODY_NONE, 0,
     true},
    {POST, "/api/v1/communities/{id}/join", communities_join, "community_join", ACCESS_SESSION, BODY_NONE, 0, true},
    {POST, "/api/v1/communities/{id}/leave", communities_leave, "community_leave", ACCESS_SESSION, BODY_NONE, 0, true},
    {POST, "/api/v1/communities/{id}/invitations", communities_invite, "community_invite", ACCESS_SESSION, BODY_JSON,
     4 * KB, true},
    {POST, "/api/v1/communities/{id}/members/{user_id}/approve", communities_approve, "community_approve",
     ACCESS_SESSION, BODY_NONE, 0, true},
    {PUT, "/api/v1/communities/{id}/members/{user_id}", communities_set_role, "community_set_role", ACCESS_SESSION,
     BODY_JSON, 4 * KB, true},
    {DELETE, "/api/v1/communities/{id}/members/{user_id}", communities_remove, "community_remove", ACCESS_SESSION,
     BODY_NONE, 0, true},

    /* channels (docs/questions.md) */
    {GET, "/api/v1/channels", channels_list, "channels", ACCESS_ADMIN, BODY_NONE, 0, true},
    {POST, "/api/v1/channels", channels_create, "channel_create", ACCESS_ADMIN, BODY_JSON, 4 * KB, true},
    {GET, "/api/v1/channels/{id}", channels_get, "channel", ACCESS_ADMIN, BODY_NONE, 0, true},
    {PATCH, "/api/v1/channels/{id}", channels_update, "channel_update", ACCESS_ADMIN, BODY_JSON, 4 * KB, true},
    {POST, "/api/v1/channels/{id}/secret", channels_rotate_secret, "channel_secret", ACCESS_ADMIN, BODY_NONE, 0, true},
    {GET, "/api/v1/channels/{id}/deliveries", channels_deliveries, "channel_deliveries", ACCESS_ADMIN, BODY_NONE, 0,
     true},

    /* signed intake: public, authenticated by the channel's signature */
    {POST, "/api/v1/channels/{id}/questions", intake_question, "intake_question", ACCESS_PUBLIC, BODY_JSON, 64 * KB,
     true},
    {POST, "/api/v1/channels/{id}/questions/{external_id}/messages", intake_message, "intake_message", ACCESS_PUBLIC,
     BODY_JSON, 64 * KB, true},

    /* the public ask form and the customer's follow page */
    {GET, "/api/v1/ask/{slug}", ask_form, "ask_form", ACCESS_PUBLIC, BODY_NONE, 0, true},
    {POST, "/api/v1/ask/{slug}", ask_submit, "ask_submit", ACCESS_PUBLIC, BODY_JSON, 32 * KB, true},
    {GET, "/api/v1/follow/{token}", follow_get, "follow", ACCESS_PUBLIC, BODY_NONE, 0, true},
    {POST, "/api/v1/follow/{token}/messages", follow_message, "follow_message", ACCESS_PUBLIC, BODY_JSON, 32 * KB,
     true},

    /* perimeter rules and crisis topics */
    {GET, "/api/v1/communities/{id}/rules", rules_get, "community_rules", ACCESS_USER, BODY_NONE, 0, true},
    {PUT, "/api/v1/communities/{id}/rules", rules_put, "community_rules_put", ACCESS_SESSION, BODY_JSON, 64 * KB,
     true},
    {PUT, "/api/v1/communities/{id}/crisis/{topic}", crisis_set, "community_crisis_set", ACCESS_SESSION, BODY_JSON,
     4 * KB, true},
    {DELETE, "/api/v1/communities/{id}/crisis/{topic}", crisis_clear, "community_crisis_clear", ACCESS_SESSION,
     BODY_NONE, 0, true},

    /* questions: inbox, view, actions, internal thread */
    {GET, "/api/v1/questions", questions_list, "questions", ACCESS_USER, BODY_NONE, 0, true},
    {GET, "/api/v1/questions/{id}", questions_get, "question", ACCESS_USER, BODY_NONE, 0, true},
    {POST, "/api/v1/questions/{id}/claim", questions_claim, "question_claim", ACCESS_SESSION, BODY_NONE, 0, true},
    {POST, "/api/v1/questions/{id}/unclaim", questions_unclaim, "question_unclaim", ACCESS_SESSION, BODY_NONE, 0,
     true},
    {POST, "/api/v1/questions/{id}/decline", questions_decline, "question_decline", ACCESS_SESSION, BODY_JSON, 4 * KB,
     true},
    {POST, "/api/v1/questions/{id}/assign", questions_assign, "question_assign", ACCESS_SESSION, BODY_JSON, 4 * KB,
     true},
    {POST, "/api/v1/questions/{id}/messages", questions_message, "question_message", ACCESS_SESSION, BODY_JSON,
     32 * KB, true},
    {GET, "/api/v1/questions/{id}/comments", questions_comments, "question_comments", ACCESS_USER, BODY_NONE, 0,
     true},
    {POST, "/api/v1/questions/{id}/comments", questions_comment, "question_comment", ACCESS_SESSION, BODY_JSON,
     32 * KB, true},
    {GET, "/api/v1/questions/{id}/similar", questions_similar, "question_similar", ACCESS_USER, BODY_NONE, 0, true},

    /* live events and notifications */
    {GET, "/api/v1/events", events_stream, "events", ACCESS_SESSION, BODY_NONE, 0, true},
    {GET, "/api/v1/notifications", notifications_list, "notifications", ACCESS_SESSION, BODY_NONE, 0, true},
    {POST, "/api/v1/notifications/read", notifications_read, "notifications_read", ACCESS_SESSION, BODY_JSON, 4 * KB,
     true},

    /* administration */
    {GET, "/api/v1/users", people_users_list, "users", ACCESS_ADMIN, BODY_NONE, 0, true},
    {POST, "/api/v1/users", people_user_create, "user_create", ACCESS_ADMIN, BODY_JSON, 16 * KB, true},
    {PATCH, "/api/v1/users/{id}", people_user_update, "user_update", ACCESS_ADMIN, BODY_JSON, 16 * KB, true},
    {POST, "/api/v1/users/{id}/password-reset", auth_reset_create, "user_password_reset", ACCESS_ADMIN, BODY_NONE, 0,
     true},
    {GET, "/api/v1/tokens", auth_tokens_list, "tokens", ACCESS_ADMIN, BODY_NONE, 0, true},
    {POST, "/api/v1/tokens", auth_token_create, "token_create", ACCESS_ADMIN, BODY_JSON, 4 * KB, true},
    {DELETE, "/api/v1/tokens/{id}", auth_token_revoke, "token_delete", ACCESS_ADMIN, BODY_NONE, 0, true},
    {GET, "/api/v1/audit", audit_list, "audit", ACCESS_ADMIN, BODY_NONE, 0, true},
};

const size_t http_route_count = sizeof http_routes / sizeof http_routes[0];

void auth_session_register_statements(void);
void auth_tokens_register_statements(void);

/* Prepared statements of every module, registered before any database connection opens, and
 * the handlers of each job kind, registered before the jobs queue starts. */
void routes_register_statements(void);
void routes_register_statements(void)
{
	ops_register_statements();
	audit_register_statements();
	auth_register_statements();
	auth_session_register_statements();
	auth_tokens_register_statements();
	people_register_statements();
	communities_register_statements();
	channels_register_statements();
	intake_register_statements();
	ask_register_statements();
	rules_register_statements();
	questions_register_statements();
	routing_register_statements();
	jobs_register_statements();
	events_register_statements();
	notifications_register_statements();
	questions_register_jobs();
}
