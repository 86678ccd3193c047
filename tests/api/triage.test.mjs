// Perimeter rules and crisis topics: who may read and replace them, validation naming
// rules[i].member, and triage at intake (answer, escalate, refuse, first match wins,
// accent- and case-insensitive keywords, languages, community topics, the triage queue).
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelais } from '../lib/harness.mjs';
import { api, login, loadDemo, sql, assertError, eventually, newPerson, userId, ADMIN_EMAIL, COMMS_EMAIL } from '../lib/api.mjs';
import { createChannel, deliver, question, unique } from '../lib/intake.mjs';

let srv, admin, comms, employee, manager, managerId;

before(async () => {
  srv = await startRelais({ env: { RELAIS_INSECURE_COOKIES: 'true' } });
  await loadDemo(srv);
  admin = await login(srv, ADMIN_EMAIL);
  comms = await login(srv, COMMS_EMAIL);
  manager = await newPerson(srv, admin);
  managerId = manager.id;
  employee = await newPerson(srv, admin);
});
after(async () => { await srv?.stop(); });

/** A community managed by `manager` with `topics`, and an api channel on it. */
async function setup({ topics = ['billing'], visibility = 'open' } = {}) {
  const res = await api(srv, 'POST', '/api/v1/communities', {
    session: admin, body: { slug: unique('c').toLowerCase(), name: 'Triage test', topics, visibility, manager_id: managerId },
  });
  assert.equal(res.status, 201, res.text);
  const channel = await createChannel(srv, admin, { community_id: res.body.id });
  return { community: res.body.id, channel };
}

function putRules(session, community, rules) {
  return api(srv, 'PUT', `/api/v1/communities/${community}/rules`, { session, body: { rules } });
}

async function intake(channel, overrides) {
  const res = await deliver(srv, channel, question(overrides));
  assert.equal(res.status, 202, res.text);
  return res.body;
}

const row = (qid) => sql(srv, `SELECT status || '|' || triage_reason || '|' || topic || '|' || coalesce(assignee_id::text, '') || '|' || coalesce(rule_id::text, '') FROM questions WHERE id = ${qid}`).split('|');
const triaged = (qid) => JSON.parse(sql(srv, `SELECT details::text FROM question_events WHERE question_id = ${qid} AND kind = 'question.triaged'`));

test('managers and admins read and replace the rules; others get 403 (audited), secret communities 404', async () => {
  const { community } = await setup();
  const rules = [{ name: 'Refunds', tags: ['refunds'], keywords: ['remboursement'], languages: ['fr'], action: 'answer', topic: 'refunds' }];
  const put = await putRules(manager, community, rules);
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.rules.length, 1);
  assert.deepEqual(put.body.rules[0].keywords, ['remboursement']);
  assert.equal(put.body.rules[0].position, 0);
  const got = await api(srv, 'GET', `/api/v1/communities/${community}/rules`, { session: admin });
  assert.equal(got.status, 200, got.text);
  assert.deepEqual(got.body.crisis, []);
  assert.equal(got.body.rules[0].topic, 'refunds');
  const denied = await api(srv, 'GET', `/api/v1/communities/${community}/rules`, { session: employee });
  assertError(denied, 403, 'forbidden');
  assertError(await putRules(employee, community, []), 403, 'forbidden');
  assertError(await putRules(comms, community, []), 403, 'forbidden');
  await eventually(() => assert.ok(Number(sql(srv, `SELECT count(*) FROM audit_log WHERE action = 'access.denied' AND object_id = '${community}'`)) >= 3));
  assert.equal((await api(srv, 'GET', `/api/v1/communities/${community}/rules`)).status, 401);
  const secret = await setup({ visibility: 'secret' });
  assert.equal((await api(srv, 'GET', `/api/v1/communities/${secret.community}/rules`, { session: employee })).status, 404);
  assert.equal((await api(srv, 'GET', '/api/v1/communities/999999/rules', { session: admin })).status, 404);
  await eventually(() => assert.equal(sql(srv, `SELECT count(*) FROM audit_log WHERE action = 'community.rules_replaced' AND object_id = '${community}'`), '1'));
  // Nothing was replaced by the refused calls.
  assert.equal((await api(srv, 'GET', `/api/v1/communities/${community}/rules`, { session: manager })).body.rules.length, 1);
});

test('rules are validated, naming rules[i].member; nothing changes on error', async () => {
  const { community } = await setup();
  assert.equal((await putRules(manager, community, [{ action: 'answer' }])).status, 200);
  const owner = await newPerson(srv, admin);
  const gone = await newPerson(srv, admin);
  sql(srv, `UPDATE users SET status = 'disabled' WHERE id = ${gone.id}`);
  const ok = { action: 'answer' };
  const cases = [
    [[ok, { action: 'forward' }], 'rules[1].action'],
    [[{}], 'rules[0].action'],
    [[{ action: 'escalate' }], 'rules[0].owner_user_id'],
    [[ok, ok, { action: 'escalate', owner_user_id: gone.id }], 'rules[2].owner_user_id'],
    [[{ action: 'escalate', owner_user_id: 999999 }], 'rules[0].owner_user_id'],
    [[{ action: 'refuse' }], 'rules[0].canned_reply'],
    [[{ action: 'refuse', canned_reply: '  ' }], 'rules[0].canned_reply'],
    [[{ action: 'answer', tags: ['Not A Tag'] }], 'rules[0].tags'],
    [[{ action: 'answer', tags: 'billing' }], 'rules[0].tags'],
    [[{ action: 'answer', languages: ['de'] }], 'rules[0].languages'],
    [[{ action: 'answer', keywords: [''] }], 'rules[0].keywords'],
    [[{ action: 'answer', keywords: Array(51).fill('x') }], 'rules[0].keywords'],
    [[{ action: 'answer', topic: 'Crisis!' }], 'rules[0].topic'],
    [[{ action: 'answer', name: 'x'.repeat(101) }], 'rules[0].name'],
    [[{ action: 'answer', colour: 'red' }], 'rules[0].colour'],
    [['answer'], 'rules[0]'],
    [Array(101).fill(ok), 'rules'],
    ['answer', 'rules'],
  ];
  for (const [rules, field] of cases) assertError(await putRules(manager, community, rules), 422, 'invalid_field', field);
  assertError(await api(srv, 'PUT', `/api/v1/communities/${community}/rules`, { session: manager, body: { rules: [], extra: 1 } }), 422, 'invalid_field', 'extra');
  assert.equal((await api(srv, 'GET', `/api/v1/communities/${community}/rules`, { session: manager })).body.rules.length, 1);
  const good = await putRules(manager, community, [{ action: 'escalate', owner_user_id: owner.id }, { action: 'refuse', canned_reply: 'No.' }]);
  assert.equal(good.status, 200, good.text);
  assert.deepEqual(good.body.rules.map((r) => [r.position, r.action]), [[0, 'escalate'], [1, 'refuse']]);
  // Concurrent replacements: each is whole, none fails.
  const many = await Promise.all([1, 2, 3, 4, 5].map((n) => putRules(manager, community, Array(n).fill(ok))));
  assert.ok(many.every((r) => r.status === 200), many.map((r) => r.status).join(','));
  const n = Number(sql(srv, `SELECT count(*) FROM perimeter_rules WHERE community_id = ${community}`));
  assert.ok(n >= 1 && n <= 5);
  assert.equal(sql(srv, `SELECT max(position) FROM perimeter_rules WHERE community_id = ${community}`), String(n - 1));
});

test('answer routes the question: status routing, a routing job, the rule and topic recorded', async () => {
  const { community, channel } = await setup();
  const put = await putRules(manager, community, [{ name: 'Refunds', tags: ['refunds'], action: 'answer', topic: 'refunds' }]);
  const rule = put.body.rules[0].id;
  const q = await intake(channel, { tags: ['refunds', 'other'] });
  assert.equal(q.status, 'routing');
  assert.deepEqual(row(q.question_id), ['routing', '', 'refunds', '', String(rule)]);
  assert.deepEqual(triaged(q.question_id), { action: 'answer', rule_id: rule, reason: 'rule' });
  assert.equal(sql(srv, `SELECT count(*) FROM jobs WHERE kind = 'question.route' AND payload = '{"question_id": ${q.question_id}}'::jsonb`), '1');
});

test('escalate assigns to the rule owner and notifies them; refuse stores the canned reply', async () => {
  const { community, channel } = await setup();
  const owner = await newPerson(srv, admin);
  await putRules(manager, community, [
    { name: 'Legal', keywords: ['lawsuit'], action: 'escalate', owner_user_id: owner.id, topic: 'legal' },
    { name: 'Spam', keywords: ['crypto'], action: 'refuse', canned_reply: 'We do not answer this here.' },
  ]);
  const esc = await intake(channel, { body: 'We will file a LAWSUIT tomorrow.' });
  assert.equal(esc.status, 'escalated');
  const [status, , topic, assignee] = row(esc.question_id);
  assert.deepEqual([status, topic, assignee], ['escalated', 'legal', String(owner.id)]);
  assert.equal(sql(srv, `SELECT count(*) FROM notifications WHERE user_id = ${owner.id} AND kind = 'question.escalated' AND question_id = ${esc.question_id}`), '1');
  assert.equal(sql(srv, `SELECT count(*) FROM jobs WHERE payload->>'question_id' = '${esc.question_id}'`), '0');
  // An owner disabled since the rule was written: the question goes to the triage queue.
  sql(srv, `UPDATE users SET status = 'disabled' WHERE id = ${owner.id}`);
  const orphan = await intake(channel, { body: 'Another lawsuit.' });
  assert.equal(orphan.status, 'triage');
  assert.deepEqual(row(orphan.question_id).slice(0, 2), ['triage', 'owner_inactive']);
  assert.deepEqual(triaged(orphan.question_id), { action: 'triage', rule_id: Number(row(orphan.question_id)[4]), reason: 'owner_inactive' });
  sql(srv, `UPDATE users SET status = 'active' WHERE id = ${owner.id}`);
  const ref = await intake(channel, { title: 'Buy Crypto now' });
  assert.equal(ref.status, 'refused');
  assert.equal(sql(srv, `SELECT author || '|' || body FROM question_messages WHERE question_id = ${ref.question_id}`), 'system|We do not answer this here.');
  assert.equal(triaged(ref.question_id).action, 'refuse');
});

test('the first matching rule decides; keywords ignore case and accents; languages filter', async () => {
  const { community, channel } = await setup({ topics: [] });
  const owner = await newPerson(srv, admin);
  const put = await putRules(manager, community, [
    { name: 'French refunds', keywords: ['Rembôursement'], languages: ['fr'], action: 'escalate', owner_user_id: owner.id },
    { name: 'Any refund', keywords: ['remboursement', 'refund'], action: 'refuse', canned_reply: 'See our refund page.' },
    { name: 'Everything else', action: 'answer' },
  ]);
  assert.equal(put.status, 200, put.text);
  const fr = await intake(channel, { language: 'fr', title: 'Question', body: 'Je veux un REMBOURSEMENT.' });
  assert.equal(fr.status, 'escalated');
  const en = await intake(channel, { language: 'en', title: 'Remboursément please', body: 'x' });
  assert.equal(en.status, 'refused');
  assert.equal(triaged(en.question_id).rule_id, put.body.rules[1].id);
  const other = await intake(channel, { title: 'Hello', body: 'Nothing special' });
  assert.equal(other.status, 'routing');
  assert.equal(triaged(other.question_id).rule_id, put.body.rules[2].id);
  // The channel's language applies when the question has none.
  const frChannel = await createChannel(srv, admin, { community_id: community, language: 'fr' });
  const implicit = await intake(frChannel, { language: undefined, body: 'remboursement' });
  assert.equal(implicit.status, 'escalated');
});

test('no rule matched: routed when the tags meet the community topics, else the triage queue for its managers', async () => {
  const { community, channel } = await setup({ topics: ['billing', 'invoices'] });
  await putRules(manager, community, [{ keywords: ['never-matches-this'], action: 'answer' }]);
  const routed = await intake(channel, { tags: ['invoices'] });
  assert.equal(routed.status, 'routing');
  assert.deepEqual(triaged(routed.question_id), { action: 'answer', rule_id: null, reason: 'topics' });
  const queued = await intake(channel, { tags: ['gardening'] });
  assert.equal(queued.status, 'triage');
  assert.deepEqual(row(queued.question_id).slice(0, 2), ['triage', 'no_rule']);
  assert.deepEqual(triaged(queued.question_id), { action: 'triage', rule_id: null, reason: 'no_rule' });
  assert.equal(sql(srv, `SELECT count(*) FROM notifications WHERE user_id = ${managerId} AND kind = 'question.triage' AND question_id = ${queued.question_id}`), '1');
  assert.equal(sql(srv, `SELECT count(*) FROM jobs WHERE payload->>'question_id' = '${queued.question_id}'`), '0');
  const untagged = await intake(channel, { tags: [] });
  assert.equal(untagged.status, 'triage');
});

test('crisis topics: set and cleared by managers, audited; others refused', async () => {
  const { community } = await setup();
  const set = await api(srv, 'PUT', `/api/v1/communities/${community}/crisis/outage`, { session: manager, body: { reason: 'Major outage' } });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.body.topic, 'outage');
  assert.equal(set.body.reason, 'Major outage');
  const again = await api(srv, 'PUT', `/api/v1/communities/${community}/crisis/outage`, { session: admin, body: { reason: 'Still' } });
  assert.equal(again.status, 200);
  const got = await api(srv, 'GET', `/api/v1/communities/${community}/rules`, { session: manager });
  assert.deepEqual(got.body.crisis.map((c) => [c.topic, c.reason]), [['outage', 'Still']]);
  assertError(await api(srv, 'PUT', `/api/v1/communities/${community}/crisis/outage`, { session: employee, body: { reason: 'x' } }), 403, 'forbidden');
  assertError(await api(srv, 'PUT', `/api/v1/communities/${community}/crisis/outage`, { session: manager, body: { reason: 'x'.repeat(501) } }), 422, 'invalid_field', 'reason');
  assert.equal((await api(srv, 'PUT', `/api/v1/communities/${community}/crisis/Bad%20Topic`, { session: manager, body: {} })).status, 404);
  assert.equal((await api(srv, 'DELETE', `/api/v1/communities/${community}/crisis/outage`, { session: employee })).status, 403);
  assert.equal((await api(srv, 'DELETE', `/api/v1/communities/${community}/crisis/outage`, { session: manager })).status, 204);
  assert.equal((await api(srv, 'DELETE', `/api/v1/communities/${community}/crisis/outage`, { session: manager })).status, 404);
  await eventually(() => assert.equal(sql(srv, `SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE object_id = '${community}' AND action LIKE 'community.crisis%'`),
    'community.crisis_set,community.crisis_set,community.crisis_cleared'));
});
