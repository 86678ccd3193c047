/* The general per-address request limit of one worker: fixed one-minute windows in a small
 * table. Approximate on purpose (per worker, oldest entry evicted when full): it stops
 * floods cheaply; the precise, shared limits (sign-in) live in the database. */
#ifndef RELAIS_HTTP_RATELIMIT_H
#define RELAIS_HTTP_RATELIMIT_H

#include "core/common.h"

struct ratelimit;

struct ratelimit *ratelimit_new(int per_minute);
void ratelimit_free(struct ratelimit *rl);
/* True when the address may go on; otherwise *retry_after_s says when it may again. */
bool ratelimit_allow(struct ratelimit *rl, const char *address, int64_t now_ms, int *retry_after_s);

#endif
