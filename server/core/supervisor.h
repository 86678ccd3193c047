/* `relais serve`: starts the embedded PostgreSQL when needed, applies migrations, forks the
 * workers, restarts any that crash, and on SIGTERM/SIGINT stops them gracefully, then the
 * database. */
#ifndef RELAIS_SUPERVISOR_H
#define RELAIS_SUPERVISOR_H

#include "core/config.h"

int supervisor_run(const struct config *cfg);
int supervisor_worker_count(const struct config *cfg);

#endif
