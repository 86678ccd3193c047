// HTTP conventions: JSON errors, request ids, security headers, methods, access log, metrics.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelais, sleep, waitForLogLine } from '../lib/harness.mjs';

let srv;
before(async () => { srv = await startRelais(); });
after(async () => { await srv?.stop(); });

function assertJsonError(res, body, status, code) {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
}

test('GET /healthz answers {"status":"ok"} with JSON in UTF-8', async () => {
  const res = await fetch(srv.url + '/healthz');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('GET /readyz does one database round trip', async () => {
  const res = await fetch(srv.url + '/readyz');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ready', database: 'ok' });
});

test('every response carries the security headers', async () => {
  for (const p of ['/healthz', '/api/v1/nothing', '/metrics']) {
    const res = await fetch(srv.url + p);
    const csp = res.headers.get('content-security-policy');
    assert.match(csp, /default-src 'none'/, p);
    assert.match(csp, /frame-ancestors 'none'/, p);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', p);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer', p);
  }
});

test('X-Request-Id is echoed when valid and generated otherwise', async () => {
  let res = await fetch(srv.url + '/healthz', { headers: { 'X-Request-Id': 'abc-123_x.y' } });
  assert.equal(res.headers.get('x-request-id'), 'abc-123_x.y');
  res = await fetch(srv.url + '/healthz');
  const generated = res.headers.get('x-request-id');
  assert.match(generated, /^[0-9a-f]{16}-[0-9a-f]+$/);
  res = await fetch(srv.url + '/healthz');
  assert.notEqual(res.headers.get('x-request-id'), generated, 'ids are unique');
  for (const bad of ['has space', 'x'.repeat(65), 'quote"', '<script>']) {
    res = await fetch(srv.url + '/healthz', { headers: { 'X-Request-Id': bad } });
    assert.notEqual(res.headers.get('x-request-id'), bad);
    assert.match(res.headers.get('x-request-id'), /^[0-9a-f]{16}-/);
  }
});

test('an unknown API route is a JSON 404', async () => {
  const res = await fetch(srv.url + '/api/v1/does-not-exist');
  assertJsonError(res, await res.json(), 404, 'not_found');
});

test('a wrong method is a JSON 405 with Allow', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const res = await fetch(srv.url + '/healthz', { method });
    assertJsonError(res, await res.json(), 405, 'method_not_allowed');
    assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS');
  }
  const res = await fetch(srv.url + '/api/v1/client-errors');
  assertJsonError(res, await res.json(), 405, 'method_not_allowed');
  assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
});

test('OPTIONS lists the allowed methods', async () => {
  const res = await fetch(srv.url + '/api/v1/client-errors', { method: 'OPTIONS' });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
});

test('HEAD answers like GET without a body', async () => {
  const res = await fetch(srv.url + '/healthz', { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal((await res.text()), '');
});

test('GET /api/v1/version names the server', async () => {
  const res = await fetch(srv.url + '/api/v1/version');
  const body = await res.json();
  assert.equal(body.name, 'relais');
  assert.match(body.version, /^\d+\.\d+\.\d+$/);
});

test('POST /api/v1/client-errors logs the report and answers 204', async () => {
  const res = await fetch(srv.url + '/api/v1/client-errors', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ message: "TypeError: x is undefined ' OR 1=1 --", url: 'http://x/page', stack: 'at f (app.js:1:2)' }),
  });
  assert.equal(res.status, 204);
  const entry = JSON.parse(await waitForLogLine(srv, '"client error"'));
  assert.equal(entry.error, "TypeError: x is undefined ' OR 1=1 --");
  assert.equal(entry.level, 'warn');
});

test('a JSON body with another content type is 415', async () => {
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/jsonx']) {
    const res = await fetch(srv.url + '/api/v1/client-errors', { method: 'POST', headers: { 'Content-Type': ct }, body: '{"message":"x"}' });
    assertJsonError(res, await res.json(), 415, 'unsupported_media_type');
  }
});

test('malformed JSON is 400 invalid_json', async () => {
  for (const body of ['{', '{"message": }', '', 'null', '[1,2]', '"text"', '{"message":"a","message":"b"}', '{"message":"\\ud800"}']) {
    const res = await fetch(srv.url + '/api/v1/client-errors', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    assertJsonError(res, await res.json(), 400, 'invalid_json');
  }
});

test('invalid UTF-8 in a JSON body is 400 invalid_json', async () => {
  const bytes = Buffer.concat([Buffer.from('{"message":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
  const res = await fetch(srv.url + '/api/v1/client-errors', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: bytes });
  assertJsonError(res, await res.json(), 400, 'invalid_json');
});

test('invalid fields are 422 naming the field', async () => {
  const cases = [[{}, 'message'], [{ message: 42 }, 'message'], [{ message: '' }, 'message'], [{ message: 'x'.repeat(2001) }, 'message'], [{ message: 'ok', url: ['x'] }, 'url']];
  for (const [body, field] of cases) {
    const res = await fetch(srv.url + '/api/v1/client-errors', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const json = await res.json();
    assertJsonError(res, json, 422, 'invalid_field');
    assert.equal(json.error.field, field);
  }
});

test('a body over the route limit is a JSON 413', async () => {
  const body = JSON.stringify({ message: 'x', stack: 'y'.repeat(20000) });
  const res = await fetch(srv.url + '/api/v1/client-errors', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  assertJsonError(res, await res.json(), 413, 'body_too_large');
});

test('one JSON access log line per request', async () => {
  await fetch(srv.url + '/healthz', { headers: { 'X-Request-Id': 'access-log-check' } });
  await waitForLogLine(srv, 'access-log-check');
  await sleep(1100);
  const lines = srv.logs().split('\n').filter((l) => l.includes('access-log-check'));
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.msg, 'request');
  assert.equal(entry.method, 'GET');
  assert.equal(entry.path, '/healthz');
  assert.equal(entry.status, 200);
  assert.equal(typeof entry.ms, 'number');
  assert.equal(entry.ip, '127.0.0.1');
});

test('GET /metrics exposes requests by route and status, latency, pool and connections', async () => {
  await fetch(srv.url + '/readyz');
  await fetch(srv.url + '/api/v1/nope');
  await sleep(1100); // gauges are refreshed every second
  const res = await fetch(srv.url + '/metrics');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  assert.match(text, /^relais_http_requests_total\{route="readyz",status="200"\} \d+$/m);
  assert.match(text, /^relais_http_requests_total\{route="unmatched",status="404"\} \d+$/m);
  assert.match(text, /^relais_http_request_duration_seconds_bucket\{route="readyz",le="\+Inf"\} \d+$/m);
  assert.match(text, /^relais_http_request_duration_seconds_count\{route="readyz"\} \d+$/m);
  assert.match(text, /^relais_db_pool_in_use\{worker="0"\} \d+$/m);
  assert.match(text, /^relais_db_pool_waiting\{worker="1"\} \d+$/m);
  assert.match(text, /^relais_db_pool_connected\{worker="0"\} 4$/m);
  assert.match(text, /^relais_http_connections\{worker="\d"\} \d+$/m);
  // Whichever worker answers, the counters cover all of them.
  const count = (t) => Number(t.match(/^relais_http_requests_total\{route="healthz",status="200"\} (\d+)$/m)?.[1] || 0);
  const before = count(text);
  for (let i = 0; i < 20; i++) await fetch(srv.url + '/healthz', { headers: { Connection: 'close' } });
  const after = count(await (await fetch(srv.url + '/metrics')).text());
  assert.equal(after - before, 20);
});
