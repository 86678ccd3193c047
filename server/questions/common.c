/* The question row as JSON, and the small answers every employee-side route gives. */
#include "questions/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "db/rows.h"
#include "http/request.h"

/* The columns of a question's nested parts, in the order QUESTION_COLUMNS selects them, then
 * the `_can_*` flags that only the single-question statements add. Found once per result
 * (db_columns), so that each row is read by column number. */
enum {
	C_CHANNEL_ID,
	C_CHANNEL_NAME,
	C_CHANNEL_KIND,
	C_COMMUNITY_ID,
	C_COMMUNITY_NAME,
	C_COMMUNITY_SLUG,
	C_SEES_CUSTOMER,
	C_CUSTOMER_PSEUDONYM,
	C_CUSTOMER_NAME,
	C_CUSTOMER_EMAIL,
	C_CUSTOMER_EXTERNAL_REF,
	C_ASSIGNEE_ID,
	C_ASSIGNEE_NAME,
	C_PRIMARY_EXPERT_ID,
	C_PRIMARY_EXPERT_NAME,
	C_BACKUP_EXPERT_ID,
	C_BACKUP_EXPERT_NAME,
	C_CLAIMED_BY_ID,
	C_CLAIMED_BY_NAME,
	C_CAN_CLAIM, /* the first of the flags, in can_actions[] order */
	C_COUNT = C_CAN_CLAIM + 5,
};

static const char *const column_names[C_COUNT] = {
    "_channel_id",
    "_channel_name",
    "_channel_kind",
    "_community_id",
    "_community_name",
    "_community_slug",
    "_sees_customer",
    "_customer_pseudonym",
    "_customer_name",
    "_customer_email",
    "_customer_external_ref",
    "_assignee_id",
    "_assignee_name",
    "_primary_expert_id",
    "_primary_expert_name",
    "_backup_expert_id",
    "_backup_expert_name",
    "_claimed_by_id",
    "_claimed_by_name",
    "_can_claim",
    "_can_unclaim",
    "_can_decline",
    "_can_assign",
    "_can_message",
};

static const struct {
	const char *key;
	int id, name;
} persons[] = {
    {"assignee", C_ASSIGNEE_ID, C_ASSIGNEE_NAME},
    {"primary_expert", C_PRIMARY_EXPERT_ID, C_PRIMARY_EXPERT_NAME},
    {"backup_expert", C_BACKUP_EXPERT_ID, C_BACKUP_EXPERT_NAME},
    {"claimed_by", C_CLAIMED_BY_ID, C_CLAIMED_BY_NAME},
};
static const char *const can_actions[] = {"claim", "unclaim", "decline", "assign", "message"};

struct question_columns {
	int at[C_COUNT]; /* -1: not selected */
	bool has_can;
};

static void find_columns(const PGresult *r, struct question_columns *c)
{
	db_columns(r, column_names, C_COUNT, c->at);
	c->has_can = c->at[C_CAN_CLAIM] >= 0;
}

/* The value at a column number, NULL when the column is absent or the value SQL NULL. */
static const char *value_at(const PGresult *r, int row, int column)
{
	if (column < 0 || PQgetisnull(r, row, column))
		return NULL;
	return PQgetvalue(r, row, column);
}

static bool true_at(const PGresult *r, int row, int column)
{
	const char *v = value_at(r, row, column);
	return v && !strcmp(v, "t");
}

/* Members of the nested parts. As the tree they replace was built: a member whose string is
 * not UTF-8 has no value and is left out (json_object_set_new), and an object packed with
 * json_pack is left out whole when one of its members has none. */
static void id_member(struct json_text *t, const char *key, const PGresult *r, int row, int column)
{
	const char *v = value_at(r, row, column);
	json_text_key(t, key);
	if (v)
		json_text_integer(t, strtoll(v, NULL, 10));
	else
		json_text_null(t);
}

static bool text_member(struct json_text *t, const char *key, const PGresult *r, int row, int column)
{
	const char *v = value_at(r, row, column);
	struct json_text_mark m = json_text_mark(t);
	json_text_key(t, key);
	if (!v) {
		json_text_null(t);
		return true;
	}
	if (json_text_string(t, v, strlen(v)))
		return true;
	json_text_rollback(t, m);
	return false;
}

/* "key": {"id": id, name_key: text[, third_key: text]}, left out whole when a text is not
 * UTF-8 (json_pack made no object then). */
static void small_object(struct json_text *t, const char *key, const PGresult *r, int row, int id, const char *name_key,
                         int name, const char *third_key, int third)
{
	struct json_text_mark m = json_text_mark(t);
	json_text_key(t, key);
	json_text_open(t, '{');
	id_member(t, "id", r, row, id);
	if (!text_member(t, name_key, r, row, name) || (third_key && !text_member(t, third_key, r, row, third))) {
		json_text_rollback(t, m);
		return;
	}
	json_text_close(t, '}');
}

static void customer_member(struct json_text *t, const PGresult *r, int row, const int *at)
{
	struct json_text_mark m = json_text_mark(t);
	json_text_key(t, "customer");
	json_text_open(t, '{');
	if (!text_member(t, "pseudonym", r, row, at[C_CUSTOMER_PSEUDONYM])) {
		json_text_rollback(t, m);
		return;
	}
	/* The statement selects the identity only for those who may see it; both must agree. */
	if (true_at(r, row, at[C_SEES_CUSTOMER])) {
		(void)text_member(t, "name", r, row, at[C_CUSTOMER_NAME]);
		(void)text_member(t, "email", r, row, at[C_CUSTOMER_EMAIL]);
		(void)text_member(t, "external_ref", r, row, at[C_CUSTOMER_EXTERNAL_REF]);
	}
	json_text_close(t, '}');
}

/* One question: the row's own columns (but `skip`), then the nested parts. */
static void row_write(struct json_text *t, const PGresult *r, int row, const struct question_columns *c,
                      const char *skip)
{
	const int *at = c->at;
	json_text_open(t, '{');
	db_row_members_write(t, r, row, skip);
	small_object(t, "channel", r, row, at[C_CHANNEL_ID], "name", at[C_CHANNEL_NAME], "kind", at[C_CHANNEL_KIND]);
	small_object(t, "community", r, row, at[C_COMMUNITY_ID], "name", at[C_COMMUNITY_NAME], "slug",
	             at[C_COMMUNITY_SLUG]);
	customer_member(t, r, row, at);
	for (size_t p = 0; p < ARRAY_LEN(persons); p++) {
		/* {id, display_name}, or null without an id. */
		if (value_at(r, row, at[persons[p].id])) {
			small_object(t, persons[p].key, r, row, at[persons[p].id], "display_name", at[persons[p].name],
			             NULL, -1);
		} else {
			json_text_key(t, persons[p].key);
			json_text_null(t);
		}
	}
	if (c->has_can) {
		json_text_key(t, "can");
		json_text_open(t, '{');
		for (size_t i = 0; i < ARRAY_LEN(can_actions); i++) {
			json_text_key(t, can_actions[i]);
			json_text_bool(t, true_at(r, row, at[C_CAN_CLAIM + i]));
		}
		json_text_close(t, '}');
	}
	json_text_close(t, '}');
}

/* One way to write a question: a single one (whose handler adds to it) is the text parsed
 * back, which gives the tree the list writes. */
json_t *question_json(const PGresult *r, int row)
{
	struct question_columns c;
	find_columns(r, &c);
	struct json_text t = {0};
	row_write(&t, r, row, &c, NULL);
	json_t *q = json_loadb(t.data, t.len, 0, NULL);
	json_text_free(&t);
	return q;
}

void question_rows_write(struct json_text *t, const PGresult *r, const char *skip)
{
	struct question_columns c;
	find_columns(r, &c);
	json_text_open(t, '[');
	for (int i = 0; i < PQntuples(r); i++)
		row_write(t, r, i, &c, skip);
	json_text_close(t, ']');
}

const char *question_admin_text(const struct http_req *req)
{
	return req->who.role && !strcmp(req->who.role, "admin") ? "true" : "false";
}

void question_not_found(struct http_req *req)
{
	http_reply_error(req, 404, "question_not_found", "No such question.", NULL);
}

void question_forbidden(struct http_req *req, const char *id, const char *message)
{
	audit_write(req, "access.denied", "question", id, json_pack("{s:s}", "route", req->route->name));
	http_reply_error(req, 403, "forbidden", message, NULL);
}

bool question_is_id(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 18 && strspn(s, "0123456789") == n && strtoll(s, NULL, 10) > 0;
}
