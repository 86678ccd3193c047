#include "http/ratelimit.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS 8192 /* distinct addresses tracked at once per worker */
#define PROBES 8
#define WINDOW_MS 60000

struct entry {
	char address[48];
	int64_t window_start;
	int hits;
};

struct ratelimit {
	int per_minute;
	struct entry *entries;
};

struct ratelimit *ratelimit_new(int per_minute)
{
	struct ratelimit *rl = xcalloc(1, sizeof *rl);
	rl->per_minute = per_minute;
	rl->entries = xcalloc(SLOTS, sizeof *rl->entries);
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->entries);
	free(rl);
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

bool ratelimit_allow(struct ratelimit *rl, const char *address, int64_t now, int *retry_after_s)
{
	if (!rl || rl->per_minute <= 0)
		return true;
	uint32_t h = hash(address);
	struct entry *slot = NULL, *oldest = NULL;
	for (int i = 0; i < PROBES; i++) {
		struct entry *e = &rl->entries[(h + (uint32_t)i) % SLOTS];
		if (!strcmp(e->address, address)) {
			slot = e;
			break;
		}
		if (!oldest || e->window_start < oldest->window_start)
			oldest = e;
	}
	if (!slot) {
		/* Reuse the stalest of the probed slots: an expired or least recent address. */
		slot = oldest;
		strncpy(slot->address, address, sizeof slot->address - 1);
		slot->address[sizeof slot->address - 1] = '\0';
		slot->window_start = now;
		slot->hits = 0;
	}
	if (now - slot->window_start >= WINDOW_MS) {
		slot->window_start = now;
		slot->hits = 0;
	}
	if (++slot->hits <= rl->per_minute)
		return true;
	*retry_after_s = (int)((slot->window_start + WINDOW_MS - now + 999) / 1000);
	return false;
}
