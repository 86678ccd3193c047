/* Small helpers shared by every module: attributes, allocation that aborts on OOM, time. */
#ifndef RELAIS_COMMON_H
#define RELAIS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MUST_USE __attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Small allocations abort on OOM: the process cannot do anything useful without them. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Monotonic clock in milliseconds, for deadlines and latencies. */
int64_t now_ms(void);
/* Monotonic clock in microseconds. */
int64_t now_us(void);

#endif
