/* `relais user add|disable|list` and the first admin at start: blocking libpq, for the
 * command line and the supervisor before any worker runs. */
#include <getopt.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/log.h"
#include "people/people.h"

#define EXIT_USAGE 2

static const char usage[] =
    "Usage: relais user add --email E --name N [--role admin|comms|employee] [--department D] [--password-stdin]\n"
    "       relais user disable E\n"
    "       relais user list\n";

static PGresult *exec(PGconn *conn, const char *sql, int n, const char *const *values)
{
	return PQexecParams(conn, sql, n, NULL, values, NULL, NULL, 0);
}

/* Reads one line (the password) from standard input, without its newline. */
static bool read_password(char *out, size_t size)
{
	if (!fgets(out, (int)size, stdin))
		return false;
	out[strcspn(out, "\r\n")] = '\0';
	return true;
}

static int user_add(PGconn *conn, int argc, char **argv)
{
	static const struct option opts[] = {{"email", required_argument, NULL, 'e'},
	                                     {"name", required_argument, NULL, 'n'},
	                                     {"role", required_argument, NULL, 'r'},
	                                     {"department", required_argument, NULL, 'd'},
	                                     {"password-stdin", no_argument, NULL, 'p'},
	                                     {NULL, 0, NULL, 0}};
	const char *email = NULL, *name = NULL, *role = "employee", *department = "";
	bool with_password = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e': email = optarg; break;
		case 'n': name = optarg; break;
		case 'r': role = optarg; break;
		case 'd': department = optarg; break;
		case 'p': with_password = true; break;
		default:
			fprintf(stderr, "relais: user add: unknown option\n%s", usage);
			return EXIT_USAGE;
		}
	}
	if (!email || !name || optind < argc) {
		fprintf(stderr, "relais: user add needs --email and --name\n%s", usage);
		return EXIT_USAGE;
	}
	if (strcmp(role, "admin") && strcmp(role, "comms") && strcmp(role, "employee")) {
		fprintf(stderr, "relais: user add: --role is admin, comms or employee\n");
		return EXIT_USAGE;
	}
	char password[PASSWORD_MAX_BYTES + 2] = "", hash[128] = "";
	if (with_password) {
		if (!read_password(password, sizeof password) || strlen(password) > PASSWORD_MAX_BYTES) {
			fprintf(stderr, "relais: user add: give the password on one line of standard input (at most 1024 bytes)\n");
			return 1;
		}
		size_t chars = 0;
		for (const char *p = password; *p; p++)
			chars += ((unsigned char)*p & 0xC0) != 0x80;
		if (chars < PASSWORD_MIN_CHARS) {
			sodium_memzero(password, sizeof password);
			fprintf(stderr, "relais: user add: a password has at least %d characters\n", PASSWORD_MIN_CHARS);
			return 1;
		}
		bool ok = auth_hash_password_now(password, hash);
		sodium_memzero(password, sizeof password);
		if (!ok) {
			fprintf(stderr, "relais: user add: cannot hash the password\n");
			return 1;
		}
	}
	const char *v[] = {email, name, role, department, with_password ? hash : NULL};
	PGresult *r = exec(conn,
	                   "WITH u AS (INSERT INTO users (email, display_name, role, department, password_hash)"
	                   " VALUES ($1, $2, $3, $4, $5) RETURNING id)"
	                   " SELECT u.id, audit_record(NULL, NULL, 'user.created', 'user', u.id::text, '', 'cli',"
	                   "   jsonb_build_object('email', $1::text, 'role', $3::text, 'via', 'relais user add')) FROM u",
	                   5, v);
	int rc = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (state && !strcmp(state, "23505"))
			fprintf(stderr, "relais: user add: an account with the e-mail %s already exists\n", email);
		else
			fprintf(stderr, "relais: user add: %s", PQresultErrorMessage(r));
		rc = 1;
	} else {
		printf("created user %s (%s, id %s)\n", email, role, PQgetvalue(r, 0, 0));
	}
	PQclear(r);
	sodium_memzero(hash, sizeof hash);
	return rc;
}

static int user_disable(PGconn *conn, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "relais: user disable needs one e-mail\n%s", usage);
		return EXIT_USAGE;
	}
	const char *v[] = {argv[1]};
	PGresult *r = exec(conn,
	                   "WITH u AS (UPDATE users SET status = 'disabled', updated_at = now()"
	                   "  WHERE lower(email) = lower($1) RETURNING id),"
	                   " s AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM u)),"
	                   " r AS (SELECT question_route_later(q.id, 'assignee_disabled', NULL) FROM u JOIN questions q"
	                   "  ON (q.assignee_id = u.id OR q.claimed_by = u.id) AND q.status IN ('assigned', 'claimed'))"
	                   " SELECT u.id, audit_record(NULL, NULL, 'user.disabled', 'user', u.id::text, '', 'cli',"
	                   "   '{\"via\": \"relais user disable\"}'), (SELECT count(*) FROM r) FROM u",
	                   1, v);
	int rc = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "relais: user disable: %s", PQresultErrorMessage(r));
		rc = 1;
	} else if (PQntuples(r) == 0) {
		fprintf(stderr, "relais: user disable: no account with the e-mail %s\n", argv[1]);
		rc = 1;
	} else {
		printf("disabled %s; their sessions have ended\n", argv[1]);
	}
	PQclear(r);
	return rc;
}

static int user_list(PGconn *conn)
{
	PGresult *r = exec(conn, "SELECT id, email, display_name, role, status FROM users ORDER BY id", 0, NULL);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "relais: user list: %s", PQresultErrorMessage(r));
		PQclear(r);
		return 1;
	}
	printf("%-6s %-36s %-28s %-9s %s\n", "id", "email", "name", "role", "status");
	for (int i = 0; i < PQntuples(r); i++)
		printf("%-6s %-36s %-28s %-9s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
		       PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
	PQclear(r);
	return 0;
}

int people_cli(const struct config *cfg, const char *conninfo, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "add") && strcmp(sub, "disable") && strcmp(sub, "list")) {
		fprintf(stderr, "relais: user: unknown command %s\n%s", sub, usage);
		return EXIT_USAGE;
	}
	PGconn *conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "relais: cannot connect to the database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	int rc = !strcmp(sub, "add")       ? user_add(conn, argc - 1, argv + 1)
	         : !strcmp(sub, "disable") ? user_disable(conn, argc - 1, argv + 1)
	                                   : user_list(conn);
	PQfinish(conn);
	return rc;
}

bool people_bootstrap_admin(const struct config *cfg, const char *conninfo)
{
	if (!cfg->admin_email[0])
		return true;
	if (strlen(cfg->admin_password) < PASSWORD_MIN_CHARS) {
		log_error("admin_password must have at least %d characters", PASSWORD_MIN_CHARS);
		return false;
	}
	char hash[128];
	if (!auth_hash_password_now(cfg->admin_password, hash))
		return false;
	PGconn *conn = PQconnectdb(conninfo);
	bool ok = false;
	if (PQstatus(conn) == CONNECTION_OK) {
		const char *v[] = {cfg->admin_email, hash};
		/* Only when there is no admin at all: restarting never resets anyone's password. */
		PGresult *r = exec(conn,
		                   "WITH u AS (INSERT INTO users (email, display_name, role, password_hash)"
		                   "  SELECT $1, split_part($1, '@', 1), 'admin', $2"
		                   "  WHERE NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin')"
		                   "  ON CONFLICT ((lower(email))) DO UPDATE SET role = 'admin' RETURNING id)"
		                   " SELECT u.id, audit_record(NULL, NULL, 'user.created', 'user', u.id::text, '', 'startup',"
		                   "   '{\"via\": \"admin_email\"}') FROM u",
		                   2, v);
		ok = PQresultStatus(r) == PGRES_TUPLES_OK;
		if (!ok)
			log_error("cannot create the first admin: %s", PQresultErrorMessage(r));
		else if (PQntuples(r))
			log_info("created the first admin, %s", cfg->admin_email);
		PQclear(r);
	} else {
		log_error("cannot connect to the database: %s", PQerrorMessage(conn));
	}
	PQfinish(conn);
	sodium_memzero(hash, sizeof hash);
	return ok;
}
