#include "communities/communities.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "core/worker.h"
#include "db/rows.h"
#include "http/input.h"
#include "http/request.h"
#include "people/common.h"

/* What the caller may see and do in a community: every handler starts from this row.
 * $1 community, $2 caller, $3 caller is admin. visible is false for a secret community the
 * caller is not in (nor invited to), so that it answers 404 like a missing one. */
#define ACCESS_CTE                                                                                             \
	"WITH access AS ("                                                                                         \
	"  SELECT c.id, c.visibility, me.role AS my_role, me.status AS my_status,"                                  \
	"   (c.visibility <> 'secret' OR $3::bool OR me.status IS NOT NULL) AS visible,"                              \
	"   coalesce($3::bool OR (me.role = 'manager' AND me.status = 'active'), false) AS manages"                   \
	"  FROM communities c LEFT JOIN community_members me ON me.community_id = c.id AND me.user_id = $2"         \
	"  WHERE c.id = $1)"

#define COMMUNITY_COLUMNS                                                                                      \
	"c.id, c.slug, c.name, c.description, c.visibility, to_json(c.topics) AS topics, c.member_count, c.created_at"

static struct db_stmt stmt_list = {
    "communities_list",
    "SELECT " COMMUNITY_COLUMNS ", me.role AS my_role, me.status AS my_status"
    " FROM communities c LEFT JOIN community_members me ON me.community_id = c.id AND me.user_id = $1"
    " WHERE (c.visibility <> 'secret' OR $2::bool OR me.status IS NOT NULL) AND ($3::bigint IS NULL OR c.id > $3)"
    " ORDER BY c.id LIMIT $4",
    4, 0};

/* The manager must be an active account: otherwise nothing is inserted (422). */
static struct db_stmt stmt_create = {
    "communities_create",
    "WITH c AS (INSERT INTO communities (slug, name, description, visibility, topics, created_by)"
    "  SELECT $1, $2, coalesce($3, ''), coalesce($4, 'open'), coalesce($5::text[], '{}'), $6"
    "  WHERE EXISTS (SELECT 1 FROM users WHERE id = $7 AND status = 'active') RETURNING *),"
    " m AS (INSERT INTO community_members (community_id, user_id, role, status)"
    "  SELECT c.id, $7, 'manager', 'active' FROM c RETURNING user_id)"
    " SELECT c.id, c.slug, c.name, c.description, c.visibility, to_json(c.topics) AS topics,"
    " c.member_count + (SELECT count(*) FROM m)::int AS member_count, c.created_at,"
    " audit_record($8, $9, 'community.created', 'community', c.id::text, $10, $11,"
    "   jsonb_build_object('slug', c.slug, 'manager_id', $7::bigint, 'visibility', c.visibility)) AS _audit FROM c",
    11, 0};

static struct db_stmt stmt_get = {
    "communities_get", ACCESS_CTE
    " SELECT " COMMUNITY_COLUMNS ", a.my_role, a.my_status, a.visible, a.manages,"
    " (SELECT coalesce(json_agg(json_build_object('id', u.id, 'display_name', u.display_name) ORDER BY u.display_name), '[]')"
    "   FROM community_members m JOIN users u ON u.id = m.user_id"
    "   WHERE m.community_id = c.id AND m.role = 'manager' AND m.status = 'active') AS managers"
    " FROM communities c JOIN access a ON a.id = c.id",
    3, 0};

static struct db_stmt stmt_update = {
    "communities_update", ACCESS_CTE
    ", changed AS (UPDATE communities c SET name = coalesce($4, c.name), description = coalesce($5, c.description),"
    " visibility = coalesce($6, c.visibility), topics = coalesce($7::text[], c.topics)"
    " FROM access a WHERE c.id = a.id AND a.visible AND a.manages RETURNING c.*)"
    " SELECT " COMMUNITY_COLUMNS ", audit_record($8, $9, 'community.updated', 'community', c.id::text, $10, $11, $12)"
    "   AS _audit FROM changed c",
    12, 0};

static struct db_stmt stmt_access = {"communities_access", ACCESS_CTE " SELECT * FROM access", 3, 0};

static struct db_stmt stmt_members = {
    "communities_members",
    "SELECT u.id, u.display_name, u.department, u.job_title, u.expertise, m.role, m.status, m.created_at AS since,"
    " encode(convert_to(lower(u.display_name) || E'\\n' || u.id, 'UTF8'), 'hex') AS cursor"
    " FROM community_members m JOIN users u ON u.id = m.user_id"
    " WHERE m.community_id = $1 AND m.status = $2"
    "   AND ($3::text IS NULL OR (lower(u.display_name), u.id) >"
    "     (split_part(convert_from(decode($3, 'hex'), 'UTF8'), E'\\n', 1),"
    "      split_part(convert_from(decode($3, 'hex'), 'UTF8'), E'\\n', 2)::bigint))"
    " ORDER BY lower(u.display_name), u.id LIMIT $4",
    4, 0};

/* Joining: open -> member; request -> requested; an invitation (any visibility) -> member.
 * Already a member (or already requested): nothing changes. */
static struct db_stmt stmt_join = {
    "communities_join",
    "WITH j AS (INSERT INTO community_members (community_id, user_id, role, status)"
    "  SELECT $1, $2, 'member', CASE WHEN $3 = 'open' THEN 'active' ELSE 'requested' END"
    "  ON CONFLICT (community_id, user_id) DO UPDATE SET status = 'active'"
    "    WHERE community_members.status = 'invited'"
    "  RETURNING role, status)"
    " SELECT role, status, audit_record($2, NULL, CASE status WHEN 'active' THEN 'membership.joined'"
    "   ELSE 'membership.requested' END, 'community', $1::text, $4, $5, '{}') AS _audit FROM j",
    5, 0};

static struct db_stmt stmt_membership = {
    "communities_membership",
    "SELECT role, status FROM community_members WHERE community_id = $1 AND user_id = $2", 2, 0};

/* Leaving is refused to the last manager, so that a community always has one. */
#define AUDITED(action, details)                                                                          \
	" SELECT user_id, role, status, audit_record($3, $4, '" action "', 'community', $1::text, $5, $6,"          \
	"   jsonb_build_object('user_id', user_id" details ")) AS _audit FROM changed"

#define NOT_LAST_MANAGER                                                                                   \
	" AND NOT (m.role = 'manager' AND m.status = 'active' AND (SELECT count(*) FROM community_members x"     \
	"   WHERE x.community_id = $1 AND x.role = 'manager' AND x.status = 'active') = 1)"

/* Statements below: $1 community, $2 user, then the four audit parameters ($3 to $6). */
static struct db_stmt stmt_leave = {
    "communities_leave",
    "WITH changed AS (DELETE FROM community_members m WHERE m.community_id = $1 AND m.user_id = $2" NOT_LAST_MANAGER
    " RETURNING m.user_id, m.role, m.status)" AUDITED("membership.left", ""),
    6, 0};

/* Taken first, in its own statement of the batch, by every change that could remove the
 * last manager: concurrent changes then run one after the other, each seeing the last. */
static struct db_stmt stmt_lock_community = {
    "communities_lock", "SELECT id FROM communities WHERE id = $1 FOR UPDATE", 1, 0};

static struct db_stmt stmt_active_user = {
    "communities_active_user", "SELECT id FROM users WHERE id = $1 AND status = 'active'", 1, 0};

/* Inviting someone who asked to join lets them in. */
static struct db_stmt stmt_invite = {
    "communities_invite",
    "WITH changed AS (INSERT INTO community_members (community_id, user_id, role, status)"
    "  SELECT $1, u.id, 'member', 'invited' FROM users u WHERE u.id = $2 AND u.status = 'active'"
    "  ON CONFLICT (community_id, user_id) DO UPDATE SET status = 'active'"
    "    WHERE community_members.status = 'requested'"
    "  RETURNING user_id, role, status)" AUDITED("membership.invited", ""),
    6, 0};

static struct db_stmt stmt_approve = {
    "communities_approve",
    "WITH changed AS (UPDATE community_members SET status = 'active'"
    "  WHERE community_id = $1 AND user_id = $2 AND status = 'requested' RETURNING user_id, role, status)"
    AUDITED("membership.approved", ""),
    6, 0};

/* $7 is the new role; the last manager keeps theirs. */
static struct db_stmt stmt_set_role = {
    "communities_set_role",
    "WITH changed AS (UPDATE community_members m SET role = $7"
    "  WHERE m.community_id = $1 AND m.user_id = $2 AND m.status = 'active'"
    "  AND NOT ($7 <> 'manager' AND m.role = 'manager' AND (SELECT count(*) FROM community_members x"
    "    WHERE x.community_id = $1 AND x.role = 'manager' AND x.status = 'active') = 1)"
    "  RETURNING user_id, role, status)" AUDITED("membership.role_changed", ", 'role', role"),
    7, 0};

static struct db_stmt stmt_remove = {
    "communities_remove",
    "WITH changed AS (DELETE FROM community_members m WHERE m.community_id = $1 AND m.user_id = $2" NOT_LAST_MANAGER
    " RETURNING m.user_id, m.role, m.status)" AUDITED("membership.removed", ", 'was', status"),
    6, 0};

void communities_register_statements(void)
{
	struct db_stmt *all[] = {&stmt_list,   &stmt_create,     &stmt_get,   &stmt_update, &stmt_access,
	                         &stmt_members, &stmt_join,      &stmt_membership, &stmt_leave, &stmt_invite,
	                         &stmt_approve, &stmt_set_role,  &stmt_remove, &stmt_active_user,
	                         &stmt_lock_community};
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		db_register_statement(all[i]);
}

static const char *is_admin(const struct http_req *req)
{
	return req->who.role && !strcmp(req->who.role, "admin") ? "true" : "false";
}

static bool not_found(struct http_req *req)
{
	http_reply_error(req, 404, "not_found", "No such community.", NULL);
	return false;
}

static bool forbidden(struct http_req *req, const char *message)
{
	audit_write(req, "access.denied", "community", http_param(req, "id"), json_pack("{s:s}", "route", req->route->name));
	http_reply_error(req, 403, "forbidden", message, NULL);
	return false;
}

/* --- list, create, get, update ------------------------------------------------------------- */

void communities_list(struct http_req *req)
{
	long long *limit = arena_alloc(&req->arena, sizeof *limit);
	const char *cursor;
	if (!http_read_limit(req, limit) || !http_read_cursor(req, &cursor))
		return;
	req->route_state = limit;
	const char *v[] = {http_id_text(req, req->who.user_id), is_admin(req), cursor, http_id_text(req, *limit)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_list, v, http_page_answered, req);
}

static void created(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_req_release(req))
		return;
	if (result->status == DB_SQL_ERROR && result->sqlstate && !strcmp(result->sqlstate, "23505")) {
		http_reply_error(req, 409, "slug_taken", "Another community has this slug.", "slug");
		return;
	}
	if (result->status == DB_SQL_ERROR && result->sqlstate && !strcmp(result->sqlstate, "23503")) {
		input_fail(req, "manager_id", "No such user.");
		return;
	}
	if (result->status != DB_OK) {
		http_reply_db_error(req, result);
		return;
	}
	if (PQntuples(result->results[0]) != 1) {
		input_fail(req, "manager_id", "The manager must be an active account.");
		return;
	}
	http_reply_json(req, 201, db_row_json(result->results[0], 0));
}

static bool valid_slug(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 63 || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

static const char *const visibilities[] = {"open", "request", "secret", NULL};

void communities_create(struct http_req *req)
{
	static const char *const fields[] = {"slug", "name", "description", "visibility", "topics", "manager_id", NULL};
	const char *slug, *name, *description, *visibility, *topics;
	long long manager = 0;
	bool has_topics, has_manager;
	if (!input_only(req, fields) || !input_line(req, "slug", 2, 63, INPUT_REQUIRED, &slug) ||
	    !input_line(req, "name", 1, 100, INPUT_REQUIRED, &name) ||
	    !input_text(req, "description", 2000, INPUT_OPTIONAL, &description) ||
	    !input_enum(req, "visibility", visibilities, INPUT_OPTIONAL, &visibility) ||
	    !read_string_array(req, "topics", 50, valid_tag, &topics, &has_topics) ||
	    !input_int(req, "manager_id", 1, INT64_MAX, INPUT_OPTIONAL, &manager, &has_manager))
		return;
	if (!valid_slug(slug)) {
		input_fail(req, "slug", "A slug is 2 to 63 lower-case letters, digits and dashes.");
		return;
	}
	if (!req->who.user_id) {
		auth_deny(req, "Communities are created by a person, not a token.");
		return;
	}
	const char *creator = http_id_text(req, req->who.user_id);
	const char *a[4];
	audit_actor_params(req, a);
	const char *v[] = {slug,    name,    description,
	                   visibility, topics, creator,
	                   has_manager ? http_id_text(req, manager) : creator,
	                   a[0],    a[1],    a[2],
	                   a[3]};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_create, v, created, req);
}

static void got(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	const PGresult *r = result->results[0];
	if (PQntuples(r) != 1 || strcmp(db_value(r, 0, "visible"), "t") != 0) {
		not_found(req);
		return;
	}
	json_t *c = db_row_json(r, 0);
	json_object_del(c, "visible");
	http_reply_json(req, 200, c);
}

void communities_get(struct http_req *req)
{
	const char *id;
	if (!http_path_id(req, "id", &id))
		return;
	const char *v[] = {id, http_id_text(req, req->who.user_id), is_admin(req)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_get, v, got, req);
}

static void updated(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	const PGresult *access = result->results[0], *r = result->results[1];
	if (PQntuples(access) != 1 || strcmp(db_value(access, 0, "visible"), "t") != 0) {
		not_found(req);
		return;
	}
	if (PQntuples(r) != 1) {
		forbidden(req, "Only the community's managers may change it.");
		return;
	}
	http_reply_json(req, 200, db_row_json(r, 0));
}

void communities_update(struct http_req *req)
{
	static const char *const fields[] = {"name", "description", "visibility", "topics", NULL};
	const char *id, *name, *description, *visibility, *topics;
	bool has_topics;
	if (!http_path_id(req, "id", &id) || !input_only(req, fields) || !input_line(req, "name", 1, 100, INPUT_OPTIONAL, &name) ||
	    !input_text(req, "description", 2000, INPUT_OPTIONAL, &description) ||
	    !input_enum(req, "visibility", visibilities, INPUT_OPTIONAL, &visibility) ||
	    !read_string_array(req, "topics", 50, valid_tag, &topics, &has_topics))
		return;
	const char *who = http_id_text(req, req->who.user_id);
	struct db_batch *b = db_batch_new();
	const char *a[] = {id, who, is_admin(req)};
	db_batch_add(b, &stmt_access, a);
	const char *au[4];
	audit_actor_params(req, au);
	char *details = json_dumps(req->json, JSON_COMPACT);
	const char *v[] = {id, who, is_admin(req), name, description, visibility, topics, au[0], au[1], au[2], au[3],
	                   arena_strdup(&req->arena, details)};
	free(details);
	db_batch_add(b, &stmt_update, v);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, updated, req);
}

/* --- members --------------------------------------------------------------------------------- */

/* Steps that first check the caller's access to the community, then act. */
struct member_op {
	const char *community_id, *user_id, *role, *status, *cursor;
	const char *conflict_code, *conflict_message;
	bool gone;       /* the membership ends: answer 204 */
	bool check_user; /* the batch starts by checking that op->user_id is an active account */
	long long limit;
	void (*act)(struct http_req *req, const PGresult *access);
};

static void access_checked(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct member_op *op = req->route_state;
	if (!http_db_answered(req, result))
		return;
	const PGresult *r = result->results[0];
	if (PQntuples(r) != 1 || strcmp(db_value(r, 0, "visible"), "t") != 0) {
		not_found(req);
		return;
	}
	op->act(req, r);
}

static void with_access(struct http_req *req, struct member_op *op)
{
	req->route_state = op;
	const char *v[] = {op->community_id, http_id_text(req, req->who.user_id), is_admin(req)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_access, v, access_checked, req);
}

static bool manages(const PGresult *access)
{
	const char *v = db_value(access, 0, "manages");
	return v && !strcmp(v, "t");
}

static void members_listed(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct member_op *op = req->route_state;
	if (!http_req_release(req))
		return;
	if (result->status == DB_SQL_ERROR && result->sqlstate && !strncmp(result->sqlstate, "22", 2)) {
		http_reply_error(req, 400, "invalid_query", "The cursor is malformed.", "cursor");
		return;
	}
	if (result->status != DB_OK) {
		http_reply_db_error(req, result);
		return;
	}
	http_reply_json(req, 200, http_page_json(req, result->results[0], op->limit));
}

static void list_members(struct http_req *req, const PGresult *access)
{
	struct member_op *op = req->route_state;
	/* Requests and invitations are the managers' business. */
	if (strcmp(op->status, "active") != 0 && !manages(access)) {
		forbidden(req, "Only the community's managers see its requests and invitations.");
		return;
	}
	const char *v[] = {op->community_id, op->status, op->cursor, http_id_text(req, op->limit)};
	http_req_hold(req);
	db_query(req->worker->db, &stmt_members, v, members_listed, req);
}

void communities_members(struct http_req *req)
{
	static const char *const statuses[] = {"active", "requested", "invited"};
	struct member_op *op = arena_alloc(&req->arena, sizeof *op);
	memset(op, 0, sizeof *op);
	const char *status = http_query(req, "status");
	if (!http_path_id(req, "id", &op->community_id) || !http_read_limit(req, &op->limit))
		return;
	op->status = "active";
	if (status) {
		size_t i = 0;
		while (i < ARRAY_LEN(statuses) && strcmp(status, statuses[i]))
			i++;
		if (i == ARRAY_LEN(statuses)) {
			http_reply_error(req, 400, "invalid_query", "status is active, requested or invited.", "status");
			return;
		}
		op->status = statuses[i];
	}
	op->cursor = http_query(req, "cursor");
	if (op->cursor && strlen(op->cursor) > 400) {
		http_reply_error(req, 400, "invalid_query", "The cursor is malformed.", "cursor");
		return;
	}
	op->act = list_members;
	with_access(req, op);
}

/* Answers with the membership row (204 when it is gone), or 409 with the operation's
 * conflict code when nothing matched. */
static void membership_done(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	struct member_op *op = req->route_state;
	if (!http_db_answered(req, result))
		return;
	const PGresult *r = result->results[result->count - 1];
	if (op->check_user && PQntuples(result->results[0]) == 0) {
		input_fail(req, "user_id", "No such active account.");
		return;
	}
	if (PQntuples(r) == 0) {
		http_reply_error(req, 409, op->conflict_code, op->conflict_message, NULL);
		return;
	}
	if (op->gone)
		http_reply_empty(req, 204);
	else
		http_reply_json(req, 200, db_row_json(r, 0));
}

/* Runs one membership statement: $1 community, $2 user, the audit parameters, then `extra`. */
static void change_membership(struct http_req *req, const struct db_stmt *stmt, const char *extra,
                              const char *conflict_code, const char *conflict_message)
{
	struct member_op *op = req->route_state;
	op->conflict_code = conflict_code;
	op->conflict_message = conflict_message;
	const char *a[4];
	audit_actor_params(req, a);
	const char *v[] = {op->community_id, op->user_id, a[0], a[1], a[2], a[3], extra};
	struct db_batch *b = db_batch_new();
	op->check_user = stmt == &stmt_invite;
	if (op->check_user) {
		const char *u[] = {op->user_id};
		db_batch_add(b, &stmt_active_user, u);
	} else {
		const char *c[] = {op->community_id};
		db_batch_add(b, &stmt_lock_community, c);
	}
	db_batch_add(b, stmt, v);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, membership_done, req);
}

/* Joining twice is not an error: the current membership is returned. */
static void joined(const struct db_result *result, void *arg)
{
	struct http_req *req = arg;
	if (!http_db_answered(req, result))
		return;
	const PGresult *r = PQntuples(result->results[0]) ? result->results[0] : result->results[1];
	if (PQntuples(r) == 0) {
		not_found(req);
		return;
	}
	http_reply_json(req, 200, db_row_json(r, 0));
}

static void join(struct http_req *req, const PGresult *access)
{
	struct member_op *op = req->route_state;
	const char *me = http_id_text(req, req->who.user_id);
	const char *invited = db_value(access, 0, "my_status");
	/* A secret community is joined only by invitation. */
	if (!strcmp(db_value(access, 0, "visibility"), "secret") && !invited) {
		not_found(req);
		return;
	}
	struct db_batch *b = db_batch_new();
	const char *v[] = {op->community_id, me, db_value(access, 0, "visibility"), req->client_ip, req->request_id};
	db_batch_add(b, &stmt_join, v);
	const char *m[] = {op->community_id, me};
	db_batch_add(b, &stmt_membership, m);
	http_req_hold(req);
	db_batch_send(req->worker->db, b, joined, req);
}

static void left(struct http_req *req, const PGresult *access)
{
	struct member_op *op = req->route_state;
	if (!db_value(access, 0, "my_status")) {
		http_reply_error(req, 409, "not_member", "You are not in this community.", NULL);
		return;
	}
	op->user_id = http_id_text(req, req->who.user_id);
	op->gone = true;
	change_membership(req, &stmt_leave, NULL, "last_manager", "The last manager cannot leave; name another manager first.");
}

static void invite(struct http_req *req, const PGresult *access)
{
	if (!manages(access)) {
		forbidden(req, "Only the community's managers invite people.");
		return;
	}
	change_membership(req, &stmt_invite, NULL, "already_member", "This person is already a member or invited.");
}

static void approve(struct http_req *req, const PGresult *access)
{
	if (!manages(access)) {
		forbidden(req, "Only the community's managers approve requests.");
		return;
	}
	change_membership(req, &stmt_approve, NULL, "no_request", "This person has not asked to join.");
}

static void set_role(struct http_req *req, const PGresult *access)
{
	struct member_op *op = req->route_state;
	if (!manages(access)) {
		forbidden(req, "Only the community's managers grant roles.");
		return;
	}
	change_membership(req, &stmt_set_role, op->role, "not_changed",
	                  "This person is not an active member, or is the last manager.");
}

static void remove_member(struct http_req *req, const PGresult *access)
{
	struct member_op *op = req->route_state;
	if (!manages(access)) {
		forbidden(req, "Only the community's managers remove members.");
		return;
	}
	op->gone = true;
	change_membership(req, &stmt_remove, NULL, "not_removed", "This person is not in the community, or is its last manager.");
}

static struct member_op *member_op(struct http_req *req, bool with_user)
{
	struct member_op *op = arena_alloc(&req->arena, sizeof *op);
	memset(op, 0, sizeof *op);
	if (!http_path_id(req, "id", &op->community_id) || (with_user && !http_path_id(req, "user_id", &op->user_id)))
		return NULL;
	return op;
}

void communities_join(struct http_req *req)
{
	struct member_op *op = member_op(req, false);
	if (!op)
		return;
	op->act = join;
	with_access(req, op);
}

void communities_leave(struct http_req *req)
{
	struct member_op *op = member_op(req, false);
	if (!op)
		return;
	op->act = left;
	with_access(req, op);
}

void communities_invite(struct http_req *req)
{
	static const char *const fields[] = {"user_id", NULL};
	struct member_op *op = member_op(req, false);
	long long user = 0;
	if (!op || !input_only(req, fields) || !input_int(req, "user_id", 1, INT64_MAX, INPUT_REQUIRED, &user, NULL))
		return;
	op->user_id = http_id_text(req, user);
	op->act = invite;
	with_access(req, op);
}

void communities_approve(struct http_req *req)
{
	struct member_op *op = member_op(req, true);
	if (!op)
		return;
	op->act = approve;
	with_access(req, op);
}

void communities_set_role(struct http_req *req)
{
	static const char *const fields[] = {"role", NULL};
	static const char *const roles[] = {"member", "expert", "manager", NULL};
	struct member_op *op = member_op(req, true);
	if (!op || !input_only(req, fields) || !input_enum(req, "role", roles, INPUT_REQUIRED, &op->role))
		return;
	op->act = set_role;
	with_access(req, op);
}

void communities_remove(struct http_req *req)
{
	struct member_op *op = member_op(req, true);
	if (!op)
		return;
	op->act = remove_member;
	with_access(req, op);
}
