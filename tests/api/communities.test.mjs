// Communities of practice: creation, visibility (open, request, secret), joining, requests,
// invitations, leaving, removal, community roles and the last manager; races.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelais } from '../lib/harness.mjs';
import {
  api, apiOrCrash, login, loadDemo, sql, newPerson, communityId, audit, eventually, assertError,
  ADMIN_EMAIL, COMMS_EMAIL,
} from '../lib/api.mjs';

let srv, admin, comms, employee;
let slugCounter = 0;
const slug = (prefix) => `${prefix}-${Date.now().toString(36)}-${++slugCounter}`;

before(async () => {
  srv = await startRelais({ env: { RELAIS_INSECURE_COOKIES: 'true' } });
  const logins = await loadDemo(srv);
  admin = await login(srv, ADMIN_EMAIL);
  comms = await login(srv, COMMS_EMAIL);
  employee = await login(srv, logins.employee);
});
after(async () => { await srv?.stop(); });

async function create(session, body) {
  const res = await api(srv, 'POST', '/api/v1/communities', { session, body: { name: 'A community', ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function get(session, id) {
  return api(srv, 'GET', `/api/v1/communities/${id}`, { session });
}

async function members(session, id, status = 'active') {
  const res = await api(srv, 'GET', `/api/v1/communities/${id}/members?status=${status}&limit=200`, { session });
  assert.equal(res.status, 200, res.text);
  return res.body.items;
}

async function join(session, id) {
  return api(srv, 'POST', `/api/v1/communities/${id}/join`, { session });
}

/** Leaving and removal succeed with 200 (the old membership) or 204 (nothing to say). */
function assertGone(res) {
  assert.ok(res.status === 200 || res.status === 204, `${res.status} ${res.text}`);
}

function memberCount(id) {
  return Number(sql(srv, `SELECT member_count FROM communities WHERE id = ${id}`));
}

function activeRows(id) {
  return Number(sql(srv, `SELECT count(*) FROM community_members WHERE community_id = ${id} AND status = 'active'`));
}

// --- creation ------------------------------------------------------------------------------------

test('communities are created by admin or comms (employee: 403); the creator manages it', async () => {
  assertError(await api(srv, 'POST', '/api/v1/communities', { session: employee, body: { slug: slug('emp'), name: 'No' } }), 403, 'forbidden');
  const s = slug('by-comms');
  const c = await create(comms, { slug: s, name: 'Made by comms', description: 'Line one\nLine two', visibility: 'request', topics: ['billing', 'gdpr'] });
  assert.equal(c.slug, s);
  assert.equal(c.name, 'Made by comms');
  assert.equal(c.description, 'Line one\nLine two');
  assert.equal(c.visibility, 'request');
  assert.deepEqual(c.topics, ['billing', 'gdpr']);
  const seen = await get(comms, c.id);
  assert.equal(seen.body.member_count, 1, 'the creator is counted');
  assert.equal(seen.body.my_role, 'manager');
  assert.equal(seen.body.my_status, 'active');
  assert.deepEqual(seen.body.managers.map((m) => m.id), [comms.user.id]);

  // An admin may name someone else as the manager.
  const manager = await newPerson(srv, admin);
  const d = await create(admin, { slug: slug('by-admin'), manager_id: manager.id });
  assert.equal(d.visibility, 'open', 'open by default');
  assert.equal((await get(manager, d.id)).body.my_role, 'manager');
  assert.equal((await get(admin, d.id)).body.my_status, null, 'the admin did not join');
  await eventually(async () => {
    const rows = await audit(srv, admin, { action: 'community.created' });
    assert.ok(rows.items.some((r) => r.actor_user_id === comms.user.id && JSON.stringify(r).includes(s)));
  });
  assert.equal(c.member_count, 1, 'the answer to POST shows the same member_count as GET');
});

test('a slug is unique (409 slug_taken) and well-formed; other fields are checked (422)', async () => {
  const s = slug('unique');
  await create(comms, { slug: s });
  assertError(await api(srv, 'POST', '/api/v1/communities', { session: admin, body: { slug: s, name: 'Again' } }), 409, 'slug_taken', 'slug');
  const problems = [];
  for (const [body, field] of [
    [{ slug: 'Bad Slug', name: 'x' }, 'slug'], [{ slug: 'a', name: 'x' }, 'slug'], [{ slug: '-dash', name: 'x' }, 'slug'],
    [{ slug: 'under_score', name: 'x' }, 'slug'], [{ slug: 'UPPER', name: 'x' }, 'slug'], [{ slug: 'café', name: 'x' }, 'slug'],
    [{ slug: 'x'.repeat(64), name: 'x' }, 'slug'], [{ name: 'x' }, 'slug'], [{ slug: slug('noname') }, 'name'],
    [{ slug: slug('vis'), name: 'x', visibility: 'hidden' }, 'visibility'], [{ slug: slug('top'), name: 'x', topics: ['Bad Tag'] }, 'topics'],
    [{ slug: slug('top'), name: 'x', topics: 'billing' }, 'topics'], [{ slug: slug('mgr'), name: 'x', manager_id: 999999999 }, 'manager_id'],
    [{ slug: slug('mgr'), name: 'x', manager_id: 'me' }, 'manager_id'], [{ slug: slug('extra'), name: 'x', owner: 1 }, 'owner'],
  ]) {
    const res = await api(srv, 'POST', '/api/v1/communities', { session: admin, body });
    if (res.status !== 422 || res.body?.error?.field !== field) problems.push(`${JSON.stringify(body)}: ${res.status} ${res.text}`);
  }
  assert.deepEqual(problems, []);
  // Two creations racing for one slug: one wins.
  const raced = slug('race');
  const results = await Promise.all([admin, comms, admin, comms].map((sess) => api(srv, 'POST', '/api/v1/communities', { session: sess, body: { slug: raced, name: 'Race' } })));
  assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409]);
});

// --- open, request -------------------------------------------------------------------------------

test('open community: join → active member (idempotent), leave, member_count follows', async () => {
  const c = await create(comms, { slug: slug('open') });
  const p = await newPerson(srv, admin, { name: 'Open Joiner' });
  let res = await join(p, c.id);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { role: 'member', status: 'active' });
  assert.equal(memberCount(c.id), 2);
  res = await join(p, c.id);
  assert.deepEqual(res.body, { role: 'member', status: 'active' }, 'joining twice changes nothing');
  assert.equal(memberCount(c.id), 2);
  assert.ok((await members(p, c.id)).some((m) => m.id === p.id));
  assert.equal((await get(p, c.id)).body.my_status, 'active');
  const mine = await api(srv, 'GET', '/api/v1/me', { session: p });
  assert.ok(mine.body.communities.some((x) => x.id === c.id));

  res = await api(srv, 'POST', `/api/v1/communities/${c.id}/leave`, { session: p });
  assertGone(res);
  assert.equal(memberCount(c.id), 1);
  assert.ok(!(await members(p, c.id)).some((m) => m.id === p.id));
  assertError(await api(srv, 'POST', `/api/v1/communities/${c.id}/leave`, { session: p }), 409, 'not_member');
});

test('request community: join → requested; the manager sees the request and approves it', async () => {
  const c = await create(comms, { slug: slug('request'), visibility: 'request' });
  const p = await newPerson(srv, admin, { name: 'Request Joiner' });
  const member = await newPerson(srv, admin, { name: 'Plain Member' });
  sql(srv, `INSERT INTO community_members (community_id, user_id) VALUES (${c.id}, ${member.id})`);
  let res = await join(p, c.id);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { role: 'member', status: 'requested' });
  assert.deepEqual(await join(p, c.id).then((r) => r.body), { role: 'member', status: 'requested' }, 'asking twice is one request');
  assert.equal(memberCount(c.id), 2, 'a request is not a membership');
  assert.ok(!(await members(comms, c.id)).some((m) => m.id === p.id));
  assert.equal((await get(p, c.id)).body.my_status, 'requested');

  assertError(await api(srv, 'GET', `/api/v1/communities/${c.id}/members?status=requested`, { session: member }), 403, 'forbidden');
  assertError(await api(srv, 'POST', `/api/v1/communities/${c.id}/members/${p.id}/approve`, { session: member }), 403, 'forbidden');
  const requested = await members(comms, c.id, 'requested');
  assert.deepEqual(requested.map((m) => [m.id, m.status]), [[p.id, 'requested']]);

  res = await api(srv, 'POST', `/api/v1/communities/${c.id}/members/${p.id}/approve`, { session: comms });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { user_id: p.id, role: 'member', status: 'active' });
  assert.equal(memberCount(c.id), 3);
  assert.deepEqual(await members(comms, c.id, 'requested'), []);
  assertError(await api(srv, 'POST', `/api/v1/communities/${c.id}/members/${p.id}/approve`, { session: comms }), 409, 'no_request');

  // A request can be withdrawn by leaving.
  const q = await newPerson(srv, admin, { name: 'Changed Mind' });
  await join(q, c.id);
  assertGone(await api(srv, 'POST', `/api/v1/communities/${c.id}/leave`, { session: q }));
  assert.deepEqual(await members(comms, c.id, 'requested'), []);
  assertError(await api(srv, 'GET', `/api/v1/communities/${c.id}/members?status=banned`, { session: comms }), 400, 'invalid_query');
});

// --- secret ----------------------------------------------------------------------------------------

test('a secret community is 404 (not 403) for non-members, absent from their list; an invitation lets one in', async () => {
  const c = await create(comms, { slug: slug('secret'), visibility: 'secret', name: 'Hush' });
  const outsider = await newPerson(srv, admin, { name: 'Secret Outsider' });
  for (const [method, p] of [
    ['GET', `/api/v1/communities/${c.id}`], ['GET', `/api/v1/communities/${c.id}/members`],
    ['GET', `/api/v1/communities/${c.id}/members?status=invited`], ['POST', `/api/v1/communities/${c.id}/join`],
    ['POST', `/api/v1/communities/${c.id}/leave`],
  ]) {
    const res = await apiOrCrash(srv, method, p, { session: outsider });
    assert.equal(res.status, 404, `${method} ${p}: ${res.text}`);
    assertError(res, 404, 'not_found');
  }
  const unknown = await get(outsider, 999999999);
  assert.deepEqual((await get(outsider, c.id)).body, unknown.body, 'exactly like a community that does not exist');
  const list = await api(srv, 'GET', '/api/v1/communities?limit=200', { session: outsider });
  assert.ok(!list.body.items.some((x) => x.id === c.id), 'absent from the list');
  assert.ok((await api(srv, 'GET', '/api/v1/communities?limit=200', { session: comms })).body.items.some((x) => x.id === c.id), 'listed for its members');
  assert.ok((await api(srv, 'GET', '/api/v1/communities?limit=200', { session: admin })).body.items.some((x) => x.id === c.id), 'and for admins');
  assert.equal(sql(srv, `SELECT count(*) FROM community_members WHERE community_id = ${c.id} AND user_id = ${outsider.id}`), '0');

  const invited = await newPerson(srv, admin, { name: 'Secret Invitee' });
  let res = await api(srv, 'POST', `/api/v1/communities/${c.id}/invitations`, { session: comms, body: { user_id: invited.id } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { user_id: invited.id, role: 'member', status: 'invited' });
  assertError(await api(srv, 'POST', `/api/v1/communities/${c.id}/invitations`, { session: comms, body: { user_id: invited.id } }), 409, 'already_member');
  assert.deepEqual((await members(comms, c.id, 'invited')).map((m) => m.id), [invited.id]);
  assert.equal(memberCount(c.id), 1, 'an invitation is not a membership');
  const seen = await get(invited, c.id);
  assert.equal(seen.status, 200, 'the invitee sees the community');
  assert.equal(seen.body.my_status, 'invited');
  assert.ok((await api(srv, 'GET', '/api/v1/communities?limit=200', { session: invited })).body.items.some((x) => x.id === c.id));
  res = await join(invited, c.id);
  assert.deepEqual(res.body, { role: 'member', status: 'active' });
  assert.equal(memberCount(c.id), 2);
  assert.ok((await members(invited, c.id)).some((m) => m.id === invited.id));
  // A plain member cannot invite.
  assertError(await api(srv, 'POST', `/api/v1/communities/${c.id}/invitations`, { session: invited, body: { user_id: outsider.id } }), 403, 'forbidden');
  // The outsider still sees nothing.
  assert.equal((await get(outsider, c.id)).status, 404);
});

test('managers change a community (PATCH); members may not (403); non-members of a secret one get 404', async () => {
  const c = await create(comms, { slug: slug('patch'), visibility: 'secret' });
  const member = await newPerson(srv, admin);
  sql(srv, `INSERT INTO community_members (community_id, user_id) VALUES (${c.id}, ${member.id})`);
  const outsider = await newPerson(srv, admin);
  const problems = [];
  const expect = async (session, body, status, who) => {
    const res = await apiOrCrash(srv, 'PATCH', `/api/v1/communities/${c.id}`, { session, body });
    if (res.status !== status) problems.push(`${who} ${JSON.stringify(body)}: expected ${status}, got ${res.status} ${res.text}`);
    return res;
  };
  const ok = await expect(comms, { name: 'Renamed', description: 'New words', topics: ['press'], visibility: 'request' }, 200, 'manager');
  if (ok.status === 200) assert.equal(ok.body.visibility, 'request');
  await expect(admin, { name: 'By admin' }, 200, 'admin');
  await expect(member, { name: 'By member' }, 403, 'member');
  await expect(comms, { visibility: 'closed' }, 422, 'manager, bad visibility');
  await expect(comms, { slug: 'new-slug' }, 422, 'manager, slug');
  await expect(comms, { visibility: 'secret' }, 200, 'manager, back to secret');
  await expect(outsider, { name: 'By outsider' }, 404, 'outsider of a secret community');
  assert.deepEqual(problems, []);
});

// --- roles, the last manager, removal --------------------------------------------------------------

test('managers grant roles (member, expert, manager); the last manager cannot leave or be demoted (409)', async () => {
  const owner = await newPerson(srv, admin, { name: 'Owner Manager' });
  const c = await create(admin, { slug: slug('roles'), manager_id: owner.id });
  const a = await newPerson(srv, admin, { name: 'Role A' });
  const b = await newPerson(srv, admin, { name: 'Role B' });
  await join(a, c.id);
  await join(b, c.id);
  const setRole = (session, userId, role) => api(srv, 'PUT', `/api/v1/communities/${c.id}/members/${userId}`, { session, body: { role } });

  let res = await setRole(owner, a.id, 'expert');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { user_id: a.id, role: 'expert', status: 'active' });
  assert.equal((await members(owner, c.id)).find((m) => m.id === a.id).role, 'expert');
  assertError(await setRole(a, b.id, 'expert'), 403, 'forbidden');
  assertError(await setRole(b, b.id, 'manager'), 403, 'forbidden');
  assertError(await setRole(owner, a.id, 'owner'), 422, 'invalid_field', 'role');
  const stranger = await newPerson(srv, admin);
  assertError(await setRole(owner, stranger.id, 'expert'), 409);

  // The only manager can neither leave nor step down.
  assertError(await api(srv, 'POST', `/api/v1/communities/${c.id}/leave`, { session: owner }), 409, 'last_manager');
  assertError(await setRole(owner, owner.id, 'member'), 409);
  assertError(await api(srv, 'DELETE', `/api/v1/communities/${c.id}/members/${owner.id}`, { session: owner }), 409);
  assertError(await api(srv, 'DELETE', `/api/v1/communities/${c.id}/members/${owner.id}`, { session: admin }), 409);
  assert.equal((await get(owner, c.id)).body.my_role, 'manager');

  // With a second manager, the first may go.
  res = await setRole(owner, b.id, 'manager');
  assert.equal(res.body.role, 'manager');
  assert.equal((await setRole(b, a.id, 'member')).body.role, 'member', 'the new manager grants roles too');
  res = await setRole(owner, owner.id, 'expert');
  assert.equal(res.status, 200, res.text);
  assertError(await setRole(b, b.id, 'member'), 409);
  assertGone(await api(srv, 'POST', `/api/v1/communities/${c.id}/leave`, { session: owner }));
  assertError(await api(srv, 'POST', `/api/v1/communities/${c.id}/leave`, { session: b }), 409, 'last_manager');
  assert.deepEqual((await get(b, c.id)).body.managers.map((m) => m.id), [b.id]);
});

test('managers remove members; members cannot remove anyone; member_count follows', async () => {
  const c = await create(comms, { slug: slug('remove') });
  const a = await newPerson(srv, admin);
  const b = await newPerson(srv, admin);
  await join(a, c.id);
  await join(b, c.id);
  assert.equal(memberCount(c.id), 3);
  assertError(await api(srv, 'DELETE', `/api/v1/communities/${c.id}/members/${b.id}`, { session: a }), 403, 'forbidden');
  const res = await api(srv, 'DELETE', `/api/v1/communities/${c.id}/members/${b.id}`, { session: comms });
  assertGone(res);
  assert.equal(memberCount(c.id), 2);
  assert.ok(!(await members(comms, c.id)).some((m) => m.id === b.id));
  assert.equal((await get(b, c.id)).body.my_status, null);
  assertError(await api(srv, 'DELETE', `/api/v1/communities/${c.id}/members/${b.id}`, { session: comms }), 409, 'not_removed');
  // Removed people may join an open community again.
  assert.equal((await join(b, c.id)).body.status, 'active');
  assert.equal(memberCount(c.id), activeRows(c.id));
});

test('manager-only actions by a signed-in person who is not in the community are 403, not a crash', async () => {
  const c = await create(comms, { slug: slug('outside'), visibility: 'request' });
  const requester = await newPerson(srv, admin);
  await join(requester, c.id);
  const member = await newPerson(srv, admin);
  sql(srv, `INSERT INTO community_members (community_id, user_id) VALUES (${c.id}, ${member.id})`);
  const outsider = await newPerson(srv, admin, { name: 'Never Joined' });
  const problems = [];
  for (const [method, p, body] of [
    ['GET', `/api/v1/communities/${c.id}/members?status=requested`],
    ['POST', `/api/v1/communities/${c.id}/members/${requester.id}/approve`],
    ['POST', `/api/v1/communities/${c.id}/invitations`, { user_id: requester.id }],
    ['PUT', `/api/v1/communities/${c.id}/members/${member.id}`, { role: 'manager' }],
    ['DELETE', `/api/v1/communities/${c.id}/members/${member.id}`],
    ['PATCH', `/api/v1/communities/${c.id}`, { name: 'Taken over' }],
  ]) {
    const res = await apiOrCrash(srv, method, p, { session: outsider, body });
    if (res.status !== 403 || res.body?.error?.code !== 'forbidden') problems.push(`${method} ${p}: ${res.status} ${res.text}`);
  }
  assert.deepEqual(problems, []);
  assert.equal((await members(comms, c.id, 'requested')).length, 1, 'nothing changed');
  assert.equal((await members(comms, c.id)).find((m) => m.id === member.id).role, 'member');
});

// --- pagination, races, audit ---------------------------------------------------------------------

test('the member list pages with a cursor (limit=4), without duplicates', async () => {
  const id = communityId(srv, 'api-integrations');
  const all = await members(admin, id);
  assert.ok(all.length > 8);
  const seen = [];
  let cursor = null;
  do {
    const res = await api(srv, 'GET', `/api/v1/communities/${id}/members?limit=4${cursor ? `&cursor=${cursor}` : ''}`, { session: admin });
    assert.equal(res.status, 200, res.text);
    seen.push(...res.body.items.map((m) => m.id));
    cursor = res.body.next_cursor;
  } while (cursor);
  assert.deepEqual(seen, all.map((m) => m.id));
  assertError(await api(srv, 'GET', `/api/v1/communities/${id}/members?cursor=zz`, { session: admin }), 400, 'invalid_query');
});

test('20 concurrent joins of one community by one person: one membership, member_count right', async () => {
  const c = await create(comms, { slug: slug('race-join') });
  const p = await newPerson(srv, admin);
  const results = await Promise.all(Array.from({ length: 20 }, () => join(p, c.id)));
  assert.deepEqual([...new Set(results.map((r) => r.status))], [200], results.map((r) => r.text).join('\n'));
  assert.ok(results.every((r) => r.body.status === 'active'));
  assert.equal(sql(srv, `SELECT count(*) FROM community_members WHERE community_id = ${c.id} AND user_id = ${p.id}`), '1');
  assert.equal(memberCount(c.id), 2);
  assert.equal(memberCount(c.id), activeRows(c.id));
  await eventually(async () => {
    const rows = await audit(srv, admin, { action: 'membership.joined', object_type: 'community', object_id: String(c.id), limit: 200 });
    assert.equal(rows.items.length, 1, 'one membership, one audit row');
  });
  // And on a request community, 20 concurrent requests are one request.
  const r = await create(comms, { slug: slug('race-request'), visibility: 'request' });
  const asked = await Promise.all(Array.from({ length: 20 }, () => join(p, r.id)));
  assert.ok(asked.every((x) => x.status === 200 && x.body.status === 'requested'));
  assert.equal((await members(comms, r.id, 'requested')).length, 1);
  assert.equal(memberCount(r.id), 1);
});

test('two managers leaving (or stepping down) at the same moment still leave the community a manager', async () => {
  const problems = [];
  const m1 = await newPerson(srv, admin);
  const m2 = await newPerson(srv, admin);
  for (let round = 0; round < 20; round++) {
    const c = await create(admin, { slug: slug('race-managers'), manager_id: m1.id });
    await join(m2, c.id);
    const promoted = await api(srv, 'PUT', `/api/v1/communities/${c.id}/members/${m2.id}`, { session: m1, body: { role: 'manager' } });
    assert.equal(promoted.status, 200);
    const results = round % 2 === 0
      ? await Promise.all([m1, m2].map((m) => api(srv, 'POST', `/api/v1/communities/${c.id}/leave`, { session: m })))
      : await Promise.all([[m1, m2], [m2, m1]].map(([who, target]) => api(srv, 'PUT', `/api/v1/communities/${c.id}/members/${target.id}`, { session: who, body: { role: 'member' } })));
    const managers = Number(sql(srv, `SELECT count(*) FROM community_members WHERE community_id = ${c.id} AND role = 'manager' AND status = 'active'`));
    if (managers < 1) problems.push(`round ${round} (${round % 2 ? 'demote each other' : 'both leave'}): answers ${results.map((r) => r.status).join(', ')} and no manager left`);
  }
  assert.deepEqual(problems, []);
});

test('membership changes are audited against the community', async () => {
  const c = await create(comms, { slug: slug('audited'), visibility: 'request' });
  const p = await newPerson(srv, admin);
  const q = await newPerson(srv, admin);
  await join(p, c.id);
  await api(srv, 'POST', `/api/v1/communities/${c.id}/members/${p.id}/approve`, { session: comms });
  await api(srv, 'PUT', `/api/v1/communities/${c.id}/members/${p.id}`, { session: comms, body: { role: 'expert' } });
  await api(srv, 'POST', `/api/v1/communities/${c.id}/invitations`, { session: comms, body: { user_id: q.id } });
  await join(q, c.id);
  await api(srv, 'DELETE', `/api/v1/communities/${c.id}/members/${q.id}`, { session: comms });
  await api(srv, 'POST', `/api/v1/communities/${c.id}/leave`, { session: p });
  await eventually(async () => {
    const rows = await audit(srv, admin, { object_type: 'community', object_id: String(c.id), limit: 200 });
    const actions = rows.items.map((r) => r.action).reverse();
    for (const a of ['community.created', 'membership.joined', 'membership.approved', 'membership.role_changed', 'membership.invited', 'membership.removed', 'membership.left']) {
      assert.ok(actions.includes(a), `${a} is in the community's audit trail: ${actions.join(', ')}`);
    }
    const role = rows.items.find((r) => r.action === 'membership.role_changed');
    assert.equal(role.actor_user_id, comms.user.id);
    assert.equal(role.details.role, 'expert');
    assert.equal(String(role.details.user_id), String(p.id));
  });
});
