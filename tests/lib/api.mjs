// Helpers for the API tests of people and access: HTTP requests with a session or a token,
// signing in, demo data, users, SQL on the server's database, audit rows.
// Every request goes over a new TCP connection (no keep-alive surprises) and may come from
// any address of 127.0.0.0/8 (`from`), which lets tests stand for several client addresses:
// sign-ins are limited to 10 a minute per address, so login() uses a new address each time.
import http from 'node:http';
import assert from 'node:assert/strict';
import { runRelais, sleep } from './harness.mjs';

export const DEMO_PASSWORD = 'relais-demo-2026';
export const ADMIN_EMAIL = 'admin@relais.example';
export const COMMS_EMAIL = 'comms@relais.example';

let ipCounter = 0;
/** A loopback address not used before by this process (127.1.0.1, 127.1.0.2, ...). */
export function nextIp() {
  ipCounter += 1;
  return `127.${1 + Math.floor(ipCounter / 65000)}.${Math.floor((ipCounter % 65000) / 250)}.${1 + (ipCounter % 250)}`;
}

let emailCounter = 0;
/** A new e-mail address, unique within this process and across runs. */
export function uniqueEmail(prefix = 'user') {
  emailCounter += 1;
  return `${prefix}.${process.pid}.${emailCounter}.${Math.random().toString(36).slice(2, 7)}@test.example`;
}

/** The session cookie's name for this server. */
export function cookieName(srv) {
  return srv.env.RELAIS_INSECURE_COOKIES === 'true' ? 'relais_session' : '__Host-relais_session';
}

/** Parses Set-Cookie headers into [{name, value, attrs: {lowercased: value|true}, raw}]. */
export function parseSetCookies(list) {
  return (list || []).map((raw) => {
    const [pair, ...rest] = raw.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const attrs = {};
    for (const a of rest) {
      const i = a.indexOf('=');
      if (i < 0) attrs[a.toLowerCase()] = true;
      else attrs[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
    }
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs, raw };
  });
}

/**
 * One HTTP request. Resolves with { status, headers (lower-case names), text, body (parsed
 * JSON or null), cookies (parsed Set-Cookie), ms (time to the full answer) }. An event stream
 * resolves at its headers, with an empty text.
 */
export function request(srv, method, path, { headers = {}, body, from, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const h = { ...headers };
    if (data) {
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
      h['Content-Length'] = String(data.length);
    }
    const started = process.hrtime.bigint();
    const req = http.request({
      host: '127.0.0.1', port: srv.port, method, path, headers: h, agent: false,
      ...(from ? { localAddress: from } : {}),
    }, (res) => {
      if ((res.headers['content-type'] || '').startsWith('text/event-stream')) {
        // A stream does not end: its status and headers are the answer.
        res.destroy();
        resolve({ status: res.statusCode, headers: res.headers, text: '', body: null, cookies: [], ms: 0 });
        return;
      }
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, body: parsed, cookies: parseSetCookies(res.headers['set-cookie']), ms });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A request as a signed-in person (session: {cookie, csrf, name}), with an API token
 * (token: 'rlt_...'), or anonymously. The CSRF header is sent for unsafe methods unless
 * csrf: false (or a string to send instead).
 */
export function api(srv, method, path, { session, body, token, headers = {}, csrf, from } = {}) {
  const h = { ...headers };
  if (session) {
    h.Cookie = `${session.name || cookieName(srv)}=${session.cookie}`;
    if (UNSAFE.has(method) && csrf !== false) h['X-CSRF-Token'] = typeof csrf === 'string' ? csrf : session.csrf;
  }
  if (token) h.Authorization = `Bearer ${token}`;
  return request(srv, method, path, { headers: h, body, from });
}

/** POST /api/v1/session as is: resolves with the raw answer plus the session when it worked. */
export async function tryLogin(srv, email, password, { from = nextIp(), cookie, headers = {} } = {}) {
  const h = { ...headers };
  if (cookie) h.Cookie = `${cookieName(srv)}=${cookie}`;
  const res = await request(srv, 'POST', '/api/v1/session', { body: { email, password }, from, headers: h });
  const set = res.cookies.find((c) => c.name === cookieName(srv));
  if (res.status === 200 && set) {
    res.session = { cookie: set.value, csrf: res.body.csrf_token, name: set.name, user: res.body.user, email, password };
  }
  return res;
}

/** Signs in and returns { cookie, csrf, name, user, email, password }; fails the test otherwise. */
export async function login(srv, email, password = DEMO_PASSWORD, options = {}) {
  const res = await tryLogin(srv, email, password, options);
  assert.equal(res.status, 200, `login of ${email}: ${res.status} ${res.text}`);
  assert.ok(res.session, `login of ${email} set no ${cookieName(srv)} cookie`);
  return res.session;
}

/** Loads `relais demo` into the server's database; returns the printed logins ({admin, comms, ...}). */
export async function loadDemo(srv) {
  const r = await runRelais(['demo'], { env: { RELAIS_DATABASE_URL: srv.env.RELAIS_DATABASE_URL } });
  assert.equal(r.code, 0, `relais demo failed: ${r.stderr}`);
  const logins = {};
  for (const m of r.stdout.matchAll(/^ {2}(.+?)\s{2,}(\S+@\S+)$/gm)) logins[m[1].trim()] = m[2];
  return logins;
}

/** The database name of the server. */
export function dbName(srv) {
  return new URL(srv.env.RELAIS_DATABASE_URL).pathname.slice(1);
}

/** Runs SQL on the server's database (as the postgres user, like relais); returns psql -A -t output. */
export function sql(srv, query) {
  return srv.pg.psql(query, dbName(srv));
}

/** Creates a user through POST /api/v1/users as `admin`; returns the created user (with password). */
export async function createUser(srv, admin, { email = uniqueEmail(), name = 'Test User', role, password, department, job_title } = {}) {
  const body = { email, display_name: name };
  if (role) body.role = role;
  if (password) body.password = password;
  if (department !== undefined) body.department = department;
  if (job_title !== undefined) body.job_title = job_title;
  const res = await api(srv, 'POST', '/api/v1/users', { session: admin, body });
  assert.equal(res.status, 201, `create user ${email}: ${res.status} ${res.text}`);
  return { ...res.body, password };
}

/** Creates a user and signs them in; returns the session (with .user.id). */
export async function newPerson(srv, admin, options = {}) {
  const password = options.password || `pw-${Math.random().toString(36).slice(2)}-long`;
  const u = await createUser(srv, admin, { ...options, password });
  const s = await login(srv, u.email, password);
  return { ...s, id: u.id };
}

/** `relais user ...` against the server's database. */
export function relaisUser(srv, args, input) {
  return runRelais(['user', ...args], { env: { RELAIS_DATABASE_URL: srv.env.RELAIS_DATABASE_URL }, input });
}

/** GET /api/v1/audit with the given filters (object of query parameters) as `admin`. */
export async function audit(srv, admin, filters = {}) {
  const qs = new URLSearchParams(filters).toString();
  const res = await api(srv, 'GET', `/api/v1/audit${qs ? `?${qs}` : ''}`, { session: admin });
  assert.equal(res.status, 200, `audit: ${res.status} ${res.text}`);
  return res.body;
}

/** Retries `check` (which throws while not yet true) for up to timeoutMs: for audit rows written after the answer. */
export async function eventually(check, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}

/** Asserts a JSON error answer: status, code and (when given) field. */
export function assertError(res, status, code, field) {
  const where = `${res.status} ${res.text}`;
  assert.equal(res.status, status, where);
  assert.ok(res.body && res.body.error, `not an error body: ${where}`);
  if (code) assert.equal(res.body.error.code, code, where);
  if (field !== undefined) assert.equal(res.body.error.field, field, where);
  assert.equal(typeof res.body.error.message, 'string');
}

/** Finds a user id by e-mail via SQL. */
export function userId(srv, email) {
  const id = sql(srv, `SELECT id FROM users WHERE lower(email) = lower('${email.replace(/'/g, "''")}')`);
  assert.ok(id, `no user ${email}`);
  return Number(id);
}

/** Community id by slug via SQL. */
export function communityId(srv, slug) {
  const id = sql(srv, `SELECT id FROM communities WHERE slug = '${slug.replace(/'/g, "''")}'`);
  assert.ok(id, `no community ${slug}`);
  return Number(id);
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Waits until the server answers /healthz again (after a worker crash the supervisor restarts it). */
export async function waitHealthy(srv, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await request(srv, 'GET', '/healthz', { timeoutMs: 2000 })).status === 200) return;
    } catch { /* restarting */ }
    await sleep(50);
  }
}

/**
 * Like api(), but a dropped connection (a crashed worker) becomes an answer with status 0 and
 * the text "no answer: ...", after waiting for the server to be back, so that a test can
 * report it among its other findings.
 */
export async function apiOrCrash(srv, method, path, options = {}) {
  try {
    return await api(srv, method, path, options);
  } catch (err) {
    await waitHealthy(srv);
    return { status: 0, headers: {}, text: `no answer: ${err.code || err.message} (did a worker crash?)`, body: null, cookies: [] };
  }
}
