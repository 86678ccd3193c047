/* relais: the command line. One binary, several subcommands; see `relais --help`. */
#include <getopt.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoconfig.h"
#include "core/config.h"
#include "core/embedded_pg.h"
#include "core/log.h"
#include "core/supervisor.h"
#include "db/migrate.h"
#include "people/people.h"

#define EXIT_USAGE 2

static const char usage_text[] =
    "Usage: relais [--config FILE] COMMAND [OPTIONS]\n"
    "\n"
    "Relais, the enterprise social network where customers' questions reach the employees who\n"
    "know the answer.\n"
    "\n"
    "Commands:\n"
    "  serve [--check-config]   run the server (embedded PostgreSQL unless database_url is set)\n"
    "  migrate                  apply pending database migrations and exit\n"
    "  demo                     load the demonstration data (idempotent)\n"
    "  user                     manage user accounts\n"
    "  version                  print the version\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE        read the configuration from FILE (INI); RELAIS_<KEY>\n"
    "                           environment variables override it\n"
    "  -h, --help               print this help\n"
    "  -V, --version            print the version\n"
    "\n"
    "Configuration keys (file key = environment variable RELAIS_<KEY in capitals>):\n";

static void print_usage(FILE *out)
{
	fputs(usage_text, out);
	size_t n;
	const struct config_key_doc *docs = config_key_docs(&n);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-18s %s (default: %s)\n", docs[i].name, docs[i].help,
		        docs[i].default_value[0] ? docs[i].default_value : "empty");
}

static int usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "relais: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'relais --help'.\n");
	va_end(ap);
	return EXIT_USAGE;
}

static bool load_config(const char *path, struct config *cfg)
{
	char err[1024];
	if (!config_load(cfg, path, err, sizeof err)) {
		fprintf(stderr, "relais: configuration error: %s\n", err);
		config_free(cfg);
		return false;
	}
	log_init(cfg->log_level, "relais");
	return true;
}

/* Runs `fn` with a connection string: the configured database, or the embedded cluster
 * (attached to if `relais serve` runs it, else started for the duration of the command). */
static int with_database(const struct config *cfg, int (*fn)(const struct config *, const char *))
{
	if (cfg->database_url[0])
		return fn(cfg, cfg->database_url);
	struct embedded_pg pg;
	if (!embedded_pg_start(cfg, 40, &pg))
		return 1;
	int rc = fn(cfg, pg.conninfo);
	embedded_pg_stop(&pg);
	return rc;
}

static int migrate_now_quietly(const struct config *cfg, const char *conninfo)
{
	char err[1024];
	int applied;
	if (!migrate_run(conninfo, cfg->schema_dir, &applied, err, sizeof err)) {
		log_error("%s", err);
		log_flush();
		return 1;
	}
	return 0;
}

static int migrate_now(const struct config *cfg, const char *conninfo)
{
	char err[1024];
	int applied;
	if (!migrate_run(conninfo, cfg->schema_dir, &applied, err, sizeof err)) {
		log_error("%s", err);
		log_flush();
		return 1;
	}
	printf("relais: %d migration%s applied; the database is up to date\n", applied, applied == 1 ? "" : "s");
	return 0;
}

int people_demo(const char *conninfo);

static int demo_now(const struct config *cfg, const char *conninfo)
{
	int rc = migrate_now(cfg, conninfo);
	return rc ? rc : people_demo(conninfo);
}

/* The user command's own arguments, for with_database's callback. */
static int user_argc;
static char **user_argv;

static int user_now(const struct config *cfg, const char *conninfo)
{
	int rc = migrate_now_quietly(cfg, conninfo);
	return rc ? rc : people_cli(cfg, conninfo, user_argc, user_argv);
}

static int cmd_serve(const struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"check-config", no_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	bool check_only = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'k')
			check_only = true;
		else if (c == 'h') {
			printf("Usage: relais serve [--check-config]\n");
			return 0;
		} else
			return usage_error("serve: unknown option %s", argv[optind - 1]);
	}
	if (optind < argc)
		return usage_error("serve: unexpected argument %s", argv[optind]);
	if (check_only) {
		config_print(cfg, stdout);
		printf("# configuration is valid\n");
		return 0;
	}
	return supervisor_run(cfg);
}

static int cmd_simple(const char *name, int argc, char **argv)
{
	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			printf("Usage: relais %s\n", name);
			return 0;
		}
		return usage_error("unexpected argument %s", argv[1]);
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {NULL, 0, NULL, 0}};
	const char *config_path = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		case 'V':
			printf("relais %s\n", PACKAGE_VERSION);
			return 0;
		case ':':
			return usage_error("option %s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("a command is needed (serve, migrate, demo, user, version)");
	const char *command = argv[optind];
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;

	/* "-c FILE" is also accepted after the command. */
	for (int i = 1; i + 1 < sub_argc; i++)
		if (!strcmp(sub_argv[i], "-c") || !strcmp(sub_argv[i], "--config")) {
			config_path = sub_argv[i + 1];
			memmove(&sub_argv[i], &sub_argv[i + 2], sizeof(char *) * (size_t)(sub_argc - i - 2));
			sub_argc -= 2;
			break;
		}

	if (!strcmp(command, "version")) {
		int rc = cmd_simple("version", sub_argc, sub_argv);
		if (rc >= 0)
			return rc;
		printf("relais %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(command, "serve") && strcmp(command, "migrate") && strcmp(command, "demo") && strcmp(command, "user"))
		return usage_error("unknown command %s", command);
	if (sodium_init() < 0) {
		fprintf(stderr, "relais: cannot initialise libsodium\n");
		return 1;
	}
	struct config cfg;
	if (!load_config(config_path, &cfg))
		return 1;
	int rc;
	if (!strcmp(command, "serve")) {
		rc = cmd_serve(&cfg, sub_argc, sub_argv);
	} else if (!strcmp(command, "migrate")) {
		rc = cmd_simple("migrate", sub_argc, sub_argv);
		if (rc < 0)
			rc = with_database(&cfg, migrate_now);
	} else if (!strcmp(command, "demo")) {
		rc = cmd_simple("demo", sub_argc, sub_argv);
		if (rc < 0)
			rc = with_database(&cfg, demo_now);
	} else {
		user_argc = sub_argc;
		user_argv = sub_argv;
		/* Usage errors need no database. */
		rc = sub_argc < 2 || !strcmp(sub_argv[1], "--help") || !strcmp(sub_argv[1], "-h")
		         ? people_cli(&cfg, NULL, sub_argc, sub_argv)
		         : with_database(&cfg, user_now);
	}
	config_free(&cfg);
	log_flush();
	return rc;
}
