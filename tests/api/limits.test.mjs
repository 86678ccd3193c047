// evhttp's unsafe defaults replaced: sizes, deadlines, connection cap, garbage input.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startRelais, rawRequest, sleep } from '../lib/harness.mjs';

let srv;
before(async () => {
  srv = await startRelais({ env: { RELAIS_HEADER_TIMEOUT: '2s', RELAIS_KEEPALIVE_TIMEOUT: '1500ms' } });
});
after(async () => { await srv?.stop(); });

function statusOf(raw) {
  const m = raw.match(/^HTTP\/1\.[01] (\d{3})/);
  return m ? Number(m[1]) : null;
}

function bodyOf(raw) {
  return raw.slice(raw.indexOf('\r\n\r\n') + 4);
}

test('a malformed request line is 400', async () => {
  for (const line of ['GARBAGE\r\n\r\n', 'GET\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'G\x00T / HTTP/1.1\r\n\r\n']) {
    const r = await rawRequest(srv.port, line);
    assert.equal(statusOf(r.data), 400, JSON.stringify(line) + ' -> ' + r.data.slice(0, 60));
  }
});

test('connections that follow refused ones are served at once', async () => {
  // Regression: a connection refused before completing a request must not leave its
  // descriptor's events behind for the next connection that reuses the number.
  for (let i = 0; i < 10; i++) {
    await rawRequest(srv.port, 'GARBAGE\r\n\r\n');
    const t0 = Date.now();
    const r = await rawRequest(srv.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(statusOf(r.data), 200);
    assert.ok(Date.now() - t0 < 1000, `answered in ${Date.now() - t0} ms`);
  }
});

test('headers over 16 KiB are 431 with a JSON error', async () => {
  const r = await rawRequest(srv.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
  assert.equal(statusOf(r.data), 431);
  assert.equal(JSON.parse(bodyOf(r.data)).error.code, 'headers_too_large');
});

test('headers far over the limit are refused without reading them all', async () => {
  const r = await rawRequest(srv.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(200 * 1024)}\r\n\r\n`);
  // Past the hard cap evhttp stops reading and answers 400 itself.
  assert.ok([400, 413, 431].includes(statusOf(r.data)), r.data.slice(0, 80));
  assert.equal((await fetch(srv.url + '/healthz')).status, 200);
});

test('headers just under the limit are accepted', async () => {
  const res = await fetch(srv.url + '/healthz', { headers: { 'X-Big': 'a'.repeat(15 * 1024) } });
  assert.equal(res.status, 200);
});

test('a body over the default limit (1 MiB) is 413', async () => {
  const res = await fetch(srv.url + '/api/v1/client-errors', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'x'.repeat(1024 * 1024 + 10) });
  assert.equal(res.status, 413);
});

test('a client sending headers one byte at a time is cut at the deadline', async () => {
  const started = Date.now();
  const closedAfter = await new Promise((resolve) => {
    const s = connect(srv.port, '127.0.0.1');
    const request = 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(100) + '\r\n\r\n';
    let i = 0;
    let timer;
    let received = '';
    s.on('connect', () => {
      timer = setInterval(() => { if (i < request.length && !s.destroyed) s.write(request[i++]); }, 400);
    });
    s.on('data', (d) => { received += d; });
    s.on('error', () => {});
    s.on('close', () => { clearInterval(timer); resolve({ ms: Date.now() - started, received }); });
  });
  assert.equal(closedAfter.received, '', 'no answer to an incomplete request');
  assert.ok(closedAfter.ms >= 1900 && closedAfter.ms < 3500, `closed after ${closedAfter.ms} ms (deadline 2 s)`);
});

test('an idle keep-alive connection is closed after the idle timeout', async () => {
  const started = Date.now();
  const r = await rawRequest(srv.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 6000 });
  assert.equal(r.timedOut, false);
  assert.equal(statusOf(r.data), 200);
  const ms = Date.now() - started;
  assert.ok(ms >= 1000 && ms < 3000, `closed after ${ms} ms (idle timeout 1.5 s)`);
});

test('keep-alive connections serve many requests', async () => {
  const many = Array.from({ length: 20 }, () => 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n').join('');
  const r = await rawRequest(srv.port, many + 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal((r.data.match(/HTTP\/1\.1 200/g) || []).length, 21);
});

test('1,000 garbage requests leave the server serving', async () => {
  const garbage = [
    () => Buffer.from(Array.from({ length: 1 + Math.floor(Math.random() * 300) }, () => Math.floor(Math.random() * 256))),
    () => 'GET /' + '%'.repeat(50) + ' HTTP/1.1\r\nHost: x\r\n\r\n',
    () => 'POST /api/v1/client-errors HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
    () => 'POST /api/v1/client-errors HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    () => 'GET /healthz HTTP/1.1\r\n' + 'X: y\r\n'.repeat(2000) + '\r\n',
    () => 'GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n',
    () => 'GET /api/v1/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n',
    () => 'GET http://[::1 HTTP/1.1\r\n\r\n',
  ];
  for (let batch = 0; batch < 20; batch++) {
    await Promise.all(Array.from({ length: 50 }, (_, i) => rawRequest(srv.port, garbage[(batch * 50 + i) % garbage.length](), { timeoutMs: 400 })));
  }
  const res = await fetch(srv.url + '/healthz');
  assert.equal(res.status, 200);
  assert.doesNotMatch(srv.logs(), /ended unexpectedly/, 'no worker crashed');
});

test('text responses declare charset=utf-8', async () => {
  for (const p of ['/healthz', '/metrics', '/api/v1/none']) {
    const res = await fetch(srv.url + p);
    assert.match(res.headers.get('content-type'), /charset=utf-8/, p);
  }
});

test('beyond the connection cap a worker answers 503', async (t) => {
  const capped = await startRelais({ workers: 1, env: { RELAIS_MAX_CONNECTIONS: '4' } });
  t.after(() => capped.stop());
  const sockets = await Promise.all(Array.from({ length: 4 }, () => new Promise((resolve) => {
    const s = connect(capped.port, '127.0.0.1', () => resolve(s));
  })));
  await sleep(100);
  const r = await rawRequest(capped.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(statusOf(r.data), 503);
  assert.match(r.data, /Retry-After: 1/);
  // Then the connection closes rather than staying over the cap.
  assert.match(r.data, /Connection: close/);
  assert.equal(r.timedOut, false);
  assert.equal(JSON.parse(bodyOf(r.data)).error.code, 'overloaded');
  for (const s of sockets) s.destroy();
  await sleep(600); // closed connections are counted out by the next sweep
  assert.equal((await fetch(capped.url + '/healthz')).status, 200);
});
