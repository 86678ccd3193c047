/* Content types of the web app's files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/static.h"

static void content_types(void **state)
{
	assert_string_equal(static_content_type("/index.html"), "text/html; charset=utf-8");
	assert_string_equal(static_content_type("/assets/app-1a2b.js"), "text/javascript; charset=utf-8");
	assert_string_equal(static_content_type("/assets/app.css"), "text/css; charset=utf-8");
	assert_string_equal(static_content_type("/favicon.svg"), "image/svg+xml; charset=utf-8");
	assert_string_equal(static_content_type("/font.woff2"), "font/woff2");
	assert_string_equal(static_content_type("/noextension"), "application/octet-stream");
	assert_string_equal(static_content_type("/dir.d/file"), "application/octet-stream");
}

static void missing_root_is_reported(void **state)
{
	assert_false(static_load("/nonexistent/web/dist"));
	assert_false(static_load(""));
	static_unload();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(content_types),
	    cmocka_unit_test(missing_root_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
