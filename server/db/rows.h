/* Turning query results into JSON, in C (DESIGN: rows fetched and JSON written here, not
 * with json_agg). Column types decide the JSON type: integers, booleans, json/jsonb as
 * parsed JSON, timestamptz as ISO 8601 in UTC, NULL as null, anything else as a string.
 * Arrays are selected as to_json(col) so that they arrive as json. Columns whose name
 * starts with an underscore are left out. */
#ifndef RELAIS_DB_ROWS_H
#define RELAIS_DB_ROWS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "core/json_text.h"

json_t *db_row_json(const PGresult *result, int row);
/* The members of db_row_json()'s object written directly into an open object (column names
 * unique, as in every statement whose rows are written this way), but for column `skip`
 * (NULL: none). */
void db_row_members_write(struct json_text *text, const PGresult *result, int row, const char *skip);
json_t *db_rows_json(const PGresult *result);
/* Value of a column by name, NULL when absent or SQL NULL. */
const char *db_value(const PGresult *result, int row, const char *column);
/* The column numbers of several names at once, -1 for a name the result lacks: for rows
 * read by column number. Each search starts after the previous name's column, so that names
 * listed in the statement's order cost one comparison each (PQfnumber compares from the
 * first column every time). Names are lower case and unique in the result. */
void db_columns(const PGresult *result, const char *const names[], int count, int out[]);
long long db_int(const PGresult *result, int row, const char *column);

#endif
