/* Routing policy of external questions, as pure functions: who is available, how experts are
 * scored and ranked, and the next step of SLA escalation. No I/O here: route_job.c and sla.c
 * load the facts in one statement each and write the decision; tests/unit/test_routing.c
 * checks the policy itself. */
#ifndef RELAIS_ROUTING_H
#define RELAIS_ROUTING_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Score parts (docs/questions.md, "Routing"). */
#define ROUTING_EXPERTISE_PER_LEVEL 10
#define ROUTING_LANGUAGE_BONUS 20
#define ROUTING_OUTSIDE_HOURS_PENALTY (-30)
#define ROUTING_LOAD_PENALTY (-5)

struct routing_parts {
	int expertise;    /* Σ level × 10 over the question's tags */
	int language;     /* +20 when the expert speaks the question's language */
	int availability; /* 0 inside working hours, −30 outside */
	int load;         /* −5 per open question */
};

enum routing_exclusion {
	ROUTING_ELIGIBLE = 0,
	ROUTING_OUT_OF_OFFICE,
	ROUTING_WEEKLY_CAP,
	ROUTING_DECLINED,
};

/* What is known of one expert when a question is routed. */
struct routing_candidate {
	int64_t user_id;
	int expertise_levels; /* Σ of the expert's levels over the question's tags */
	bool speaks_language;
	bool in_working_hours;
	int open_load;   /* questions assigned to or claimed by them in open statuses */
	int routed_week; /* questions routed to them (as primary) in the last 7 days */
	int weekly_cap;
	bool out_of_office;
	bool declined;
	int64_t last_routed_us; /* when they were last routed one (as primary); 0 = never */

	/* Filled by routing_rank(). */
	enum routing_exclusion excluded;
	struct routing_parts parts;
	int score;
};

/* Whether a local weekday (1 = Monday .. 7 = Sunday, ISO) and minute of the day (0..1439)
 * fall inside working hours given as {"mon": [["09:00","17:30"], ...], ...}.
 *
 * An empty object (or NULL, or anything but an object) means always available. Otherwise a
 * day that is missing or empty is not worked. Times are "HH:MM", "24:00" allowed as an end.
 * A window whose end is before its start runs overnight into the next day: ["22:00","06:00"]
 * on "mon" covers Monday from 22:00 and Tuesday until 06:00. A window whose start equals its
 * end is empty. Malformed windows are ignored. */
bool routing_in_working_hours(const json_t *hours, int weekday, int minute);

/* Computes each candidate's exclusion, parts and score, then writes into `order` the indexes
 * of the eligible candidates, best first: higher score, then the one routed least recently
 * (never routed first), then the lowest user id. Returns how many are eligible. */
int routing_rank(struct routing_candidate *candidates, int count, int *order);

/* The parts as JSON: {"expertise", "language", "availability", "load"}. */
json_t *routing_parts_json(const struct routing_parts *parts);

/* SLA escalation. steps[0] is the backup expert (level 1), steps[1] an active manager of the
 * community (level 2), steps[2] the channel's owner (level 3); 0 means missing or disabled.
 * From `level`, the next step is the first later one whose person exists and is not the
 * current assignee. Returns that level and sets *to, or 0 when no step is left (the SLA is
 * breached). */
int routing_next_escalation(int level, int64_t assignee, const int64_t steps[3], int64_t *to);

#endif
