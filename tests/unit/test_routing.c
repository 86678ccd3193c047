/* Routing policy: score parts, exclusions, working hours (time zones are applied in SQL,
 * which hands over the local weekday and minute), weekly caps, round robin, escalation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "questions/routing.h"

#define MON 1
#define TUE 2
#define SAT 6
#define SUN 7
#define HM(h, m) ((h)*60 + (m))

static json_t *hours(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	assert_non_null(j);
	return j;
}

static struct routing_candidate expert(int64_t id)
{
	struct routing_candidate c = {.user_id = id, .in_working_hours = true, .weekly_cap = 10};
	return c;
}

static void parts_of_the_score(void **state)
{
	(void)state;
	struct routing_candidate c[1] = {expert(7)};
	c[0].expertise_levels = 7; /* e.g. billing 4 + invoices 3 */
	c[0].speaks_language = true;
	c[0].in_working_hours = false;
	c[0].open_load = 3;
	int order[1];
	assert_int_equal(routing_rank(c, 1, order), 1);
	assert_int_equal(c[0].parts.expertise, 70);
	assert_int_equal(c[0].parts.language, 20);
	assert_int_equal(c[0].parts.availability, -30);
	assert_int_equal(c[0].parts.load, -15);
	assert_int_equal(c[0].score, 70 + 20 - 30 - 15);

	json_t *j = routing_parts_json(&c[0].parts);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"availability\":-30,\"expertise\":70,\"language\":20,\"load\":-15}");
	free(s);
	json_decref(j);
}

static void zero_parts_for_a_plain_expert(void **state)
{
	(void)state;
	struct routing_candidate c[1] = {expert(1)};
	int order[1];
	assert_int_equal(routing_rank(c, 1, order), 1);
	assert_int_equal(c[0].score, 0);
	assert_int_equal(c[0].parts.expertise, 0);
	assert_int_equal(c[0].parts.language, 0);
	assert_int_equal(c[0].parts.availability, 0);
	assert_int_equal(c[0].parts.load, 0);
}

static void best_score_first(void **state)
{
	(void)state;
	struct routing_candidate c[4] = {expert(1), expert(2), expert(3), expert(4)};
	c[0].expertise_levels = 1;                     /* 10 */
	c[1].expertise_levels = 3;                     /* 30 */
	c[2].speaks_language = true;                   /* 20 */
	c[3].expertise_levels = 5, c[3].open_load = 5; /* 50 - 25 = 25 */
	int order[4];
	assert_int_equal(routing_rank(c, 4, order), 4);
	assert_int_equal(c[order[0]].user_id, 2);
	assert_int_equal(c[order[1]].user_id, 4);
	assert_int_equal(c[order[2]].user_id, 3);
	assert_int_equal(c[order[3]].user_id, 1);
}

static void exclusions(void **state)
{
	(void)state;
	struct routing_candidate c[5] = {expert(1), expert(2), expert(3), expert(4), expert(5)};
	for (int i = 0; i < 5; i++)
		c[i].expertise_levels = 5; /* strong, yet excluded below */
	c[0].out_of_office = true;
	c[1].declined = true;
	c[2].routed_week = 10, c[2].weekly_cap = 10;
	c[3].weekly_cap = 0;
	c[4].expertise_levels = 0;
	int order[5];
	assert_int_equal(routing_rank(c, 5, order), 1);
	assert_int_equal(c[order[0]].user_id, 5);
	assert_int_equal(c[0].excluded, ROUTING_OUT_OF_OFFICE);
	assert_int_equal(c[1].excluded, ROUTING_DECLINED);
	assert_int_equal(c[2].excluded, ROUTING_WEEKLY_CAP);
	assert_int_equal(c[3].excluded, ROUTING_WEEKLY_CAP);
	assert_int_equal(c[4].excluded, ROUTING_ELIGIBLE);
	/* Nobody left: no candidate at all. */
	c[4].out_of_office = true;
	assert_int_equal(routing_rank(c, 5, order), 0);
	assert_int_equal(routing_rank(c, 0, order), 0);
}

static void weekly_cap_counts_below_the_cap(void **state)
{
	(void)state;
	struct routing_candidate c[1] = {expert(1)};
	int order[1];
	c[0].weekly_cap = 3;
	c[0].routed_week = 2;
	assert_int_equal(routing_rank(c, 1, order), 1);
	c[0].routed_week = 3;
	assert_int_equal(routing_rank(c, 1, order), 0);
	c[0].routed_week = 4; /* the cap was lowered after the fact */
	assert_int_equal(routing_rank(c, 1, order), 0);
}

static void ties_go_to_least_recently_routed_then_lowest_id(void **state)
{
	(void)state;
	struct routing_candidate c[4] = {expert(9), expert(3), expert(5), expert(4)};
	c[0].last_routed_us = 1000;
	c[1].last_routed_us = 3000;
	c[2].last_routed_us = 0; /* never routed: first */
	c[3].last_routed_us = 1000;
	int order[4];
	assert_int_equal(routing_rank(c, 4, order), 4);
	assert_int_equal(c[order[0]].user_id, 5);
	assert_int_equal(c[order[1]].user_id, 4); /* same time as 9: lower id */
	assert_int_equal(c[order[2]].user_id, 9);
	assert_int_equal(c[order[3]].user_id, 3);
	/* A higher score wins over round robin. */
	c[1].speaks_language = true;
	routing_rank(c, 4, order);
	assert_int_equal(c[order[0]].user_id, 3);
}

static void outside_working_hours_is_a_penalty_not_an_exclusion(void **state)
{
	(void)state;
	struct routing_candidate c[2] = {expert(1), expert(2)};
	c[0].in_working_hours = false;
	c[0].expertise_levels = 4; /* 40 - 30 = 10 */
	c[1].expertise_levels = 2; /* 20 */
	int order[2];
	assert_int_equal(routing_rank(c, 2, order), 2);
	assert_int_equal(c[order[0]].user_id, 2);
	assert_int_equal(c[order[1]].user_id, 1);
}

static void empty_working_hours_mean_always(void **state)
{
	(void)state;
	json_t *h = hours("{}");
	for (int d = 1; d <= 7; d++)
		for (int m = 0; m < 1440; m += 37)
			assert_true(routing_in_working_hours(h, d, m));
	json_decref(h);
	assert_true(routing_in_working_hours(NULL, MON, 0));
	json_t *notobj = hours("[]");
	assert_true(routing_in_working_hours(notobj, SUN, 100));
	json_decref(notobj);
}

static void day_windows(void **state)
{
	(void)state;
	json_t *h = hours("{\"mon\": [[\"09:00\",\"12:00\"], [\"13:30\",\"17:30\"]], \"tue\": [[\"09:00\",\"17:30\"]],"
	                  " \"sat\": []}");
	assert_false(routing_in_working_hours(h, MON, HM(8, 59)));
	assert_true(routing_in_working_hours(h, MON, HM(9, 0)));
	assert_true(routing_in_working_hours(h, MON, HM(11, 59)));
	assert_false(routing_in_working_hours(h, MON, HM(12, 0))); /* the end is excluded */
	assert_false(routing_in_working_hours(h, MON, HM(13, 0)));
	assert_true(routing_in_working_hours(h, MON, HM(13, 30)));
	assert_false(routing_in_working_hours(h, MON, HM(17, 30)));
	assert_true(routing_in_working_hours(h, TUE, HM(17, 29)));
	assert_false(routing_in_working_hours(h, SAT, HM(10, 0))); /* empty day */
	assert_false(routing_in_working_hours(h, SUN, HM(10, 0))); /* missing day */
	assert_false(routing_in_working_hours(h, 0, HM(10, 0)));   /* nonsense input */
	assert_false(routing_in_working_hours(h, MON, 1440));
	json_decref(h);
}

static void overnight_windows(void **state)
{
	(void)state;
	/* A night shift from Sunday evening to Monday morning, and a whole Tuesday. */
	json_t *h = hours("{\"sun\": [[\"22:00\",\"06:00\"]], \"tue\": [[\"00:00\",\"24:00\"]]}");
	assert_false(routing_in_working_hours(h, SUN, HM(21, 59)));
	assert_true(routing_in_working_hours(h, SUN, HM(22, 0)));
	assert_true(routing_in_working_hours(h, SUN, HM(23, 59)));
	assert_true(routing_in_working_hours(h, MON, HM(0, 0))); /* across midnight and the week's end */
	assert_true(routing_in_working_hours(h, MON, HM(5, 59)));
	assert_false(routing_in_working_hours(h, MON, HM(6, 0)));
	assert_false(routing_in_working_hours(h, SAT, HM(23, 0)));
	assert_true(routing_in_working_hours(h, TUE, HM(0, 0)));
	assert_true(routing_in_working_hours(h, TUE, HM(23, 59)));
	json_decref(h);
	/* A window ending at midnight and one starting at midnight meet without a gap. */
	h = hours("{\"mon\": [[\"18:00\",\"00:00\"]], \"tue\": [[\"00:00\",\"02:00\"]]}");
	assert_true(routing_in_working_hours(h, MON, HM(23, 59)));
	assert_true(routing_in_working_hours(h, TUE, HM(0, 0)));
	assert_true(routing_in_working_hours(h, TUE, HM(1, 59)));
	assert_false(routing_in_working_hours(h, TUE, HM(2, 0)));
	json_decref(h);
}

static void malformed_windows_are_ignored(void **state)
{
	(void)state;
	json_t *h = hours(
	    "{\"mon\": [[\"9:00\",\"17:00\"], [\"09:00\"], \"x\", [\"25:00\",\"26:00\"], [\"24:00\",\"01:00\"],"
	    " [\"10:60\",\"11:00\"], [\"10:00\",\"10:00\"], [1, 2], [\"14:00\",\"15:00\"]], \"tue\": \"always\"}");
	assert_false(routing_in_working_hours(h, MON, HM(9, 30)));
	assert_false(routing_in_working_hours(h, MON, HM(10, 0))); /* an empty window */
	assert_false(routing_in_working_hours(h, MON, HM(0, 30)));
	assert_true(routing_in_working_hours(h, MON, HM(14, 0)));
	assert_false(routing_in_working_hours(h, TUE, HM(14, 0)));
	json_decref(h);
}

/* The same instant in three time zones: SQL gives each expert's local weekday and minute. At
 * Monday 08:00 UTC, Paris (UTC+1 in winter) is at 09:00, New York (UTC−5) at 03:00 and
 * Auckland (UTC+13) at 21:00 on Monday; all three work 09:00-17:00 on weekdays. */
static void time_zones_meet_local_hours(void **state)
{
	(void)state;
	json_t *h = hours("{\"mon\": [[\"09:00\",\"17:00\"]], \"tue\": [[\"09:00\",\"17:00\"]]}");
	struct routing_candidate c[3] = {expert(1), expert(2), expert(3)};
	c[0].in_working_hours = routing_in_working_hours(h, MON, HM(9, 0));  /* Paris */
	c[1].in_working_hours = routing_in_working_hours(h, MON, HM(3, 0));  /* New York */
	c[2].in_working_hours = routing_in_working_hours(h, MON, HM(21, 0)); /* Auckland */
	int order[3];
	routing_rank(c, 3, order);
	assert_int_equal(c[order[0]].user_id, 1);
	assert_int_equal(c[0].parts.availability, 0);
	assert_int_equal(c[1].parts.availability, -30);
	assert_int_equal(c[2].parts.availability, -30);
	/* Eight hours later Auckland is past midnight, on Tuesday 05:00: still outside. */
	assert_false(routing_in_working_hours(h, TUE, HM(5, 0)));
	json_decref(h);
}

/* 1,000 questions among 4 equal experts. Each question stays open for a while (its load
 * counts) and the weekly cap is out of the way: every expert gets 250 ± 10%. */
static void round_robin_is_fair(void **state)
{
	(void)state;
	enum { EXPERTS = 4, QUESTIONS = 1000, OPEN_FOR = 7 };
	struct routing_candidate c[EXPERTS];
	for (int i = 0; i < EXPERTS; i++) {
		c[i] = expert(100 + i);
		c[i].expertise_levels = 3;
		c[i].speaks_language = true;
		c[i].weekly_cap = 1000;
	}
	int counts[EXPERTS] = {0}, order[EXPERTS];
	int open_until[QUESTIONS], owner[QUESTIONS];
	uint32_t seed = 12345;
	for (int q = 0; q < QUESTIONS; q++) {
		for (int i = 0; i < EXPERTS; i++)
			c[i].open_load = 0;
		for (int p = 0; p < q; p++)
			if (open_until[p] > q)
				c[owner[p]].open_load++;
		assert_int_equal(routing_rank(c, EXPERTS, order), EXPERTS);
		int best = order[0];
		counts[best]++;
		c[best].last_routed_us = (int64_t)(q + 1) * 1000;
		owner[q] = best;
		seed = seed * 1103515245u + 12345u;
		open_until[q] = q + 1 + (int)((seed >> 16) % OPEN_FOR);
	}
	for (int i = 0; i < EXPERTS; i++) {
		assert_in_range(counts[i], 225, 275);
	}
}

/* With a permanent difference in load, equal experts still share: the one with fewer open
 * questions is preferred until loads even out. */
static void load_spreads_work(void **state)
{
	(void)state;
	struct routing_candidate c[2] = {expert(1), expert(2)};
	c[0].open_load = 2;
	c[1].last_routed_us = 5;
	int order[2];
	routing_rank(c, 2, order);
	assert_int_equal(c[order[0]].user_id, 2);
	c[0].open_load = 0;
	routing_rank(c, 2, order);
	assert_int_equal(c[order[0]].user_id, 1);
}

static void escalation_ladder(void **state)
{
	(void)state;
	int64_t to = 0;
	const int64_t all[3] = {20, 30, 40};
	assert_int_equal(routing_next_escalation(0, 10, all, &to), 1);
	assert_int_equal(to, 20);
	assert_int_equal(routing_next_escalation(1, 20, all, &to), 2);
	assert_int_equal(to, 30);
	assert_int_equal(routing_next_escalation(2, 30, all, &to), 3);
	assert_int_equal(to, 40);
	to = 0;
	assert_int_equal(routing_next_escalation(3, 40, all, &to), 0);
	assert_int_equal(to, 0);
	/* A missing backup and a manager who already has it are skipped. */
	const int64_t gaps[3] = {0, 10, 40};
	assert_int_equal(routing_next_escalation(0, 10, gaps, &to), 3);
	assert_int_equal(to, 40);
	/* Nobody left: breached. */
	const int64_t none[3] = {0, 0, 0};
	assert_int_equal(routing_next_escalation(0, 10, none, &to), 0);
	const int64_t self[3] = {10, 10, 10};
	assert_int_equal(routing_next_escalation(0, 10, self, &to), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parts_of_the_score),
	    cmocka_unit_test(zero_parts_for_a_plain_expert),
	    cmocka_unit_test(best_score_first),
	    cmocka_unit_test(exclusions),
	    cmocka_unit_test(weekly_cap_counts_below_the_cap),
	    cmocka_unit_test(ties_go_to_least_recently_routed_then_lowest_id),
	    cmocka_unit_test(outside_working_hours_is_a_penalty_not_an_exclusion),
	    cmocka_unit_test(empty_working_hours_mean_always),
	    cmocka_unit_test(day_windows),
	    cmocka_unit_test(overnight_windows),
	    cmocka_unit_test(malformed_windows_are_ignored),
	    cmocka_unit_test(time_zones_meet_local_hours),
	    cmocka_unit_test(round_robin_is_fair),
	    cmocka_unit_test(load_spreads_work),
	    cmocka_unit_test(escalation_ladder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
