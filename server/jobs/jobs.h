/* The shared jobs queue (table `jobs`): any worker on any host claims due jobs with
 * FOR UPDATE SKIP LOCKED, woken by NOTIFY relais_jobs and a timer. */
#ifndef RELAIS_JOBS_H
#define RELAIS_JOBS_H

struct worker;

void jobs_start(struct worker *w);
void jobs_stop(struct worker *w);
void jobs_register_statements(void);

#endif
