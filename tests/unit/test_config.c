/* Configuration parsing: units, validation, precedence of file and environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"

static void durations(void **state)
{
	int64_t ms;
	assert_true(config_parse_duration_ms("500ms", &ms));
	assert_int_equal(ms, 500);
	assert_true(config_parse_duration_ms("10s", &ms));
	assert_int_equal(ms, 10000);
	assert_true(config_parse_duration_ms("10", &ms));
	assert_int_equal(ms, 10000);
	assert_true(config_parse_duration_ms("2m", &ms));
	assert_int_equal(ms, 120000);
	assert_true(config_parse_duration_ms("12h", &ms));
	assert_int_equal(ms, 12 * 3600000LL);
	assert_true(config_parse_duration_ms("30d", &ms));
	assert_int_equal(ms, 30 * 86400000LL);
	assert_false(config_parse_duration_ms("", &ms));
	assert_false(config_parse_duration_ms("s", &ms));
	assert_false(config_parse_duration_ms("-1s", &ms));
	assert_false(config_parse_duration_ms("10 s", &ms));
	assert_false(config_parse_duration_ms("10y", &ms));
	assert_false(config_parse_duration_ms("99999999999999999999d", &ms));
}

static void sizes(void **state)
{
	int64_t n;
	assert_true(config_parse_size("16K", &n));
	assert_int_equal(n, 16384);
	assert_true(config_parse_size("1M", &n));
	assert_int_equal(n, 1048576);
	assert_true(config_parse_size("1MiB", &n));
	assert_int_equal(n, 1048576);
	assert_true(config_parse_size("123", &n));
	assert_int_equal(n, 123);
	assert_false(config_parse_size("1T", &n));
	assert_false(config_parse_size("K", &n));
	assert_false(config_parse_size("9223372036854775807G", &n));
}

static void booleans(void **state)
{
	bool b;
	assert_true(config_parse_bool("yes", &b) && b);
	assert_true(config_parse_bool("false", &b) && !b);
	assert_false(config_parse_bool("maybe", &b));
}

static void listen_addresses(void **state)
{
	char host[64];
	int port;
	assert_true(config_split_listen("127.0.0.1:8080", host, sizeof host, &port));
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_true(config_split_listen("[::1]:443", host, sizeof host, &port));
	assert_string_equal(host, "::1");
	assert_int_equal(port, 443);
	assert_false(config_split_listen("localhost", host, sizeof host, &port));
	assert_false(config_split_listen(":80", host, sizeof host, &port));
	assert_false(config_split_listen("h:99999", host, sizeof host, &port));
	assert_false(config_split_listen("h:8x", host, sizeof host, &port));
}

static char *write_temp(const char *content)
{
	static char path[64];
	strcpy(path, "/tmp/relais-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return path;
}

static void defaults_file_and_environment(void **state)
{
	char err[512];
	struct config cfg;
	unsetenv("RELAIS_WORKERS");
	assert_true(config_load(&cfg, NULL, err, sizeof err));
	assert_string_equal(cfg.listen, "127.0.0.1:8080");
	assert_int_equal(cfg.header_timeout_ms, 10000);
	assert_int_equal(cfg.max_header_size, 16384);
	assert_int_equal(cfg.max_body_size, 1 << 20);
	config_free(&cfg);

	char *path = write_temp("[relais]\nworkers = 3\ndata_dir = /srv/relais\n");
	setenv("RELAIS_WORKERS", "6", 1);
	assert_true(config_load(&cfg, path, err, sizeof err));
	assert_int_equal(cfg.workers, 6);
	assert_string_equal(cfg.data_dir, "/srv/relais");
	config_free(&cfg);
	unsetenv("RELAIS_WORKERS");
	unlink(path);
}

static void errors_name_the_key(void **state)
{
	char err[512];
	struct config cfg;
	char *path = write_temp("workers = 2\nmax_conections = 10\n");
	assert_false(config_load(&cfg, path, err, sizeof err));
	config_free(&cfg);
	assert_non_null(strstr(err, "unknown key \"max_conections\""));
	unlink(path);

	setenv("RELAIS_MAX_CONNECTIONS", "0", 1);
	assert_false(config_load(&cfg, NULL, err, sizeof err));
	config_free(&cfg);
	assert_non_null(strstr(err, "RELAIS_MAX_CONNECTIONS: invalid value for max_connections"));
	unsetenv("RELAIS_MAX_CONNECTIONS");

	setenv("RELAIS_DATA_DIR", "", 1);
	assert_false(config_load(&cfg, NULL, err, sizeof err));
	config_free(&cfg);
	assert_non_null(strstr(err, "data_dir"));
	unsetenv("RELAIS_DATA_DIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(durations),
	    cmocka_unit_test(sizes),
	    cmocka_unit_test(booleans),
	    cmocka_unit_test(listen_addresses),
	    cmocka_unit_test(defaults_file_and_environment),
	    cmocka_unit_test(errors_name_the_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
