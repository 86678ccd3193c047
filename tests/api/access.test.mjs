// Roles and permissions, route by route: every route of the route table (server/routes.c) has
// here the status expected for an anonymous caller, an employee, a comms officer, an admin
// and an API token with the read scope. A route missing from this table fails the test.
// Every 403 must leave an access.* row in the audit log.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startRelais, SRCDIR } from '../lib/harness.mjs';
import {
  api, login, loadDemo, sql, createUser, uniqueEmail, nextIp, userId, communityId, audit, eventually, assertError,
  ADMIN_EMAIL, COMMS_EMAIL, waitHealthy,
} from '../lib/api.mjs';
import { makeChannel, makeCustomer, makeQuestion } from '../lib/questions.mjs';

const ROLES = ['anon', 'read', 'employee', 'comms', 'admin'];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** "METHOD path" of every route in server/routes.c (same parsing as openapi.test.mjs). */
function routeTable() {
  const source = readFileSync(path.join(SRCDIR, 'server/routes.c'), 'utf8');
  const routes = [];
  for (const m of source.matchAll(/\{\s*((?:(?:HTTP_)?[A-Z]+\s*\|?\s*)+),\s*"(\/[^"]*)"/g)) {
    for (const method of m[1].split('|').map((s) => s.trim().replace('HTTP_', ''))) {
      if (METHODS.includes(method)) routes.push(`${method} ${m[2]}`);
    }
  }
  return routes;
}

let srv;
const who = {};         // role -> session (or token)
const ids = {};         // objects the paths refer to
const forbidden = [];   // every 403 answer: { route, role, requestId }

// Expected statuses, one per role, in ROLES order: anon, read token, employee, comms, admin.
const E = (anon, read, employee, comms, admin) => ({ anon, read, employee, comms, admin });
const PUBLIC = (s) => E(s, s, s, s, s);
const SELF = (s) => E(401, 403, s, s, s);          // ACCESS_SESSION: people only
const USER = (s) => E(401, s, s, s, s);            // ACCESS_USER: people, and read tokens for GET
const ADMIN = (s) => E(401, 403, 403, 403, s);     // ACCESS_ADMIN

/**
 * The table. path: string, or (role) => string; body: object, or (role) => object;
 * fresh: the role signs in anew for this request (the request ends the session).
 */
const TABLE = {
  'GET /healthz': { expect: PUBLIC(200) },
  'GET /readyz': { expect: PUBLIC(200) },
  'GET /metrics': { expect: PUBLIC(200) },
  'GET /api/v1/version': { expect: PUBLIC(200) },
  'POST /api/v1/client-errors': { expect: PUBLIC(204), body: { message: 'access test' } },

  'POST /api/v1/session': { expect: PUBLIC(401), body: () => ({ email: uniqueEmail('nobody'), password: 'not-a-password' }) },
  'DELETE /api/v1/session': { expect: SELF(204), fresh: true },
  'POST /api/v1/password-reset': { expect: PUBLIC(400), body: { token: 'A'.repeat(43), password: 'a-new-password' } },
  'GET /api/v1/me': { expect: SELF(200) },
  'PATCH /api/v1/me': { expect: SELF(200), body: { job_title: 'Walked by the access test' } },
  'PUT /api/v1/me/expertise': { expect: SELF(200), body: { expertise: [{ tag: 'access-testing', level: 2 }] } },
  'POST /api/v1/me/password': { expect: SELF(422), body: { current_password: 'not-my-password', new_password: 'another-password' } },
  'GET /api/v1/me/sessions': { expect: SELF(200) },
  'DELETE /api/v1/me/sessions/{id}': { expect: SELF(204), path: (r) => `/api/v1/me/sessions/${ids.spareSession[r] || 999999999}` },
  'GET /api/v1/me/out-of-office': { expect: SELF(200) },
  'POST /api/v1/me/out-of-office': { expect: SELF(201), body: { starts_at: '2031-01-01T00:00:00Z', ends_at: '2031-01-05T00:00:00Z', note: 'access' } },
  'DELETE /api/v1/me/out-of-office/{id}': { expect: SELF(204), path: (r) => `/api/v1/me/out-of-office/${ids.ooo[r] || ids.ooo.employee}` },

  'GET /api/v1/people': { expect: USER(200) },
  'GET /api/v1/people/{id}': { expect: USER(200), path: () => `/api/v1/people/${ids.target}` },
  // Self, an admin, or a manager of one of the person's communities (the comms user manages
  // the press room, which the target is not in).
  'PUT /api/v1/people/{id}/expertise': { expect: E(401, 403, 403, 403, 200), path: () => `/api/v1/people/${ids.target}/expertise`, body: { expertise: [{ tag: 'edited-by-admin', level: 3 }] } },

  'GET /api/v1/communities': { expect: USER(200) },
  'POST /api/v1/communities': { expect: E(401, 403, 403, 201, 201), body: (r) => ({ slug: `access-${r}-${Date.now()}`, name: `Created by ${r}` }) },
  'GET /api/v1/communities/{id}': { expect: USER(200), path: () => `/api/v1/communities/${ids.open}` },
  'PATCH /api/v1/communities/{id}': { expect: E(401, 403, 403, 403, 200), path: () => `/api/v1/communities/${ids.open}`, body: { description: 'Changed by an admin' } },
  'GET /api/v1/communities/{id}/members': { expect: USER(200), path: () => `/api/v1/communities/${ids.open}/members` },
  'POST /api/v1/communities/{id}/join': { expect: SELF(200), path: () => `/api/v1/communities/${ids.open}/join` },
  'POST /api/v1/communities/{id}/leave': { expect: SELF([200, 204]), path: () => `/api/v1/communities/${ids.leave}/leave` },
  'POST /api/v1/communities/{id}/invitations': { expect: E(401, 403, 403, 403, 200), path: () => `/api/v1/communities/${ids.open}/invitations`, body: () => ({ user_id: ids.invitee }) },
  'POST /api/v1/communities/{id}/members/{user_id}/approve': { expect: E(401, 403, 403, 403, 200), path: () => `/api/v1/communities/${ids.request}/members/${ids.requester}/approve` },
  'PUT /api/v1/communities/{id}/members/{user_id}': { expect: E(401, 403, 403, 403, 200), path: () => `/api/v1/communities/${ids.open}/members/${ids.promoted}`, body: { role: 'expert' } },
  'DELETE /api/v1/communities/{id}/members/{user_id}': { expect: E(401, 403, 403, 403, [200, 204]), path: () => `/api/v1/communities/${ids.open}/members/${ids.removed}` },

  'GET /api/v1/channels': { expect: ADMIN(200) },
  'POST /api/v1/channels': { expect: ADMIN(201), body: (r) => ({ kind: 'web_form', name: `Walked by ${r}`, community_id: ids.open, language: 'en', sla_seconds: 3600 }) },
  'GET /api/v1/channels/{id}': { expect: ADMIN(200), path: () => `/api/v1/channels/${ids.apiChannel}` },
  'PATCH /api/v1/channels/{id}': { expect: ADMIN(200), path: () => `/api/v1/channels/${ids.apiChannel}`, body: { sla_seconds: 7200 } },
  'POST /api/v1/channels/{id}/secret': { expect: ADMIN(201), path: () => `/api/v1/channels/${ids.apiChannel}/secret` },
  'GET /api/v1/channels/{id}/deliveries': { expect: ADMIN(200), path: () => `/api/v1/channels/${ids.apiChannel}/deliveries` },
  // Signed by the channel's secret, not by a session: unsigned is 401 for everybody.
  'POST /api/v1/channels/{id}/questions': { expect: PUBLIC(401), code401: 'invalid_signature', path: () => `/api/v1/channels/${ids.apiChannel}/questions`, body: { external_id: 'walk', title: 'Walk', body: 'Walk' } },
  'POST /api/v1/channels/{id}/questions/{external_id}/messages': { expect: PUBLIC(401), code401: 'invalid_signature', path: () => `/api/v1/channels/${ids.apiChannel}/questions/hc-1004/messages`, body: { body: 'Walk' } },
  'GET /api/v1/ask/{slug}': { expect: PUBLIC(200), path: '/api/v1/ask/ask-billing' },
  'POST /api/v1/ask/{slug}': { expect: PUBLIC(202), path: '/api/v1/ask/ask-billing', body: (r) => ({ title: `Asked by ${r}`, body: 'A question from the access walk.', name: 'Walker', email: 'walker@example.com', language: 'en' }) },
  'GET /api/v1/follow/{token}': { expect: PUBLIC(200), path: () => `/api/v1/follow/${ids.followToken}` },
  'POST /api/v1/follow/{token}/messages': { expect: PUBLIC(201), path: () => `/api/v1/follow/${ids.followToken}/messages`, body: { body: 'A follow-up from the access walk.' } },
  // The community's managers and admins (the test community is managed by Billing's manager).
  'GET /api/v1/communities/{id}/rules': { expect: E(401, 403, 403, 403, 200), path: () => `/api/v1/communities/${ids.leave}/rules` },
  'PUT /api/v1/communities/{id}/rules': { expect: E(401, 403, 403, 403, 200), path: () => `/api/v1/communities/${ids.leave}/rules`, body: { rules: [{ name: 'Walk', tags: ['walk'], action: 'answer' }] } },
  'PUT /api/v1/communities/{id}/crisis/{topic}': { expect: E(401, 403, 403, 403, 200), path: () => `/api/v1/communities/${ids.leave}/crisis/walk`, body: { reason: 'The access walk' } },
  'DELETE /api/v1/communities/{id}/crisis/{topic}': { expect: E(401, 403, 403, 403, [200, 204]), path: () => `/api/v1/communities/${ids.leave}/crisis/walk` },

  // Questions of a test community, where the employee, comms and admin are experts and
  // Billing's manager is the manager. API tokens see no question (404).
  'GET /api/v1/questions': { expect: USER(200) },
  'GET /api/v1/questions/{id}': { expect: E(401, 404, 200, 200, 200), path: () => `/api/v1/questions/${ids.question}` },
  'POST /api/v1/questions/{id}/claim': { expect: SELF(200), path: (r) => `/api/v1/questions/${ids.mine[r]?.claim || ids.question}/claim` },
  'POST /api/v1/questions/{id}/unclaim': { expect: SELF(200), path: (r) => `/api/v1/questions/${ids.mine[r]?.unclaim || ids.question}/unclaim` },
  'POST /api/v1/questions/{id}/decline': { expect: SELF(200), path: (r) => `/api/v1/questions/${ids.mine[r]?.decline || ids.question}/decline`, body: { reason: 'Not my field' } },
  'POST /api/v1/questions/{id}/assign': { expect: E(401, 403, 403, 403, 200), path: () => `/api/v1/questions/${ids.question}/assign`, body: () => ({ user_id: who.employee.user.id }) },
  'POST /api/v1/questions/{id}/messages': { expect: SELF(201), path: (r) => `/api/v1/questions/${ids.mine[r]?.message || ids.question}/messages`, body: { body: 'Could you tell us your order number?' } },
  'GET /api/v1/questions/{id}/comments': { expect: E(401, 404, 200, 200, 200), path: () => `/api/v1/questions/${ids.question}/comments` },
  'POST /api/v1/questions/{id}/comments': { expect: SELF(201), path: () => `/api/v1/questions/${ids.question}/comments`, body: { body: 'Seen by the access walk' } },
  'GET /api/v1/questions/{id}/similar': { expect: E(401, 404, 200, 200, 200), path: () => `/api/v1/questions/${ids.question}/similar` },

  'GET /api/v1/events': { expect: SELF(200) },
  'GET /api/v1/notifications': { expect: SELF(200) },
  'POST /api/v1/notifications/read': { expect: SELF([200, 204]), body: { up_to: 1 } },

  'GET /api/v1/users': { expect: ADMIN(200) },
  'POST /api/v1/users': { expect: ADMIN(201), body: () => ({ email: uniqueEmail('walk'), display_name: 'Walked' }) },
  'PATCH /api/v1/users/{id}': { expect: ADMIN(200), path: () => `/api/v1/users/${ids.target}`, body: { job_title: 'Patched by an admin' } },
  'POST /api/v1/users/{id}/password-reset': { expect: ADMIN(201), path: () => `/api/v1/users/${ids.target}/password-reset` },
  'GET /api/v1/tokens': { expect: ADMIN(200) },
  'POST /api/v1/tokens': { expect: ADMIN(201), body: { name: 'walked', scopes: ['read'] } },
  'DELETE /api/v1/tokens/{id}': { expect: ADMIN(204), path: () => `/api/v1/tokens/${ids.spareToken}` },
  'GET /api/v1/audit': { expect: ADMIN(200) },
};

async function session(role) {
  const email = { employee: ids.employeeEmail, comms: COMMS_EMAIL, admin: ADMIN_EMAIL }[role];
  return login(srv, email);
}

before(async () => {
  srv = await startRelais({ env: { RELAIS_INSECURE_COOKIES: 'true' } });
  const logins = await loadDemo(srv);
  ids.employeeEmail = logins.employee;
  for (const role of ['employee', 'comms', 'admin']) who[role] = await session(role);
  const token = await api(srv, 'POST', '/api/v1/tokens', { session: who.admin, body: { name: 'access read', scopes: ['read'] } });
  assert.equal(token.status, 201, token.text);
  who.read = { token: token.body.token };
  const spare = await api(srv, 'POST', '/api/v1/tokens', { session: who.admin, body: { name: 'to revoke', scopes: ['read'] } });
  ids.spareToken = spare.body.id;

  ids.open = communityId(srv, 'billing-help');
  ids.request = communityId(srv, 'privacy-security');
  // A community everybody is in, managed by someone else, for "leave".
  const managerId = userId(srv, logins['manager of Billing help']);
  const leave = await api(srv, 'POST', '/api/v1/communities', { session: who.comms, body: { slug: 'access-leave', name: 'Leave me', manager_id: managerId } });
  assert.equal(leave.status, 201, leave.text);
  ids.leave = leave.body.id;
  for (const role of ['employee', 'comms', 'admin']) {
    sql(srv, `INSERT INTO community_members (community_id, user_id) VALUES (${ids.leave}, ${who[role].user.id})`);
  }
  const fresh = async (name) => (await createUser(srv, who.admin, { name })).id;
  ids.target = await fresh('Access Target');
  ids.invitee = await fresh('Access Invitee');
  ids.requester = await fresh('Access Requester');
  ids.promoted = await fresh('Access Promoted');
  ids.removed = await fresh('Access Removed');
  sql(srv, `INSERT INTO community_members (community_id, user_id, status) VALUES (${ids.request}, ${ids.requester}, 'requested')`);
  sql(srv, `INSERT INTO community_members (community_id, user_id) VALUES (${ids.open}, ${ids.promoted}), (${ids.open}, ${ids.removed})`);

  ids.apiChannel = sql(srv, "SELECT id FROM channels WHERE slug = 'help-center'");
  const asked = await api(srv, 'POST', '/api/v1/ask/ask-billing', { from: nextIp(), body: { title: 'For the follow page', body: 'Followed by the access walk.', name: 'Walker', email: 'walker@example.com', language: 'en' } });
  assert.equal(asked.status, 202, asked.text);
  ids.followToken = asked.body.follow_token;

  // Questions: each role is an expert of the test community and has its own questions to act on.
  const qc = await api(srv, 'POST', '/api/v1/communities', { session: who.comms, body: { slug: 'access-questions', name: 'Questions walked', manager_id: managerId } });
  assert.equal(qc.status, 201, qc.text);
  for (const role of ['employee', 'comms', 'admin']) {
    sql(srv, `INSERT INTO community_members (community_id, user_id, role) VALUES (${qc.body.id}, ${who[role].user.id}, 'expert')`);
  }
  const fx = { community: qc.body.id, channel: makeChannel(srv, qc.body.id, who.admin.user.id), customer: makeCustomer(srv) };
  ids.question = makeQuestion(srv, fx, { assignee: managerId });
  ids.mine = {};
  for (const role of ['employee', 'comms', 'admin']) {
    const me = who[role].user.id;
    ids.mine[role] = {
      claim: makeQuestion(srv, fx, { assignee: me }),
      unclaim: makeQuestion(srv, fx, { status: 'claimed', assignee: me, claimed: me }),
      decline: makeQuestion(srv, fx, { assignee: me }),
      message: makeQuestion(srv, fx, { assignee: me }),
    };
  }

  // Each person's own objects: a period away and a second session to revoke.
  ids.ooo = {};
  ids.spareSession = {};
  for (const role of ['employee', 'comms', 'admin']) {
    const o = await api(srv, 'POST', '/api/v1/me/out-of-office', { session: who[role], body: { starts_at: '2032-01-01T00:00:00Z', ends_at: '2032-01-02T00:00:00Z' } });
    assert.equal(o.status, 201, o.text);
    ids.ooo[role] = o.body.id;
    const extra = await session(role);
    const list = await api(srv, 'GET', '/api/v1/me/sessions', { session: extra });
    ids.spareSession[role] = list.body.items.find((s) => s.current).id;
  }
});
after(async () => { await srv?.stop(); });

const routes = routeTable();

test('the route table is read from server/routes.c', () => {
  assert.ok(routes.length >= 30, `only ${routes.length} routes found`);
  assert.ok(routes.includes('GET /api/v1/me'));
});

for (const route of Object.keys(TABLE)) {
  if (!routes.includes(route)) continue; // reported by the "no stale entries" test
  test(`${route}: anonymous, read token, employee, comms, admin`, async () => {
    const spec = TABLE[route];
    const [method, template] = route.split(' ');
    const problems = [];
    for (const role of ROLES) {
      const p = typeof spec.path === 'function' ? spec.path(role) : spec.path || template;
      const body = typeof spec.body === 'function' ? spec.body(role) : spec.body;
      const options = { body, from: nextIp() };
      if (role === 'read') options.token = who.read.token;
      else if (role !== 'anon') options.session = spec.fresh ? await session(role) : who[role];
      let res;
      try {
        res = await api(srv, method, p, options);
      } catch (err) {
        problems.push(`${role}: expected ${spec.expect[role]}, got no answer (${err.code || err.message}; did a worker crash?) (${method} ${p})`);
        await waitHealthy(srv);
        continue;
      }
      const expected = spec.expect[role];
      const ok = Array.isArray(expected) ? expected.includes(res.status) : res.status === expected;
      if (!ok) problems.push(`${role}: expected ${expected}, got ${res.status} ${res.text.slice(0, 200)} (${method} ${p})`);
      if (res.status === 401 || res.status === 403) {
        assert.ok(res.body && res.body.error, `${role}: ${res.status} has a JSON error`);
        const code401 = spec.code401 || (route === 'POST /api/v1/session' ? 'invalid_credentials' : 'unauthenticated');
        assert.equal(res.body.error.code, res.status === 401 ? code401 : 'forbidden', `${role} ${route}`);
      }
      if (res.status === 403) forbidden.push({ route, role, requestId: res.headers['x-request-id'] });
    }
    assert.deepEqual(problems, []);
  });
}

test('every route of server/routes.c has a row in this table', () => {
  const missing = routes.filter((r) => !(r in TABLE));
  assert.deepEqual(missing, [], `add the expected statuses of these routes to TABLE in tests/api/access.test.mjs: ${missing.join(', ')}`);
});

test('the table names no route that server/routes.c does not have', () => {
  const stale = Object.keys(TABLE).filter((r) => !routes.includes(r));
  assert.deepEqual(stale, [], `these routes are gone from server/routes.c: ${stale.join(', ')}`);
});

/** Every access.* audit row (newest first), following the cursor. */
async function accessRows() {
  const rows = [];
  let cursor = null;
  do {
    const page = await audit(srv, who.admin, { action: 'access', limit: 200, ...(cursor ? { cursor } : {}) });
    rows.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return rows;
}

test('every 403 of the walk wrote an access.denied audit row with its request id', async () => {
  assert.ok(forbidden.length > 40, `the walk met ${forbidden.length} refusals`);
  await eventually(async () => {
    const rows = await accessRows();
    const byRequest = new Map(rows.map((r) => [r.request_id, r]));
    const unaudited = forbidden.filter((f) => !byRequest.has(f.requestId)).map((f) => `${f.role} ${f.route}`);
    assert.deepEqual(unaudited, [], 'these refusals left no audit row');
    for (const f of forbidden) {
      const row = byRequest.get(f.requestId);
      assert.equal(row.action, 'access.denied', `${f.role} ${f.route}`);
      if (f.role === 'read') assert.ok(row.actor_token_id, 'the token is the actor');
      else assert.equal(row.actor_user_id, who[f.role].user.id, `${f.role} ${f.route}: actor`);
    }
  });
});

test('an API token with the admin scope: admin routes work without CSRF, but what needs a person is 403 and audited', async () => {
  const created = await api(srv, 'POST', '/api/v1/tokens', { session: who.admin, body: { name: 'admin scope', scopes: ['admin'] } });
  assert.equal(created.status, 201);
  const token = created.body.token;
  for (const p of ['/api/v1/users', '/api/v1/tokens', '/api/v1/audit', '/api/v1/people', '/api/v1/communities']) {
    assert.equal((await api(srv, 'GET', p, { token })).status, 200, p);
  }
  const made = await api(srv, 'POST', '/api/v1/users', { token, body: { email: uniqueEmail('by-token'), display_name: 'By token' } });
  assert.equal(made.status, 201, made.text);
  const refusals = [];
  for (const [method, p, body] of [
    ['GET', '/api/v1/me', undefined],
    ['POST', '/api/v1/tokens', { name: 'token-made-token', scopes: ['admin'] }],
    ['POST', '/api/v1/communities', { slug: 'token-made', name: 'Made by a token' }],
    ['POST', `/api/v1/users/${ids.target}/password-reset`, undefined],
    ['POST', `/api/v1/communities/${ids.open}/join`, undefined],
  ]) {
    const res = await api(srv, method, p, { token, body });
    assertError(res, 403, 'forbidden');
    refusals.push({ what: `${method} ${p}`, requestId: res.headers['x-request-id'] });
  }
  await eventually(async () => {
    const rows = await accessRows();
    const seen = new Set(rows.map((r) => r.request_id));
    assert.deepEqual(refusals.filter((r) => !seen.has(r.requestId)).map((r) => r.what), [], 'these 403s left no audit row');
  });
});

test('ids in paths are checked: unknown or malformed ids are 404, never 500', async () => {
  const admin = who.admin;
  const problems = [];
  for (const [method, p, body] of [
    ['GET', '/api/v1/people/999999999'],
    ['GET', '/api/v1/people/abc'],
    ['GET', '/api/v1/people/0'],
    ['GET', '/api/v1/communities/999999999'],
    ['GET', '/api/v1/communities/-1'],
    ['GET', '/api/v1/communities/999999999/members'],
    ['POST', '/api/v1/communities/999999999/join'],
    ['PATCH', '/api/v1/communities/999999999', { name: 'x' }],
    ['PATCH', '/api/v1/users/999999999', { job_title: 'x' }],
    ['PUT', '/api/v1/people/999999999/expertise', { expertise: [] }],
    ['DELETE', '/api/v1/tokens/999999999'],
    ['DELETE', '/api/v1/me/out-of-office/999999999'],
    ['DELETE', '/api/v1/me/sessions/99999999999999999999999'],
  ]) {
    const res = await api(srv, method, p, { session: admin, body });
    if (res.status !== 404 || res.body?.error?.code !== 'not_found') problems.push(`${method} ${p}: ${res.status} ${res.text}`);
  }
  assert.deepEqual(problems, []);
});

test('an employee cannot act on another person\'s own objects by id', async () => {
  // The comms user's period away and session, tried by the employee.
  const o = await api(srv, 'POST', '/api/v1/me/out-of-office', { session: who.comms, body: { starts_at: '2033-01-01T00:00:00Z', ends_at: '2033-01-02T00:00:00Z' } });
  assertError(await api(srv, 'DELETE', `/api/v1/me/out-of-office/${o.body.id}`, { session: who.employee }), 404, 'not_found');
  const mine = await api(srv, 'GET', '/api/v1/me/out-of-office', { session: who.comms });
  assert.ok(mine.body.items.some((i) => i.id === o.body.id), 'still there');
  const sessions = await api(srv, 'GET', '/api/v1/me/sessions', { session: who.comms });
  const sid = sessions.body.items.find((s) => s.current).id;
  assertError(await api(srv, 'DELETE', `/api/v1/me/sessions/${sid}`, { session: who.employee }), 404, 'not_found');
  assert.equal((await api(srv, 'GET', '/api/v1/me', { session: who.comms })).status, 200);
  // Nor change their account through the admin routes.
  assertError(await api(srv, 'PATCH', `/api/v1/users/${who.comms.user.id}`, { session: who.employee, body: { role: 'employee' } }), 403, 'forbidden');
  assertError(await api(srv, 'PATCH', `/api/v1/users/${who.employee.user.id}`, { session: who.employee, body: { role: 'admin' } }), 403, 'forbidden');
  assertError(await api(srv, 'PATCH', `/api/v1/users/${who.employee.user.id}`, { session: who.comms, body: { role: 'admin' } }), 403, 'forbidden');
  const me = await api(srv, 'GET', '/api/v1/me', { session: who.employee });
  assert.equal(me.body.role, 'employee');
});
