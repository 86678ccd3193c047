// Customer privacy on every route that returns a question: the customer's name, e-mail and
// external reference for the community's active managers and admins only; everyone else who
// may see the question gets the pseudonym; everyone else answers 404.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, sql, assertError, newPerson } from '../lib/api.mjs';
import { setup, makeQuestion, makeCustomer } from '../lib/questions.mjs';

let fx, srv, p, admin, customer;

before(async () => {
  fx = await setup();
  ({ srv, p, admin } = fx);
  customer = makeCustomer(srv, { name: 'Zoé Secretname', email: 'zoe.secret@customer.example', ref: 'CRM-SECRET-77' });
});
after(async () => { await fx?.srv?.stop(); });

const get = (session, path) => api(srv, 'GET', path, { session });
const post = (session, path, body) => api(srv, 'POST', path, { session, body });
const q = (options) => makeQuestion(srv, fx, { customer, ...options });

function assertIdentity(c, where) {
  assert.deepEqual(c, { pseudonym: customer.pseudonym, name: 'Zoé Secretname', email: 'zoe.secret@customer.example', external_ref: 'CRM-SECRET-77' }, where);
}

/** Only the pseudonym, and nothing of the identity anywhere in the answer. */
function assertPseudonym(res, c, where) {
  assert.deepEqual(c, { pseudonym: customer.pseudonym }, where);
  for (const secret of ['Secretname', 'zoe.secret', 'CRM-SECRET']) assert.ok(!res.text.includes(secret), `${where}: ${secret} leaked`);
}

function itemOf(res, id) {
  assert.equal(res.status, 200, res.text);
  const item = res.body.items.find((x) => x.id === id);
  assert.ok(item, `question ${id} not listed`);
  return item;
}

test('GET /questions/{id}: managers and admins see the customer, experts and members the pseudonym, outsiders 404', async () => {
  const id = q({ assignee: p.expert, backup: p.backup });
  for (const [who, s] of [['manager', p.manager], ['admin', admin]]) {
    const res = await get(s, `/api/v1/questions/${id}`);
    assert.equal(res.status, 200, res.text);
    assertIdentity(res.body.customer, who);
  }
  for (const [who, s] of [['assignee', p.expert], ['backup', p.backup], ['expert', p.expert2], ['member', p.member]]) {
    const res = await get(s, `/api/v1/questions/${id}`);
    assert.equal(res.status, 200, `${who}: ${res.text}`);
    assertPseudonym(res, res.body.customer, who);
  }
  for (const s of [p.outsider, p.manager2]) assertError(await get(s, `/api/v1/questions/${id}`), 404, 'question_not_found');
  // A timeline event that carried the customer's identity would not reach an expert either.
  sql(srv, `SELECT question_event(${id}, 'question.received', NULL, '{"customer": {"name": "Zoé Secretname"}, "email": "zoe.secret@customer.example", "channel": "api"}')`);
  const res = await get(p.expert, `/api/v1/questions/${id}`);
  assertPseudonym(res, res.body.customer, 'timeline');
  assert.deepEqual(res.body.timeline.at(-1).details, { channel: 'api' });
  assert.equal((await get(p.manager, `/api/v1/questions/${id}`)).body.timeline.at(-1).details.email, 'zoe.secret@customer.example');
});

test('the pseudonym is stable and does not reveal the id', async () => {
  const other = makeCustomer(srv);
  assert.match(customer.pseudonym, /^Customer [0-9A-F]{4}$/);
  assert.notEqual(customer.pseudonym, `Customer ${customer.id}`);
  const a = q({ assignee: p.expert });
  const b = makeQuestion(srv, fx, { customer: other, assignee: p.expert });
  const ra = await get(p.expert, `/api/v1/questions/${a}`);
  const ra2 = await get(p.expert2, `/api/v1/questions/${a}`);
  assert.equal(ra.body.customer.pseudonym, ra2.body.customer.pseudonym);
  assert.equal((await get(p.expert, `/api/v1/questions/${b}`)).body.customer.pseudonym, other.pseudonym);
});

test('lists: mine, triage and community', async () => {
  const toExpert = q({ assignee: p.expert });
  const toManager = q({ assignee: p.manager });
  const triage = q({ status: 'triage', sla: null });
  let res = await get(p.expert, '/api/v1/questions');
  assertPseudonym(res, itemOf(res, toExpert).customer, 'mine (expert)');
  res = await get(p.manager, '/api/v1/questions');
  assertIdentity(itemOf(res, toManager).customer, 'mine (manager)');
  res = await get(p.manager, '/api/v1/questions?scope=triage');
  assertIdentity(itemOf(res, triage).customer, 'triage (manager)');
  res = await get(admin, `/api/v1/questions?scope=triage&community_id=${fx.community}`);
  assertIdentity(itemOf(res, triage).customer, 'triage (admin)');
  res = await get(p.member, `/api/v1/questions?scope=community&community_id=${fx.community}&limit=200`);
  assertPseudonym(res, itemOf(res, toExpert).customer, 'community (member)');
  assert.ok(!res.body.items.some((x) => x.id === triage), 'members do not see triage');
  res = await get(p.expert, `/api/v1/questions?scope=community&community_id=${fx.community}&limit=200`);
  assertPseudonym(res, itemOf(res, toManager).customer, 'community (expert)');
  res = await get(p.manager, `/api/v1/questions?scope=community&community_id=${fx.community}&limit=200`);
  assertIdentity(itemOf(res, toExpert).customer, 'community (manager)');
  res = await get(admin, `/api/v1/questions?scope=community&community_id=${fx.community}&limit=200`);
  assertIdentity(itemOf(res, triage).customer, 'community (admin)');
  assertError(await get(p.outsider, `/api/v1/questions?scope=community&community_id=${fx.community}`), 404);
  res = await get(p.outsider, '/api/v1/questions?scope=triage');
  assert.deepEqual(res.body.items, []);
});

test('a manager of another community who holds the question sees the pseudonym only', async () => {
  const id = q({ assignee: p.manager2 });
  let res = await get(p.manager2, `/api/v1/questions/${id}`);
  assertPseudonym(res, res.body.customer, 'view');
  res = await get(p.manager2, '/api/v1/questions');
  assertPseudonym(res, itemOf(res, id).customer, 'mine');
  res = await post(p.manager2, `/api/v1/questions/${id}/claim`);
  assert.equal(res.status, 200, res.text);
  assertPseudonym(res, res.body.customer, 'claim');
  // A manager whose membership is no longer active is an outsider.
  const former = await newPerson(srv, admin, { name: 'Former manager' });
  sql(srv, `INSERT INTO community_members (community_id, user_id, role, status) VALUES (${fx.community}, ${former.id}, 'manager', 'invited')`);
  assertError(await get(former, `/api/v1/questions/${id}`), 404);
  // ... and when they hold a question of it, they see it as its expert: the pseudonym.
  const held = q({ assignee: former });
  res = await get(former, `/api/v1/questions/${held}`);
  assert.equal(res.status, 200, res.text);
  assertPseudonym(res, res.body.customer, 'view (inactive manager)');
  res = await get(former, '/api/v1/questions');
  assertPseudonym(res, itemOf(res, held).customer, 'mine (inactive manager)');
  res = await post(former, `/api/v1/questions/${held}/claim`);
  assert.equal(res.status, 200, res.text);
  assertPseudonym(res, res.body.customer, 'claim (inactive manager)');
});

test('actions: claim, unclaim, decline, messages and assign answer with the same rule', async () => {
  // The expert acts: pseudonym.
  let id = q({ assignee: p.expert, backup: p.backup });
  let res = await post(p.expert, `/api/v1/questions/${id}/claim`);
  assert.equal(res.status, 200, res.text);
  assertPseudonym(res, res.body.customer, 'claim');
  res = await post(p.expert, `/api/v1/questions/${id}/messages`, { body: 'Which one?' });
  assert.equal(res.status, 201, res.text);
  assertPseudonym(res, res.body.question.customer, 'messages');
  res = await post(p.expert, `/api/v1/questions/${id}/unclaim`);
  assert.equal(res.status, 200, res.text);
  assertPseudonym(res, res.body.customer, 'unclaim');
  res = await post(p.expert, `/api/v1/questions/${id}/decline`, { reason: 'Not my field' });
  assert.equal(res.status, 200, res.text);
  assertPseudonym(res, res.body.customer, 'decline');
  // The manager acts: identity.
  id = q({ assignee: p.expert });
  res = await post(p.manager, `/api/v1/questions/${id}/claim`);
  assert.equal(res.status, 200, res.text);
  assertIdentity(res.body.customer, 'claim (manager)');
  res = await post(p.manager, `/api/v1/questions/${id}/messages`, { body: 'Which one?' });
  assertIdentity(res.body.question.customer, 'messages (manager)');
  res = await post(p.manager, `/api/v1/questions/${id}/unclaim`);
  assertIdentity(res.body.customer, 'unclaim (manager)');
  res = await post(p.manager, `/api/v1/questions/${id}/assign`, { user_id: p.expert2.id });
  assert.equal(res.status, 200, res.text);
  assertIdentity(res.body.customer, 'assign (manager)');
  res = await post(admin, `/api/v1/questions/${id}/assign`, { user_id: p.backup.id });
  assertIdentity(res.body.customer, 'assign (admin)');
  // Outsiders: 404 on every action, nothing changes.
  for (const [path, body] of [['claim'], ['unclaim'], ['decline', { reason: 'x' }], ['assign', { user_id: p.outsider.id }], ['messages', { body: 'x' }], ['comments', { body: 'x' }]]) {
    assertError(await post(p.outsider, `/api/v1/questions/${id}/${path}`, body), 404, 'question_not_found');
  }
  assert.equal(sql(srv, `SELECT assignee_id FROM questions WHERE id = ${id}`), String(p.backup.id));
});

test('similar questions and comments never carry the customer, even for managers', async () => {
  const answered = q({ status: 'answered', title: 'Invoice missing for March', assignee: p.expert });
  const id = q({ title: 'Missing invoice for March', assignee: p.expert });
  sql(srv, `INSERT INTO question_comments (question_id, author_id, body) VALUES (${id}, ${p.expert.id}, 'Seen it')`);
  for (const s of [p.manager, admin, p.expert]) {
    let res = await get(s, `/api/v1/questions/${id}/similar`);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.items.some((x) => x.id === answered));
    for (const item of res.body.items) assert.ok(!('customer' in item));
    for (const secret of ['Secretname', 'zoe.secret', 'CRM-SECRET', 'Customer ']) assert.ok(!res.text.includes(secret));
    res = await get(s, `/api/v1/questions/${id}/comments`);
    assert.equal(res.status, 200, res.text);
    for (const secret of ['Secretname', 'zoe.secret', 'CRM-SECRET', 'Customer ']) assert.ok(!res.text.includes(secret));
  }
  assertError(await get(p.outsider, `/api/v1/questions/${id}/similar`), 404);
  assertError(await get(p.outsider, `/api/v1/questions/${id}/comments`), 404);
});

test('API tokens are nobody: no question, no customer, lists empty', async () => {
  const res = await api(srv, 'POST', '/api/v1/tokens', { session: admin, body: { name: 'reader', scopes: ['read', 'admin'] } });
  assert.equal(res.status, 201, res.text);
  const token = res.body.token;
  const id = q({ assignee: p.expert });
  assertError(await api(srv, 'GET', `/api/v1/questions/${id}`, { token }), 404, 'question_not_found');
  assertError(await api(srv, 'GET', `/api/v1/questions/${id}/similar`, { token }), 404);
  assertError(await api(srv, 'GET', `/api/v1/questions/${id}/comments`, { token }), 404);
  for (const query of ['', '?scope=triage']) {
    const r = await api(srv, 'GET', `/api/v1/questions${query}`, { token });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.items, []);
  }
  assert.equal((await api(srv, 'POST', `/api/v1/questions/${id}/claim`, { token })).status, 403);
});
