/* People: one's own profile, expertise and availability, the directory, and the admin's
 * user management; `relais user` and the first admin at start. */
#ifndef RELAIS_PEOPLE_H
#define RELAIS_PEOPLE_H

#include "core/common.h"
#include "core/config.h"

struct http_req;

void people_register_statements(void);

void people_me(struct http_req *req);
void people_me_update(struct http_req *req);
void people_me_expertise(struct http_req *req);
void people_person_expertise(struct http_req *req);
void people_ooo_list(struct http_req *req);
void people_ooo_create(struct http_req *req);
void people_ooo_delete(struct http_req *req);
void people_directory(struct http_req *req);
void people_profile(struct http_req *req);
void people_users_list(struct http_req *req);
void people_user_create(struct http_req *req);
void people_user_update(struct http_req *req);

/* `relais user ...` (blocking, command line). */
int people_cli(const struct config *cfg, const char *conninfo, int argc, char **argv);
/* Creates admin_email/admin_password as an admin when no admin exists yet. */
bool people_bootstrap_admin(const struct config *cfg, const char *conninfo) MUST_USE;

#endif
