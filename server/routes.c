/* Every endpoint of relais, in one table: method, path, handler, metrics name, who may call
 * it, body handling and limit, and whether it needs the database. docs/openapi.yaml
 * describes each of them; tests/api/openapi.test.mjs fails when one is missing there. */
#include "http/router.h"
#include "http/server.h"
#include "ops/ops.h"

const struct route http_routes[] = {
    {HTTP_GET, "/healthz", ops_healthz, "healthz", ACCESS_PUBLIC, BODY_NONE, 0, false},
    {HTTP_GET, "/readyz", ops_readyz, "readyz", ACCESS_PUBLIC, BODY_NONE, 0, true},
    {HTTP_GET, "/metrics", ops_metrics, "metrics", ACCESS_PUBLIC, BODY_NONE, 0, false},
    {HTTP_GET, "/api/v1/version", ops_version, "version", ACCESS_PUBLIC, BODY_NONE, 0, false},
    {HTTP_POST, "/api/v1/client-errors", ops_client_error, "client_errors", ACCESS_PUBLIC, BODY_JSON, 16 * 1024,
     false},
};

const size_t http_route_count = sizeof http_routes / sizeof http_routes[0];

/* Prepared statements of every module, registered before any database connection opens. */
void routes_register_statements(void);
void routes_register_statements(void)
{
	ops_register_statements();
}
