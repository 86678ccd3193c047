// Signed intake (Standard Webhooks): deliveries signed by the reference library and by
// node:crypto, idempotency (same webhook-id, same external id, 50 concurrent identical
// deliveries), every refusal (signature, headers, stale timestamps, channel kind and status,
// size, fields), the rotation window, customer follow-ups, and the delivery log.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelais } from '../lib/harness.mjs';
import { api, request, login, loadDemo, sql, communityId, assertError, eventually, ADMIN_EMAIL } from '../lib/api.mjs';
import {
  createChannel, deliver, deliverTo, question, signWithCrypto, signWithLibrary, unique, now,
} from '../lib/intake.mjs';

let srv, admin, channel, billing;

before(async () => {
  srv = await startRelais({ env: { RELAIS_INSECURE_COOKIES: 'true' } });
  await loadDemo(srv);
  admin = await login(srv, ADMIN_EMAIL);
  billing = communityId(srv, 'billing-help');
  channel = await createChannel(srv, admin, { community_id: billing });
});
after(async () => { await srv?.stop(); });

const count = (query) => Number(sql(srv, query));
const lastDelivery = (ch) => sql(srv, `SELECT status || ' ' || error_code FROM channel_deliveries WHERE channel_id = ${ch.id} ORDER BY id DESC LIMIT 1`).trim();

test('a delivery signed by the Standard Webhooks library is stored once, with its customer, receipt and log row', async () => {
  const q = question();
  const res = await deliver(srv, channel, q, { signer: signWithLibrary });
  assert.equal(res.status, 202, res.text);
  assert.ok(res.ms < 1000, `answered in ${res.ms} ms`);
  assert.equal(typeof res.body.question_id, 'number');
  assert.equal(res.body.status, 'routing'); // the tag billing is one of the community's topics
  assert.equal(res.body.duplicate, undefined);
  const row = sql(srv, `SELECT q.title || '|' || q.language || '|' || array_to_string(q.tags, ',') || '|' || c.email || '|' || c.pseudonym
    FROM questions q JOIN customers c ON c.id = q.customer_id WHERE q.id = ${res.body.question_id}`);
  const [title, language, tags, email, pseudonym] = row.split('|');
  assert.equal(title, q.title);
  assert.equal(language, 'en');
  assert.equal(tags, 'billing');
  assert.equal(email, q.customer.email);
  assert.match(pseudonym, /^Customer [0-9A-F]{4}$/);
  assert.equal(count(`SELECT count(*) FROM intake_receipts WHERE question_id = ${res.body.question_id}`), 1);
  assert.equal(lastDelivery(channel), '202');
  assert.equal(count(`SELECT count(*) FROM jobs WHERE kind = 'question.route' AND payload->>'question_id' = '${res.body.question_id}'`), 1);
  assert.equal(sql(srv, `SELECT string_agg(kind, ',' ORDER BY id) FROM question_events WHERE question_id = ${res.body.question_id}`),
    'question.received,question.triaged');
});

test('a delivery signed with node:crypto is accepted; the same webhook-id or external id again answers 200 with the same question', async () => {
  const q = question();
  const id = unique('msg');
  const first = await deliver(srv, channel, q, { id });
  assert.equal(first.status, 202, first.text);
  const again = await deliver(srv, channel, q, { id });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.body, { question_id: first.body.question_id, status: first.body.status, duplicate: true });
  // A retry with a new webhook-id but the same external id (another body even) is the same question.
  const retry = await deliver(srv, channel, { ...q, title: 'Changed title' });
  assert.equal(retry.status, 200, retry.text);
  assert.equal(retry.body.question_id, first.body.question_id);
  // The same webhook-id with another external id is still the first delivery.
  const sameId = await deliver(srv, channel, question(), { id });
  assert.equal(sameId.status, 200);
  assert.equal(sameId.body.question_id, first.body.question_id);
  assert.equal(count(`SELECT count(*) FROM questions WHERE channel_id = ${channel.id} AND external_id = '${q.external_id}'`), 1);
  assert.equal(sql(srv, `SELECT title FROM questions WHERE id = ${first.body.question_id}`), q.title);
  assert.equal(lastDelivery(channel), '200');
});

test('customers are deduplicated by e-mail, case-insensitively; without e-mail each question has its own', async () => {
  const email = `${unique('Grace')}@Customer.example`;
  const a = await deliver(srv, channel, question({ customer: { name: 'Grace', email } }));
  const b = await deliver(srv, channel, question({ customer: { email: email.toLowerCase() } }));
  assert.equal(a.status, 202);
  assert.equal(b.status, 202);
  const ids = sql(srv, `SELECT customer_id FROM questions WHERE id IN (${a.body.question_id}, ${b.body.question_id})`).split('\n');
  assert.equal(ids[0], ids[1]);
  assert.equal(sql(srv, `SELECT name FROM customers WHERE id = ${ids[0]}`), 'Grace');
  const c = await deliver(srv, channel, question({ customer: undefined }));
  const d = await deliver(srv, channel, question({ customer: { name: 'No mail' } }));
  assert.equal(c.status, 202, c.text);
  assert.equal(d.status, 202, d.text);
  assert.equal(count(`SELECT count(DISTINCT customer_id) FROM questions WHERE id IN (${c.body.question_id}, ${d.body.question_id})`), 2);
});

test('50 concurrent identical deliveries store one question', async () => {
  const q = question();
  const raw = JSON.stringify(q);
  const id = unique('msg');
  const ts = now();
  const signature = signWithCrypto(channel.secret, id, ts, raw);
  const answers = await Promise.all(Array.from({ length: 50 }, () => deliver(srv, channel, raw, { id, timestamp: ts, signature })));
  const statuses = answers.map((r) => r.status).sort();
  assert.equal(statuses.filter((s) => s === 202).length, 1, statuses.join(','));
  assert.equal(statuses.filter((s) => s === 200).length, 49, statuses.join(','));
  assert.equal(new Set(answers.map((r) => r.body.question_id)).size, 1);
  assert.equal(count(`SELECT count(*) FROM questions WHERE external_id = '${q.external_id}'`), 1);
  assert.equal(count(`SELECT count(*) FROM customers WHERE lower(email) = lower('${q.customer.email}')`), 1);
  const qid = answers[0].body.question_id;
  assert.equal(count(`SELECT count(*) FROM question_events WHERE question_id = ${qid}`), 2);
  assert.equal(count(`SELECT count(*) FROM jobs WHERE payload->>'question_id' = '${qid}'`), 1);
});

test('50 concurrent deliveries of one external id under different webhook-ids store one question', async () => {
  const q = question();
  const answers = await Promise.all(Array.from({ length: 50 }, () => deliver(srv, channel, q)));
  assert.ok(answers.every((r) => r.status === 200 || r.status === 202), answers.map((r) => r.status).join(','));
  assert.equal(answers.filter((r) => r.status === 202).length, 1);
  assert.equal(new Set(answers.map((r) => r.body.question_id)).size, 1);
  assert.equal(count(`SELECT count(*) FROM questions WHERE external_id = '${q.external_id}'`), 1);
});

test('bad, missing or misplaced signatures answer 401 invalid_signature and are logged', async () => {
  const q = question();
  const raw = JSON.stringify(q);
  const id = unique('msg');
  const ts = now();
  const good = signWithCrypto(channel.secret, id, ts, raw);
  const cases = [
    { headers: { 'webhook-signature': null } },
    { headers: { 'webhook-id': null } },
    { headers: { 'webhook-timestamp': null } },
    { headers: { 'webhook-timestamp': 'yesterday' } },
    { signature: good.replace('v1,', 'v2,') },
    { signature: good.slice(3) },
    { signature: 'v1,not base64 at all!' },
    { signature: 'v1,' },
    { signature: signWithCrypto(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, id, ts, raw) },
    { signature: signWithCrypto(channel.secret, id, ts, raw.replace('billing', 'Billing')) },
    { signature: signWithCrypto(channel.secret, `${id}x`, ts, raw) },
    { headers: { 'webhook-id': 'x'.repeat(300) } },
  ];
  for (const c of cases) {
    const res = await deliver(srv, channel, raw, { id, timestamp: ts, signature: c.signature ?? good, headers: c.headers ?? {} });
    assertError(res, 401, 'invalid_signature');
  }
  // Several signatures, one of them right: accepted.
  const several = await deliver(srv, channel, raw, { id, timestamp: ts, signature: `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= ${good}` });
  assert.equal(several.status, 202, several.text);
  assert.equal(count(`SELECT count(*) FROM questions WHERE external_id = '${q.external_id}'`), 1);
  assert.equal(count(`SELECT count(*) FROM channel_deliveries WHERE channel_id = ${channel.id} AND status = 401 AND error_code = 'invalid_signature' AND webhook_id = '${id}'`), 10);
  // Unknown channels and malformed ids look the same.
  assertError(await deliverTo(srv, '/api/v1/channels/999999/questions', channel.secret, q), 401, 'invalid_signature');
  assertError(await deliverTo(srv, '/api/v1/channels/abc/questions', channel.secret, q), 401, 'invalid_signature');
});

test('a timestamp more than 5 minutes off answers 401 stale_timestamp', async () => {
  for (const ts of [now() - 360, now() + 360]) {
    const res = await deliver(srv, channel, question(), { timestamp: ts });
    assertError(res, 401, 'stale_timestamp');
  }
  assert.equal(lastDelivery(channel), '401 stale_timestamp');
  const edge = await deliver(srv, channel, question(), { timestamp: now() - 240 });
  assert.equal(edge.status, 202);
});

test('disabled channels and web_form channels refuse signed deliveries', async () => {
  const other = await createChannel(srv, admin, { community_id: billing });
  assert.equal((await deliver(srv, other, question())).status, 202);
  const off = await api(srv, 'PATCH', `/api/v1/channels/${other.id}`, { session: admin, body: { status: 'disabled' } });
  assert.equal(off.status, 200, off.text);
  assertError(await deliver(srv, other, question()), 401, 'invalid_signature');
  assert.equal(lastDelivery(other), '401 channel_disabled');
  const form = await createChannel(srv, admin, { community_id: billing, kind: 'web_form' });
  assert.equal(form.secret, undefined);
  assertError(await deliver(srv, { id: form.id, secret: channel.secret }, question()), 401, 'invalid_signature');
  assert.equal(lastDelivery(form), '401 not_api_channel');
});

test('rotation: the previous secret stays valid until it expires, the new one works at once', async () => {
  const ch = await createChannel(srv, admin, { community_id: billing });
  const rot = await api(srv, 'POST', `/api/v1/channels/${ch.id}/secret`, { session: admin });
  assert.equal(rot.status, 201, rot.text);
  assert.match(rot.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  const hours = (Date.parse(rot.body.previous_expires_at) - Date.now()) / 3600e3;
  assert.ok(hours > 23.9 && hours <= 24.01, String(hours));
  assert.equal((await deliver(srv, ch, question())).status, 202);
  assert.equal((await deliver(srv, ch, question(), { secret: rot.body.secret, signer: signWithLibrary })).status, 202);
  // Expired behind relais's back (no notification): refused once the workers' cache of
  // secrets (5 s) has expired; an expiry time known to the cache applies at once.
  sql(srv, `UPDATE channel_secrets SET expires_at = now() - interval '1 second' WHERE channel_id = ${ch.id} AND expires_at IS NOT NULL`);
  await eventually(async () => assertError(await deliver(srv, ch, question()), 401, 'invalid_signature'), 8000);
  assert.equal((await deliver(srv, ch, question(), { secret: rot.body.secret })).status, 202);
});

test('bad bodies: malformed JSON 400, oversized 413, invalid fields 422 naming the field', async () => {
  const raw = '{"external_id": "x", "title": ';
  const bad = await deliver(srv, channel, raw);
  assertError(bad, 400, 'invalid_json');
  const big = JSON.stringify(question({ body: 'x'.repeat(70 * 1024) }));
  const over = await deliver(srv, channel, big);
  assert.equal(over.status, 413);
  const cases = [
    [{ customer: { email: 'not-an-address' } }, 'customer.email'],
    [{ customer: { name: 'x'.repeat(201) } }, 'customer.name'],
    [{ customer: { phone: '123' } }, 'customer.phone'],
    [{ customer: 'Ada' }, 'customer'],
    [{ title: '' }, 'title'],
    [{ title: undefined }, 'title'],
    [{ body: '   ' }, 'body'],
    [{ external_id: undefined }, 'external_id'],
    [{ external_id: 'x'.repeat(201) }, 'external_id'],
    [{ language: 'de' }, 'language'],
    [{ tags: ['Billing!'] }, 'tags'],
    [{ tags: 'billing' }, 'tags'],
    [{ url: 'javascript:alert(1)' }, 'url'],
    [{ extra: true }, 'extra'],
  ];
  for (const [overrides, field] of cases) {
    const res = await deliver(srv, channel, question(overrides));
    assertError(res, 422, 'invalid_field', field);
  }
  assert.equal(lastDelivery(channel), '422 invalid_field');
});

test('customer follow-ups: stored once, 404 for an unknown question, SLA resumed and the assignee notified', async () => {
  const q = question();
  const created = await deliver(srv, channel, q);
  const qid = created.body.question_id;
  const expert = Number(sql(srv, "SELECT id FROM users WHERE email LIKE '%@relais.example' AND role = 'employee' ORDER BY id LIMIT 1"));
  sql(srv, `UPDATE questions SET status = 'waiting_customer', assignee_id = ${expert}, sla_due_at = NULL, sla_remaining = interval '10 minutes' WHERE id = ${qid}`);
  const path = `/api/v1/channels/${channel.id}/questions/${encodeURIComponent(q.external_id)}/messages`;
  const id = unique('msg');
  const res = await deliverTo(srv, path, channel.secret, { body: 'Here is my invoice number: 42.' }, { id, signer: signWithLibrary });
  assert.equal(res.status, 202, res.text);
  assert.equal(res.body.question_id, qid);
  const again = await deliverTo(srv, path, channel.secret, { body: 'Here is my invoice number: 42.' }, { id });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.message_id, res.body.message_id);
  assert.equal(count(`SELECT count(*) FROM question_messages WHERE question_id = ${qid} AND author = 'customer'`), 1);
  assert.equal(sql(srv, `SELECT status FROM questions WHERE id = ${qid}`), 'assigned');
  const due = Number(sql(srv, `SELECT extract(epoch FROM sla_due_at - now())::int FROM questions WHERE id = ${qid}`));
  assert.ok(due > 500 && due <= 600, String(due));
  assert.equal(count(`SELECT count(*) FROM notifications WHERE user_id = ${expert} AND kind = 'question.customer_message' AND question_id = ${qid}`), 1);
  assert.equal(count(`SELECT count(*) FROM question_events WHERE question_id = ${qid} AND kind = 'customer.message'`), 1);
  // The message's own external id also makes it idempotent.
  const ext = unique('m');
  assert.equal((await deliverTo(srv, path, channel.secret, { external_id: ext, body: 'Once' })).status, 202);
  assert.equal((await deliverTo(srv, path, channel.secret, { external_id: ext, body: 'Once' })).status, 200);
  assertError(await deliverTo(srv, `/api/v1/channels/${channel.id}/questions/nope-${unique('x')}/messages`, channel.secret, { body: 'Hello?' }),
    404, 'question_not_found');
  assert.equal(lastDelivery(channel), '404 question_not_found');
  assertError(await deliverTo(srv, path, channel.secret, { body: '' }), 422, 'invalid_field', 'body');
  assertError(await deliverTo(srv, path, 'whsec_' + Buffer.alloc(32).toString('base64'), { body: 'x' }), 401, 'invalid_signature');
});

test('concurrent identical follow-ups store one message', async () => {
  const q = question();
  await deliver(srv, channel, q);
  const path = `/api/v1/channels/${channel.id}/questions/${encodeURIComponent(q.external_id)}/messages`;
  const raw = JSON.stringify({ body: 'Same message' });
  const id = unique('msg');
  const ts = now();
  const signature = signWithCrypto(channel.secret, id, ts, raw);
  const answers = await Promise.all(Array.from({ length: 20 }, () => deliverTo(srv, path, channel.secret, raw, { id, timestamp: ts, signature })));
  assert.equal(answers.filter((r) => r.status === 202).length, 1, answers.map((r) => r.status).join(','));
  assert.equal(new Set(answers.map((r) => r.body.message_id)).size, 1);
});

test('the intake answers quickly under a burst', async () => {
  const answers = await Promise.all(Array.from({ length: 40 }, () => deliver(srv, channel, question())));
  assert.ok(answers.every((r) => r.status === 202));
  const worst = Math.max(...answers.map((r) => r.ms));
  assert.ok(worst < 1000, `slowest answer ${worst} ms`);
});
