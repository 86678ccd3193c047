// The public ask form and the customer's follow page: form lookup, submission, the
// honeypot, the per-address limit shared by all workers, the follow token (only its hash
// stored), the customer-facing status, follow-up messages, and what the customer never sees.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startRelais } from '../lib/harness.mjs';
import { api, request, login, loadDemo, sql, communityId, assertError, nextIp, ADMIN_EMAIL } from '../lib/api.mjs';
import { createChannel, unique } from '../lib/intake.mjs';

let srv, admin, billing, form;

before(async () => {
  srv = await startRelais({ env: { RELAIS_INSECURE_COOKIES: 'true' } });
  await loadDemo(srv);
  admin = await login(srv, ADMIN_EMAIL);
  billing = communityId(srv, 'billing-help');
  form = await createChannel(srv, admin, { community_id: billing, kind: 'web_form', language: 'fr', name: unique('Help form') });
});
after(async () => { await srv?.stop(); });

function ask(slug, body, from = nextIp()) {
  return request(srv, 'POST', `/api/v1/ask/${slug}`, { body, from });
}
const good = (overrides = {}) => ({ title: 'Where is my invoice?', body: 'I cannot find my March invoice.', name: 'Lin', email: `${unique('lin')}@customer.example`, ...overrides });
const follow = (token) => request(srv, 'GET', `/api/v1/follow/${token}`);

test('GET /ask/{slug} describes an active web_form channel; anything else is 404', async () => {
  const res = await request(srv, 'GET', `/api/v1/ask/${form.slug}`);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { channel: { slug: form.slug, name: form.name, language: 'fr', community_name: 'Billing help' } });
  const apiChannel = await createChannel(srv, admin, { community_id: billing });
  assert.equal((await request(srv, 'GET', `/api/v1/ask/${apiChannel.slug}`)).status, 404);
  assert.equal((await request(srv, 'GET', '/api/v1/ask/no-such-form')).status, 404);
  const off = await createChannel(srv, admin, { community_id: billing, kind: 'web_form' });
  await api(srv, 'PATCH', `/api/v1/channels/${off.id}`, { session: admin, body: { status: 'disabled' } });
  assert.equal((await request(srv, 'GET', `/api/v1/ask/${off.slug}`)).status, 404);
  assertError(await ask(off.slug, good()), 404, 'not_found');
  assertError(await ask(apiChannel.slug, good()), 404, 'not_found');
});

test('a question asked on the form is stored and triaged; only the hash of the follow token is kept', async () => {
  const body = good();
  const res = await ask(form.slug, body);
  assert.equal(res.status, 202, res.text);
  assert.match(res.body.follow_token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(res.body.follow_url, `/follow/${res.body.follow_token}`);
  const hash = crypto.createHash('sha256').update(res.body.follow_token).digest('hex');
  const row = sql(srv, `SELECT q.external_id || '|' || q.language || '|' || q.status || '|' || c.email FROM questions q JOIN customers c ON c.id = q.customer_id
    WHERE q.follow_token_hash = decode('${hash}', 'hex')`).split('|');
  assert.match(row[0], /^web-[0-9a-f]{24}$/);
  assert.equal(row[1], 'fr'); // the channel's language
  assert.equal(row[2], 'triage'); // no tags on the form: the triage queue of a community with topics
  assert.equal(row[3], body.email);
  assert.equal(sql(srv, `SELECT count(*) FROM questions WHERE follow_token_hash::text LIKE '%${res.body.follow_token.slice(0, 10)}%'`), '0');
  const page = await follow(res.body.follow_token);
  assert.equal(page.status, 200, page.text);
  assert.deepEqual(Object.keys(page.body.question).sort(), ['body', 'created_at', 'language', 'status', 'title']);
  assert.equal(page.body.question.title, body.title);
  assert.equal(page.body.question.status, 'received');
  assert.deepEqual(page.body.messages, []);
  assert.equal(page.headers['cache-control'], 'no-store');
});

test('the honeypot answers the same way and stores nothing', async () => {
  const before = sql(srv, 'SELECT count(*) FROM questions');
  const res = await ask(form.slug, good({ website: 'http://spam.example' }));
  assert.equal(res.status, 202);
  assert.match(res.body.follow_token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(res.body.follow_url, `/follow/${res.body.follow_token}`);
  assert.equal(sql(srv, 'SELECT count(*) FROM questions'), before);
  assert.equal((await follow(res.body.follow_token)).status, 404);
  assert.equal((await ask(form.slug, good({ website: '' }))).status, 202);
});

test('each address may ask 5 questions an hour (429 with Retry-After), counted across workers', async () => {
  const from = nextIp();
  const answers = await Promise.all(Array.from({ length: 8 }, () => ask(form.slug, good(), from)));
  const statuses = answers.map((r) => r.status).sort();
  assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429, 429, 429]);
  const limited = answers.find((r) => r.status === 429);
  assertError(limited, 429, 'rate_limited');
  const retry = Number(limited.headers['retry-after']);
  assert.ok(retry > 3000 && retry <= 3600, String(retry));
  assert.equal((await ask(form.slug, good(), nextIp())).status, 202);
});

test('Retry-After never exceeds the hour, also for a request that waited on a window opened after it began', async () => {
  // A transaction that began before the one opening the window (it waited for the row)
  // sees that window start after its own now(). Ten minutes ahead, so that the answer is
  // 4200 without the cap however slow the request.
  const from = nextIp();
  sql(srv, `INSERT INTO rate_limits (key, window_start, hits) VALUES ('ask:${from}', now() + interval '10 minutes', 5)`);
  const limited = await ask(form.slug, good(), from);
  assertError(limited, 429, 'rate_limited');
  assert.equal(limited.headers['retry-after'], '3600');
});

test('bad input: 422 naming the field, malformed JSON 400, oversized 413', async () => {
  const cases = [
    [{ title: '' }, 'title'], [{ title: undefined }, 'title'], [{ body: ' ' }, 'body'], [{ body: undefined }, 'body'],
    [{ email: 'nope' }, 'email'], [{ language: 'es' }, 'language'], [{ name: 'x'.repeat(201) }, 'name'], [{ phone: '1' }, 'phone'],
  ];
  for (const [o, field] of cases) assertError(await ask(form.slug, good(o)), 422, 'invalid_field', field);
  assertError(await ask(form.slug, '{"title":'), 400, 'invalid_json');
  assert.equal((await ask(form.slug, good({ body: 'x'.repeat(40 * 1024) }))).status, 413);
});

test('follow-up messages: 201, shown on the follow page; company messages never name anyone; SLA resumed', async () => {
  const res = await ask(form.slug, good());
  const token = res.body.follow_token;
  const hash = crypto.createHash('sha256').update(token).digest('hex');
  const qid = sql(srv, `SELECT id FROM questions WHERE follow_token_hash = decode('${hash}', 'hex')`);
  const expert = sql(srv, "SELECT id FROM users WHERE email LIKE '%@relais.example' AND role = 'employee' ORDER BY id LIMIT 1");
  const expertName = sql(srv, `SELECT display_name FROM users WHERE id = ${expert}`);
  sql(srv, `UPDATE questions SET status = 'waiting_customer', assignee_id = ${expert}, sla_remaining = interval '1 hour' WHERE id = ${qid};
    INSERT INTO question_messages (question_id, author, author_user_id, body) VALUES (${qid}, 'expert', ${expert}, 'Which invoice number?');
    INSERT INTO question_comments (question_id, author_id, body) VALUES (${qid}, ${expert}, 'internal: customer is grumpy')`);
  let page = await follow(token);
  assert.equal(page.body.question.status, 'waiting_for_you');
  const sent = await request(srv, 'POST', `/api/v1/follow/${token}/messages`, { body: { body: 'Invoice 2026-03-17.' } });
  assert.equal(sent.status, 201, sent.text);
  assert.equal(typeof sent.body.message_id, 'number');
  page = await follow(token);
  assert.equal(page.body.question.status, 'in_progress');
  assert.deepEqual(page.body.messages.map((m) => [m.author, m.body]), [['company', 'Which invoice number?'], ['customer', 'Invoice 2026-03-17.']]);
  for (const m of page.body.messages) assert.deepEqual(Object.keys(m).sort(), ['author', 'body', 'created_at', 'id']);
  assert.ok(!page.text.includes(expertName), 'the expert is named');
  assert.ok(!page.text.includes('grumpy'), 'an internal comment leaked');
  assert.ok(!page.text.includes('assignee') && !page.text.includes('customer_id') && !page.text.includes('"id":' + qid + ','));
  assert.equal(sql(srv, `SELECT count(*) FROM notifications WHERE user_id = ${expert} AND kind = 'question.customer_message' AND question_id = ${qid}`), '1');
  assert.equal(sql(srv, `SELECT count(*) FROM jobs WHERE kind = 'question.sla' AND payload->>'question_id' = '${qid}'`), '1');
  assertError(await request(srv, 'POST', `/api/v1/follow/${token}/messages`, { body: { body: '' } }), 422, 'invalid_field', 'body');
  assertError(await request(srv, 'POST', `/api/v1/follow/${token}/messages`, { body: { body: 'x', author: 'company' } }), 422, 'invalid_field', 'author');
});

test('refused questions read "declined" with the canned reply from the company', async () => {
  const community = form.community_id;
  const r = await api(srv, 'PUT', `/api/v1/communities/${community}/rules`, {
    session: admin, body: { rules: [{ keywords: ['casino'], action: 'refuse', canned_reply: 'We cannot help with this.' }] },
  });
  assert.equal(r.status, 200, r.text);
  const res = await ask(form.slug, good({ title: 'Casino bonus' }));
  const page = await follow(res.body.follow_token);
  assert.equal(page.body.question.status, 'declined');
  assert.deepEqual(page.body.messages.map((m) => [m.author, m.body]), [['company', 'We cannot help with this.']]);
  await api(srv, 'PUT', `/api/v1/communities/${community}/rules`, { session: admin, body: { rules: [] } });
});

test('replies on follow pages are limited per address (429 with Retry-After)', async () => {
  const res = await ask(form.slug, good());
  const from = nextIp();
  const answers = await Promise.all(Array.from({ length: 24 }, (_, i) =>
    request(srv, 'POST', `/api/v1/follow/${res.body.follow_token}/messages`, { body: { body: `Reply ${i}` }, from })));
  assert.equal(answers.filter((r) => r.status === 201).length, 20, answers.map((r) => r.status).join(','));
  const limited = answers.find((r) => r.status === 429);
  assertError(limited, 429, 'rate_limited');
  assert.ok(Number(limited.headers['retry-after']) >= 1);
  assert.equal((await request(srv, 'POST', `/api/v1/follow/${res.body.follow_token}/messages`, { body: { body: 'Other address' }, from: nextIp() })).status, 201);
});

test('unknown or malformed follow tokens answer 404', async () => {
  const fake = crypto.randomBytes(32).toString('base64url');
  assert.equal((await follow(fake)).status, 404);
  assert.equal((await follow('short')).status, 404);
  assert.equal((await follow(`${fake.slice(0, 42)}!`)).status, 404);
  assert.equal((await request(srv, 'POST', `/api/v1/follow/${fake}/messages`, { body: { body: 'hello' } })).status, 404);
});
