/* Turning query results into JSON, in C (DESIGN: rows fetched and JSON written here, not
 * with json_agg). Column types decide the JSON type: integers, booleans, json/jsonb as
 * parsed JSON, timestamptz as ISO 8601 in UTC, NULL as null, anything else as a string.
 * Arrays are selected as to_json(col) so that they arrive as json. Columns whose name
 * starts with an underscore are left out. */
#ifndef RELAIS_DB_ROWS_H
#define RELAIS_DB_ROWS_H

#include <jansson.h>
#include <libpq-fe.h>

json_t *db_row_json(const PGresult *result, int row);
json_t *db_rows_json(const PGresult *result);
/* Value of a column by name, NULL when absent or SQL NULL. */
const char *db_value(const PGresult *result, int row, const char *column);
long long db_int(const PGresult *result, int row, const char *column);

#endif
