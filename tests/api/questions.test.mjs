// The expert inbox (scopes, order, filters, paging), the question view, and the actions:
// claim (also 20 at once), unclaim, decline, assign (to a person, to another community) and
// messages to the customer; bad input on each route.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, sql, assertError, audit, eventually } from '../lib/api.mjs';
import { setup, makeQuestion, makeCommunity, notifications, eventKinds, lit } from '../lib/questions.mjs';

let fx, srv, p, admin;

before(async () => {
  fx = await setup();
  ({ srv, p, admin } = fx);
});
after(async () => { await fx?.srv?.stop(); });

const get = (session, path) => api(srv, 'GET', path, { session });
const post = (session, path, body) => api(srv, 'POST', path, { session, body });
const ids = (res) => res.body.items.map((q) => q.id);

async function list(session, query = '') {
  const res = await get(session, `/api/v1/questions${query}`);
  assert.equal(res.status, 200, res.text);
  return res;
}

/** Every page of a list, following next_cursor. */
async function allPages(session, query) {
  const out = [];
  let cursor = null;
  for (let i = 0; i < 50; i++) {
    const sep = query.includes('?') ? '&' : '?';
    const res = await list(session, `${query}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...ids(res));
    cursor = res.body.next_cursor;
    if (!cursor) return out;
  }
  throw new Error('too many pages');
}

// --- the inbox ------------------------------------------------------------------------------------

test('mine: assigned to or claimed by me, open only, by deadline (none last) then id, paged', async () => {
  const me = p.expert2;
  const late = makeQuestion(srv, fx, { assignee: me, sla: 7200 });
  const none1 = makeQuestion(srv, fx, { assignee: me, sla: null, status: 'waiting_customer', paused: 600 });
  const soon = makeQuestion(srv, fx, { assignee: me, sla: 600 });
  const overdue = makeQuestion(srv, fx, { assignee: me, sla: -300, status: 'escalated' });
  const claimed = makeQuestion(srv, fx, { assignee: p.expert, claimed: me, status: 'claimed', sla: 3000 });
  const none2 = makeQuestion(srv, fx, { assignee: me, sla: null });
  const sameDue = makeQuestion(srv, fx, { assignee: me, sla: 7200 });
  sql(srv, `UPDATE questions SET sla_due_at = (SELECT sla_due_at FROM questions WHERE id = ${late}) WHERE id = ${sameDue}`);
  // Not in the inbox: closed, answered, triage, routing, someone else's.
  makeQuestion(srv, fx, { assignee: me, status: 'closed' });
  makeQuestion(srv, fx, { assignee: me, status: 'answered' });
  makeQuestion(srv, fx, { assignee: null, status: 'triage', sla: null });
  makeQuestion(srv, fx, { assignee: null, primary: me, status: 'routing' });
  makeQuestion(srv, fx, { assignee: p.expert, sla: 10 });

  const expected = [overdue, soon, claimed, late, sameDue, none1, none2];
  const res = await list(me);
  assert.deepEqual(ids(res), expected);
  assert.equal(res.body.next_cursor, null);
  assert.deepEqual(ids(await list(me, '?scope=mine')), expected, 'mine is the default');
  for (const limit of [1, 2, 3]) {
    assert.deepEqual(await allPages(me, `?limit=${limit}`), expected, `pages of ${limit}`);
  }
  const first = await list(me, '?limit=2');
  assert.equal(first.body.items.length, 2);
  assert.equal(typeof first.body.next_cursor, 'string');
  assert.ok(!('cursor' in first.body.items[0]));

  assert.deepEqual(ids(await list(me, '?status=claimed')), [claimed]);
  assert.deepEqual(ids(await list(me, '?status=waiting_customer')), [none1]);
  assert.deepEqual(ids(await list(me, '?status=closed')), [], 'mine holds open questions only');
  assert.deepEqual(ids(await list(me, `?community_id=${fx.community2}`)), []);
  assert.deepEqual(ids(await list(me, `?community_id=${fx.community}&status=assigned`)), [soon, late, sameDue, none2]);

  const item = res.body.items[0];
  assert.equal(item.status, 'escalated');
  assert.ok(item.sla_remaining_seconds < 0 && item.sla_remaining_seconds > -400, `overdue: ${item.sla_remaining_seconds}`);
  const paused = res.body.items.find((q) => q.id === none1);
  assert.equal(paused.sla_due_at, null);
  assert.ok(paused.sla_remaining_seconds > 590 && paused.sla_remaining_seconds <= 600, 'paused: the time that was left');
  assert.equal(res.body.items.find((q) => q.id === none2).sla_remaining_seconds, null);
  assert.deepEqual(res.body.items.find((q) => q.id === claimed).claimed_by, { id: me.id, display_name: 'Person expert2' });
});

test('triage: the queue of the communities I manage (all for admins), oldest first', async () => {
  const t1 = makeQuestion(srv, fx, { status: 'triage', sla: null });
  const t2 = makeQuestion(srv, fx, { status: 'triage', sla: null });
  const other = makeQuestion(srv, fx, { status: 'triage', sla: null, community: fx.community2, channel: fx.channel2 });
  makeQuestion(srv, fx, { status: 'assigned', assignee: p.expert });

  const mine = await allPages(p.manager, '?scope=triage&limit=1');
  assert.ok(mine.includes(t1) && mine.includes(t2) && !mine.includes(other), JSON.stringify(mine));
  assert.deepEqual(mine, [...mine].sort((a, b) => a - b), 'oldest first');
  assert.deepEqual(await allPages(p.manager2, '?scope=triage'), [other]);
  const all = await allPages(admin, '?scope=triage&limit=2');
  assert.ok([t1, t2, other].every((id) => all.includes(id)));
  assert.deepEqual(ids(await list(admin, `?scope=triage&community_id=${fx.community2}`)), [other]);
  assert.deepEqual(ids(await list(p.expert, '?scope=triage')), [], 'experts have no triage queue');
  assert.deepEqual(ids(await list(p.manager, '?scope=triage&status=assigned')), []);
  const item = (await list(p.manager, '?scope=triage')).body.items.find((q) => q.id === t1);
  assert.equal(item.status, 'triage');
  assert.equal(item.community.id, fx.community);
});

test('community: members see its questions newest first; triage only for managers; outsiders 404', async () => {
  const community = await makeCommunity(srv, admin, p.manager, [[p.member, 'member'], [p.expert, 'expert']]);
  const channel = Number(sql(srv, `INSERT INTO channels (kind, name, slug, community_id, language, sla_seconds, owner_user_id, created_by)
    VALUES ('web_form', 'Form', 'form-${community}', ${community}, 'en', 600, ${admin.user.id}, ${admin.user.id}) RETURNING id`));
  const a = makeQuestion(srv, fx, { community, channel, assignee: p.expert });
  const b = makeQuestion(srv, fx, { community, channel, status: 'answered', assignee: p.expert });
  const t = makeQuestion(srv, fx, { community, channel, status: 'triage', sla: null });
  const c = makeQuestion(srv, fx, { community, channel, status: 'closed' });

  assert.deepEqual(await allPages(p.member, `?scope=community&community_id=${community}&limit=2`), [c, b, a]);
  assert.deepEqual(await allPages(p.manager, `?scope=community&community_id=${community}&limit=1`), [c, t, b, a]);
  assert.deepEqual(await allPages(admin, `?scope=community&community_id=${community}`), [c, t, b, a]);
  assert.deepEqual(ids(await list(p.member, `?scope=community&community_id=${community}&status=answered`)), [b]);
  assert.deepEqual(ids(await list(p.member, `?scope=community&community_id=${community}&status=triage`)), []);
  assertError(await get(p.outsider, `/api/v1/questions?scope=community&community_id=${community}`), 404, 'not_found');
  assertError(await get(p.outsider, '/api/v1/questions?scope=community&community_id=999999999'), 404, 'not_found');
  // An invitation is not a membership.
  sql(srv, `INSERT INTO community_members (community_id, user_id, role, status) VALUES (${community}, ${p.outsider.id}, 'member', 'invited')`);
  assertError(await get(p.outsider, `/api/v1/questions?scope=community&community_id=${community}`), 404, 'not_found');
});

test('list filters are checked: 422 invalid_field naming the filter; limit 400', async () => {
  const cases = [
    ['?scope=everything', 'scope'], ['?scope=', 'scope'], ['?status=open', 'status'], ['?status=', 'status'],
    ['?community_id=abc', 'community_id'], ['?community_id=-1', 'community_id'], ['?community_id=0', 'community_id'],
    ['?community_id=99999999999999999999', 'community_id'], ['?scope=community', 'community_id'],
    ['?cursor=abc', 'cursor'], ['?cursor=12', 'cursor'], ['?cursor=1.', 'cursor'], ['?cursor=.5', 'cursor'],
    ['?cursor=1.2.3', 'cursor'], ['?scope=triage&cursor=x1', 'cursor'], ['?scope=triage&cursor=1.2', 'cursor'],
    [`?scope=community&community_id=${fx.community}&cursor=-5`, 'cursor'],
  ];
  for (const [query, field] of cases) {
    assertError(await get(p.expert, `/api/v1/questions${query}`), 422, 'invalid_field', field);
  }
  for (const limit of ['0', '201', 'x', '-1']) {
    assertError(await get(p.expert, `/api/v1/questions?limit=${limit}`), 400, 'invalid_query', 'limit');
  }
  assertError(await api(srv, 'GET', '/api/v1/questions'), 401);
});

// --- the view -------------------------------------------------------------------------------------

test('view: channel, community, people, SLA, crisis, messages, routing, timeline and can', async () => {
  const q = makeQuestion(srv, fx, { assignee: p.expert, backup: p.backup, sla: 1800, tags: ['refunds'], topic: 'refunds', title: 'Refund please', body: 'Body text' });
  sql(srv, `INSERT INTO question_messages (question_id, author, body) VALUES (${q}, 'customer', 'More details')`);
  sql(srv, `INSERT INTO question_routes (question_id, user_id, rank, score, parts) VALUES
    (${q}, ${p.expert.id}, 1, 42, '{"expertise": 20, "language": 20, "availability": 0, "load": 2}'),
    (${q}, ${p.backup.id}, 2, 30, '{"expertise": 10, "language": 20, "availability": 0, "load": 0}')`);
  sql(srv, `SELECT question_event(${q}, 'question.received', NULL, '{"channel": "api"}'), question_event(${q}, 'question.routed', ${p.manager.id}, '{"user_id": ${p.expert.id}}')`);

  let res = await get(p.expert, `/api/v1/questions/${q}`);
  assert.equal(res.status, 200, res.text);
  const v = res.body;
  assert.equal(v.id, q);
  assert.equal(v.title, 'Refund please');
  assert.equal(v.body, 'Body text');
  assert.equal(v.status, 'assigned');
  assert.equal(v.language, 'en');
  assert.deepEqual(v.tags, ['refunds']);
  assert.deepEqual(v.channel, { id: fx.channel, name: 'Channel', kind: 'api' });
  assert.equal(v.community.id, fx.community);
  assert.deepEqual(v.customer, { pseudonym: fx.customer.pseudonym });
  assert.match(v.customer.pseudonym, /^Customer [0-9A-F]{4}$/);
  assert.deepEqual(v.assignee, { id: p.expert.id, display_name: 'Person expert' });
  assert.deepEqual(v.primary_expert, v.assignee);
  assert.deepEqual(v.backup_expert, { id: p.backup.id, display_name: 'Person backup' });
  assert.equal(v.claimed_by, null);
  assert.ok(v.sla_remaining_seconds > 1700 && v.sla_remaining_seconds <= 1800, String(v.sla_remaining_seconds));
  assert.ok(Math.abs(Date.parse(v.sla_due_at) - Date.now() - 1800e3) < 120e3);
  assert.equal(v.escalation_level, 0);
  assert.equal(v.crisis, false);
  assert.deepEqual(v.messages.map((m) => [m.author, m.body, m.author_user]), [['customer', 'More details', null]]);
  assert.deepEqual(v.routing.map((r) => [r.user.id, r.rank, r.score, r.parts.expertise]), [[p.expert.id, 1, 42, 20], [p.backup.id, 2, 30, 10]]);
  assert.ok(v.routing[0].created_at);
  assert.deepEqual(v.timeline.map((e) => e.kind), ['question.received', 'question.routed']);
  assert.equal(v.timeline[0].actor, null);
  assert.deepEqual(v.timeline[1].actor, { id: p.manager.id, display_name: 'Person manager' });
  assert.deepEqual(v.timeline[0].details, { channel: 'api' });
  assert.ok(v.timeline[0].at && v.timeline[0].id);
  assert.deepEqual(v.can, { claim: true, unclaim: false, decline: true, assign: false, message: true });

  // Crisis: the topic (or a tag) is in crisis in the community.
  sql(srv, `INSERT INTO crisis_topics (community_id, topic, set_by) VALUES (${fx.community}, 'refunds', ${p.manager.id})`);
  assert.equal((await get(p.expert, `/api/v1/questions/${q}`)).body.crisis, true);
  sql(srv, `DELETE FROM crisis_topics WHERE community_id = ${fx.community}`);

  res = await get(p.manager, `/api/v1/questions/${q}`);
  assert.deepEqual(res.body.can, { claim: true, unclaim: false, decline: false, assign: true, message: true });
  res = await get(p.member, `/api/v1/questions/${q}`);
  assert.deepEqual(res.body.can, { claim: false, unclaim: false, decline: false, assign: false, message: false });
  res = await get(p.backup, `/api/v1/questions/${q}`);
  assert.equal(res.body.can.claim, true);

  assertError(await get(p.outsider, `/api/v1/questions/${q}`), 404, 'question_not_found');
  assertError(await get(p.expert, '/api/v1/questions/999999999'), 404);
  assertError(await get(p.expert, '/api/v1/questions/abc'), 404);
  assertError(await get(p.expert, '/api/v1/questions/-1'), 404);
  assertError(await get(p.expert, '/api/v1/questions/99999999999999999999999'), 404);
});

test('visibility: triage only for managers and admins; former assignees keep seeing', async () => {
  const t = makeQuestion(srv, fx, { status: 'triage', sla: null, assignee: null, primary: p.expert });
  assert.equal((await get(p.manager, `/api/v1/questions/${t}`)).status, 200);
  assert.equal((await get(admin, `/api/v1/questions/${t}`)).status, 200);
  for (const s of [p.expert, p.member, p.outsider, p.manager2]) {
    assertError(await get(s, `/api/v1/questions/${t}`), 404, 'question_not_found');
  }
  // An outsider who was routed the question (then left the community) still sees it.
  const q = makeQuestion(srv, fx, { assignee: p.expert });
  assertError(await get(p.outsider, `/api/v1/questions/${q}`), 404);
  sql(srv, `INSERT INTO question_routes (question_id, user_id, rank, score, parts) VALUES (${q}, ${p.outsider.id}, 2, 1, '{}')`);
  assert.equal((await get(p.outsider, `/api/v1/questions/${q}`)).status, 200);
  const q2 = makeQuestion(srv, fx, { assignee: p.expert });
  sql(srv, `SELECT question_event(${q2}, 'question.assigned', NULL, '{"user_id": ${p.manager2.id}}')`);
  assert.equal((await get(p.manager2, `/api/v1/questions/${q2}`)).status, 200);
  // Claimed questions are seen by the claimer, whatever their membership.
  const q3 = makeQuestion(srv, fx, { assignee: p.expert, claimed: p.outsider, status: 'claimed' });
  assert.equal((await get(p.outsider, `/api/v1/questions/${q3}`)).status, 200);
});

// --- claim and unclaim ------------------------------------------------------------------------------

test('claim and unclaim: who may, states, conflicts and the timeline', async () => {
  const q = makeQuestion(srv, fx, { assignee: p.expert, backup: p.backup });
  assertError(await post(p.outsider, `/api/v1/questions/${q}/claim`), 404, 'question_not_found');
  assertError(await post(p.member, `/api/v1/questions/${q}/claim`), 403, 'forbidden');
  assertError(await post(p.expert, `/api/v1/questions/${q}/unclaim`), 409, 'not_claimed');

  let res = await post(p.expert, `/api/v1/questions/${q}/claim`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.status, 'claimed');
  assert.deepEqual(res.body.claimed_by, { id: p.expert.id, display_name: 'Person expert' });
  assert.deepEqual(res.body.can, { claim: false, unclaim: true, decline: true, assign: false, message: true });
  assertError(await post(p.expert, `/api/v1/questions/${q}/claim`), 409, 'already_claimed');
  assertError(await post(p.backup, `/api/v1/questions/${q}/claim`), 409, 'already_claimed');
  assertError(await post(p.backup, `/api/v1/questions/${q}/unclaim`), 403, 'forbidden');
  await eventually(async () => {
    const rows = await audit(srv, admin, { action: 'access.denied' });
    assert.ok(rows.items.some((r) => r.object_type === 'question' && r.object_id === String(q)));
  });

  res = await post(p.expert, `/api/v1/questions/${q}/unclaim`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.status, 'assigned');
  assert.equal(res.body.claimed_by, null);
  assert.deepEqual(res.body.assignee, { id: p.expert.id, display_name: 'Person expert' });

  // The backup may claim; so may another expert; the claimer has it in their inbox.
  res = await post(p.backup, `/api/v1/questions/${q}/claim`);
  assert.equal(res.status, 200, res.text);
  assert.ok((await list(p.backup)).body.items.some((x) => x.id === q));
  assert.deepEqual(eventKinds(srv, q), ['question.claimed', 'question.unclaimed', 'question.claimed']);
  assert.equal(sql(srv, `SELECT actor_user_id FROM question_events WHERE question_id = ${q} ORDER BY id DESC LIMIT 1`), String(p.backup.id));

  // Closed, triage and routing questions cannot be claimed.
  for (const status of ['closed', 'routing', 'answered']) {
    const x = makeQuestion(srv, fx, { assignee: p.expert, status });
    assertError(await post(p.expert, `/api/v1/questions/${x}/claim`), 409, 'invalid_state');
  }
  const t = makeQuestion(srv, fx, { status: 'triage', sla: null });
  assertError(await post(p.expert, `/api/v1/questions/${t}/claim`), 404);
  assertError(await post(p.manager, `/api/v1/questions/${t}/claim`), 409, 'invalid_state');
  assertError(await post(p.expert, '/api/v1/questions/999999999/claim'), 404);
  assertError(await post(p.expert, '/api/v1/questions/abc/claim'), 404);
  // Without the CSRF token: refused before anything happens.
  const y = makeQuestion(srv, fx, { assignee: p.expert });
  assert.equal((await api(srv, 'POST', `/api/v1/questions/${y}/claim`, { session: p.expert, csrf: false })).status, 403);
  assert.equal(sql(srv, `SELECT status FROM questions WHERE id = ${y}`), 'assigned');
  assert.equal((await api(srv, 'POST', `/api/v1/questions/${y}/claim`)).status, 401);
});

test('20 concurrent claims: exactly one wins, the others get 409 already_claimed', async () => {
  const q = makeQuestion(srv, fx, { assignee: p.expert, backup: p.backup });
  const claimers = [p.expert, p.backup, p.expert2, p.manager];
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => post(claimers[i % 4], `/api/v1/questions/${q}/claim`)));
  const ok = results.filter((r) => r.status === 200);
  assert.equal(ok.length, 1, results.map((r) => `${r.status} ${r.text.slice(0, 80)}`).join('\n'));
  for (const r of results.filter((x) => x.status !== 200)) assertError(r, 409, 'already_claimed');
  assert.equal(sql(srv, `SELECT count(*) FROM question_events WHERE question_id = ${q} AND kind = 'question.claimed'`), '1');
  assert.equal(sql(srv, `SELECT claimed_by FROM questions WHERE id = ${q}`), String(ok[0].body.claimed_by.id));
});

// --- decline ------------------------------------------------------------------------------------

test('decline: the assignee, with a reason; the question goes back to routing; twice is 409', async () => {
  const q = makeQuestion(srv, fx, { assignee: p.expert, backup: p.backup });
  assertError(await post(p.backup, `/api/v1/questions/${q}/decline`, { reason: 'Not me' }), 403, 'forbidden');
  assertError(await post(p.outsider, `/api/v1/questions/${q}/decline`, { reason: 'Not me' }), 404);
  const bad = [
    [{}, 'reason'], [{ reason: '' }, 'reason'], [{ reason: '   ' }, 'reason'], [{ reason: 42 }, 'reason'],
    [{ reason: null }, 'reason'], [{ reason: ['x'] }, 'reason'], [{ reason: 'x'.repeat(501) }, 'reason'],
    [{ reason: 'ok', extra: 1 }, 'extra'], [{ reason: 'bad\u0001char' }, 'reason'],
  ];
  for (const [body, field] of bad) {
    assertError(await post(p.expert, `/api/v1/questions/${q}/decline`, body), 422, 'invalid_field', field);
  }
  for (const raw of ['not json', '[1,2]', '"reason"']) {
    const r = await api(srv, 'POST', `/api/v1/questions/${q}/decline`, { session: p.expert, body: raw });
    assert.ok(r.status === 400 || r.status === 422, `${raw}: ${r.status}`);
  }
  const big = await api(srv, 'POST', `/api/v1/questions/${q}/decline`, { session: p.expert, body: { reason: 'x'.repeat(5000) } });
  assert.equal(big.status, 413);

  const res = await post(p.expert, `/api/v1/questions/${q}/decline`, { reason: 'On holiday next week' });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.status, 'routing');
  assert.equal(res.body.assignee, null);
  assert.equal(sql(srv, `SELECT reason FROM question_declines WHERE question_id = ${q} AND user_id = ${p.expert.id}`), 'On holiday next week');
  // The routing job runs at once: the question may already have its new decision.
  assert.deepEqual(eventKinds(srv, q).slice(0, 2), ['question.declined', 'question.rerouted']);
  await eventually(() => assert.match(sql(srv, `SELECT status FROM questions WHERE id = ${q}`), /^(assigned|triage)$/), 10000);
  await eventually(async () => {
    const rows = await audit(srv, admin, { action: 'question.declined' });
    assert.ok(rows.items.some((r) => r.object_id === String(q) && r.actor_user_id === p.expert.id));
  });
  assertError(await post(p.expert, `/api/v1/questions/${q}/decline`, { reason: 'again' }), 409, 'already_declined');
  // The decliner still sees the question they were given.
  assert.equal((await get(p.expert, `/api/v1/questions/${q}`)).status, 200);
  // Concurrent declines of another question: one wins.
  const q2 = makeQuestion(srv, fx, { assignee: p.expert2 });
  const rs = await Promise.all(Array.from({ length: 6 }, () => post(p.expert2, `/api/v1/questions/${q2}/decline`, { reason: 'no' })));
  assert.equal(rs.filter((r) => r.status === 200).length, 1, rs.map((r) => r.status).join());
  for (const r of rs.filter((x) => x.status !== 200)) assertError(r, 409, 'already_declined');
  assert.equal(sql(srv, `SELECT count(*) FROM question_events WHERE question_id = ${q2} AND kind = 'question.rerouted'`), '1');
});

// --- assign -----------------------------------------------------------------------------------------

test('assign to a person: managers and admins; SLA armed from triage; notifications; audit', async () => {
  const q = makeQuestion(srv, fx, { status: 'triage', sla: null, assignee: null, primary: null });
  sql(srv, `UPDATE questions SET triage_reason = 'no_expert' WHERE id = ${q}`);
  assertError(await post(p.expert, `/api/v1/questions/${q}/assign`, { user_id: p.expert.id }), 404, 'question_not_found');
  assertError(await post(p.manager2, `/api/v1/questions/${q}/assign`, { user_id: p.expert.id }), 404);
  assertError(await post(p.manager, `/api/v1/questions/${q}/assign`, { user_id: p.outsider.id }), 422, 'invalid_field', 'user_id');
  assertError(await post(p.manager, `/api/v1/questions/${q}/assign`, { user_id: 999999999 }), 422, 'invalid_field', 'user_id');
  const bad = [
    [{}, 'user_id'], [{ user_id: 'x' }, 'user_id'], [{ user_id: 0 }, 'user_id'], [{ user_id: -3 }, 'user_id'],
    [{ user_id: 1.5 }, 'user_id'], [{ user_id: p.expert.id, community_id: fx.community }, 'community_id'],
    [{ community_id: 'x' }, 'community_id'], [{ user: 1 }, 'user'],
  ];
  for (const [body, field] of bad) {
    assertError(await post(p.manager, `/api/v1/questions/${q}/assign`, body), 422, 'invalid_field', field);
  }

  let res = await post(p.manager, `/api/v1/questions/${q}/assign`, { user_id: p.expert.id });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.status, 'assigned');
  assert.equal(res.body.triage_reason, '');
  assert.deepEqual(res.body.assignee, { id: p.expert.id, display_name: 'Person expert' });
  assert.ok(res.body.sla_remaining_seconds > 3500 && res.body.sla_remaining_seconds <= 3600, 'the channel SLA is armed');
  assert.equal(sql(srv, `SELECT count(*) FROM jobs WHERE kind = 'question.sla' AND payload->>'question_id' = '${q}'`), '1');
  assert.deepEqual(notifications(srv, p.expert.id, q).map((n) => [n.kind, n.actor_user_id]), [['question.assigned', p.manager.id]]);
  const due = res.body.sla_due_at;

  // The expert now sees it, and the assignment names them: reassigning keeps the deadline.
  assert.ok((await list(p.expert)).body.items.some((x) => x.id === q));
  assertError(await post(p.expert, `/api/v1/questions/${q}/assign`, { user_id: p.expert2.id }), 403, 'forbidden');
  assert.equal((await post(p.expert, `/api/v1/questions/${q}/claim`)).status, 200);
  res = await post(admin, `/api/v1/questions/${q}/assign`, { user_id: p.expert2.id });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.claimed_by, null, 'the claim ends with the assignment');
  assert.equal(res.body.sla_due_at, due);
  assert.deepEqual(notifications(srv, p.expert.id, q).map((n) => n.kind), ['question.assigned', 'question.unassigned']);
  assert.deepEqual(notifications(srv, p.expert2.id, q).map((n) => n.kind), ['question.assigned']);
  assert.deepEqual(eventKinds(srv, q), ['question.assigned', 'question.claimed', 'question.assigned']);
  await eventually(async () => {
    const rows = await audit(srv, admin, { action: 'question.assigned' });
    assert.equal(rows.items.filter((r) => r.object_id === String(q)).length, 2);
  });
  // A closed question is not assigned again.
  const closed = makeQuestion(srv, fx, { status: 'closed', assignee: p.expert });
  assertError(await post(p.manager, `/api/v1/questions/${closed}/assign`, { user_id: p.expert2.id }), 409, 'invalid_state');
  assertError(await post(p.manager, '/api/v1/questions/999999999/assign', { user_id: p.expert2.id }), 404);
});

test('assign to a community: moved and routed again; the previous assignee is told', async () => {
  const q = makeQuestion(srv, fx, { assignee: p.expert });
  assertError(await post(p.manager, `/api/v1/questions/${q}/assign`, { community_id: 999999999 }), 422, 'invalid_field', 'community_id');
  assertError(await post(p.member, `/api/v1/questions/${q}/assign`, { community_id: fx.community2 }), 403, 'forbidden');
  const res = await post(p.manager, `/api/v1/questions/${q}/assign`, { community_id: fx.community2 });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.status, 'routing');
  assert.equal(sql(srv, `SELECT community_id FROM questions WHERE id = ${q}`), String(fx.community2));
  assert.deepEqual(eventKinds(srv, q).slice(0, 2), ['question.moved', 'question.rerouted']);
  assert.deepEqual(notifications(srv, p.expert.id, q).map((n) => n.kind), ['question.unassigned']);
  // Routed again in its new community (or waiting in its triage queue).
  await eventually(() => assert.match(sql(srv, `SELECT status FROM questions WHERE id = ${q}`), /^(assigned|triage)$/), 10000);
  await eventually(async () => {
    const rows = await audit(srv, admin, { action: 'question.moved' });
    assert.ok(rows.items.some((r) => r.object_id === String(q)));
  });
  // The manager of the first community does not belong to the second: the question is gone for them.
  assertError(await get(p.manager, `/api/v1/questions/${q}`), 404);
  assert.equal((await get(p.manager2, `/api/v1/questions/${q}`)).status, 200);
});

// --- messages to the customer -----------------------------------------------------------------------------

test('messages: the assignee asks the customer; wait_for_customer pauses the SLA; first response', async () => {
  const q = makeQuestion(srv, fx, { assignee: p.expert, sla: 1200 });
  assertError(await post(p.member, `/api/v1/questions/${q}/messages`, { body: 'Hello' }), 403, 'forbidden');
  assertError(await post(p.outsider, `/api/v1/questions/${q}/messages`, { body: 'Hello' }), 404);
  const bad = [
    [{}, 'body'], [{ body: '' }, 'body'], [{ body: ' \n ' }, 'body'], [{ body: 7 }, 'body'], [{ body: 'x'.repeat(20001) }, 'body'],
    [{ body: 'ok', wait_for_customer: 'yes' }, 'wait_for_customer'], [{ body: 'ok', wait_for_customer: 1 }, 'wait_for_customer'],
    [{ body: 'ok', to: 'x' }, 'to'],
  ];
  for (const [body, field] of bad) {
    assertError(await post(p.expert, `/api/v1/questions/${q}/messages`, body), 422, 'invalid_field', field);
  }
  assert.equal((await post(p.expert, `/api/v1/questions/${q}/messages`, { body: 'x'.repeat(40000) })).status, 413);

  let res = await post(p.expert, `/api/v1/questions/${q}/messages`, { body: 'Which invoice number?\nThanks', wait_for_customer: true });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.message.author, 'expert');
  assert.equal(res.body.message.body, 'Which invoice number?\nThanks');
  assert.deepEqual(res.body.message.author_user, { id: p.expert.id, display_name: 'Person expert' });
  assert.equal(res.body.question.status, 'waiting_customer');
  assert.equal(res.body.question.sla_due_at, null);
  assert.ok(res.body.question.sla_remaining_seconds > 1100 && res.body.question.sla_remaining_seconds <= 1200);
  const first = res.body.question.first_response_at;
  assert.ok(first);
  assert.deepEqual(eventKinds(srv, q), ['question.message', 'sla.paused']);

  // Without waiting: the clock is untouched, the first response stays the first.
  const q2 = makeQuestion(srv, fx, { assignee: p.expert, sla: 1200 });
  res = await post(p.manager, `/api/v1/questions/${q2}/messages`, { body: 'From the manager' });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.question.status, 'assigned');
  assert.ok(res.body.question.sla_due_at);
  res = await post(p.expert, `/api/v1/questions/${q}/messages`, { body: 'Another one' });
  assert.equal(res.status, 201);
  assert.equal(res.body.question.first_response_at, first);
  const view = await get(p.expert, `/api/v1/questions/${q}`);
  assert.deepEqual(view.body.messages.map((m) => m.body), ['Which invoice number?\nThanks', 'Another one']);
  const closed = makeQuestion(srv, fx, { assignee: p.expert, status: 'closed' });
  assertError(await post(p.expert, `/api/v1/questions/${closed}/messages`, { body: 'late' }), 409, 'invalid_state');
  assert.equal(sql(srv, `SELECT count(*) FROM question_messages WHERE question_id = ${closed}`), '0');
});

test('unclaim while waiting for the customer keeps waiting; a claimer may write', async () => {
  const q = makeQuestion(srv, fx, { assignee: p.expert, backup: p.backup, sla: 900 });
  assert.equal((await post(p.backup, `/api/v1/questions/${q}/claim`)).status, 200);
  let res = await post(p.backup, `/api/v1/questions/${q}/messages`, { body: 'Details?', wait_for_customer: true });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.question.status, 'waiting_customer');
  res = await post(p.backup, `/api/v1/questions/${q}/unclaim`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.status, 'waiting_customer');
  assert.equal(res.body.claimed_by, null);
  sql(srv, `SELECT question_sla_resume(${q})`);
  assert.equal(sql(srv, `SELECT status FROM questions WHERE id = ${q}`), 'assigned');
  assert.ok(lit(null) === 'NULL');
});

test('unknown or malformed ids answer 404 on every question route', async () => {
  const routes = [
    ['GET', ''], ['GET', '/comments'], ['GET', '/similar'], ['POST', '/claim'], ['POST', '/unclaim'],
    ['POST', '/decline', { reason: 'x' }], ['POST', '/assign', { user_id: p.expert.id }], ['POST', '/messages', { body: 'x' }],
    ['POST', '/comments', { body: 'x' }],
  ];
  for (const id of ['999999999', 'abc', '0', '-4', '1e3', '99999999999999999999']) {
    for (const [method, suffix, body] of routes) {
      const res = await api(srv, method, `/api/v1/questions/${id}${suffix}`, { session: p.manager, body });
      assert.equal(res.status, 404, `${method} ${id}${suffix}: ${res.text}`);
    }
  }
});
