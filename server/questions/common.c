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
	db_columns(r, column_names, C_CAN_CLAIM, c->at);
	/* Lists have no flags: one search says so, rather than one for each flag. */
	db_columns(r, column_names + C_CAN_CLAIM, 1, c->at + C_CAN_CLAIM);
	c->has_can = c->at[C_CAN_CLAIM] >= 0;
	if (c->has_can)
		db_columns(r, column_names + C_CAN_CLAIM, C_COUNT - C_CAN_CLAIM, c->at + C_CAN_CLAIM);
	else
		for (int i = C_CAN_CLAIM; i < C_COUNT; i++)
			c->at[i] = -1;
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

static json_t *id_or_null(const PGresult *r, int row, int column)
{
	const char *v = value_at(r, row, column);
	return v ? json_integer(strtoll(v, NULL, 10)) : json_null();
}

static json_t *text_or_null(const PGresult *r, int row, int column)
{
	const char *v = value_at(r, row, column);
	return v ? json_string(v) : json_null();
}

/* {id, display_name}, or null without an id. */
static json_t *person(const PGresult *r, int row, const struct question_columns *c, size_t p)
{
	int id = c->at[persons[p].id], name = c->at[persons[p].name];
	if (!value_at(r, row, id))
		return json_null();
	return json_pack("{s:o, s:o}", "id", id_or_null(r, row, id), "display_name", text_or_null(r, row, name));
}

static json_t *row_json(const PGresult *r, int row, const struct question_columns *c)
{
	const int *at = c->at;
	json_t *q = db_row_json(r, row);
	json_object_set_new(q, "channel",
	                    json_pack("{s:o, s:o, s:o}", "id", id_or_null(r, row, at[C_CHANNEL_ID]), "name",
	                              text_or_null(r, row, at[C_CHANNEL_NAME]), "kind",
	                              text_or_null(r, row, at[C_CHANNEL_KIND])));
	json_object_set_new(q, "community",
	                    json_pack("{s:o, s:o, s:o}", "id", id_or_null(r, row, at[C_COMMUNITY_ID]), "name",
	                              text_or_null(r, row, at[C_COMMUNITY_NAME]), "slug",
	                              text_or_null(r, row, at[C_COMMUNITY_SLUG])));
	json_t *customer = json_pack("{s:o}", "pseudonym", text_or_null(r, row, at[C_CUSTOMER_PSEUDONYM]));
	/* The statement selects the identity only for those who may see it; both must agree. */
	if (true_at(r, row, at[C_SEES_CUSTOMER])) {
		json_object_set_new(customer, "name", text_or_null(r, row, at[C_CUSTOMER_NAME]));
		json_object_set_new(customer, "email", text_or_null(r, row, at[C_CUSTOMER_EMAIL]));
		json_object_set_new(customer, "external_ref", text_or_null(r, row, at[C_CUSTOMER_EXTERNAL_REF]));
	}
	json_object_set_new(q, "customer", customer);
	for (size_t p = 0; p < ARRAY_LEN(persons); p++)
		json_object_set_new(q, persons[p].key, person(r, row, c, p));
	if (c->has_can) {
		json_t *can = json_object();
		for (size_t i = 0; i < ARRAY_LEN(can_actions); i++)
			json_object_set_new(can, can_actions[i], json_boolean(true_at(r, row, at[C_CAN_CLAIM + i])));
		json_object_set_new(q, "can", can);
	}
	return q;
}

json_t *question_json(const PGresult *r, int row)
{
	struct question_columns c;
	find_columns(r, &c);
	return row_json(r, row, &c);
}

json_t *question_rows_json(const PGresult *r)
{
	struct question_columns c;
	find_columns(r, &c);
	json_t *items = json_array();
	for (int i = 0; i < PQntuples(r); i++)
		json_array_append_new(items, row_json(r, i, &c));
	return items;
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
