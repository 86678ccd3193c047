// The supervisor and the embedded PostgreSQL: start, CLI beside the server, crash restart,
// graceful stop, and nothing left behind, even after SIGKILL.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startRelais, startPostgres, runRelais, tempDir, sleep, SRCDIR } from '../lib/harness.mjs';

function processesUsing(dir) {
  try {
    return execFileSync('pgrep', ['-f', dir]).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

function workerPids(supervisorPid) {
  let children = [];
  try {
    children = execFileSync('pgrep', ['-P', String(supervisorPid)]).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch { /* none */ }
  // The embedded PostgreSQL is a child too; workers are the relais processes.
  return children.filter((pid) => { try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'relais'; } catch { return false; } });
}

// The rows of the table under "### PostgreSQL settings" in docs/operations.md: [name, value].
// Every row of the table must be read, so that a row written differently is not skipped.
function documentedPostgresSettings() {
  const doc = readFileSync(path.join(SRCDIR, 'docs/operations.md'), 'utf8');
  const section = doc.split('### PostgreSQL settings')[1]?.split(/\n#/)[0] ?? '';
  const rows = section.split('\n').filter((l) => l.startsWith('|') && !/^\|\s*(setting|-)/.test(l));
  const settings = [...section.matchAll(/^\| `([a-z0-9_.]+)` \| `([^`]+)` \|/gm)].map((m) => [m[1], m[2]]);
  assert.equal(settings.length, rows.length, `every row of the settings table is read: ${rows.join(' / ')}`);
  return settings;
}

// RELAIS_PG_SETTINGS="-c a=b -c c=d" of a benchmark script, as [[a, b], [c, d]].
function benchPostgresSettings(script) {
  const line = readFileSync(path.join(SRCDIR, script), 'utf8').match(/^RELAIS_PG_SETTINGS="([^"]*)"$/m);
  assert.ok(line, `${script} sets RELAIS_PG_SETTINGS`);
  return [...line[1].matchAll(/-c ([a-z0-9_.]+)=(\S+)/g)].map((m) => [m[1], m[2]]);
}

async function waitUntil(fn, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await sleep(100);
  }
  assert.fail(`timed out: ${what}`);
}

test('embedded PostgreSQL: initdb on first start, CLI commands beside the server, clean stop', async () => {
  const dataDir = tempDir('relais-emb-');
  const env = { RELAIS_DATA_DIR: dataDir };
  let srv = await startRelais({ database: 'embedded', dataDir });
  assert.ok(existsSync(`${dataDir}/pg/PG_VERSION`), 'cluster initialised in data_dir/pg');
  assert.equal((await fetch(srv.url + '/readyz')).status, 200);
  assert.match(srv.logs(), /serving http:\/\/127\.0\.0\.1:\d+ with 2 workers \(embedded database\)/);
  // It runs with the settings docs/operations.md lists, as the benchmarks' clusters do.
  const settings = documentedPostgresSettings();
  assert.ok(settings.length > 0, 'docs/operations.md lists PostgreSQL settings');
  for (const [name, value] of settings) {
    const shown = execFileSync('psql', ['-X', '-A', '-t', '-h', `${dataDir}/run`, '-U', 'postgres', '-d', 'postgres',
      '-c', `SHOW ${name}`]).toString().trim();
    assert.equal(shown, value, `embedded PostgreSQL: ${name}`);
  }
  for (const bench of ['tests/bench/run.sh', 'tests/bench/intake.sh']) {
    assert.deepEqual(benchPostgresSettings(bench), settings, `${bench}: the documented settings, no other`);
  }
  // migrate and demo attach to the running cluster.
  let r = await runRelais(['migrate'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /0 migrations applied/);
  r = await runRelais(['demo'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await fetch(srv.url + '/readyz')).status, 200, 'the server still has its database');
  const { code } = await srv.stop();
  assert.equal(code, 0, 'SIGTERM stops with status 0');
  await waitUntil(() => processesUsing(dataDir).length === 0, 5000, 'no PostgreSQL left after stop');
  // Without the server, the CLI starts the cluster for itself and stops it again.
  r = await runRelais(['migrate'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(processesUsing(dataDir), []);
  // A second start reuses the cluster.
  srv = await startRelais({ database: 'embedded', dataDir });
  assert.doesNotMatch(srv.logs(), /initialising the embedded PostgreSQL/);
  await srv.stop();
});

test('no PostgreSQL or worker outlives a supervisor killed with SIGKILL', async () => {
  const dataDir = tempDir('relais-kill-');
  const srv = await startRelais({ database: 'embedded', dataDir });
  const workers = workerPids(srv.proc.pid);
  assert.equal(workers.length, 2);
  assert.ok(processesUsing(dataDir).length > 0, 'postgres runs');
  srv.proc.kill('SIGKILL');
  await srv.exited;
  await waitUntil(() => processesUsing(dataDir).length === 0, 5000, 'postgres gone after SIGKILL');
  await waitUntil(() => workers.every((pid) => { try { process.kill(pid, 0); return false; } catch { return true; } }), 5000, 'workers gone');
  // The next start recovers the cluster.
  const again = await startRelais({ database: 'embedded', dataDir });
  assert.equal((await fetch(again.url + '/readyz')).status, 200);
  await again.stop();
});

test('a crashed worker is restarted and the server keeps serving', async () => {
  const srv = await startRelais();
  try {
    const before = workerPids(srv.proc.pid);
    assert.equal(before.length, 2);
    process.kill(before[0], 'SIGKILL');
    await waitUntil(() => {
      const now = workerPids(srv.proc.pid);
      return now.length === 2 && !now.includes(before[0]);
    }, 5000, 'a new worker');
    assert.match(srv.logs(), /worker 0 \(pid \d+\) ended unexpectedly \(signal 9/);
    for (let i = 0; i < 20; i++) assert.equal((await fetch(srv.url + '/healthz', { headers: { Connection: 'close' } })).status, 200);
  } finally {
    await srv.stop();
  }
});

test('SIGTERM lets a request in flight finish, then exits 0', async () => {
  const pg = await startPostgres();
  const srv = await startRelais({ pg, workers: 1 });
  try {
    // Freeze PostgreSQL so that /readyz stays in flight until the query deadline (2 s).
    const postmaster = Number((await import('node:fs')).readFileSync(`${pg.dir}/data/postmaster.pid`, 'utf8').split('\n')[0]);
    execFileSync('pkill', ['-STOP', '-P', String(postmaster)]);
    const inFlight = fetch(srv.url + '/readyz').then(async (res) => ({ status: res.status, body: await res.json() }));
    await sleep(300);
    srv.proc.kill('SIGTERM');
    const answer = await inFlight;
    assert.equal(answer.status, 503);
    assert.equal(answer.body.error.code, 'database_timeout');
    const { code } = await srv.exited;
    execFileSync('pkill', ['-CONT', '-P', String(postmaster)]);
    assert.equal(code, 0);
    await assert.rejects(fetch(srv.url + '/healthz'), 'no longer listening');
  } finally {
    try { execFileSync('pkill', ['-CONT', '-P', String((await import('node:fs')).readFileSync(`${pg.dir}/data/postmaster.pid`, 'utf8').split('\n')[0])]); } catch { /* already resumed */ }
    await srv.stop();
    await pg.destroy();
  }
});

test('a port taken by another program is a clear start-up error', async () => {
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  try {
    const r = await runRelais(['serve'], { env: { RELAIS_LISTEN: `127.0.0.1:${blocker.address().port}`, RELAIS_DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/x', RELAIS_DATA_DIR: tempDir() } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: Address already in use/);
  } finally {
    blocker.close();
  }
});
