/* The route matcher: literals, parameters, methods, HEAD, 405 with Allow, wildcards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/router.h"

static void handler(struct http_req *req)
{
}

static const struct route routes[] = {
    {HTTP_GET, "/healthz", handler, "healthz", ACCESS_PUBLIC, BODY_NONE, 0, false},
    {HTTP_GET, "/api/v1/things", handler, "things", ACCESS_PUBLIC, BODY_NONE, 0, false},
    {HTTP_POST, "/api/v1/things", handler, "things_create", ACCESS_PUBLIC, BODY_JSON, 0, false},
    {HTTP_GET | HTTP_PATCH, "/api/v1/things/{id}", handler, "thing", ACCESS_PUBLIC, BODY_NONE, 0, false},
    {HTTP_DELETE, "/api/v1/things/{id}/parts/{part}", handler, "part", ACCESS_PUBLIC, BODY_NONE, 0, false},
    {HTTP_GET, "/files/*", handler, "files", ACCESS_PUBLIC, BODY_NONE, 0, false},
};
#define N (sizeof routes / sizeof routes[0])

static void literal_paths(void **state)
{
	struct route_params p;
	int allowed;
	assert_int_equal(router_match(routes, N, HTTP_GET, "/healthz", &p, &allowed), 0);
	assert_int_equal(p.count, 0);
	assert_int_equal(router_match(routes, N, HTTP_GET, "/healthz/", &p, &allowed), -1);
	assert_int_equal(allowed, 0);
	assert_int_equal(router_match(routes, N, HTTP_GET, "/healthzz", &p, &allowed), -1);
	assert_int_equal(router_match(routes, N, HTTP_POST, "/api/v1/things", &p, &allowed), 2);
}

static void parameters(void **state)
{
	struct route_params p;
	int allowed;
	assert_int_equal(router_match(routes, N, HTTP_PATCH, "/api/v1/things/42", &p, &allowed), 3);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.value_lens[0], 2);
	assert_memory_equal(p.values[0], "42", 2);
	assert_int_equal(p.name_lens[0], 2);
	assert_memory_equal(p.names[0], "id", 2);
	assert_int_equal(router_match(routes, N, HTTP_DELETE, "/api/v1/things/7/parts/wheel", &p, &allowed), 4);
	assert_int_equal(p.count, 2);
	assert_memory_equal(p.values[1], "wheel", 5);
	/* An empty parameter never matches. */
	assert_int_equal(router_match(routes, N, HTTP_GET, "/api/v1/things/", &p, &allowed), -1);
	assert_int_equal(router_match(routes, N, HTTP_GET, "/api/v1/things/1/2", &p, &allowed), -1);
}

static void methods_and_allow(void **state)
{
	struct route_params p;
	int allowed;
	assert_int_equal(router_match(routes, N, HTTP_HEAD, "/healthz", &p, &allowed), 0);
	assert_int_equal(router_match(routes, N, HTTP_PUT, "/api/v1/things", &p, &allowed), -1);
	assert_int_equal(allowed, HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_OPTIONS);
	char allow[128];
	router_format_allow(allowed, allow, sizeof allow);
	assert_string_equal(allow, "GET, HEAD, POST, OPTIONS");
	assert_int_equal(router_match(routes, N, HTTP_DELETE, "/api/v1/things/9", &p, &allowed), -1);
	router_format_allow(allowed, allow, sizeof allow);
	assert_string_equal(allow, "GET, HEAD, PATCH, OPTIONS");
}

static void wildcard(void **state)
{
	struct route_params p;
	int allowed;
	assert_int_equal(router_match(routes, N, HTTP_GET, "/files/a/b/c.txt", &p, &allowed), 5);
	assert_int_equal(router_match(routes, N, HTTP_GET, "/files", &p, &allowed), 5);
	assert_int_equal(router_match(routes, N, HTTP_GET, "/filesystem", &p, &allowed), -1);
}

static void method_names(void **state)
{
	assert_string_equal(router_method_name(HTTP_OPTIONS), "OPTIONS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(literal_paths), cmocka_unit_test(parameters), cmocka_unit_test(methods_and_allow),
	    cmocka_unit_test(wildcard),      cmocka_unit_test(method_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
