#include "core/threadpool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

struct job {
	struct job *next;
	threadpool_work work;
	threadpool_done done;
	void *arg;
};

struct threadpool {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct job *head, *tail; /* waiting */
	struct job *finished;    /* done, waiting for the loop */
	int queued, queue_max, nthreads;
	bool stopping;
	pthread_t *threads;
	int wake[2]; /* a thread writes a byte here when a job is finished */
	struct event *wake_event;
};

static void *thread_main(void *arg)
{
	struct threadpool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->ready, &p->lock);
		if (!p->head && p->stopping) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		struct job *j = p->head;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);

		j->work(j->arg);

		pthread_mutex_lock(&p->lock);
		j->next = p->finished;
		p->finished = j;
		pthread_mutex_unlock(&p->lock);
		char byte = 1;
		while (write(p->wake[1], &byte, 1) < 0 && errno == EINTR)
			;
	}
}

/* On the loop: run the completion of every finished job. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct threadpool *p = arg;
	char buf[256];
	while (read(fd, buf, sizeof buf) > 0)
		;
	pthread_mutex_lock(&p->lock);
	struct job *done = p->finished;
	p->finished = NULL;
	pthread_mutex_unlock(&p->lock);
	while (done) {
		struct job *next = done->next;
		pthread_mutex_lock(&p->lock);
		p->queued--;
		pthread_mutex_unlock(&p->lock);
		done->done(done->arg);
		free(done);
		done = next;
	}
}

struct threadpool *threadpool_new(struct event_base *base, int threads, int queue_max)
{
	struct threadpool *p = xcalloc(1, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->ready, NULL);
	p->queue_max = queue_max;
	if (pipe2(p->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		log_error("threadpool: pipe: %s", strerror(errno));
		abort();
	}
	p->wake_event = event_new(base, p->wake[0], EV_READ | EV_PERSIST, on_wake, p);
	event_add(p->wake_event, NULL);
	p->threads = xcalloc((size_t)threads, sizeof *p->threads);
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&p->threads[i], NULL, thread_main, p) != 0) {
			log_error("threadpool: cannot start a thread");
			abort();
		}
		p->nthreads++;
	}
	return p;
}

bool threadpool_submit(struct threadpool *p, threadpool_work work, threadpool_done done, void *arg)
{
	pthread_mutex_lock(&p->lock);
	if (p->queued >= p->queue_max || p->stopping) {
		pthread_mutex_unlock(&p->lock);
		return false;
	}
	struct job *j = xcalloc(1, sizeof *j);
	j->work = work;
	j->done = done;
	j->arg = arg;
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	pthread_cond_signal(&p->ready);
	pthread_mutex_unlock(&p->lock);
	return true;
}

void threadpool_free(struct threadpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->ready);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	on_wake(p->wake[0], EV_READ, p);
	event_free(p->wake_event);
	close(p->wake[0]);
	close(p->wake[1]);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->ready);
	free(p->threads);
	free(p);
}
