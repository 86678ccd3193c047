// X-Forwarded-For is believed only from the configured proxies.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startRelais, sleep } from '../lib/harness.mjs';

async function loggedIp(srv, headers) {
  const id = `ip-${Math.random().toString(36).slice(2)}`;
  await fetch(srv.url + '/healthz', { headers: { ...headers, 'X-Request-Id': id } });
  // Log lines reach stderr within about a second.
  for (let i = 0; i < 40; i++) {
    const line = srv.logs().split('\n').find((l) => l.includes(id));
    if (line) return JSON.parse(line).ip;
    await sleep(100);
  }
  throw new Error('no access log line');
}

test('without trusted proxies, X-Forwarded-For is ignored', async (t) => {
  const srv = await startRelais();
  t.after(() => srv.stop());
  assert.equal(await loggedIp(srv, { 'X-Forwarded-For': '203.0.113.9' }), '127.0.0.1');
});

test('from a trusted proxy, the last untrusted X-Forwarded-For address is the client', async (t) => {
  const srv = await startRelais({ env: { RELAIS_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.2' } });
  t.after(() => srv.stop());
  assert.equal(await loggedIp(srv, { 'X-Forwarded-For': '203.0.113.9' }), '203.0.113.9');
  // A client cannot pose as another by prepending addresses: the proxies append theirs.
  assert.equal(await loggedIp(srv, { 'X-Forwarded-For': '198.51.100.1, 203.0.113.9, 10.0.0.2' }), '203.0.113.9');
  assert.equal(await loggedIp(srv, {}), '127.0.0.1');
});

test('trusted proxies may be networks: every address in them is trusted, in IPv4 and IPv6', async (t) => {
  const srv = await startRelais({ env: { RELAIS_TRUSTED_PROXIES: '127.0.0.0/8, 10.0.0.0/8, fd00::/8' } });
  t.after(() => srv.stop());
  // The peer (127.0.0.1) is in 127.0.0.0/8; the proxies that appended 10.1.2.3 and fd00::7 are
  // trusted too, so the client is the address before them.
  assert.equal(await loggedIp(srv, { 'X-Forwarded-For': '198.51.100.1, 203.0.113.9, fd00::7, 10.1.2.3' }), '203.0.113.9');
  assert.equal(await loggedIp(srv, { 'X-Forwarded-For': '2001:db8::5, 10.200.0.1' }), '2001:db8::5');
  // 11.0.0.1 is outside every network: it is the last untrusted address.
  assert.equal(await loggedIp(srv, { 'X-Forwarded-For': '203.0.113.9, 11.0.0.1' }), '11.0.0.1');
});

test('a network that does not hold the peer leaves X-Forwarded-For ignored', async (t) => {
  const srv = await startRelais({ env: { RELAIS_TRUSTED_PROXIES: '10.0.0.0/8' } });
  t.after(() => srv.stop());
  assert.equal(await loggedIp(srv, { 'X-Forwarded-For': '203.0.113.9' }), '127.0.0.1');
});

test('the general per-address limit answers 429 with Retry-After', async (t) => {
  const srv = await startRelais({ workers: 1, env: { RELAIS_RATE_LIMIT: '20' } });
  t.after(() => srv.stop());
  const statuses = [];
  let retry = null;
  for (let i = 0; i < 30; i++) {
    const res = await fetch(srv.url + '/healthz');
    statuses.push(res.status);
    if (res.status === 429) {
      retry = Number(res.headers.get('retry-after'));
      assert.equal((await res.json()).error.code, 'rate_limited');
    }
  }
  // The harness's readiness checks at start count too.
  const ok = statuses.filter((s) => s === 200).length;
  assert.ok(ok >= 15 && ok <= 20, `${ok} answered`);
  assert.equal(statuses.filter((s) => s === 429).length, 30 - ok);
  assert.deepEqual(statuses.slice(ok), Array(30 - ok).fill(429), 'once limited, limited until the window ends');
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
});
