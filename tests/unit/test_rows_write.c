/* Rows written as JSON text directly (db_row_members_write, question_rows_write) against the
 * jansson trees they replace on the hot path: the same bytes, including the members jansson
 * leaves out (a string that is not UTF-8, a float that is not finite) and the nested objects
 * json_pack gives up on. Results are built in memory with libpq's PQsetvalue. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json_text.h"
#include "db/rows.h"
#include "questions/common.h"

enum { BOOL = 16, INT8 = 20, INT4 = 23, TEXT = 25, JSON = 114, FLOAT8 = 701, TIMESTAMPTZ = 1184 };

struct column {
	const char *name;
	int type;
};

/* A result with these columns and rows; NULL in a row is SQL NULL. */
static PGresult *make_result(const struct column *cols, int ncols, const char *const *values, int nrows)
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc desc[64];
	assert_true(ncols <= 64);
	for (int c = 0; c < ncols; c++)
		desc[c] = (PGresAttDesc){.name = (char *)cols[c].name, .typid = (Oid)cols[c].type, .typlen = -1};
	assert_int_equal(PQsetResultAttrs(r, ncols, desc), 1);
	for (int row = 0; row < nrows; row++)
		for (int c = 0; c < ncols; c++) {
			const char *v = values[row * ncols + c];
			assert_int_equal(PQsetvalue(r, row, c, (char *)v, v ? (int)strlen(v) : -1), 1);
		}
	return r;
}

static void assert_same_text(const struct json_text *t, json_t *reference)
{
	char *expected = json_dumps(reference, JSON_COMPACT);
	assert_non_null(expected);
	if (t->len != strlen(expected) || memcmp(t->data, expected, t->len) != 0)
		fail_msg("written:   %.*s\nreference: %s", (int)t->len, t->data, expected);
	free(expected);
}

/* --- db_row_members_write ---------------------------------------------------------------- */

static const struct column plain_cols[] = {
    {"id", INT8},  {"title", TEXT},     {"ok", BOOL},      {"n", INT4},      {"score", FLOAT8},
    {"doc", JSON}, {"at", TIMESTAMPTZ}, {"_hidden", TEXT}, {"cursor", TEXT},
};
#define PLAIN_COLS 9
/* clang-format off: a row (or a row's columns grouped as the statement selects them) per line */
static const char *const plain_rows[] = {
    /* ordinary values */
    "7", "Charged after cancelling", "t", "-3", "1.5", "{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}", "2026-11-22 00:18:30.265+00", "secret", "12.7",
    /* NULLs everywhere */
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    /* escapes, non-ASCII, a time not in UTC, json that does not parse, a float that is not finite */
    "9223372036854775807", "Am\xc3\xa9lie \"quoted\" \\ \n\t\x01", "f", "0", "NaN", "not json", "2026-11-22 00:18:30+02", "", "",
    /* text that is not UTF-8, in a kept and in a skipped column; infinity */
    "1", "caf\xe9", "t", "1", "Infinity", "[]", "2026-11-22 00:18:30.1+00", "\xff", "\xc0\xaf",
    /* overlong, surrogate and too-large sequences; a number jansson writes in exponent form */
    "2", "\xe0\x80\xaf \xed\xa0\x80 \xf4\x90\x80\x80", "t", "2", "1e300", "\"just a string\"", "2026-11-22 00:18:30.265+00", NULL, "x",
};
/* clang-format on */
#define PLAIN_ROWS 5

static void row_members_as_db_row_json(void **state)
{
	PGresult *r = make_result(plain_cols, PLAIN_COLS, plain_rows, PLAIN_ROWS);
	for (int row = 0; row < PLAIN_ROWS; row++) {
		struct json_text t = {0};
		json_text_open(&t, '{');
		db_row_members_write(&t, r, row, NULL);
		json_text_close(&t, '}');
		json_t *reference = db_row_json(r, row);
		assert_same_text(&t, reference);
		/* Leaving a column out is deleting its member. */
		json_text_reset(&t);
		json_text_open(&t, '{');
		db_row_members_write(&t, r, row, "cursor");
		json_text_close(&t, '}');
		json_object_del(reference, "cursor");
		assert_same_text(&t, reference);
		json_decref(reference);
		json_text_free(&t);
	}
	PQclear(r);
}

/* --- question rows ------------------------------------------------------------------------- */

/* The question tree as question_json built it before rows were written directly. */
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

static json_t *person(const PGresult *r, int row, const char *id_column, const char *name_column)
{
	if (!db_value(r, row, id_column))
		return json_null();
	return json_pack("{s:o, s:o}", "id", id_or_null(r, row, id_column), "display_name",
	                 text_or_null(r, row, name_column));
}

static json_t *reference_question(const PGresult *r, int row)
{
	json_t *q = db_row_json(r, row);
	json_object_set_new(q, "channel",
	                    json_pack("{s:o, s:o, s:o}", "id", id_or_null(r, row, "_channel_id"), "name",
	                              text_or_null(r, row, "_channel_name"), "kind",
	                              text_or_null(r, row, "_channel_kind")));
	json_object_set_new(q, "community",
	                    json_pack("{s:o, s:o, s:o}", "id", id_or_null(r, row, "_community_id"), "name",
	                              text_or_null(r, row, "_community_name"), "slug",
	                              text_or_null(r, row, "_community_slug")));
	json_t *customer = json_pack("{s:o}", "pseudonym", text_or_null(r, row, "_customer_pseudonym"));
	const char *sees = db_value(r, row, "_sees_customer");
	if (sees && !strcmp(sees, "t")) {
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
		for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
			char column[32];
			snprintf(column, sizeof column, "_can_%s", actions[i]);
			const char *v = db_value(r, row, column);
			json_object_set_new(can, actions[i], json_boolean(v && !strcmp(v, "t")));
		}
		json_object_set_new(q, "can", can);
	}
	return q;
}

static const struct column question_cols[] = {
    {"id", INT8},
    {"title", TEXT},
    {"status", TEXT},
    {"tags", JSON},
    {"sla_due_at", TIMESTAMPTZ},
    {"crisis", BOOL},
    {"_channel_id", INT8},
    {"_channel_name", TEXT},
    {"_channel_kind", TEXT},
    {"_community_id", INT8},
    {"_community_name", TEXT},
    {"_community_slug", TEXT},
    {"_sees_customer", BOOL},
    {"_customer_pseudonym", TEXT},
    {"_customer_name", TEXT},
    {"_customer_email", TEXT},
    {"_customer_external_ref", TEXT},
    {"_assignee_id", INT8},
    {"_assignee_name", TEXT},
    {"_primary_expert_id", INT8},
    {"_primary_expert_name", TEXT},
    {"_backup_expert_id", INT8},
    {"_backup_expert_name", TEXT},
    {"_claimed_by_id", INT8},
    {"_claimed_by_name", TEXT},
    {"cursor", TEXT},
    /* only the single-question statements have these */
    {"body", TEXT},
    {"_visible", BOOL},
    {"_can_claim", BOOL},
    {"_can_unclaim", BOOL},
    {"_can_decline", BOOL},
    {"_can_assign", BOOL},
    {"_can_message", BOOL},
};
#define LIST_COLS 26 /* the list statements stop at the cursor */
#define VIEW_COLS 33

/* clang-format off: a row (or a row's columns grouped as the statement selects them) per line */
static const char *const question_rows[] = {
    /* as the inbox answers: a manager's view, everyone named */
    "2", "Charged after cancelling", "assigned", "[\"refunds\",\"billing\"]", "2026-12-02 19:39:55.796837+00", "f",
    "2", "Help center", "api", "1", "Billing help", "billing-help",
    "t", "Customer E36B", "Jo Doe", "jo@example.com", "ext-1",
    "6", "Am\xc3\xa9lie Bernard", "6", "Am\xc3\xa9lie Bernard", "21", "Zo\xc3\xa9 Moreau", "6", "Am\xc3\xa9lie Bernard",
    "9223372036854775807.2",
    "Body", "t", "t", "f", "t", "f", "t",
    /* an expert's view (no identity), nobody assigned, no deadline */
    "3", "Question", "routing", "[]", NULL, "t",
    "2", "Help center", "api", "1", "Billing help", "billing-help",
    "f", "Customer 1234", NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    "9223372036854775807.3",
    NULL, "t", "f", "f", "f", "f", "f",
    /* strings that are not UTF-8 where jansson leaves a member, or a packed object, out */
    "4", "caf\xe9", "claimed", "not json", "2026-12-02 19:39:55+00", "f",
    "2", "Help \xff center", "api", "1", "Billing help", "bad\xc0\xaf",
    "t", "Customer 5", "Na\xefve", "ok@example.com", "\xed\xa0\x80",
    "6", "bad\xff", "7", "Good Name", "8", "Good \xf4\x90\x80\x80", "9", "Claimer",
    "1.4",
    "B\xe9", "t", "f", "t", "f", "t", "f",
    /* the pseudonym itself not UTF-8: the whole customer goes */
    "5", "Fine", "escalated", "[\"x\"]", NULL, "f",
    NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, "\xfe", "N", "E", "X",
    NULL, "nameless", NULL, NULL, NULL, NULL, NULL, NULL,
    "1.5",
    "Body", "t", NULL, NULL, NULL, NULL, NULL,
};
/* clang-format on */
#define QUESTION_ROWS 4

/* The list columns of each row (the first LIST_COLS of the view columns). */
static PGresult *list_result(void)
{
	const char *values[QUESTION_ROWS * LIST_COLS];
	for (int row = 0; row < QUESTION_ROWS; row++)
		memcpy(values + row * LIST_COLS, question_rows + row * VIEW_COLS, sizeof(char *) * LIST_COLS);
	return make_result(question_cols, LIST_COLS, values, QUESTION_ROWS);
}

static void lists_as_the_trees_were(void **state)
{
	PGresult *r = list_result();
	json_t *items = json_array();
	for (int row = 0; row < QUESTION_ROWS; row++) {
		json_t *q = reference_question(r, row);
		json_object_del(q, "cursor");
		json_array_append_new(items, q);
	}
	struct json_text t = {0};
	question_rows_write(&t, r, "cursor");
	assert_same_text(&t, items);
	json_decref(items);
	json_text_free(&t);
	PQclear(r);
}

static void single_questions_as_the_trees_were(void **state)
{
	PGresult *r = make_result(question_cols, VIEW_COLS, question_rows, QUESTION_ROWS);
	for (int row = 0; row < QUESTION_ROWS; row++) {
		json_t *reference = reference_question(r, row), *q = question_json(r, row);
		assert_non_null(q);
		char *expected = json_dumps(reference, JSON_COMPACT), *got = json_dumps(q, JSON_COMPACT);
		assert_string_equal(got, expected);
		free(expected);
		free(got);
		json_decref(reference);
		json_decref(q);
	}
	PQclear(r);
}

static void empty_list(void **state)
{
	PGresult *r = make_result(question_cols, LIST_COLS, NULL, 0);
	struct json_text t = {0};
	json_text_open(&t, '{');
	json_text_key(&t, "items");
	question_rows_write(&t, r, "cursor");
	json_text_key(&t, "next_cursor");
	json_text_null(&t);
	json_text_close(&t, '}');
	assert_int_equal(t.len, strlen("{\"items\":[],\"next_cursor\":null}"));
	assert_memory_equal(t.data, "{\"items\":[],\"next_cursor\":null}", t.len);
	json_text_free(&t);
	PQclear(r);
}

/* json_text_is_utf8 says yes exactly where json_stringn makes a string. */
static void utf8_as_jansson_checks(void **state)
{
	uint32_t seed = 99;
	for (int i = 0; i < 200000; i++) {
		unsigned char s[6];
		size_t n = 1 + (size_t)(i % 6);
		for (size_t k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			/* Mostly lead and continuation bytes, where the rules are. */
			unsigned v = (seed >> 16) & 0xff;
			s[k] = (unsigned char)(k == 0 || v < 0x40 ? v : 0x80 | (v & 0x3f));
		}
		json_t *j = json_stringn((const char *)s, n);
		assert_int_equal(json_text_is_utf8((const char *)s, n), j != NULL);
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(row_members_as_db_row_json),
	    cmocka_unit_test(lists_as_the_trees_were),
	    cmocka_unit_test(single_questions_as_the_trees_were),
	    cmocka_unit_test(empty_list),
	    cmocka_unit_test(utf8_as_jansson_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
