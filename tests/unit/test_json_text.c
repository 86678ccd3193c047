/* The JSON writer of answers against jansson's own json_dumps(JSON_COMPACT): same bytes for
 * every kind of value, escapes, order of keys, and the same refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json_text.h"

/* Writes `v` both ways and checks that the bytes agree; takes the reference. */
static void same_as_jansson(json_t *v)
{
	char *expected = json_dumps(v, JSON_COMPACT);
	assert_non_null(expected);
	struct json_text t = {0};
	assert_true(json_text_append(&t, v));
	if (t.len != strlen(expected) || memcmp(t.data, expected, t.len) != 0)
		fail_msg("json_text wrote %.*s\njansson wrote   %s", (int)t.len, t.data, expected);
	free(expected);
	json_text_free(&t);
	json_decref(v);
}

static void scalars_in_containers(void **state)
{
	same_as_jansson(json_pack("[n, b, b, I, I, I, I, s, s]", 1, 0, (json_int_t)-1, (json_int_t)INT64_MAX,
	                          (json_int_t)INT64_MIN, (json_int_t)1234567890123, "", "relais"));
	same_as_jansson(json_pack("[f, f, f, f, f, f, f]", 0.1, 1.5, 100.0, -0.0, 1e300, 2.5e-8, 123456789.125));
	same_as_jansson(json_object());
	same_as_jansson(json_array());
	same_as_jansson(json_pack("{s:{}, s:[], s:[{}, []]}", "a", "b", "c"));
}

static void escapes(void **state)
{
	/* Every byte from 1 to 127, then UTF-8 of two, three and four bytes. */
	char all[128];
	for (int i = 1; i < 128; i++)
		all[i - 1] = (char)i;
	all[127] = '\0';
	same_as_jansson(
	    json_pack("[s, s, s, s]", all, "Am\xc3\xa9lie", "\xe2\x82\xac \xe2\x80\xa8", "\xf0\x9f\x98\x80 / \\ \""));
	/* A NUL inside a string, and keys that need escapes too. */
	json_t *o = json_object();
	json_object_set_new(o, "nul", json_stringn("a\0b", 3));
	json_object_set_new(o, "quote\"back\\slash\nline\x01", json_true());
	json_object_set_new(o, "\xc3\xa9t\xc3\xa9", json_integer(1));
	same_as_jansson(o);
}

static void key_order(void **state)
{
	/* Insertion order, a replaced value keeping its place, deleted keys gone. */
	json_t *o = json_object();
	const char *keys[] = {"zeta", "alpha", "mid", "cursor", "beta", "omega"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		json_object_set_new(o, keys[i], json_integer((json_int_t)i));
	json_object_set_new(o, "alpha", json_string("replaced"));
	json_object_del(o, "cursor");
	json_object_set_new(o, "added", json_null());
	same_as_jansson(o);
}

/* A question as the inbox writes it, parsed from text as a json column would be. */
static void inbox_answer(void **state)
{
	const char *text =
	    "{\"items\":[{\"id\":2,\"title\":\"Charged after cancelling\",\"status\":\"assigned\",\"language\":\"en\","
	    "\"tags\":[\"refunds\"],\"topic\":\"billing\",\"triage_reason\":\"\",\"sla_due_at\":\"2026-12-02T19:39:55."
	    "796837Z\","
	    "\"sla_remaining_seconds\":14354,\"escalation_level\":0,\"crisis\":false,\"first_response_at\":null,"
	    "\"channel\":{\"id\":2,\"name\":\"Help center\",\"kind\":\"api\"},\"customer\":{\"pseudonym\":\"Customer "
	    "E36B\"},"
	    "\"assignee\":{\"id\":6,\"display_name\":\"Am\xc3\xa9lie "
	    "Bernard\"},\"claimed_by\":null}],\"next_cursor\":null}";
	json_t *v = json_loads(text, 0, NULL);
	assert_non_null(v);
	same_as_jansson(v);
}

/* Pseudo-random trees (fixed seed): every mix of types, depths and strings. */
static uint32_t seed = 12345;
static uint32_t next_random(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

static json_t *random_value(int depth)
{
	switch (next_random() % (depth > 4 ? 6 : 8)) {
	case 0:
		return json_null();
	case 1:
		return json_boolean(next_random() % 2);
	case 2:
		return json_integer((json_int_t)next_random() - (json_int_t)(1u << 23));
	case 3:
		return json_real((double)next_random() / ((double)(next_random() % 1000) + 1.0));
	case 4:
	case 5: {
		char s[24];
		size_t n = next_random() % sizeof s;
		for (size_t i = 0; i < n; i++)
			s[i] = (char)(1 + next_random() % 127);
		return json_stringn(s, n);
	}
	case 6: {
		json_t *a = json_array();
		for (uint32_t i = next_random() % 5; i > 0; i--)
			json_array_append_new(a, random_value(depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		for (uint32_t i = next_random() % 5; i > 0; i--) {
			char key[8];
			snprintf(key, sizeof key, "k%u", next_random() % 50);
			json_object_set_new(o, key, random_value(depth + 1));
		}
		return o;
	}
	}
}

static void random_trees(void **state)
{
	for (int i = 0; i < 2000; i++) {
		json_t *wrap = json_array();
		json_array_append_new(wrap, random_value(0));
		same_as_jansson(wrap);
	}
}

static void deep_nesting(void **state)
{
	/* As deep as json_loads() accepts, then wrapped twice more. */
	json_t *v = json_array();
	for (int i = 0; i < 2050; i++) {
		json_t *outer = json_array();
		json_array_append_new(outer, v);
		v = outer;
	}
	same_as_jansson(v);
}

static void refusals(void **state)
{
	/* As json_dumpb without JSON_ENCODE_ANY: only objects and arrays, and no value at all. */
	struct json_text t = {0};
	json_t *s = json_string("x");
	assert_false(json_text_append(&t, s));
	assert_int_equal(json_dumpb(s, NULL, 0, JSON_COMPACT), 0);
	json_decref(s);
	assert_false(json_text_append(&t, NULL));
	/* A cycle: jansson refuses it, so must we (rather than recurse forever). */
	json_t *a = json_array(), *b = json_array();
	json_array_append(a, b);
	json_array_append(b, a);
	assert_int_equal(json_dumpb(a, NULL, 0, JSON_COMPACT), 0);
	assert_false(json_text_append(&t, a));
	json_array_clear(b);
	json_decref(a);
	json_decref(b);
	json_text_free(&t);
}

static void appends_to_what_is_there(void **state)
{
	struct json_text t = {0};
	json_text_put(&t, "x=", 2);
	json_t *v = json_pack("{s:i}", "a", 1);
	assert_true(json_text_append(&t, v));
	json_text_put(&t, "\n", 1);
	assert_int_equal(t.len, 10);
	assert_memory_equal(t.data, "x={\"a\":1}\n", 10);
	json_decref(v);
	json_text_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(scalars_in_containers),
	    cmocka_unit_test(escapes),
	    cmocka_unit_test(key_order),
	    cmocka_unit_test(inbox_answer),
	    cmocka_unit_test(random_trees),
	    cmocka_unit_test(deep_nesting),
	    cmocka_unit_test(refusals),
	    cmocka_unit_test(appends_to_what_is_there),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
