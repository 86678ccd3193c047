/* Communities of practice: creation by admin or comms, visibility (open, request, secret),
 * joining, requests and invitations, community roles granted by managers. A secret
 * community is invisible to non-members: 404, never 403. */
#ifndef RELAIS_COMMUNITIES_H
#define RELAIS_COMMUNITIES_H

struct http_req;

void communities_register_statements(void);
void communities_list(struct http_req *req);
void communities_create(struct http_req *req);
void communities_get(struct http_req *req);
void communities_update(struct http_req *req);
void communities_members(struct http_req *req);
void communities_join(struct http_req *req);
void communities_leave(struct http_req *req);
void communities_invite(struct http_req *req);
void communities_approve(struct http_req *req);
void communities_set_role(struct http_req *req);
void communities_remove(struct http_req *req);

#endif
