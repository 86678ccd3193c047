// The async database layer: outages, recovery, and the LISTEN/NOTIFY bus.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, startRelais, sleep } from '../lib/harness.mjs';

let pg, srv;
before(async () => {
  pg = await startPostgres();
  srv = await startRelais({ pg });
});
after(async () => {
  await srv?.stop();
  await pg?.destroy();
});

async function metric(name, worker) {
  const text = await (await fetch(srv.url + '/metrics')).text();
  const m = text.match(new RegExp(`^${name}\\{worker="${worker}"\\} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : null;
}

async function waitFor(fn, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) return Date.now();
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('PostgreSQL stopped and restarted under load: 503 fast, then recovery by itself', async () => {
  let stop = false;
  const results = [];
  // Background load on a database route.
  const load = (async () => {
    while (!stop) {
      const t0 = Date.now();
      try {
        const res = await fetch(srv.url + '/readyz');
        results.push({ status: res.status, ms: Date.now() - t0, body: await res.json(), retry: res.headers.get('retry-after') });
      } catch (e) {
        results.push({ status: 0, ms: Date.now() - t0, error: String(e) });
      }
    }
  })();
  try {
  await sleep(500);
  assert.ok(results.every((r) => r.status === 200), 'all good before the outage');
  await pg.stop();
  // Requests answered while PostgreSQL was shutting down may still have succeeded.
  const outageStart = results.length;
  await sleep(2500);
  // Requests that need the database fail within 2 s, with a JSON 503 and Retry-After.
  const during = results.slice(outageStart + 1);
  assert.ok(during.length > 5, 'requests went on during the outage');
  for (const r of during.slice(1)) {
    assert.equal(r.status, 503, JSON.stringify(r));
    assert.ok(r.ms < 2000, `answered in ${r.ms} ms`);
    assert.equal(r.body.error.code, 'database_unavailable');
    assert.equal(r.retry, '2');
  }
  // Requests that do not need it keep working.
  assert.equal((await fetch(srv.url + '/healthz')).status, 200);
  assert.equal((await fetch(srv.url + '/metrics')).status, 200);
  // Back within 5 s of PostgreSQL's return.
  await pg.start();
  const back = Date.now();
  const recovered = await waitFor(async () => results.length > 0 && results[results.length - 1].status === 200, 5000, 'recovery');
  assert.ok(recovered - back < 5000);
  } finally {
    // The load must stop whatever happened, or the test process never ends; and the next
    // tests need PostgreSQL back.
    stop = true;
    await load;
    if (!pg.running) await pg.start();
  }
  // Every worker recovered, not just one.
  for (let i = 0; i < 10; i++) assert.equal((await fetch(srv.url + '/readyz', { headers: { Connection: 'close' } })).status, 200);
  assert.doesNotMatch(srv.logs(), /ended unexpectedly/, 'no worker crashed');
});

test('the LISTEN bus reaches every worker, also after a reconnect', async () => {
  await waitFor(async () => (await metric('relais_db_listen_connected', 0)) === 1 && (await metric('relais_db_listen_connected', 1)) === 1, 5000, 'LISTEN connections');
  const before0 = await metric('relais_notifications_total', 0);
  const before1 = await metric('relais_notifications_total', 1);
  const db = new URL(srv.env.RELAIS_DATABASE_URL).pathname.slice(1);
  pg.psql("SELECT pg_notify('relais_ops', 'ping')", db);
  await waitFor(async () => (await metric('relais_notifications_total', 0)) === before0 + 1 && (await metric('relais_notifications_total', 1)) === before1 + 1, 3000, 'notification in both workers');
  await pg.stop();
  await sleep(300);
  await pg.start();
  await waitFor(async () => (await metric('relais_db_listen_connected', 0)) === 1 && (await metric('relais_db_listen_connected', 1)) === 1, 5000, 'LISTEN reconnected');
  // The LISTEN command may still be on its way just after the connection is up.
  await waitFor(async () => {
    pg.psql("SELECT pg_notify('relais_ops', 'ping')", db);
    await sleep(200);
    return (await metric('relais_notifications_total', 0)) > before0 + 1 && (await metric('relais_notifications_total', 1)) > before1 + 1;
  }, 5000, 'notification after reconnect');
});

test('concurrent database requests all get an answer', async () => {
  const responses = await Promise.all(Array.from({ length: 300 }, () => fetch(srv.url + '/readyz').then((r) => r.status)));
  assert.ok(responses.every((s) => s === 200), JSON.stringify(responses.filter((s) => s !== 200)));
});

test('a frozen database times out at the query deadline with 503', async () => {
  // Freeze the whole server: connections stay open but nothing answers.
  const postmaster = Number((await import('node:fs')).readFileSync(`${pg.dir}/data/postmaster.pid`, 'utf8').split('\n')[0]);
  const { execFileSync } = await import('node:child_process');
  execFileSync('pkill', ['-STOP', '-P', String(postmaster)]);
  process.kill(postmaster, 'SIGSTOP');
  try {
    const t0 = Date.now();
    const res = await fetch(srv.url + '/readyz');
    const ms = Date.now() - t0;
    assert.equal(res.status, 503);
    assert.ok(['database_timeout', 'database_unavailable'].includes((await res.json()).error.code));
    assert.ok(ms < 3000, `answered in ${ms} ms`);
  } finally {
    process.kill(postmaster, 'SIGCONT');
    execFileSync('pkill', ['-CONT', '-P', String(postmaster)]);
  }
  await waitFor(async () => (await fetch(srv.url + '/readyz')).status === 200, 8000, 'recovery after the freeze');
});
