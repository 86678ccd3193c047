/* Bump allocator owned by one request: everything is freed at once when the request ends. */
#ifndef RELAIS_ARENA_H
#define RELAIS_ARENA_H

#include "core/common.h"

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	/* Most requests never need more: an authenticated JSON request with a browser's headers
	 * takes about 1.2 KiB (its fields, path, session facts and the rendered answer head). */
	_Alignas(max_align_t) char first[2048];
	size_t used_in_first;
};

void arena_init(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) PRINTF_LIKE(2, 3);
void arena_free(struct arena *a);

#endif
