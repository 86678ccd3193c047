#include "db/migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* Any constant works; it only has to be the same for every relais process. */
#define MIGRATION_LOCK_KEY "7265616c6169"

struct migration {
	int version;
	char *name;
	char *sql;
	char checksum[crypto_hash_sha256_BYTES * 2 + 1];
};

bool migrate_parse_name(const char *name, int *version)
{
	size_t len = strlen(name);
	if (len < 10 || strcmp(name + len - 4, ".sql") != 0)
		return false;
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)name[i]))
			return false;
	if (name[4] != '_')
		return false;
	for (const char *p = name + 5; p < name + len - 4; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
			return false;
	*version = atoi(name);
	return *version > 0;
}

static int compare_migrations(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;
	return x->version - y->version;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = xmalloc(cap);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2)
			buf = xrealloc(buf, cap *= 2);
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static void free_migrations(struct migration *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].sql);
	}
	free(m);
}

static bool load_migrations(const char *schema_dir, struct migration **out, size_t *count, char *err,
                            size_t errlen)
{
	struct migration *m = NULL;
	size_t n = 0, cap = 0;
	if (schema_dir && schema_dir[0]) {
		DIR *d = opendir(schema_dir);
		if (!d) {
			snprintf(err, errlen, "cannot open schema_dir %s: %s", schema_dir, strerror(errno));
			return false;
		}
		struct dirent *e;
		while ((e = readdir(d))) {
			size_t len = strlen(e->d_name);
			if (len < 4 || strcmp(e->d_name + len - 4, ".sql") != 0)
				continue;
			if (n == cap)
				m = xrealloc(m, (cap = cap ? cap * 2 : 16) * sizeof *m);
			memset(&m[n], 0, sizeof m[n]);
			m[n].name = xstrdup(e->d_name);
			char *path = xasprintf("%s/%s", schema_dir, e->d_name);
			m[n].sql = read_file(path);
			free(path);
			n++;
			if (!m[n - 1].sql) {
				snprintf(err, errlen, "cannot read migration %s", e->d_name);
				closedir(d);
				goto fail;
			}
		}
		closedir(d);
	} else {
		m = xcalloc(schema_file_count, sizeof *m);
		for (size_t i = 0; i < schema_file_count; i++) {
			m[n].name = xstrdup(schema_files[i].name);
			m[n].sql = xstrdup(schema_files[i].sql);
			n++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!migrate_parse_name(m[i].name, &m[i].version)) {
			snprintf(err, errlen, "migration file %s does not follow the NNNN_name.sql pattern", m[i].name);
			goto fail;
		}
		unsigned char hash[crypto_hash_sha256_BYTES];
		crypto_hash_sha256(hash, (const unsigned char *)m[i].sql, strlen(m[i].sql));
		sodium_bin2hex(m[i].checksum, sizeof m[i].checksum, hash, sizeof hash);
	}
	qsort(m, n, sizeof *m, compare_migrations);
	for (size_t i = 1; i < n; i++)
		if (m[i].version == m[i - 1].version) {
			snprintf(err, errlen, "migrations %s and %s have the same number", m[i - 1].name, m[i].name);
			goto fail;
		}
	*out = m;
	*count = n;
	return true;
fail:
	free_migrations(m, n);
	return false;
}

static bool exec_ok(PGconn *conn, const char *sql, char *err, size_t errlen, const char *what)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		snprintf(err, errlen, "%s: %s", what, PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

static bool apply_one(PGconn *conn, const struct migration *m, char *err, size_t errlen)
{
	char what[300];
	snprintf(what, sizeof what, "migration %s failed", m->name);
	if (!exec_ok(conn, "BEGIN", err, errlen, what))
		return false;
	if (!exec_ok(conn, m->sql, err, errlen, what))
		goto rollback;
	char version[16];
	snprintf(version, sizeof version, "%d", m->version);
	const char *params[] = {version, m->name, m->checksum};
	PGresult *r = PQexecParams(conn, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
	                           3, NULL, params, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		snprintf(err, errlen, "%s: %s", what, PQresultErrorMessage(r));
	PQclear(r);
	if (!ok)
		goto rollback;
	if (!exec_ok(conn, "COMMIT", err, errlen, what))
		return false;
	log_info("applied migration %s", m->name);
	return true;
rollback:
	PQclear(PQexec(conn, "ROLLBACK"));
	return false;
}

bool migrate_run(const char *conninfo, const char *schema_dir, int *applied, char *err, size_t errlen)
{
	*applied = 0;
	struct migration *m = NULL;
	size_t n = 0;
	if (!load_migrations(schema_dir, &m, &n, err, errlen))
		return false;
	bool ok = false;
	PGresult *r = NULL;
	PGconn *conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to the database: %s", PQerrorMessage(conn));
		goto done;
	}
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	/* The lock serialises relais processes starting at once: the second one waits, then finds
	 * every migration applied. */
	if (!exec_ok(conn, "SELECT pg_advisory_lock(x'" MIGRATION_LOCK_KEY "'::bigint)", err, errlen,
	             "cannot take the migration lock"))
		goto done;
	if (!exec_ok(conn,
	             "CREATE TABLE IF NOT EXISTS schema_migrations ("
	             " version integer PRIMARY KEY,"
	             " name text NOT NULL,"
	             " checksum text NOT NULL,"
	             " applied_at timestamptz NOT NULL DEFAULT now())",
	             err, errlen, "cannot create schema_migrations"))
		goto unlock;
	r = PQexec(conn, "SELECT version, name, checksum FROM schema_migrations ORDER BY version");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "cannot read schema_migrations: %s", PQresultErrorMessage(r));
		goto unlock;
	}
	for (int row = 0; row < PQntuples(r); row++) {
		int version = atoi(PQgetvalue(r, row, 0));
		const char *name = PQgetvalue(r, row, 1);
		const char *checksum = PQgetvalue(r, row, 2);
		size_t i;
		for (i = 0; i < n && m[i].version != version; i++)
			;
		if (i == n) {
			snprintf(err, errlen,
			         "the database has migration %s, which this relais does not know: is this relais older than "
			         "the database?",
			         name);
			goto unlock;
		}
		if (strcmp(m[i].checksum, checksum) != 0) {
			snprintf(err, errlen,
			         "migration %s was changed after it was applied (checksum differs); migrations are "
			         "append-only: restore the file and add a new migration",
			         m[i].name);
			goto unlock;
		}
		m[i].version = -m[i].version; /* mark applied */
	}
	for (size_t i = 0; i < n; i++) {
		if (m[i].version < 0)
			continue;
		if (!apply_one(conn, &m[i], err, errlen))
			goto unlock;
		(*applied)++;
	}
	ok = true;
unlock:
	PQclear(PQexec(conn, "SELECT pg_advisory_unlock_all()"));
done:
	PQclear(r);
	PQfinish(conn);
	free_migrations(m, n);
	return ok;
}
