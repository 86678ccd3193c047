// Accounts from the command line (`relais user add|disable|list`) and the first admin created
// at start from RELAIS_ADMIN_EMAIL / RELAIS_ADMIN_PASSWORD.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelais, runRelais } from '../lib/harness.mjs';
import {
  api, request, login, tryLogin, sql, relaisUser, uniqueEmail, assertError, audit, eventually,
} from '../lib/api.mjs';

const BOOT_EMAIL = 'boot.admin@test.example';
const BOOT_PASSWORD = 'bootstrap-admin-password';
let srv, admin;

before(async () => {
  srv = await startRelais({ env: { RELAIS_INSECURE_COOKIES: 'true', RELAIS_ADMIN_EMAIL: BOOT_EMAIL, RELAIS_ADMIN_PASSWORD: BOOT_PASSWORD } });
  admin = await login(srv, BOOT_EMAIL, BOOT_PASSWORD);
});
after(async () => { await srv?.stop(); });

/** Starts another relais on an existing database (the harness would make a new one). */
function onDatabase(url, env) {
  const samePg = { url: () => url, createDatabase: async () => 'existing' };
  return startRelais({ pg: samePg, env: { RELAIS_INSECURE_COOKIES: 'true', ...env } });
}

async function addUser(args, password) {
  return relaisUser(srv, ['add', ...args, ...(password !== undefined ? ['--password-stdin'] : [])], password !== undefined ? `${password}\n` : undefined);
}

test('relais user add creates an account whose password (from standard input) signs in', async () => {
  const email = uniqueEmail('cli');
  const r = await addUser(['--email', email, '--name', 'Cli Comms', '--role', 'comms', '--department', 'Communications'], 'cli-password-123');
  assert.equal(r.code, 0, r.stderr);
  const m = r.stdout.match(/^created user (\S+) \(comms, id (\d+)\)$/m);
  assert.ok(m, r.stdout);
  assert.equal(m[1], email);
  assert.ok(!r.stdout.includes('cli-password-123') && !r.stderr.includes('cli-password-123'), 'the password is not echoed');
  const s = await login(srv, email, 'cli-password-123');
  assert.equal(s.user.id, Number(m[2]));
  const me = await api(srv, 'GET', '/api/v1/me', { session: s });
  assert.equal(me.body.role, 'comms');
  assert.equal(me.body.department, 'Communications');
  assert.equal(me.body.display_name, 'Cli Comms');
  assert.match(sql(srv, `SELECT password_hash FROM users WHERE id = ${m[2]}`), /^\$argon2id\$/);
  await eventually(async () => {
    const rows = await audit(srv, admin, { action: 'user.created', object_id: m[2] });
    assert.equal(rows.items.length, 1);
    assert.equal(rows.items[0].details.via, 'relais user add');
  });
});

test('relais user add: employee by default; a taken e-mail (any case) is refused', async () => {
  const email = uniqueEmail('Dup');
  let r = await addUser(['--email', email, '--name', 'First'], 'first-password-1');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\(employee, id \d+\)/);
  r = await addUser(['--email', email.toUpperCase(), '--name', 'Second'], 'second-password-1');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /already exists/);
  assert.equal(sql(srv, `SELECT count(*) FROM users WHERE lower(email) = lower('${email}')`), '1');
  await login(srv, email, 'first-password-1');
});

test('relais user add: usage errors exit 2, bad passwords exit 1, and nothing is created', async () => {
  const email = uniqueEmail('usage');
  for (const args of [['--name', 'No Email'], ['--email', email], ['--email', email, '--name', 'X', '--role', 'root'],
    ['--email', email, '--name', 'X', '--bogus'], ['--email', email, '--name', 'X', 'extra']]) {
    const r = await relaisUser(srv, ['add', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^relais: /);
  }
  for (const password of ['short', '123456789', '']) {
    const r = await addUser(['--email', email, '--name', 'X'], password);
    assert.equal(r.code, 1, `password "${password}": ${r.stdout}`);
  }
  const r = await relaisUser(srv, ['add', '--email', email, '--name', 'X', '--password-stdin'], '');
  assert.equal(r.code, 1, 'no line on standard input');
  for (const bad of ['not-an-email', '']) {
    const res = await relaisUser(srv, ['add', '--email', bad, '--name', 'X']);
    assert.notEqual(res.code, 0, `e-mail "${bad}" is refused`);
  }
  assert.equal(sql(srv, `SELECT count(*) FROM users WHERE email = '${email}' OR email = 'not-an-email' OR email = ''`), '0');
  const unknown = await relaisUser(srv, ['frobnicate']);
  assert.equal(unknown.code, 2);
});

test('relais user add: long passwords are kept whole (1000 characters, 1024 bytes; 1025 refused)', async () => {
  const long = Array.from({ length: 1000 }, (_, i) => String.fromCharCode(33 + ((i * 11) % 90))).join('');
  const email = uniqueEmail('long');
  let r = await addUser(['--email', email, '--name', 'Long'], long);
  assert.equal(r.code, 0, r.stderr);
  await login(srv, email, long);
  const other = `${long.slice(0, 199)}${long[199] === 'A' ? 'B' : 'A'}${long.slice(200)}`;
  assertError(await tryLogin(srv, email, other), 401, 'invalid_credentials');
  const max = `${'é'.repeat(500)}abcdefghijklmnopqrstuvwx`;
  assert.equal(Buffer.byteLength(max), 1024);
  const email2 = uniqueEmail('max');
  r = await addUser(['--email', email2, '--name', 'Max'], max);
  assert.equal(r.code, 0, r.stderr);
  await login(srv, email2, max);
  r = await addUser(['--email', uniqueEmail('over'), '--name', 'Over'], `${max}y`);
  assert.equal(r.code, 1);
});

test('relais user add without --password-stdin: no password sign-in until a reset link is used', async () => {
  const email = uniqueEmail('nopw');
  const r = await relaisUser(srv, ['add', '--email', email, '--name', 'No Password']);
  assert.equal(r.code, 0, r.stderr);
  const id = Number(r.stdout.match(/id (\d+)/)[1]);
  assertError(await tryLogin(srv, email, 'any-password-at-all'), 401, 'invalid_credentials');
  const link = await api(srv, 'POST', `/api/v1/users/${id}/password-reset`, { session: admin });
  assert.equal(link.status, 201);
  const used = await request(srv, 'POST', '/api/v1/password-reset', { body: { token: link.body.token, password: 'now-with-password' } });
  assert.equal(used.status, 204);
  await login(srv, email, 'now-with-password');
});

test('relais user list shows every account with its role and status', async () => {
  const email = uniqueEmail('listed');
  await addUser(['--email', email, '--name', 'Listed Person', '--role', 'comms'], 'listed-password');
  const r = await relaisUser(srv, ['list']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^id\s+email\s+name\s+role\s+status$/);
  assert.equal(lines.length - 1, Number(sql(srv, 'SELECT count(*) FROM users')));
  const row = lines.find((l) => l.includes(email));
  assert.ok(row, r.stdout);
  assert.match(row, /Listed Person\s+comms\s+active$/);
  assert.ok(lines.some((l) => l.includes(BOOT_EMAIL) && /\sadmin\s+active$/.test(l)));
  assert.ok(!r.stdout.includes('$argon2'), 'no password hashes');
});

test('relais user disable ends the account\'s sessions at once and refuses its sign-ins', async () => {
  const email = uniqueEmail('Disable.Me');
  await addUser(['--email', email, '--name', 'To Disable'], 'disable-me-please');
  const s1 = await login(srv, email, 'disable-me-please');
  const s2 = await login(srv, email, 'disable-me-please');
  assert.equal((await api(srv, 'GET', '/api/v1/me', { session: s1 })).status, 200);
  const r = await relaisUser(srv, ['disable', email.toLowerCase()]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /disabled/);
  for (const s of [s1, s2]) assertError(await api(srv, 'GET', '/api/v1/me', { session: s }), 401, 'unauthenticated');
  assert.equal(sql(srv, `SELECT count(*) FROM sessions WHERE user_id = ${s1.user.id}`), '0');
  assertError(await tryLogin(srv, email, 'disable-me-please'), 401, 'invalid_credentials');
  const list = await relaisUser(srv, ['list']);
  assert.match(list.stdout.split('\n').find((l) => l.includes(email)), /\sdisabled$/);
  const people = await api(srv, 'GET', `/api/v1/people?q=${encodeURIComponent('To Disable')}`, { session: admin });
  assert.deepEqual(people.body.items, [], 'gone from the directory');
  await eventually(async () => {
    const rows = await audit(srv, admin, { action: 'user.disabled', object_id: String(s1.user.id) });
    assert.equal(rows.items.length, 1);
  });
  const unknown = await relaisUser(srv, ['disable', uniqueEmail('nobody')]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no account/);
  assert.equal((await relaisUser(srv, ['disable'])).code, 2);
  assert.equal((await relaisUser(srv, ['disable', 'a@b', 'c@d'])).code, 2);
});

// --- the first admin -----------------------------------------------------------------------------

test('the first start creates the admin from RELAIS_ADMIN_EMAIL / RELAIS_ADMIN_PASSWORD', async () => {
  assert.equal(admin.user.role, 'admin');
  assert.equal(admin.user.email, BOOT_EMAIL);
  assert.equal(sql(srv, "SELECT count(*) FROM users WHERE role = 'admin'"), '1');
  const rows = await audit(srv, admin, { action: 'user.created', object_id: String(admin.user.id) });
  assert.equal(rows.items.length, 1);
  assert.equal(rows.items[0].details.via, 'admin_email');
});

test('later starts create no admin when one exists, and never reset the admin\'s password', async () => {
  const url = srv.env.RELAIS_DATABASE_URL;
  const other = uniqueEmail('second-admin');
  let again = await onDatabase(url, { RELAIS_ADMIN_EMAIL: other, RELAIS_ADMIN_PASSWORD: 'second-admin-password' });
  try {
    assert.equal(sql(srv, `SELECT count(*) FROM users WHERE lower(email) = lower('${other}')`), '0', 'no second admin');
    assertError(await tryLogin(again, other, 'second-admin-password'), 401, 'invalid_credentials');
  } finally {
    await again.stop();
  }
  again = await onDatabase(url, { RELAIS_ADMIN_EMAIL: BOOT_EMAIL, RELAIS_ADMIN_PASSWORD: 'changed-by-restart' });
  try {
    assertError(await tryLogin(again, BOOT_EMAIL, 'changed-by-restart'), 401, 'invalid_credentials');
    await login(again, BOOT_EMAIL, BOOT_PASSWORD);
  } finally {
    await again.stop();
  }
  assert.equal(sql(srv, "SELECT count(*) FROM users WHERE role = 'admin'"), '1');
});

test('an admin made with relais user add before the first start stops RELAIS_ADMIN_EMAIL from adding another', async () => {
  const db = await srv.pg.createDatabase();
  const url = srv.pg.url(db);
  const migrated = await runRelais(['migrate'], { env: { RELAIS_DATABASE_URL: url } });
  assert.equal(migrated.code, 0, migrated.stderr);
  const added = await runRelais(['user', 'add', '--email', 'cli.admin@test.example', '--name', 'Cli Admin', '--role', 'admin', '--password-stdin'],
    { env: { RELAIS_DATABASE_URL: url }, input: 'cli-admin-password\n' });
  assert.equal(added.code, 0, added.stderr);
  const started = await onDatabase(url, { RELAIS_ADMIN_EMAIL: 'env.admin@test.example', RELAIS_ADMIN_PASSWORD: 'env-admin-password' });
  try {
    assert.equal(srv.pg.psql("SELECT string_agg(email, ',') FROM users WHERE role = 'admin'", db), 'cli.admin@test.example');
    await login(started, 'cli.admin@test.example', 'cli-admin-password');
  } finally {
    await started.stop();
  }
});

test('a RELAIS_ADMIN_PASSWORD shorter than 10 characters stops the start', async () => {
  let started = null, error = null;
  try {
    started = await startRelais({ pg: srv.pg, env: { RELAIS_ADMIN_EMAIL: 'weak@test.example', RELAIS_ADMIN_PASSWORD: 'short' }, startTimeoutMs: 15000 });
  } catch (err) {
    error = err;
  } finally {
    await started?.stop();
  }
  assert.ok(error, 'relais must not start with a weak first-admin password');
  assert.match(error.message, /admin_password must have at least 10 characters/);
});
