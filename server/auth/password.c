/* Passwords: Argon2id (crypto_pwhash_str, INTERACTIVE limits) computed on the worker's
 * thread pool, never on the event loop; secrets are wiped as soon as they are used. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/log.h"
#include "core/threadpool.h"
#include "core/worker.h"
#include "http/input.h"
#include "http/request.h"

#define OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

/* Verified in place of a missing account's hash: same algorithm, same cost. */
static char dummy_hash[crypto_pwhash_STRBYTES];

struct password_job {
	struct http_req *req;
	char *password;
	size_t password_len;
	char hash[crypto_pwhash_STRBYTES];
	bool verify, ok, needs_rehash, force_fail;
	auth_hash_done hash_done;
	auth_verify_done verify_done;
};

bool auth_hash_password_now(const char *password, char out[128])
{
	return crypto_pwhash_str(out, password, strlen(password), OPSLIMIT, MEMLIMIT) == 0;
}

void auth_password_init(void);
void auth_password_init(void)
{
	if (dummy_hash[0])
		return;
	char random_password[AUTH_SECRET_LEN + 1];
	auth_new_secret(random_password);
	if (!auth_hash_password_now(random_password, dummy_hash))
		abort();
	sodium_memzero(random_password, sizeof random_password);
}

bool auth_password_acceptable(struct http_req *req, const char *field, const char *password)
{
	if (utf8_length(password) < PASSWORD_MIN_CHARS)
		return input_fail(req, field, "A password has at least 10 characters.");
	if (strlen(password) > PASSWORD_MAX_BYTES)
		return input_fail(req, field, "A password has at most 1024 bytes.");
	return true;
}

static void job_work(void *arg)
{
	struct password_job *j = arg;
	if (j->verify) {
		j->ok = crypto_pwhash_str_verify(j->hash, j->password, j->password_len) == 0 && !j->force_fail;
		j->needs_rehash = j->ok && crypto_pwhash_str_needs_rehash(j->hash, OPSLIMIT, MEMLIMIT) != 0;
	} else {
		j->ok = crypto_pwhash_str(j->hash, j->password, j->password_len, OPSLIMIT, MEMLIMIT) == 0;
	}
	sodium_memzero(j->password, j->password_len);
}

static void job_done(void *arg)
{
	struct password_job *j = arg;
	struct http_req *req = j->req;
	bool alive = http_req_release(req);
	if (alive) {
		if (j->verify)
			j->verify_done(req, j->ok, j->needs_rehash);
		else
			j->hash_done(req, j->ok ? j->hash : NULL);
	}
	sodium_memzero(j->hash, sizeof j->hash);
	free(j->password);
	free(j);
}

static void submit(struct http_req *req, struct password_job *j, const char *password)
{
	j->req = req;
	j->password_len = strlen(password);
	j->password = xmalloc(j->password_len + 1);
	memcpy(j->password, password, j->password_len + 1);
	http_req_hold(req);
	if (!threadpool_submit(req->worker->cpu, job_work, job_done, j)) {
		sodium_memzero(j->password, j->password_len);
		free(j->password);
		free(j);
		if (!http_req_release(req))
			return;
		http_set_header(req, "Retry-After", "1");
		http_reply_error(req, 503, "overloaded", "Too many sign-ins at once; retry shortly.", NULL);
	}
}

void auth_hash_password(struct http_req *req, const char *password, auth_hash_done done)
{
	struct password_job *j = xcalloc(1, sizeof *j);
	j->hash_done = done;
	submit(req, j, password);
}

void auth_verify_password(struct http_req *req, const char *hash, const char *password, auth_verify_done done)
{
	struct password_job *j = xcalloc(1, sizeof *j);
	j->verify = true;
	j->verify_done = done;
	bool usable = hash && strlen(hash) < sizeof j->hash;
	/* Without a usable hash the check still runs, on the dummy, and then fails. */
	snprintf(j->hash, sizeof j->hash, "%s", usable ? hash : dummy_hash);
	j->force_fail = !usable;
	submit(req, j, password);
}
