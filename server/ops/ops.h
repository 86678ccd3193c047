/* Operational endpoints: liveness, readiness, metrics, and the web app's error reports. */
#ifndef RELAIS_OPS_H
#define RELAIS_OPS_H

struct http_req;

void ops_healthz(struct http_req *req);
void ops_readyz(struct http_req *req);
void ops_metrics(struct http_req *req);
void ops_version(struct http_req *req);
void ops_client_error(struct http_req *req);
void ops_register_statements(void);

#endif
