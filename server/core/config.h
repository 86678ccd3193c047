/* Configuration: built-in defaults, then an INI file, then RELAIS_<KEY> environment variables. */
#ifndef RELAIS_CONFIG_H
#define RELAIS_CONFIG_H

#include <stdio.h>

#include "core/common.h"
#include "core/log.h"

struct config {
	char *listen;            /* host:port */
	int workers;             /* 0 = one per core */
	char *data_dir;          /* embedded PostgreSQL and runtime files */
	char *database_url;      /* empty = embedded PostgreSQL */
	int db_pool_size;        /* connections per worker */
	int db_queue_max;        /* queued database requests per worker before 503 */
	int64_t db_query_timeout_ms;
	int64_t header_timeout_ms;
	int64_t keepalive_timeout_ms;
	int64_t shutdown_grace_ms;
	int max_connections;     /* per worker */
	int64_t sse_heartbeat_ms;  /* comment line on idle live event streams */
	int64_t sse_buffer_cap;    /* unread output of one live event stream before it is dropped */
	int sse_max_per_user;      /* live event streams of one person per worker; 0 = no limit */
	int64_t max_header_size;
	int64_t max_body_size;   /* default per-route body limit */
	char *web_root;
	char *schema_dir;        /* empty = migrations compiled into the binary */
	char *pg_bin_dir;        /* empty = newest /usr/lib/postgresql/N/bin */
	char *pg_user;           /* unprivileged user for embedded PostgreSQL when run as root */
	enum log_level log_level;
	bool access_log;
	bool insecure_cookies;       /* plain-HTTP development: no Secure flag, no __Host- prefix */
	int64_t session_idle_ms;
	int64_t session_absolute_ms;
	int rate_limit;              /* requests a minute per client IP and worker; 0 = off */
	char *trusted_proxies;       /* comma-separated addresses whose X-Forwarded-For is believed */
	int password_threads;        /* 0 = cores / workers, at least 1 */
	char *admin_email;           /* first start: create this admin if there is none */
	char *admin_password;
};

/* Fills `cfg` with defaults, then the file (may be NULL), then the environment.
 * On failure writes a one-line message naming the key into `err`. */
bool config_load(struct config *cfg, const char *path, char *err, size_t errlen) MUST_USE;
void config_free(struct config *cfg);
/* Prints every key with its current value, as INI. */
void config_print(const struct config *cfg, FILE *out);
/* Documentation of every key, used by --help and the README test. */
struct config_key_doc {
	const char *name;
	const char *default_value;
	const char *help;
};
const struct config_key_doc *config_key_docs(size_t *count);

/* Parsers shared with tests: "10s", "500ms", "2m", "12h", "30d"; "16K", "1M", "1MiB". */
bool config_parse_duration_ms(const char *text, int64_t *out) MUST_USE;
bool config_parse_size(const char *text, int64_t *out) MUST_USE;
bool config_parse_bool(const char *text, bool *out) MUST_USE;
/* Splits "host:port" / "[v6]:port"; returns false when malformed. */
bool config_split_listen(const char *listen, char *host, size_t hostlen, int *port) MUST_USE;

#endif
