/* The request arena: alignment, growth past the inline block, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"

static void small_allocations_are_aligned(void **state)
{
	struct arena a;
	arena_init(&a);
	for (int i = 1; i < 200; i++) {
		char *p = arena_alloc(&a, (size_t)i);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		memset(p, 0xab, (size_t)i);
	}
	arena_free(&a);
}

static void large_allocations_and_strings(void **state)
{
	struct arena a;
	arena_init(&a);
	char *big = arena_alloc(&a, 100000);
	memset(big, 1, 100000);
	assert_string_equal(arena_strdup(&a, "relais"), "relais");
	assert_string_equal(arena_strndup(&a, "abcdef", 3), "abc");
	assert_string_equal(arena_printf(&a, "%s-%d", "q", 42), "q-42");
	char *longer = arena_printf(&a, "%0500d", 7);
	assert_int_equal(strlen(longer), 500);
	arena_free(&a);
	/* Usable again after free. */
	assert_string_equal(arena_strdup(&a, "again"), "again");
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(small_allocations_are_aligned),
	    cmocka_unit_test(large_allocations_and_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
