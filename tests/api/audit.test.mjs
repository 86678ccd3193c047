// The audit log: what is recorded (sign-ins, role and membership changes, tokens, denials,
// passwords), the filters and cursor of GET /api/v1/audit, and that rows cannot be changed.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelais } from '../lib/harness.mjs';
import {
  api, request, login, tryLogin, loadDemo, sql, createUser, newPerson, nextIp, uniqueEmail, audit, eventually, assertError,
  communityId, ADMIN_EMAIL,
} from '../lib/api.mjs';

let srv, admin, logins;

before(async () => {
  srv = await startRelais({ env: { RELAIS_INSECURE_COOKIES: 'true' } });
  logins = await loadDemo(srv);
  admin = await login(srv, ADMIN_EMAIL);
});
after(async () => { await srv?.stop(); });

/** The audit row written by the request whose X-Request-Id is `requestId` (waits for it). */
async function rowOf(requestId, filters = {}) {
  return eventually(async () => {
    const rows = await audit(srv, admin, { limit: 200, ...filters });
    const found = rows.items.filter((r) => r.request_id === requestId);
    assert.ok(found.length > 0, `no audit row for request ${requestId}`);
    return found;
  });
}

test('sign-ins are recorded: success with the user, failure with the reason, never the password', async () => {
  const u = await createUser(srv, admin, { password: 'audit-password-1' });
  const from = nextIp();
  const ok = await tryLogin(srv, u.email, 'audit-password-1', { from });
  assert.equal(ok.status, 200);
  const [success] = await rowOf(ok.headers['x-request-id'], { action: 'login.succeeded' });
  assert.equal(success.actor_user_id, u.id);
  assert.equal(success.object_type, 'user');
  assert.equal(success.object_id, String(u.id));
  assert.equal(success.ip, from);

  const wrong = await tryLogin(srv, u.email, 'audit-wrong-password', { from });
  const [failed] = await rowOf(wrong.headers['x-request-id'], { action: 'login.failed' });
  assert.equal(failed.object_id, String(u.id));
  assert.equal(failed.details.reason, 'wrong_password');
  assert.equal(failed.ip, from);

  const ghost = uniqueEmail('ghost');
  const unknown = await tryLogin(srv, ghost, 'audit-wrong-password', { from });
  const [unknownRow] = await rowOf(unknown.headers['x-request-id'], { action: 'login.failed' });
  assert.equal(unknownRow.actor_user_id, null);
  assert.equal(unknownRow.details.email, ghost);

  const text = sql(srv, "SELECT string_agg(details::text, ' ') FROM audit_log");
  assert.ok(!text.includes('audit-password-1') && !text.includes('audit-wrong-password'), 'no password in the audit log');
});

test('sign-outs, revoked sessions, password changes and reset links are recorded against the user', async () => {
  const s = await newPerson(srv, admin);
  const second = await login(srv, s.email, s.password);
  const sessions = await api(srv, 'GET', '/api/v1/me/sessions', { session: s });
  const otherId = sessions.body.items.find((x) => !x.current).id;
  const revoked = await api(srv, 'DELETE', `/api/v1/me/sessions/${otherId}`, { session: s });
  const [revokedRow] = await rowOf(revoked.headers['x-request-id']);
  assert.equal(revokedRow.action, 'session.revoked');
  assert.equal(revokedRow.actor_user_id, s.id);
  assert.equal(second.cookie.length, 43);

  const changed = await api(srv, 'POST', '/api/v1/me/password', { session: s, body: { current_password: s.password, new_password: 'audited-new-password' } });
  assert.equal(changed.status, 200);
  const [changedRow] = await rowOf(changed.headers['x-request-id']);
  assert.equal(changedRow.action, 'password.changed');
  assert.equal(changedRow.object_id, String(s.id));
  const fresh = { cookie: changed.cookies[0].value, csrf: changed.body.csrf_token };
  const out = await api(srv, 'DELETE', '/api/v1/session', { session: fresh });
  assert.equal(out.status, 204);
  const [outRow] = await rowOf(out.headers['x-request-id']);
  assert.equal(outRow.action, 'logout');
  assert.equal(outRow.actor_user_id, s.id);

  const issued = await api(srv, 'POST', `/api/v1/users/${s.id}/password-reset`, { session: admin });
  const [issuedRow] = await rowOf(issued.headers['x-request-id']);
  assert.equal(issuedRow.action, 'password.reset_issued');
  assert.equal(issuedRow.object_id, String(s.id));
  assert.ok(!JSON.stringify(issuedRow).includes(issued.body.token), 'the reset token is not in the audit log');
  const used = await request(srv, 'POST', '/api/v1/password-reset', { body: { token: issued.body.token, password: 'reset-by-link-1' } });
  assert.equal(used.status, 204);
  const [usedRow] = await rowOf(used.headers['x-request-id']);
  assert.equal(usedRow.action, 'password.reset_used');
  assert.equal(usedRow.object_type, 'user', 'the row says whose password was reset');
  assert.equal(usedRow.object_id, String(s.id), 'the row says whose password was reset');
});

test('role changes, disabling and enabling accounts are recorded with the admin as actor', async () => {
  const u = await createUser(srv, admin, {});
  const res = await api(srv, 'PATCH', `/api/v1/users/${u.id}`, { session: admin, body: { role: 'comms' } });
  assert.equal(res.status, 200);
  const [row] = await rowOf(res.headers['x-request-id']);
  assert.equal(row.action, 'user.role_changed');
  assert.equal(row.actor_user_id, admin.user.id);
  assert.equal(row.object_type, 'user');
  assert.equal(row.object_id, String(u.id));
  assert.equal(row.details.role, 'comms');
  const off = await api(srv, 'PATCH', `/api/v1/users/${u.id}`, { session: admin, body: { status: 'disabled' } });
  assert.equal((await rowOf(off.headers['x-request-id']))[0].action, 'user.disabled');
  const on = await api(srv, 'PATCH', `/api/v1/users/${u.id}`, { session: admin, body: { status: 'active' } });
  assert.equal((await rowOf(on.headers['x-request-id']))[0].action, 'user.enabled');
  // Both at once: both facts are kept.
  const both = await api(srv, 'PATCH', `/api/v1/users/${u.id}`, { session: admin, body: { role: 'admin', status: 'disabled' } });
  const [bothRow] = await rowOf(both.headers['x-request-id']);
  assert.equal(bothRow.details.role, 'admin');
  assert.equal(bothRow.details.status, 'disabled');
});

test('membership changes and token creation and revocation are recorded', async () => {
  const p = await newPerson(srv, admin);
  const billing = communityId(srv, 'billing-help');
  const joined = await api(srv, 'POST', `/api/v1/communities/${billing}/join`, { session: p });
  const [joinRow] = await rowOf(joined.headers['x-request-id']);
  assert.equal(joinRow.action, 'membership.joined');
  assert.equal(joinRow.actor_user_id, p.id);
  assert.equal(joinRow.object_type, 'community');
  assert.equal(joinRow.object_id, String(billing));

  const created = await api(srv, 'POST', '/api/v1/tokens', { session: admin, body: { name: 'audited token', scopes: ['read', 'admin'] } });
  const [createdRow] = await rowOf(created.headers['x-request-id']);
  assert.equal(createdRow.action, 'token.created');
  assert.equal(createdRow.details.name, 'audited token');
  assert.deepEqual([...createdRow.details.scopes].sort(), ['admin', 'read']);
  assert.ok(!JSON.stringify(createdRow).includes(created.body.token), 'the token itself is not recorded');
  // Rows written while acting with the token name the token.
  const used = await api(srv, 'POST', '/api/v1/users', { token: created.body.token, body: { email: uniqueEmail('tok'), display_name: 'By token' } });
  const [usedRow] = await rowOf(used.headers['x-request-id']);
  assert.equal(usedRow.actor_token_id, created.body.id);
  assert.equal(usedRow.actor_user_id, null);
  const revoked = await api(srv, 'DELETE', `/api/v1/tokens/${created.body.id}`, { session: admin });
  const [revokedRow] = await rowOf(revoked.headers['x-request-id']);
  assert.equal(revokedRow.action, 'token.revoked');
  assert.equal(revokedRow.object_type, 'token');
  assert.equal(revokedRow.object_id, String(created.body.id));
});

test('creation rows point at the object they created (object_id is its id)', async () => {
  const problems = [];
  const user = await api(srv, 'POST', '/api/v1/users', { session: admin, body: { email: uniqueEmail('created'), display_name: 'Created' } });
  const token = await api(srv, 'POST', '/api/v1/tokens', { session: admin, body: { name: 'created', scopes: ['read'] } });
  const community = await api(srv, 'POST', '/api/v1/communities', { session: admin, body: { slug: `created-${Date.now()}`, name: 'Created' } });
  for (const [res, type] of [[user, 'user'], [token, 'token'], [community, 'community']]) {
    assert.equal(res.status, 201, res.text);
    const [row] = await rowOf(res.headers['x-request-id']);
    if (row.object_type !== type || row.object_id !== String(res.body.id)) {
      problems.push(`${row.action}: object ${row.object_type} "${row.object_id}", expected ${type} "${res.body.id}"`);
    }
  }
  assert.deepEqual(problems, []);
});

test('denials are recorded: access.denied with the route, method and path', async () => {
  const employee = await login(srv, logins.employee);
  const res = await api(srv, 'GET', '/api/v1/users?role=admin', { session: employee });
  assertError(res, 403, 'forbidden');
  const [row] = await rowOf(res.headers['x-request-id'], { action: 'access' });
  assert.equal(row.action, 'access.denied');
  assert.equal(row.actor_user_id, employee.user.id);
  assert.equal(row.object_type, 'route');
  assert.equal(row.object_id, 'users');
  assert.equal(row.details.method, 'GET');
  assert.equal(row.details.path, '/api/v1/users');
  // Only admins read the log.
  assertError(await api(srv, 'GET', '/api/v1/audit', { session: employee }), 403, 'forbidden');
  assertError(await request(srv, 'GET', '/api/v1/audit'), 401, 'unauthenticated');
});

test('filters: action prefix, actor_id, object_type, object_id, since and until', async () => {
  const p = await newPerson(srv, admin);
  await tryLogin(srv, p.email, 'wrong-password-filter');
  const billing = communityId(srv, 'billing-help');
  await api(srv, 'POST', `/api/v1/communities/${billing}/join`, { session: p });
  await api(srv, 'PATCH', '/api/v1/me', { session: p, body: { job_title: 'Filtered' } });

  await eventually(async () => {
    const login_ = await audit(srv, admin, { action: 'login', limit: 200 });
    assert.ok(login_.items.length > 2);
    assert.ok(login_.items.every((r) => r.action.startsWith('login.')), 'prefix login matches login.*');
    assert.ok(login_.items.some((r) => r.action === 'login.failed') && login_.items.some((r) => r.action === 'login.succeeded'));
    const exact = await audit(srv, admin, { action: 'login.failed', limit: 200 });
    assert.ok(exact.items.every((r) => r.action === 'login.failed'));
    assert.deepEqual((await audit(srv, admin, { action: 'log' })).items, [], 'a prefix is a whole dotted segment');

    const mine = await audit(srv, admin, { actor_id: p.id, limit: 200 });
    assert.ok(mine.items.length >= 3);
    assert.ok(mine.items.every((r) => r.actor_user_id === p.id));
    const actions = new Set(mine.items.map((r) => r.action));
    for (const a of ['login.succeeded', 'membership.joined', 'profile.updated']) assert.ok(actions.has(a), a);

    const aboutBilling = await audit(srv, admin, { object_type: 'community', object_id: String(billing), limit: 200 });
    assert.ok(aboutBilling.items.some((r) => r.actor_user_id === p.id && r.action === 'membership.joined'));
    assert.ok(aboutBilling.items.every((r) => r.object_type === 'community' && r.object_id === String(billing)));
    const mixed = await audit(srv, admin, { actor_id: p.id, action: 'membership', object_type: 'community', limit: 200 });
    assert.deepEqual(mixed.items.map((r) => r.action), ['membership.joined']);
  });

  // since is inclusive, until exclusive, on the row's timestamp.
  const all = (await audit(srv, admin, { actor_id: p.id, limit: 200 })).items;
  const pivot = all[Math.floor(all.length / 2)];
  const since = (await audit(srv, admin, { actor_id: p.id, since: pivot.at, limit: 200 })).items;
  const until = (await audit(srv, admin, { actor_id: p.id, until: pivot.at, limit: 200 })).items;
  assert.ok(since.some((r) => r.id === pivot.id), 'since includes the pivot');
  assert.ok(!until.some((r) => r.id === pivot.id), 'until excludes the pivot');
  assert.ok(since.every((r) => Date.parse(r.at) >= Date.parse(pivot.at)));
  assert.ok(until.every((r) => Date.parse(r.at) < Date.parse(pivot.at)));
  assert.equal(since.length + until.length, all.length);
  const future = (await audit(srv, admin, { since: '2999-01-01T00:00:00Z' })).items;
  assert.deepEqual(future, []);

  const problems = [];
  for (const qs of ['since=not-a-date', 'until=2026-13-45', 'actor_id=abc', 'limit=0', 'limit=201', 'limit=x', 'cursor=abc', 'cursor=-1']) {
    const res = await api(srv, 'GET', `/api/v1/audit?${qs}`, { session: admin });
    if (res.status !== 400 || res.body?.error?.code !== 'invalid_query') problems.push(`${qs}: ${res.status} ${res.text.slice(0, 100)}`);
  }
  assert.deepEqual(problems, []);
});

test('the action filter takes % and _ literally, not as LIKE wildcards', async () => {
  const problems = [];
  for (const action of ['%', '_%', 'login._ailed', '%.failed']) {
    const rows = await audit(srv, admin, { action, limit: 5 });
    if (rows.items.length) problems.push(`action=${action} matched ${rows.items.map((r) => r.action).join(', ')}`);
  }
  assert.deepEqual(problems, []);
});

test('cursor pagination: limit=2 pages, followed to the end, give every row once, newest first', async () => {
  const p = await newPerson(srv, admin);
  for (let i = 0; i < 5; i++) await api(srv, 'PATCH', '/api/v1/me', { session: p, body: { job_title: `Page ${i}` } });
  const all = await eventually(async () => {
    const r = (await audit(srv, admin, { actor_id: p.id, limit: 200 })).items;
    assert.ok(r.length >= 6);
    return r;
  });
  const seen = [];
  let cursor = null, pages = 0;
  do {
    const page = await audit(srv, admin, { actor_id: p.id, limit: 2, ...(cursor ? { cursor } : {}) });
    assert.ok(page.items.length <= 2);
    seen.push(...page.items.map((r) => r.id));
    cursor = page.next_cursor;
    pages += 1;
    assert.ok(pages < 50);
  } while (cursor);
  assert.equal(new Set(seen).size, seen.length, 'no duplicates');
  assert.deepEqual(seen, all.map((r) => r.id));
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] < seen[i - 1], 'newest first');
  // The whole log pages the same way.
  const first = await audit(srv, admin, { limit: 2 });
  assert.equal(first.items.length, 2);
  assert.ok(first.next_cursor);
});

test('audit rows cannot be changed or deleted with the database role relais uses', () => {
  const before = sql(srv, 'SELECT count(*), max(id) FROM audit_log');
  const id = sql(srv, 'SELECT min(id) FROM audit_log');
  const original = sql(srv, `SELECT action, details::text FROM audit_log WHERE id = ${id}`);
  for (const statement of [
    `UPDATE audit_log SET action = 'tampered' WHERE id = ${id}`,
    `UPDATE audit_log SET details = '{}'`,
    `DELETE FROM audit_log WHERE id = ${id}`,
    'DELETE FROM audit_log',
    'TRUNCATE audit_log',
  ]) {
    let error = null;
    try {
      sql(srv, statement);
    } catch (err) {
      error = String(err.stderr || err.message);
    }
    assert.ok(error, `${statement} must fail`);
    assert.match(error, /audit_log is append-only/, statement);
  }
  assert.equal(sql(srv, 'SELECT count(*), max(id) FROM audit_log'), before);
  assert.equal(sql(srv, `SELECT action, details::text FROM audit_log WHERE id = ${id}`), original);
  // The same user relais connects as (the database URL's user).
  assert.equal(new URL(srv.env.RELAIS_DATABASE_URL).username, 'postgres');
  assert.equal(sql(srv, 'SELECT current_user'), 'postgres');
});

test('every audit row carries the client address and the request id', async () => {
  const from = nextIp();
  const res = await api(srv, 'PATCH', '/api/v1/me', { session: admin, body: { job_title: 'Platform administrator' }, from, headers: { 'X-Request-Id': 'audit-trace-42' } });
  assert.equal(res.status, 200);
  const [row] = await rowOf('audit-trace-42');
  assert.equal(row.ip, from);
  assert.equal(row.action, 'profile.updated');
  assert.ok(Date.parse(row.at) <= Date.now() + 1000);
});
