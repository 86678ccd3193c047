/* The private PostgreSQL cluster that relais runs in its data directory when no
 * database_url is configured: initdb on first use, Unix socket only, and never outliving
 * the process that started it (PR_SET_PDEATHSIG). */
#ifndef RELAIS_EMBEDDED_PG_H
#define RELAIS_EMBEDDED_PG_H

#include <sys/types.h>

#include "core/common.h"
#include "core/config.h"

struct embedded_pg {
	pid_t pid;        /* postmaster we started, or 0 when we reuse a running one */
	char *data_dir;   /* absolute data_dir */
	char *pg_dir;     /* data_dir/pg: PGDATA */
	char *socket_dir; /* data_dir/run */
	char *conninfo;   /* libpq connection string to the relais database */
	int max_connections;
};

/* Starts the cluster, initialising it first if needed, or attaches to one already running
 * on the same data directory (for example `relais user` beside `relais serve`). Blocks:
 * call it before any event loop exists. */
bool embedded_pg_start(const struct config *cfg, int max_connections, struct embedded_pg *pg) MUST_USE;
/* True when the postmaster we started has exited (reaps it). */
bool embedded_pg_exited(struct embedded_pg *pg, pid_t reaped);
/* Stops the postmaster if we started it (fast shutdown), and frees the strings. */
void embedded_pg_stop(struct embedded_pg *pg);

#endif
