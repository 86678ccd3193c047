#include "core/supervisor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "autoconfig.h"
#include "core/embedded_pg.h"
#include "core/log.h"
#include "core/worker.h"
#include "db/migrate.h"
#include "http/metrics.h"
#include "http/server.h"
#include "people/people.h"

#define RESTART_MIN_MS 100
#define RESTART_MAX_MS 10000
#define STABLE_AFTER_MS 30000
#define KILL_AFTER_GRACE_MS 5000

struct worker_slot {
	pid_t pid;
	int64_t started_ms;
	int64_t restart_at_ms; /* 0 = not waiting for a restart */
	int64_t backoff_ms;
};

int supervisor_worker_count(const struct config *cfg)
{
	if (cfg->workers > 0)
		return cfg->workers;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)(n > 64 ? 64 : n) : 1;
}

/* Every open connection is a descriptor, and live event streams stay open: raise the soft
 * limit to the hard one (workers inherit it) and say when it still cannot hold what the
 * configuration allows. */
static void raise_fd_limit(const struct config *cfg)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			log_warn("cannot raise the open file limit from %llu to %llu: %s", (unsigned long long)was,
			         (unsigned long long)rl.rlim_max, strerror(errno));
			rl.rlim_cur = was;
		}
	}
	/* Per worker: its connections, its database pool and LISTEN connection, and some spare
	 * (listening socket, log, static files, signal pipes). */
	rlim_t need = (rlim_t)cfg->max_connections + (rlim_t)cfg->db_pool_size + 64;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
		log_warn("the open file limit (%llu) is below what max_connections needs per worker (%llu): "
		         "raise the hard limit (ulimit -Hn, LimitNOFILE=) or lower max_connections",
		         (unsigned long long)rl.rlim_cur, (unsigned long long)need);
}

static pid_t spawn_worker(const struct config *cfg, int index, const char *conninfo, const sigset_t *old_mask)
{
	log_flush();
	fflush(stdout);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* A worker must not outlive the supervisor, even one killed with SIGKILL. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	sigprocmask(SIG_SETMASK, old_mask, NULL);
	/* exit, not _exit: the leak checker of sanitizer builds runs at exit. */
	exit(worker_run(cfg, index, conninfo));
}

static void describe_exit(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, len, "status %d", status);
}

int supervisor_run(const struct config *cfg)
{
	int nworkers = supervisor_worker_count(cfg);
	sigset_t handled, old_mask;
	sigemptyset(&handled);
	sigaddset(&handled, SIGCHLD);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGINT);
	sigaddset(&handled, SIGHUP);
	sigprocmask(SIG_BLOCK, &handled, &old_mask);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(cfg);

	struct embedded_pg pg = {0};
	char *conninfo = NULL;
	int status = 1;
	struct worker_slot *slots = xcalloc((size_t)nworkers, sizeof *slots);
	bool embedded = !cfg->database_url[0];
	/* Each worker holds its pool and one LISTEN connection; keep room for the CLI and psql. */
	int pg_max_connections = nworkers * (cfg->db_pool_size + 1) + 20;

	/* Fail early and clearly when the address is taken, before starting anything else. The
	 * probe does not set SO_REUSEPORT, so it also fails when another relais serves the port:
	 * two servers must never silently share one. */
	int probe = http_listen_socket(cfg->listen, 1, false);
	if (probe < 0)
		goto done;
	close(probe);

	if (embedded) {
		if (!embedded_pg_start(cfg, pg_max_connections, &pg))
			goto done;
		conninfo = xstrdup(pg.conninfo); /* stays valid if PostgreSQL is restarted */
	} else {
		conninfo = xstrdup(cfg->database_url);
	}
	char err[1024];
	int applied;
	if (!migrate_run(conninfo, cfg->schema_dir, &applied, err, sizeof err)) {
		log_error("%s", err);
		goto done;
	}
	if (!people_bootstrap_admin(cfg, conninfo))
		goto done;
	if (!metrics_init_shared(nworkers)) {
		log_error("cannot map the metrics area: %s", strerror(errno));
		goto done;
	}
	for (int i = 0; i < nworkers; i++) {
		slots[i].pid = spawn_worker(cfg, i, conninfo, &old_mask);
		slots[i].started_ms = now_ms();
		slots[i].backoff_ms = RESTART_MIN_MS;
	}
	printf("relais %s serving http://%s with %d workers (%s database)\n", PACKAGE_VERSION, cfg->listen,
	       nworkers, embedded ? "embedded" : "external");
	fflush(stdout);

	bool stopping = false;
	int64_t kill_at = 0;
	for (;;) {
		int alive = 0;
		for (int i = 0; i < nworkers; i++)
			alive += slots[i].pid > 0;
		if (stopping && alive == 0)
			break;

		struct timespec wait = {0, 200 * 1000 * 1000};
		siginfo_t info;
		int sig = sigtimedwait(&handled, &info, &wait);
		int64_t now = now_ms();
		if (sig == SIGTERM || sig == SIGINT) {
			if (!stopping) {
				log_info("received %s: stopping the workers", sig == SIGTERM ? "SIGTERM" : "SIGINT");
				stopping = true;
				kill_at = now + cfg->shutdown_grace_ms + KILL_AFTER_GRACE_MS;
				for (int i = 0; i < nworkers; i++)
					if (slots[i].pid > 0)
						kill(slots[i].pid, SIGTERM);
			}
		} else if (sig == SIGHUP) {
			log_info("SIGHUP ignored: restart relais to change its configuration");
		} else if (sig == SIGCHLD) {
			pid_t pid;
			int wstatus;
			while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
				char why[96];
				describe_exit(wstatus, why, sizeof why);
				if (embedded && embedded_pg_exited(&pg, pid)) {
					log_error("the embedded PostgreSQL exited (%s)", why);
					if (!stopping) {
						embedded_pg_stop(&pg);
						if (!embedded_pg_start(cfg, pg_max_connections, &pg))
							log_error("cannot restart the embedded PostgreSQL; retrying on the next exit");
					}
					continue;
				}
				for (int i = 0; i < nworkers; i++) {
					if (slots[i].pid != pid)
						continue;
					slots[i].pid = 0;
					if (stopping)
						break;
					bool stable = now - slots[i].started_ms > STABLE_AFTER_MS;
					slots[i].backoff_ms = stable ? RESTART_MIN_MS
					                             : (slots[i].backoff_ms * 2 > RESTART_MAX_MS ? RESTART_MAX_MS
					                                                                        : slots[i].backoff_ms * 2);
					slots[i].restart_at_ms = now + slots[i].backoff_ms;
					log_error("worker %d (pid %d) ended unexpectedly (%s); restarting in %lld ms", i, (int)pid, why,
					          (long long)slots[i].backoff_ms);
				}
			}
		}
		for (int i = 0; i < nworkers && !stopping; i++) {
			if (slots[i].pid == 0 && slots[i].restart_at_ms && now >= slots[i].restart_at_ms) {
				slots[i].restart_at_ms = 0;
				slots[i].pid = spawn_worker(cfg, i, conninfo, &old_mask);
				slots[i].started_ms = now;
			}
		}
		if (stopping && now >= kill_at) {
			for (int i = 0; i < nworkers; i++)
				if (slots[i].pid > 0) {
					log_warn("worker %d did not stop in time; killing it", i);
					kill(slots[i].pid, SIGKILL);
				}
			kill_at = now + 1000;
		}
		log_flush();
	}
	status = 0;
	log_info("all workers stopped");
done:
	if (embedded)
		embedded_pg_stop(&pg);
	free(slots);
	free(conninfo);
	log_flush();
	return status;
}
