/* The question row as JSON, and the small answers every employee-side route gives. */
#include "questions/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "db/rows.h"
#include "http/request.h"

static bool column_true(const PGresult *r, int row, const char *column)
{
	const char *v = db_value(r, row, column);
	return v && !strcmp(v, "t");
}

static json_t *id_or_null(const PGresult *r, int row, const char *column)
{
	const char *v = db_value(r, row, column);
	return v ? json_integer(strtoll(v, NULL, 10)) : json_null();
}

static json_t *text_or_null(const PGresult *r, int row, const char *column)
{
	const char *v = db_value(r, row, column);
	return v ? json_string(v) : json_null();
}

/* {id, display_name} from the `_<name>_id` and `_<name>_name` columns, or null. */
static json_t *person(const PGresult *r, int row, const char *id_column, const char *name_column)
{
	if (!db_value(r, row, id_column))
		return json_null();
	return json_pack("{s:o, s:o}", "id", id_or_null(r, row, id_column), "display_name",
	                 text_or_null(r, row, name_column));
}

json_t *question_json(const PGresult *r, int row)
{
	json_t *q = db_row_json(r, row);
	json_object_set_new(q, "channel",
	                    json_pack("{s:o, s:o, s:o}", "id", id_or_null(r, row, "_channel_id"), "name",
	                              text_or_null(r, row, "_channel_name"), "kind", text_or_null(r, row, "_channel_kind")));
	json_object_set_new(q, "community",
	                    json_pack("{s:o, s:o, s:o}", "id", id_or_null(r, row, "_community_id"), "name",
	                              text_or_null(r, row, "_community_name"), "slug",
	                              text_or_null(r, row, "_community_slug")));
	json_t *customer = json_pack("{s:o}", "pseudonym", text_or_null(r, row, "_customer_pseudonym"));
	/* The statement selects the identity only for those who may see it; both must agree. */
	if (column_true(r, row, "_sees_customer")) {
		json_object_set_new(customer, "name", text_or_null(r, row, "_customer_name"));
		json_object_set_new(customer, "email", text_or_null(r, row, "_customer_email"));
		json_object_set_new(customer, "external_ref", text_or_null(r, row, "_customer_external_ref"));
	}
	json_object_set_new(q, "customer", customer);
	json_object_set_new(q, "assignee", person(r, row, "_assignee_id", "_assignee_name"));
	json_object_set_new(q, "primary_expert", person(r, row, "_primary_expert_id", "_primary_expert_name"));
	json_object_set_new(q, "backup_expert", person(r, row, "_backup_expert_id", "_backup_expert_name"));
	json_object_set_new(q, "claimed_by", person(r, row, "_claimed_by_id", "_claimed_by_name"));
	if (PQfnumber(r, "_can_claim") >= 0) {
		static const char *const actions[] = {"claim", "unclaim", "decline", "assign", "message"};
		json_t *can = json_object();
		for (size_t i = 0; i < ARRAY_LEN(actions); i++) {
			char column[32];
			snprintf(column, sizeof column, "_can_%s", actions[i]);
			json_object_set_new(can, actions[i], json_boolean(column_true(r, row, column)));
		}
		json_object_set_new(q, "can", can);
	}
	return q;
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
