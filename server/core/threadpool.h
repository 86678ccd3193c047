/* A small pool of threads for CPU-heavy work (Argon2id password hashing) that must never
 * run on an event loop. Jobs run on a thread; their completion runs back on the loop. */
#ifndef RELAIS_THREADPOOL_H
#define RELAIS_THREADPOOL_H

#include <event2/event.h>

#include "core/common.h"

struct threadpool;

/* Runs on a pool thread: must not touch the event loop or anything it owns. */
typedef void (*threadpool_work)(void *arg);
/* Runs on the event loop once the work is done. */
typedef void (*threadpool_done)(void *arg);

struct threadpool *threadpool_new(struct event_base *base, int threads, int queue_max);
/* Queues a job; false when the queue is full (the caller answers 503). */
bool threadpool_submit(struct threadpool *pool, threadpool_work work, threadpool_done done, void *arg) MUST_USE;
/* Waits for the threads to finish their current job; queued jobs are completed (done runs). */
void threadpool_free(struct threadpool *pool);

#endif
