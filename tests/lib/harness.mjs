// Test harness: throwaway PostgreSQL clusters and real `relais serve` processes on free
// loopback ports. No mocks: every API and browser test talks HTTP to the real binary.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, existsSync, chownSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const SRCDIR = process.env.RELAIS_SRCDIR || path.resolve(new URL('../..', import.meta.url).pathname);
export const RELAIS_BIN = process.env.RELAIS_BIN || path.join(SRCDIR, 'relais');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function pgBinDir() {
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root).map(Number).filter((v) => existsSync(`${root}/${v}/bin/postgres`)).sort((a, b) => b - a);
  if (!versions.length) throw new Error('PostgreSQL server binaries not found in /usr/lib/postgresql');
  return `${root}/${versions[0]}/bin`;
}

// PostgreSQL refuses to run as root: as root, clusters belong to the postgres user.
function runAs() {
  if (process.getuid() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

function makeTempDir(prefix) {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Starts a throwaway PostgreSQL cluster on a free TCP port of 127.0.0.1. */
export async function startPostgres() {
  const bin = pgBinDir();
  const who = runAs();
  const dir = makeTempDir('relais-pg-');
  if (who.uid !== undefined) chownSync(dir, who.uid, who.gid);
  const data = path.join(dir, 'data');
  execFileSync(`${bin}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions'], { ...who, stdio: 'ignore' });
  const port = await freePort();
  let proc = null;
  const pg = {
    dir, port, host: '127.0.0.1',
    url: (db = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${db}`,
    get running() { return proc !== null; },
    async start() {
      proc = spawn(`${bin}/postgres`, ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1',
        '-c', `unix_socket_directories=${dir}`, '-c', 'max_connections=200', '-c', 'fsync=off',
        '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'], { ...who, stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      proc.stderr.on('data', (d) => { log += d; });
      const started = proc;
      const deadline = Date.now() + 30000;
      while (Date.now() < deadline) {
        if (started.exitCode !== null) throw new Error(`PostgreSQL exited at start:\n${log}`);
        // Make sure the server on the port is this one, not another test's that took the port.
        if (await canConnect(port)) {
          try { if (pg.psql('SHOW data_directory') === data) return; } catch { /* still starting */ }
        }
        await sleep(50);
      }
      throw new Error(`PostgreSQL did not start:\n${log}`);
    },
    /** Fast shutdown: connections are cut, as in a real outage. */
    async stop() {
      if (!proc) return;
      const p = proc;
      proc = null;
      const exited = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGINT');
      await exited;
    },
    psql(sql, db = 'postgres') {
      return execFileSync(`${bin}/psql`, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-c', sql]).toString().trim();
    },
    async createDatabase() {
      const name = `relais_${Math.random().toString(36).slice(2, 10)}`;
      pg.psql(`CREATE DATABASE ${name}`);
      return name;
    },
    async destroy() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await pg.start();
  return pg;
}

async function canConnect(port) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/**
 * Starts `relais serve` and resolves once /healthz answers (and /readyz, unless waitReady is false).
 * options.database: 'external' (default: a throwaway cluster, or options.pg) or 'embedded'.
 * options.env: extra RELAIS_* variables. options.config: INI text written to a file passed with -c.
 */
export async function startRelais(options = {}) {
  const port = options.port || await freePort();
  const dataDir = options.dataDir || makeTempDir('relais-data-');
  let pg = options.pg || null;
  let ownPg = false;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME || '/root',
    RELAIS_LISTEN: `127.0.0.1:${port}`,
    RELAIS_DATA_DIR: dataDir,
    RELAIS_WEB_ROOT: path.join(SRCDIR, 'web/dist'),
    RELAIS_WORKERS: String(options.workers || 2),
    RELAIS_LOG_LEVEL: 'info',
    // Every test talks from 127.0.0.1: the general per-address limit would only get in the
    // way; tests of the limit set it themselves.
    RELAIS_RATE_LIMIT: '0',
    ...(process.env.ASAN_OPTIONS ? { ASAN_OPTIONS: process.env.ASAN_OPTIONS } : {}),
    ...(process.env.UBSAN_OPTIONS ? { UBSAN_OPTIONS: process.env.UBSAN_OPTIONS } : {}),
    ...options.env,
  };
  if ((options.database || 'external') === 'external') {
    if (!pg) { pg = await startPostgres(); ownPg = true; }
    env.RELAIS_DATABASE_URL = pg.url(await pg.createDatabase());
  }
  const args = [];
  if (options.config !== undefined) {
    const file = path.join(dataDir, 'relais.conf');
    writeFileSync(file, options.config);
    args.push('-c', file);
  }
  args.push('serve', ...(options.args || []));
  const proc = spawn(RELAIS_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const srv = {
    url, port, proc, pg, dataDir, env, exited,
    logs: () => output,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const result = await exited;
      if (ownPg) await pg.destroy();
      if (!options.dataDir && !options.keepDataDir) rmSync(dataDir, { recursive: true, force: true });
      // A sanitizer report in any relais process fails the test that ran it.
      const report = output.match(/(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:)[^\n]*/);
      if (report) throw new Error(`sanitizer report from relais: ${report[0]}\n${output.slice(output.indexOf(report[0]), output.indexOf(report[0]) + 4000)}`);
      return result;
    },
  };
  const deadline = Date.now() + (options.startTimeoutMs || 60000);
  const path0 = options.waitReady === false ? '/healthz' : '/readyz';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`relais exited during start-up:\n${output}`);
    }
    try {
      const res = await fetch(url + path0);
      if (res.status === 200) return srv;
    } catch { /* not listening yet */ }
    await sleep(50);
  }
  await srv.stop('SIGKILL');
  throw new Error(`relais did not become ready:\n${output}`);
}

/** Sends raw bytes over a new TCP connection and resolves with everything the server sent back. */
export function rawRequest(port, data, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => { s.destroy(); resolve({ data: out, timedOut: true }); }, timeoutMs);
    s.on('data', (d) => { out += d.toString('latin1'); });
    s.on('close', () => { clearTimeout(timer); resolve({ data: out, timedOut: false }); });
    s.on('error', () => {});
    s.on('connect', () => s.write(data));
  });
}

/** Runs the relais binary with arguments; resolves { code, stdout, stderr }. */
export function runRelais(args, { env = {}, input } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(RELAIS_BIN, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME || '/root', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('exit', (code) => {
      const report = stderr.match(/(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:)[^\n]*/);
      if (report) reject(new Error(`sanitizer report from relais ${args.join(' ')}:\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
    if (input !== undefined) p.stdin.end(input); else p.stdin.end();
  });
}

/** Resolves with the first log line of `srv` that contains `text` (lines are flushed about once a second). */
export async function waitForLogLine(srv, text, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const line = srv.logs().split('\n').find((l) => l.includes(text));
    if (line) return line;
    await sleep(50);
  }
  throw new Error(`no log line containing ${text}`);
}

export function tempDir(prefix = 'relais-test-') {
  return makeTempDir(prefix);
}

export { sleep };
