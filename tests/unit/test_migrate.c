/* Migration file names and the migrations built into the binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "db/migrate.h"

static void names(void **state)
{
	int v;
	assert_true(migrate_parse_name("0001_foundation.sql", &v));
	assert_int_equal(v, 1);
	assert_true(migrate_parse_name("0042_add_things2.sql", &v));
	assert_int_equal(v, 42);
	assert_false(migrate_parse_name("0000_zero.sql", &v));
	assert_false(migrate_parse_name("1_short.sql", &v));
	assert_false(migrate_parse_name("0001-dash.sql", &v));
	assert_false(migrate_parse_name("0001_Upper.sql", &v));
	assert_false(migrate_parse_name("0001_.sql", &v));
	assert_false(migrate_parse_name("0001_name.txt", &v));
	assert_false(migrate_parse_name("0001_na me.sql", &v));
}

static void built_in_migrations_are_ordered(void **state)
{
	assert_true(schema_file_count >= 1);
	int previous = 0;
	for (size_t i = 0; i < schema_file_count; i++) {
		int v;
		assert_true(migrate_parse_name(schema_files[i].name, &v));
		assert_true(v > previous);
		previous = v;
		assert_true(strlen(schema_files[i].sql) > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names),
	    cmocka_unit_test(built_in_migrations_are_ordered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
