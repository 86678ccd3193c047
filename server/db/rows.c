#include "db/rows.h"

#include <stdlib.h>
#include <string.h>

/* Type OIDs from PostgreSQL's pg_type.h (stable across versions). */
enum {
	OID_BOOL = 16,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_JSON = 114,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_TIMESTAMPTZ = 1184,
	OID_NUMERIC = 1700,
	OID_JSONB = 3802,
};

/* "2026-11-22 00:18:30.265+00" (TimeZone=UTC, DateStyle=ISO) -> "2026-11-22T00:18:30.265Z";
 * anything else as it is. */
static const char *timestamp_text(const char *v, char buf[48])
{
	size_t n = strlen(v);
	if (n < 19 || n + 2 > 48 || strcmp(v + n - 3, "+00") != 0)
		return v;
	memcpy(buf, v, n - 3);
	buf[10] = 'T';
	buf[n - 3] = 'Z';
	buf[n - 2] = '\0';
	return buf;
}

static json_t *value_json(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return json_null();
	const char *v = PQgetvalue(r, row, col);
	switch (PQftype(r, col)) {
	case OID_BOOL:
		return json_boolean(v[0] == 't');
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		return json_integer(strtoll(v, NULL, 10));
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		return json_real(strtod(v, NULL));
	case OID_JSON:
	case OID_JSONB: {
		json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
		return j ? j : json_null();
	}
	case OID_TIMESTAMPTZ: {
		char buf[48];
		return json_string(timestamp_text(v, buf));
	}
	default:
		return json_string(v);
	}
}

/* value_json() written directly. False where value_json() has no value (a string that is not
 * UTF-8, a float that is not finite): the member is then left out, as db_row_json() leaves
 * it out. */
static bool value_write(struct json_text *t, const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col)) {
		json_text_null(t);
		return true;
	}
	const char *v = PQgetvalue(r, row, col);
	switch (PQftype(r, col)) {
	case OID_BOOL:
		json_text_bool(t, v[0] == 't');
		return true;
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		json_text_integer(t, strtoll(v, NULL, 10));
		return true;
	case OID_TIMESTAMPTZ: {
		char buf[48];
		const char *text = timestamp_text(v, buf);
		return json_text_string(t, text, strlen(text));
	}
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
	case OID_JSON:
	case OID_JSONB: {
		/* Rare in answers: through jansson, for its number formatting and JSON parsing. */
		json_t *j = value_json(r, row, col);
		bool ok = j && json_text_value(t, j);
		json_decref(j);
		return ok;
	}
	default:
		return json_text_string(t, v, strlen(v));
	}
}

json_t *db_row_json(const PGresult *r, int row)
{
	json_t *obj = json_object();
	int n = PQnfields(r);
	/* Columns named _something are for the server only (audit_record() calls, ...). */
	for (int c = 0; c < n; c++)
		if (PQfname(r, c)[0] != '_')
			json_object_set_new(obj, PQfname(r, c), value_json(r, row, c));
	return obj;
}

void db_row_members_write(struct json_text *t, const PGresult *r, int row, const char *skip)
{
	int n = PQnfields(r);
	for (int c = 0; c < n; c++) {
		const char *name = PQfname(r, c);
		/* As json_object_set_new() takes keys: UTF-8 only. */
		if (name[0] == '_' || (skip && !strcmp(name, skip)) || !json_text_is_utf8(name, strlen(name)))
			continue;
		struct json_text_mark m = json_text_mark(t);
		json_text_key(t, name);
		if (!value_write(t, r, row, c))
			json_text_rollback(t, m);
	}
}

json_t *db_rows_json(const PGresult *r)
{
	json_t *arr = json_array();
	int n = PQntuples(r);
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, db_row_json(r, i));
	return arr;
}

const char *db_value(const PGresult *r, int row, const char *column)
{
	int c = PQfnumber(r, column);
	if (c < 0 || row >= PQntuples(r) || PQgetisnull(r, row, c))
		return NULL;
	return PQgetvalue(r, row, c);
}

void db_columns(const PGresult *r, const char *const names[], int count, int out[])
{
	int n = PQnfields(r), next = 0;
	for (int k = 0; k < count; k++) {
		out[k] = -1;
		/* From the column after the previous name's, round to where the search began. */
		for (int seen = 0; seen < n; seen++) {
			int c = (next + seen) % n;
			if (!strcmp(PQfname(r, c), names[k])) {
				out[k] = c;
				next = c + 1;
				break;
			}
		}
	}
}

long long db_int(const PGresult *r, int row, const char *column)
{
	const char *v = db_value(r, row, column);
	return v ? strtoll(v, NULL, 10) : 0;
}
