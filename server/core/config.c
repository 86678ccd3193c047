#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ipnet.h"

extern char **environ;

enum key_type { KEY_STRING, KEY_INT, KEY_BOOL, KEY_DURATION, KEY_SIZE, KEY_LOG_LEVEL };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *default_value;
	int64_t min, max; /* for numbers, durations and sizes */
	const char *help;
};

#define OFF(field) offsetof(struct config, field)

static const struct key keys[] = {
    {"listen", KEY_STRING, OFF(listen), "127.0.0.1:8080", 0, 0, "address and port the workers listen on"},
    {"workers", KEY_INT, OFF(workers), "0", 0, 256, "worker processes; 0 = one per core"},
    {"data_dir", KEY_STRING, OFF(data_dir), "relais-data", 0, 0,
     "directory for the embedded PostgreSQL cluster and runtime files"},
    {"database_url", KEY_STRING, OFF(database_url), "", 0, 0,
     "PostgreSQL connection URI; empty runs the embedded PostgreSQL in data_dir"},
    {"db_pool_size", KEY_INT, OFF(db_pool_size), "4", 1, 64, "database connections per worker"},
    {"db_queue_max", KEY_INT, OFF(db_queue_max), "1024", 1, 1000000,
     "database requests waiting for a connection, per worker, before answering 503"},
    {"db_query_timeout", KEY_DURATION, OFF(db_query_timeout_ms), "2s", 10, 600000,
     "deadline of one request's database work"},
    {"header_timeout", KEY_DURATION, OFF(header_timeout_ms), "10s", 100, 600000,
     "a connection must deliver a complete request within this time of opening or of its previous response"},
    {"keepalive_timeout", KEY_DURATION, OFF(keepalive_timeout_ms), "5s", 100, 3600000,
     "idle time after which a connection is closed"},
    {"shutdown_grace", KEY_DURATION, OFF(shutdown_grace_ms), "10s", 0, 600000,
     "time given to in-flight requests on SIGTERM"},
    {"max_connections", KEY_INT, OFF(max_connections), "16384", 1, 1000000,
     "open connections per worker (live event streams included); beyond it requests get 503"},
    {"sse_heartbeat", KEY_DURATION, OFF(sse_heartbeat_ms), "15s", 200, 3600000,
     "a comment line on every live event stream this often, so that proxies keep it open"},
    {"sse_buffer_cap", KEY_SIZE, OFF(sse_buffer_cap), "256K", 4096, 64 << 20,
     "output of one live event stream that its client has not read yet; beyond it the stream is dropped"},
    {"sse_max_per_user", KEY_INT, OFF(sse_max_per_user), "64", 0, 1000000,
     "live event streams one person may hold open on one worker; beyond it 429; 0 = no limit"},
    {"max_header_size", KEY_SIZE, OFF(max_header_size), "16K", 1024, 1 << 20,
     "request line and headers; beyond it 431"},
    {"max_body_size", KEY_SIZE, OFF(max_body_size), "1M", 1024, 1 << 30,
     "default request body limit of a route; beyond it 413"},
    {"web_root", KEY_STRING, OFF(web_root), "web/dist", 0, 0, "directory of the built web app"},
    {"schema_dir", KEY_STRING, OFF(schema_dir), "", 0, 0,
     "read migrations from this directory instead of those built into relais"},
    {"pg_bin_dir", KEY_STRING, OFF(pg_bin_dir), "", 0, 0,
     "PostgreSQL server binaries for the embedded cluster; empty = newest /usr/lib/postgresql/*/bin"},
    {"pg_user", KEY_STRING, OFF(pg_user), "postgres", 0, 0,
     "unprivileged system user that runs the embedded PostgreSQL when relais runs as root"},
    {"log_level", KEY_LOG_LEVEL, OFF(log_level), "info", 0, 0, "debug, info, warn or error"},
    {"access_log", KEY_BOOL, OFF(access_log), "true", 0, 0, "one JSON line per request"},
    {"insecure_cookies", KEY_BOOL, OFF(insecure_cookies), "false", 0, 0,
     "session cookie without Secure and the __Host- prefix, for plain-HTTP development only"},
    {"session_idle_timeout", KEY_DURATION, OFF(session_idle_ms), "12h", 60000, 30LL * 86400000,
     "a session unused this long ends"},
    {"session_absolute_timeout", KEY_DURATION, OFF(session_absolute_ms), "30d", 60000, 365LL * 86400000,
     "a session ends this long after sign-in, used or not"},
    {"rate_limit", KEY_INT, OFF(rate_limit), "1200", 0, 1000000,
     "requests a minute per client address and worker before 429; 0 turns it off"},
    {"trusted_proxies", KEY_STRING, OFF(trusted_proxies), "", 0, 0,
     "comma-separated proxy addresses or networks (10.0.0.0/8) whose X-Forwarded-For gives the client address"},
    {"password_threads", KEY_INT, OFF(password_threads), "0", 0, 64,
     "threads per worker hashing passwords; 0 = cores divided by workers, at least 1"},
    {"admin_email", KEY_STRING, OFF(admin_email), "", 0, 0, "at start, create this admin when there is no admin"},
    {"admin_password", KEY_STRING, OFF(admin_password), "", 0, 0, "password of that first admin"},
};

static struct config_key_doc key_docs[ARRAY_LEN(keys)];

const struct config_key_doc *config_key_docs(size_t *count)
{
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		key_docs[i] = (struct config_key_doc){keys[i].name, keys[i].default_value, keys[i].help};
	*count = ARRAY_LEN(keys);
	return key_docs;
}

static bool parse_number_with_units(const char *text, int64_t *out, const char *const *units,
                                    const int64_t *factors, size_t nunits, int64_t default_factor)
{
	if (!text || !*text)
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || v < 0)
		return false;
	int64_t factor = default_factor;
	if (*end) {
		size_t i;
		for (i = 0; i < nunits; i++)
			if (strcmp(end, units[i]) == 0)
				break;
		if (i == nunits)
			return false;
		factor = factors[i];
	}
	if (v > INT64_MAX / factor)
		return false;
	*out = v * factor;
	return true;
}

bool config_parse_duration_ms(const char *text, int64_t *out)
{
	static const char *const units[] = {"ms", "s", "m", "h", "d"};
	static const int64_t factors[] = {1, 1000, 60000, 3600000, 86400000};
	return parse_number_with_units(text, out, units, factors, ARRAY_LEN(units), 1000);
}

bool config_parse_size(const char *text, int64_t *out)
{
	static const char *const units[] = {"B", "K", "KiB", "M", "MiB", "G", "GiB"};
	static const int64_t factors[] = {1, 1024, 1024, 1 << 20, 1 << 20, 1 << 30, 1 << 30};
	return parse_number_with_units(text, out, units, factors, ARRAY_LEN(units), 1);
}

bool config_parse_bool(const char *text, bool *out)
{
	if (!strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "on") || !strcmp(text, "1")) {
		*out = true;
		return true;
	}
	if (!strcmp(text, "false") || !strcmp(text, "no") || !strcmp(text, "off") || !strcmp(text, "0")) {
		*out = false;
		return true;
	}
	return false;
}

bool config_split_listen(const char *listen, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen)
		return false;
	const char *h = listen;
	size_t n = (size_t)(colon - listen);
	if (h[0] == '[') {
		if (n < 3 || h[n - 1] != ']')
			return false;
		h++;
		n -= 2;
	}
	if (n + 1 > hostlen)
		return false;
	char *end;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || p < 0 || p > 65535)
		return false;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (int)p;
	return true;
}

static bool set_key(struct config *cfg, const struct key *k, const char *value, const char *origin,
                    char *err, size_t errlen)
{
	char *field = (char *)cfg + k->offset;
	int64_t n;
	bool b;
	switch (k->type) {
	case KEY_STRING:
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return true;
	case KEY_INT: {
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (errno || !*value || *end || v < k->min || v > k->max) {
			snprintf(err, errlen, "%s: invalid value for %s: \"%s\" (an integer from %lld to %lld)", origin,
			         k->name, value, (long long)k->min, (long long)k->max);
			return false;
		}
		*(int *)field = (int)v;
		return true;
	}
	case KEY_BOOL:
		if (!config_parse_bool(value, &b)) {
			snprintf(err, errlen, "%s: invalid value for %s: \"%s\" (true or false)", origin, k->name, value);
			return false;
		}
		*(bool *)field = b;
		return true;
	case KEY_DURATION:
		if (!config_parse_duration_ms(value, &n) || n < k->min || n > k->max) {
			snprintf(err, errlen,
			         "%s: invalid value for %s: \"%s\" (a duration such as 500ms, 10s, 5m, 12h from %lldms to %lldms)",
			         origin, k->name, value, (long long)k->min, (long long)k->max);
			return false;
		}
		*(int64_t *)field = n;
		return true;
	case KEY_SIZE:
		if (!config_parse_size(value, &n) || n < k->min || n > k->max) {
			snprintf(err, errlen, "%s: invalid value for %s: \"%s\" (a size such as 16K or 1M, from %lld to %lld bytes)",
			         origin, k->name, value, (long long)k->min, (long long)k->max);
			return false;
		}
		*(int64_t *)field = n;
		return true;
	case KEY_LOG_LEVEL: {
		static const char *const names[] = {"debug", "info", "warn", "error"};
		for (size_t i = 0; i < ARRAY_LEN(names); i++)
			if (!strcmp(value, names[i])) {
				*(enum log_level *)field = (enum log_level)i;
				return true;
			}
		snprintf(err, errlen, "%s: invalid value for %s: \"%s\" (debug, info, warn or error)", origin, k->name, value);
		return false;
	}
	}
	return false;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

struct ini_state {
	struct config *cfg;
	const char *path;
	char *err;
	size_t errlen;
	bool failed;
};

static int on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *st = user;
	if (st->failed)
		return 0;
	char origin[PATH_MAX + 32];
	snprintf(origin, sizeof origin, "%s", st->path);
	if (section[0] && strcmp(section, "relais") != 0) {
		snprintf(st->err, st->errlen, "%s: unknown section [%s] (keys go at the top or under [relais])", origin,
		         section);
		st->failed = true;
		return 0;
	}
	const struct key *k = find_key(name);
	if (!k) {
		snprintf(st->err, st->errlen, "%s: unknown key \"%s\"", origin, name);
		st->failed = true;
		return 0;
	}
	if (!set_key(st->cfg, k, value, origin, st->err, st->errlen)) {
		st->failed = true;
		return 0;
	}
	return 1;
}

static void env_name(const char *key, char *out, size_t outlen)
{
	snprintf(out, outlen, "RELAIS_%s", key);
	for (char *p = out; *p; p++)
		*p = (char)toupper((unsigned char)*p);
}

bool config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (!set_key(cfg, &keys[i], keys[i].default_value, "default", err, errlen))
			return false;

	if (path) {
		FILE *f = fopen(path, "r");
		if (!f) {
			snprintf(err, errlen, "cannot open configuration file %s: %s", path, strerror(errno));
			return false;
		}
		struct ini_state st = {cfg, path, err, errlen, false};
		int rc = ini_parse_file(f, on_ini_entry, &st);
		fclose(f);
		if (st.failed)
			return false;
		if (rc != 0) {
			snprintf(err, errlen, "%s:%d: malformed line", path, rc);
			return false;
		}
	}

	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		char name[128];
		env_name(keys[i].name, name, sizeof name);
		const char *value = getenv(name);
		if (value && !set_key(cfg, &keys[i], value, name, err, errlen))
			return false;
	}
	/* A misspelt variable would silently do nothing: say so, without failing, since
	 * RELAIS_-prefixed variables may belong to the tools around relais. */
	for (char **e = environ; *e; e++) {
		if (strncmp(*e, "RELAIS_", 7) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		bool known = false;
		for (size_t i = 0; i < ARRAY_LEN(keys) && !known; i++) {
			char name[128];
			env_name(keys[i].name, name, sizeof name);
			known = strlen(name) == (size_t)(eq - *e) && !strncmp(name, *e, (size_t)(eq - *e));
		}
		if (!known)
			log_warn("ignoring unknown environment variable %.*s", (int)(eq - *e), *e);
	}

	char host[256];
	int port;
	if (!config_split_listen(cfg->listen, host, sizeof host, &port)) {
		snprintf(err, errlen, "invalid value for listen: \"%s\" (host:port)", cfg->listen);
		return false;
	}
	/* A mistyped proxy address would silently leave X-Forwarded-For ignored. */
	char *proxies = xstrdup(cfg->trusted_proxies), *save = NULL;
	for (char *t = strtok_r(proxies, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		struct ipnet net;
		if (!ipnet_parse(t, &net)) {
			snprintf(err, errlen,
			         "invalid value for trusted_proxies: \"%s\" is not an IP address or network"
			         " (address/prefix)",
			         t);
			free(proxies);
			return false;
		}
		if (net.prefix == 0) {
			snprintf(err, errlen,
			         "invalid value for trusted_proxies: \"%s\" would let every client choose its address"
			         " (list the proxies only)",
			         t);
			free(proxies);
			return false;
		}
	}
	free(proxies);
	if (!cfg->data_dir[0]) {
		snprintf(err, errlen, "invalid value for data_dir: it must not be empty");
		return false;
	}
	return true;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (keys[i].type == KEY_STRING) {
			char **field = (char **)((char *)cfg + keys[i].offset);
			free(*field);
			*field = NULL;
		}
}

void config_print(const struct config *cfg, FILE *out)
{
	static const char *const levels[] = {"debug", "info", "warn", "error"};
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];
		const char *field = (const char *)cfg + k->offset;
		switch (k->type) {
		case KEY_STRING:
			/* Never print credentials that may sit in a database URL. */
			if ((!strcmp(k->name, "database_url") || !strcmp(k->name, "admin_password")) && **(char *const *)field)
				fprintf(out, "%s = (set)\n", k->name);
			else
				fprintf(out, "%s = %s\n", k->name, *(char *const *)field);
			break;
		case KEY_INT:
			fprintf(out, "%s = %d\n", k->name, *(const int *)field);
			break;
		case KEY_BOOL:
			fprintf(out, "%s = %s\n", k->name, *(const bool *)field ? "true" : "false");
			break;
		case KEY_DURATION:
			fprintf(out, "%s = %lldms\n", k->name, (long long)*(const int64_t *)field);
			break;
		case KEY_SIZE:
			fprintf(out, "%s = %lld\n", k->name, (long long)*(const int64_t *)field);
			break;
		case KEY_LOG_LEVEL:
			fprintf(out, "%s = %s\n", k->name, levels[*(const enum log_level *)field]);
			break;
		}
	}
}
