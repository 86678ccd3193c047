#include "core/embedded_pg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"

#define START_TIMEOUT_MS 60000
#define STOP_TIMEOUT_MS 30000

static bool make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return true;
	log_error("cannot create directory %s: %s", path, strerror(errno));
	return false;
}

static bool make_dirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
			log_error("cannot create directory %s: %s", buf, strerror(errno));
			return false;
		}
		*p = '/';
	}
	return make_dir(buf, mode);
}

/* Newest /usr/lib/postgresql/<major>/bin that has a postgres binary. */
static char *find_bin_dir(const struct config *cfg)
{
	if (cfg->pg_bin_dir[0])
		return xstrdup(cfg->pg_bin_dir);
	DIR *d = opendir("/usr/lib/postgresql");
	if (!d)
		return NULL;
	int best = -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		int v = atoi(e->d_name);
		if (v <= best)
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof path, "/usr/lib/postgresql/%d/bin/postgres", v);
		if (access(path, X_OK) == 0)
			best = v;
	}
	closedir(d);
	return best < 0 ? NULL : xasprintf("/usr/lib/postgresql/%d/bin", best);
}

struct run_as {
	bool drop;
	uid_t uid;
	gid_t gid;
	const char *name;
};

static bool resolve_user(const struct config *cfg, struct run_as *who)
{
	memset(who, 0, sizeof *who);
	if (geteuid() != 0)
		return true;
	struct passwd *pw = getpwnam(cfg->pg_user);
	if (!pw) {
		log_error("running as root, the embedded PostgreSQL needs the unprivileged user \"%s\" (pg_user), "
		          "which does not exist",
		          cfg->pg_user);
		return false;
	}
	if (pw->pw_uid == 0) {
		log_error("pg_user \"%s\" must not be root", cfg->pg_user);
		return false;
	}
	*who = (struct run_as){true, pw->pw_uid, pw->pw_gid, cfg->pg_user};
	return true;
}

/* In a forked child: leave the terminal's process group, drop to the unprivileged user,
 * and ask the kernel to stop us when our parent dies (after setuid, which clears it). */
static void child_setup(const struct run_as *who, pid_t parent, int log_fd)
{
	setpgid(0, 0);
	if (log_fd >= 0) {
		dup2(log_fd, STDOUT_FILENO);
		dup2(log_fd, STDERR_FILENO);
		close(log_fd);
	}
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		close(devnull);
	}
	if (who->drop) {
		if (setgid(who->gid) != 0 || initgroups(who->name, who->gid) != 0 || setuid(who->uid) != 0) {
			perror("relais: cannot drop privileges");
			_exit(127);
		}
	}
	prctl(PR_SET_PDEATHSIG, SIGQUIT);
	if (getppid() != parent)
		_exit(127);
}

static int open_log(const char *path, const struct run_as *who)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0 && who->drop && fchown(fd, who->uid, who->gid) != 0)
		log_warn("cannot chown %s: %s", path, strerror(errno));
	return fd;
}

static bool run_initdb(const char *bin_dir, const struct embedded_pg *pg, const struct run_as *who)
{
	char *initdb = xasprintf("%s/initdb", bin_dir);
	char *log_path = xasprintf("%s/initdb.log", pg->data_dir);
	int log_fd = open_log(log_path, who);
	log_info("initialising the embedded PostgreSQL cluster in %s", pg->pg_dir);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		child_setup(who, parent, log_fd);
		execl(initdb, "initdb", "-D", pg->pg_dir, "-U", "postgres", "--auth=trust", "-E", "UTF8",
		      "--locale=C.UTF-8", "--no-instructions", (char *)NULL);
		perror("relais: cannot run initdb");
		_exit(127);
	}
	if (log_fd >= 0)
		close(log_fd);
	int status = 0;
	bool ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (!ok)
		log_error("initdb failed; see %s", log_path);
	free(initdb);
	free(log_path);
	return ok;
}

static pid_t running_postmaster(const struct embedded_pg *pg)
{
	char *pid_path = xasprintf("%s/postmaster.pid", pg->pg_dir);
	FILE *f = fopen(pid_path, "r");
	free(pid_path);
	if (!f)
		return 0;
	long pid = 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid > 0 && kill((pid_t)pid, 0) == 0)
		return (pid_t)pid;
	return 0;
}

static char *conninfo_for(const struct embedded_pg *pg, const char *dbname)
{
	return xasprintf("host=%s port=5432 user=postgres dbname=%s application_name=relais", pg->socket_dir, dbname);
}

static bool ensure_database(const struct embedded_pg *pg)
{
	char *ci = conninfo_for(pg, "postgres");
	PGconn *conn = PQconnectdb(ci);
	free(ci);
	bool ok = false;
	if (PQstatus(conn) != CONNECTION_OK) {
		log_error("cannot connect to the embedded PostgreSQL: %s", PQerrorMessage(conn));
		goto done;
	}
	PGresult *r = PQexec(conn, "SELECT 1 FROM pg_database WHERE datname = 'relais'");
	bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	PQclear(r);
	if (!exists) {
		r = PQexec(conn, "CREATE DATABASE relais");
		/* Another relais process may have created it a moment ago. */
		ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
		     (PQresultErrorField(r, PG_DIAG_SQLSTATE) &&
		      !strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42P04"));
		if (!ok)
			log_error("cannot create database relais: %s", PQresultErrorMessage(r));
		PQclear(r);
	} else {
		ok = true;
	}
done:
	PQfinish(conn);
	return ok;
}

static bool wait_ready(struct embedded_pg *pg, const char *log_path)
{
	char *ci = conninfo_for(pg, "postgres");
	int64_t deadline = now_ms() + START_TIMEOUT_MS;
	bool ready = false;
	while (now_ms() < deadline) {
		if (PQping(ci) == PQPING_OK) {
			ready = true;
			break;
		}
		int status;
		if (pg->pid > 0 && waitpid(pg->pid, &status, WNOHANG) == pg->pid) {
			pg->pid = 0;
			log_error("the embedded PostgreSQL exited during start-up; see %s", log_path);
			break;
		}
		usleep(50 * 1000);
	}
	free(ci);
	return ready;
}

bool embedded_pg_start(const struct config *cfg, int max_connections, struct embedded_pg *pg)
{
	memset(pg, 0, sizeof *pg);
	pg->max_connections = max_connections;
	struct run_as who;
	char *bin_dir = NULL, *log_path = NULL;
	if (!resolve_user(cfg, &who))
		return false;
	if (!make_dirs(cfg->data_dir, 0755))
		return false;
	char abs[PATH_MAX];
	if (!realpath(cfg->data_dir, abs)) {
		log_error("cannot resolve data_dir %s: %s", cfg->data_dir, strerror(errno));
		return false;
	}
	pg->data_dir = xstrdup(abs);
	/* The unprivileged PostgreSQL user must be able to reach data_dir/pg and data_dir/run. */
	struct stat st;
	if (who.drop && stat(abs, &st) == 0 && (st.st_mode & 0011) != 0011 && chmod(abs, st.st_mode | 0011) != 0) {
		log_error("cannot open %s to the %s user: %s", abs, who.name, strerror(errno));
		goto fail;
	}
	pg->pg_dir = xasprintf("%s/pg", abs);
	pg->socket_dir = xasprintf("%s/run", abs);
	pg->conninfo = conninfo_for(pg, "relais");
	if (strlen(pg->socket_dir) + sizeof "/.s.PGSQL.5432" > sizeof(((struct sockaddr_un *)0)->sun_path)) {
		log_error("data_dir %s is too long for a Unix socket path; choose a shorter one", abs);
		goto fail;
	}
	if (!make_dir(pg->socket_dir, 0700))
		goto fail;
	if (who.drop && chown(pg->socket_dir, who.uid, who.gid) != 0) {
		log_error("cannot chown %s: %s", pg->socket_dir, strerror(errno));
		goto fail;
	}

	pid_t existing = running_postmaster(pg);
	if (existing > 0) {
		char *ci = conninfo_for(pg, "postgres");
		PGPing ping = PQping(ci);
		free(ci);
		if (ping == PQPING_OK) {
			log_info("using the embedded PostgreSQL already running in %s (pid %d)", pg->pg_dir, (int)existing);
			return ensure_database(pg);
		}
	}

	bin_dir = find_bin_dir(cfg);
	if (!bin_dir) {
		log_error("no PostgreSQL server binaries found in /usr/lib/postgresql; install the postgresql "
		          "package or set pg_bin_dir or database_url");
		goto fail;
	}
	char *version_file = xasprintf("%s/PG_VERSION", pg->pg_dir);
	bool initialised = access(version_file, F_OK) == 0;
	free(version_file);
	if (!initialised) {
		if (!make_dir(pg->pg_dir, 0700))
			goto fail;
		if (who.drop && chown(pg->pg_dir, who.uid, who.gid) != 0) {
			log_error("cannot chown %s: %s", pg->pg_dir, strerror(errno));
			goto fail;
		}
		if (!run_initdb(bin_dir, pg, &who))
			goto fail;
	}

	char *postgres = xasprintf("%s/postgres", bin_dir);
	char *sockopt = xasprintf("unix_socket_directories=%s", pg->socket_dir);
	char *maxconn = xasprintf("max_connections=%d", max_connections);
	log_path = xasprintf("%s/postgres.log", pg->data_dir);
	int log_fd = open_log(log_path, &who);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		child_setup(&who, parent, log_fd);
		/* autovacuum_naptime: see docs/operations.md, "PostgreSQL settings" (the benchmarks'
		 * clusters use the same, and a test keeps the three in step). */
		execl(postgres, "postgres", "-D", pg->pg_dir, "-c", "listen_addresses=", "-c", sockopt, "-c",
		      "unix_socket_permissions=0700", "-c", maxconn, "-c", "logging_collector=off", "-c",
		      "autovacuum_naptime=10s", (char *)NULL);
		perror("relais: cannot run postgres");
		_exit(127);
	}
	if (log_fd >= 0)
		close(log_fd);
	free(postgres);
	free(sockopt);
	free(maxconn);
	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		goto fail;
	}
	pg->pid = pid;
	if (!wait_ready(pg, log_path) || !ensure_database(pg))
		goto fail;
	log_info("embedded PostgreSQL running (pid %d, socket in %s)", (int)pid, pg->socket_dir);
	free(bin_dir);
	free(log_path);
	return true;
fail:
	free(bin_dir);
	free(log_path);
	embedded_pg_stop(pg);
	return false;
}

bool embedded_pg_exited(struct embedded_pg *pg, pid_t reaped)
{
	if (pg->pid > 0 && reaped == pg->pid) {
		pg->pid = 0;
		return true;
	}
	return false;
}

void embedded_pg_stop(struct embedded_pg *pg)
{
	if (pg->pid > 0) {
		/* SIGINT is PostgreSQL's fast shutdown: sessions end, a checkpoint is written. */
		kill(pg->pid, SIGINT);
		int64_t deadline = now_ms() + STOP_TIMEOUT_MS;
		int status;
		while (waitpid(pg->pid, &status, WNOHANG) == 0) {
			if (now_ms() > deadline) {
				log_warn("the embedded PostgreSQL did not stop in time; sending SIGQUIT");
				kill(pg->pid, SIGQUIT);
				waitpid(pg->pid, &status, 0);
				break;
			}
			usleep(20 * 1000);
		}
		log_info("embedded PostgreSQL stopped");
		pg->pid = 0;
	}
	free(pg->data_dir);
	free(pg->pg_dir);
	free(pg->socket_dir);
	free(pg->conninfo);
	memset(pg, 0, sizeof *pg);
}
