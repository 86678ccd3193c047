// Live events at scale: CONNECTIONS idle SSE streams held by CLIENTS load processes, the
// resident memory of relais (supervisor + workers) while they idle, and the time from one
// notification_add per subscribed user until every stream has received it. See README.md.
//
//   make && node tests/bench/sse.mjs
//   CONNECTIONS=2000 RUNS=3 node tests/bench/sse.mjs     # quicker
//   MODE=single node tests/bench/sse.mjs                 # one user holds every stream
//
// Settings (environment): CONNECTIONS (10000), USERS (1000; MODE=single: 1), CLIENTS (4 load
// processes, each from its own 127.0.0.x address), RUNS (5), WORKERS (2), RELAIS (binary).
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import readline from 'node:readline';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPostgres, startRelais, pgBinDir } from '../lib/harness.mjs';

const CONNECTIONS = Number(process.env.CONNECTIONS || 10000);
const MODE = process.env.MODE || 'users';
const USERS = MODE === 'single' ? 1 : Number(process.env.USERS || 1000);
const CLIENTS = Number(process.env.CLIENTS || 4);
const RUNS = Number(process.env.RUNS || 5);
const WORKERS = Number(process.env.WORKERS || 2);
const here = path.dirname(new URL(import.meta.url).pathname);

const log = (...a) => console.error(`[sse-bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

function kib(pid, field) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}
function pss(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m);
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}
function children(pid) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}
function memory(rootPid) {
  const pids = [rootPid, ...children(rootPid)];
  return {
    pids: pids.length,
    rss_mib: pids.reduce((n, p) => n + kib(p, 'VmRSS'), 0) / 1024,
    pss_mib: pids.reduce((n, p) => n + pss(p), 0) / 1024,
    per_process_rss_mib: pids.map((p) => +(kib(p, 'VmRSS') / 1024).toFixed(1)),
  };
}

const pg = await startPostgres();
const srv = await startRelais({
  pg, workers: WORKERS,
  env: { RELAIS_INSECURE_COOKIES: 'true', RELAIS_ACCESS_LOG: 'false', RELAIS_LOG_LEVEL: 'warn', RELAIS_SSE_MAX_PER_USER: '0' },
});
const db = new URL(srv.env.RELAIS_DATABASE_URL).pathname.slice(1);
const psql = (q) => pg.psql(q, db);
const pgPid = Number(readFileSync(path.join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
let clients = [];

async function main() {
  log(`${CONNECTIONS} streams, ${USERS} users, ${CLIENTS} load processes, ${WORKERS} workers`);
  // Users and sessions straight into the database: signing in 10,000 times would measure Argon2.
  psql(`INSERT INTO users (email, display_name) SELECT 'bench' || g || '@bench.example', 'Bench ' || g FROM generate_series(1, ${USERS}) g`);
  // Token i is "bench" + i on 38 digits (43 characters, like a real one); only its SHA-256 is stored.
  psql(`INSERT INTO sessions (user_id, token_hash, csrf_token, expires_at)
        SELECT u.id, sha256(convert_to('bench' || lpad(g::text, 38, '0'), 'UTF8')), repeat('c', 43), now() + interval '1 day'
        FROM generate_series(0, ${CONNECTIONS - 1}) g
        JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM users WHERE email LIKE 'bench%@bench.example') u
          ON u.k = g % ${USERS}`);
  const idle0 = memory(srv.proc.pid);
  log('relais idle, no streams:', JSON.stringify(idle0));

  const per = Math.ceil(CONNECTIONS / CLIENTS);
  const t0 = Date.now();
  clients = [];
  for (let k = 0; k < CLIENTS; k++) {
    const first = k * per, count = Math.min(per, CONNECTIONS - first);
    const p = spawn(process.execPath, [path.join(here, 'sse-client.mjs'), String(srv.port), `127.0.0.${10 + k}`, 'relais_session', String(first), String(count)],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    const c = { p, lines: [], waiters: [] };
    readline.createInterface({ input: p.stdout }).on('line', (l) => {
      const msg = JSON.parse(l);
      c.lines.push(msg);
      c.waiters = c.waiters.filter((w) => !w(msg));
    });
    c.next = (pred) => new Promise((resolve) => {
      const found = c.lines.find(pred);
      if (found) { resolve(found); return; }
      c.waiters.push((m) => { if (pred(m)) { resolve(m); return true; } return false; });
    });
    clients.push(c);
  }
  const readies = await Promise.all(clients.map((c) => c.next((m) => 'ready' in m)));
  const open = readies.reduce((n, r) => n + r.ready, 0);
  const failed = readies.reduce((n, r) => n + r.failed, 0);
  log(`${open} streams open (${failed} failed) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (open !== CONNECTIONS) throw new Error(`only ${open} of ${CONNECTIONS} streams opened`);
  await sleep(3000);
  const idle = memory(srv.proc.pid);
  const pgMem = memory(pgPid);
  log('relais with the streams idle:', JSON.stringify(idle));
  log('PostgreSQL (not counted):', JSON.stringify({ rss_mib: pgMem.rss_mib, pss_mib: pgMem.pss_mib, processes: pgMem.pids }));

  // Run 0 warms up (the load processes' JIT, the prepared statements, malloc's arenas) and is
  // reported apart.
  const times = [];
  let warmup = null;
  for (let r = 0; r <= RUNS; r++) {
    for (const c of clients) c.p.stdin.write(`expect ${r}\n`);
    await sleep(200);
    const done = clients.map((c) => c.next((m) => m.run === r));
    const start = performance.timeOrigin + performance.now();
    psql(`SELECT count(notification_add(id, 'question.assigned', NULL, NULL, jsonb_build_object('run', ${r}))) FROM users WHERE email LIKE 'bench%@bench.example'`);
    const results = await Promise.race([Promise.all(done), sleep(10000).then(() => null)]);
    if (!results) {
      for (const c of clients) c.p.stdin.write('status\n');
      await sleep(500);
      for (const c of clients) log(JSON.stringify(c.lines.slice(-3)));
      throw new Error(`run ${r}: not every stream got its event within 10 s`);
    }
    const ms = Math.max(...results.map((x) => x.last)) - start;
    if (r === 0) warmup = ms; else times.push(ms);
    log(`run ${r}: every stream had its event after ${ms.toFixed(0)} ms`);
    await sleep(1000);
  }
  const after = memory(srv.proc.pid);
  const metrics = await (await fetch(`${srv.url}/metrics`)).text();
  const dropped = [...metrics.matchAll(/^relais_sse_dropped_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  const subs = [...metrics.matchAll(/^relais_sse_subscribers\{worker="(\d+)"\} (\d+)$/gm)].map((m) => Number(m[2]));
  const report = {
    date: new Date().toISOString(), connections: CONNECTIONS, users: USERS, workers: WORKERS, clients: CLIENTS, runs: RUNS,
    subscribers_per_worker: subs, dropped,
    relais_rss_mib_no_streams: +idle0.rss_mib.toFixed(1),
    relais_rss_mib_idle_streams: +idle.rss_mib.toFixed(1), relais_pss_mib_idle_streams: +idle.pss_mib.toFixed(1),
    relais_rss_per_process_mib: idle.per_process_rss_mib,
    relais_rss_mib_after_runs: +after.rss_mib.toFixed(1),
    postgres_rss_mib: +pgMem.rss_mib.toFixed(1), postgres_pss_mib: +pgMem.pss_mib.toFixed(1),
    fanout_ms_warmup: +warmup.toFixed(0),
    fanout_ms: times.map((t) => +t.toFixed(0)), fanout_ms_median: +median(times).toFixed(0),
    load: readFileSync('/proc/loadavg', 'utf8').trim(),
  };
  console.log(JSON.stringify(report, null, 2));
}

try {
  await main();
} finally {
  for (const c of clients) { try { c.p.stdin.write('quit\n'); } catch { /* gone */ } }
  await sleep(500);
  for (const c of clients) c.p.kill();
  await srv.stop();
  await pg.destroy();
}
