// The web app's files: ETags, caching, the app's own routes, and nothing outside web_root.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { startRelais, rawRequest, tempDir } from '../lib/harness.mjs';

let srv;
const root = tempDir('relais-web-');
before(async () => {
  mkdirSync(path.join(root, 'assets'));
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Relais</title>');
  writeFileSync(path.join(root, 'assets', 'index-3f2a9c.js'), 'console.log("app")');
  writeFileSync(path.join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  symlinkSync('/etc/passwd', path.join(root, 'passwd'));
  srv = await startRelais({ env: { RELAIS_WEB_ROOT: root } });
});
after(async () => { await srv?.stop(); });

test('/ serves index.html with an ETag and no-cache', async () => {
  const res = await fetch(srv.url + '/');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.match(res.headers.get('etag'), /^"[0-9a-f]{32}"$/);
  assert.match(res.headers.get('content-security-policy'), /script-src 'self'/);
  assert.match(res.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(await res.text(), '<!doctype html><title>Relais</title>');
});

test('If-None-Match with the current ETag is 304', async () => {
  const etag = (await fetch(srv.url + '/')).headers.get('etag');
  const res = await fetch(srv.url + '/', { headers: { 'If-None-Match': etag } });
  assert.equal(res.status, 304);
  assert.equal(await res.text(), '');
  // Browsers copy a 304's headers onto the cached page: they must be the page's own.
  assert.match(res.headers.get('content-security-policy'), /script-src 'self'/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  const other = await fetch(srv.url + '/', { headers: { 'If-None-Match': '"0000"' } });
  assert.equal(other.status, 200);
});

test('hashed assets are cached for a year', async () => {
  const res = await fetch(srv.url + '/assets/index-3f2a9c.js');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
});

test("the app's own routes get index.html; missing files stay 404", async () => {
  for (const p of ['/communities', '/people/42', '/questions?state=open']) {
    const res = await fetch(srv.url + p);
    assert.equal(res.status, 200, p);
    assert.equal(await res.text(), '<!doctype html><title>Relais</title>');
  }
  for (const p of ['/assets/missing.js', '/robots.txt']) {
    const res = await fetch(srv.url + p);
    assert.equal(res.status, 404, p);
    assert.equal((await res.json()).error.code, 'not_found');
  }
});

test('unknown API paths never fall back to index.html', async () => {
  const res = await fetch(srv.url + '/api/v2/anything');
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
});

test('nothing outside web_root is reachable', async () => {
  const attempts = ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2f..%2fetc%2fpasswd', '/passwd', '/%2fetc%2fpasswd', '//etc/passwd'];
  for (const p of attempts) {
    const r = await rawRequest(srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.doesNotMatch(r.data, /root:x?:0:0/, p);
  }
});

test('only GET and HEAD on files', async () => {
  const res = await fetch(srv.url + '/index.html', { method: 'DELETE' });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'GET, HEAD');
  const head = await fetch(srv.url + '/favicon.svg', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-type'), 'image/svg+xml; charset=utf-8');
});
