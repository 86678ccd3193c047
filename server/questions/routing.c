#include "questions/routing.h"

#include <stdlib.h>
#include <string.h>

static const char *const day_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* "HH:MM" as minutes of the day, 0..1440 ("24:00" only as an end); -1 when malformed. */
static int parse_clock(const json_t *value, bool is_end)
{
	const char *s = json_string_value(value);
	if (!s || strlen(s) != 5 || s[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !is_end)))
		return -1;
	return h * 60 + m;
}

/* Reads window `i` of a day's list; false when malformed. */
static bool window_at(const json_t *day, size_t i, int *start, int *end)
{
	const json_t *w = json_array_get(day, i);
	if (!json_is_array(w) || json_array_size(w) != 2)
		return false;
	*start = parse_clock(json_array_get(w, 0), false);
	*end = parse_clock(json_array_get(w, 1), true);
	return *start >= 0 && *end >= 0;
}

bool routing_in_working_hours(const json_t *hours, int weekday, int minute)
{
	if (!json_is_object(hours) || json_object_size(hours) == 0)
		return true;
	if (weekday < 1 || weekday > 7 || minute < 0 || minute >= 1440)
		return false;
	const json_t *today = json_object_get(hours, day_names[weekday - 1]);
	const json_t *yesterday = json_object_get(hours, day_names[(weekday + 5) % 7]);
	int start, end;
	for (size_t i = 0; json_is_array(today) && i < json_array_size(today); i++) {
		if (!window_at(today, i, &start, &end))
			continue;
		if (start < end ? (minute >= start && minute < end) : (start > end && minute >= start))
			return true;
	}
	/* Yesterday's overnight windows reach into this morning. */
	for (size_t i = 0; json_is_array(yesterday) && i < json_array_size(yesterday); i++) {
		if (!window_at(yesterday, i, &start, &end))
			continue;
		if (start > end && minute < end)
			return true;
	}
	return false;
}

static void score(struct routing_candidate *c)
{
	c->excluded = c->out_of_office                  ? ROUTING_OUT_OF_OFFICE
	              : c->declined                     ? ROUTING_DECLINED
	              : c->routed_week >= c->weekly_cap ? ROUTING_WEEKLY_CAP
	                                                : ROUTING_ELIGIBLE;
	int levels = c->expertise_levels < 0 ? 0 : c->expertise_levels;
	int load = c->open_load < 0 ? 0 : c->open_load;
	/* Levels are 1..5 over at most 20 tags and loads are counts: far from overflowing. */
	c->parts.expertise = levels * ROUTING_EXPERTISE_PER_LEVEL;
	c->parts.language = c->speaks_language ? ROUTING_LANGUAGE_BONUS : 0;
	c->parts.availability = c->in_working_hours ? 0 : ROUTING_OUTSIDE_HOURS_PENALTY;
	c->parts.load = load * ROUTING_LOAD_PENALTY;
	c->score = c->parts.expertise + c->parts.language + c->parts.availability + c->parts.load;
}

/* Best first: score, then least recently routed, then lowest id. */
static bool before(const struct routing_candidate *a, const struct routing_candidate *b)
{
	if (a->score != b->score)
		return a->score > b->score;
	if (a->last_routed_us != b->last_routed_us)
		return a->last_routed_us < b->last_routed_us;
	return a->user_id < b->user_id;
}

int routing_rank(struct routing_candidate *candidates, int count, int *order)
{
	int n = 0;
	for (int i = 0; i < count; i++) {
		score(&candidates[i]);
		if (candidates[i].excluded != ROUTING_ELIGIBLE)
			continue;
		/* Insertion sort: a community has tens of experts, not thousands. */
		int j = n++;
		while (j > 0 && before(&candidates[i], &candidates[order[j - 1]])) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	return n;
}

json_t *routing_parts_json(const struct routing_parts *p)
{
	return json_pack("{s:i, s:i, s:i, s:i}", "expertise", p->expertise, "language", p->language, "availability",
	                 p->availability, "load", p->load);
}

int routing_next_escalation(int level, int64_t assignee, const int64_t steps[3], int64_t *to)
{
	for (int next = level + 1; next <= 3; next++) {
		int64_t who = steps[next - 1];
		if (who > 0 && who != assignee) {
			*to = who;
			return next;
		}
	}
	return 0;
}
