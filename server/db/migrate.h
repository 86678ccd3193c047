/* Schema migrations: schema/NNNN_name.sql applied in order, once, under an advisory lock,
 * each recorded with its SHA-256 so that an edited migration is refused. Blocking libpq:
 * runs in the CLI and in the supervisor before any worker starts. */
#ifndef RELAIS_DB_MIGRATE_H
#define RELAIS_DB_MIGRATE_H

#include <stddef.h>

#include "core/common.h"

struct schema_file {
	const char *name; /* NNNN_name.sql */
	const char *sql;
};

/* Built into the binary (generated from schema/). */
extern const struct schema_file schema_files[];
extern const size_t schema_file_count;

/* Applies pending migrations from `schema_dir`, or the built-in ones when it is NULL or empty.
 * Writes how many were applied to *applied. On failure, `err` names the migration. */
bool migrate_run(const char *conninfo, const char *schema_dir, int *applied, char *err, size_t errlen) MUST_USE;

/* Parses "0042_add_things.sql" into 42; false if the name does not follow the pattern. */
bool migrate_parse_name(const char *name, int *version) MUST_USE;

#endif
