/* Not built yet. */
#include "jobs/jobs.h"
#include "http/request.h"

void jobs_start(struct worker *w) { (void)w; }
void jobs_stop(struct worker *w) { (void)w; }
void jobs_register_statements(void) {}
