/* Text checks used by the JSON field readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/input.h"

static void counts_characters_not_bytes(void **state)
{
	assert_int_equal(utf8_length(""), 0);
	assert_int_equal(utf8_length("Relais"), 6);
	assert_int_equal(utf8_length("Amélie"), 6);
	assert_int_equal(utf8_length("日本語"), 3);
	assert_int_equal(utf8_length("😀!"), 2);
}

static void single_lines(void **state)
{
	assert_true(text_is_single_line("Héloïse O'Brien; DROP TABLE users; --"));
	assert_false(text_is_single_line("two\nlines"));
	assert_false(text_is_single_line("tab\there"));
	assert_false(text_is_single_line("bell\a"));
	assert_false(text_is_single_line("del\x7f"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(counts_characters_not_bytes),
	    cmocka_unit_test(single_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
