// Channels (admins): creation with a secret shown once, generated and unique slugs, reading,
// changes, secret rotation, the delivery log with cursor paging, audit rows without
// secrets, and refusals (anonymous, employees, bad fields, unknown ids).
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelais } from '../lib/harness.mjs';
import { api, login, loadDemo, sql, communityId, assertError, eventually, newPerson, ADMIN_EMAIL, COMMS_EMAIL } from '../lib/api.mjs';
import { createChannel, deliver, question, unique } from '../lib/intake.mjs';

let srv, admin, comms, employee, billing;

before(async () => {
  srv = await startRelais({ env: { RELAIS_INSECURE_COOKIES: 'true' } });
  const logins = await loadDemo(srv);
  admin = await login(srv, ADMIN_EMAIL);
  comms = await login(srv, COMMS_EMAIL);
  employee = await login(srv, logins.employee);
  billing = communityId(srv, 'billing-help');
});
after(async () => { await srv?.stop(); });

test('an api channel is created with its secret shown once; reading it never shows the secret', async () => {
  const name = unique('Partner forum');
  const ch = await createChannel(srv, admin, { name, community_id: billing, language: 'fr', sla_seconds: 7200 });
  assert.match(ch.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(Buffer.from(ch.secret.slice(6), 'base64').length, 32);
  assert.equal(ch.kind, 'api');
  assert.equal(ch.slug, name.toLowerCase().replace(/ /g, '-'));
  assert.equal(ch.community_name, 'Billing help');
  assert.equal(ch.language, 'fr');
  assert.equal(ch.sla_seconds, 7200);
  assert.equal(ch.owner_user_id, admin.user.id);
  assert.equal(ch.status, 'active');
  for (const k of ['id', 'kind', 'name', 'slug', 'community_id', 'community_name', 'language', 'sla_seconds', 'owner_user_id', 'status', 'created_at']) {
    assert.ok(k in ch, k);
  }
  const got = await api(srv, 'GET', `/api/v1/channels/${ch.id}`, { session: admin });
  assert.equal(got.status, 200);
  assert.equal(got.body.secret, undefined);
  assert.ok(!got.text.includes(ch.secret.slice(6, 20)));
  const list = await api(srv, 'GET', '/api/v1/channels?limit=200', { session: admin });
  assert.equal(list.status, 200);
  assert.ok(list.body.items.some((c) => c.id === ch.id));
  assert.ok(!list.text.includes('whsec_'));
  // The audit row names the channel, never the secret.
  const audit = await eventually(() => {
    const row = sql(srv, `SELECT action || ' ' || details::text FROM audit_log WHERE object_type = 'channel' AND object_id = '${ch.id}'`);
    assert.ok(row.startsWith('channel.created'), row);
    return row;
  });
  assert.ok(!audit.includes(ch.secret.slice(6, 20)));
});

test('slugs: generated from the name, given explicitly, unique (409)', async () => {
  const a = await createChannel(srv, admin, { name: 'Ask us — Billing & Co!', community_id: billing, kind: 'web_form' });
  assert.match(a.slug, /^ask-us-billing-co/);
  assert.equal(a.secret, undefined);
  const slug = unique('form').toLowerCase();
  const b = await createChannel(srv, admin, { slug, community_id: billing, kind: 'web_form' });
  assert.equal(b.slug, slug);
  const dup = await api(srv, 'POST', '/api/v1/channels', { session: admin, body: { kind: 'web_form', name: 'x', slug, community_id: billing, language: 'en', sla_seconds: 60 } });
  assertError(dup, 409, 'slug_taken', 'slug');
  const same = await api(srv, 'POST', '/api/v1/channels', { session: admin, body: { kind: 'api', name: 'Ask us — Billing & Co!', community_id: billing, language: 'en', sla_seconds: 60 } });
  assertError(same, 409, 'slug_taken');
  const odd = await createChannel(srv, admin, { name: 'Été', community_id: billing });
  assert.match(odd.slug, /^channel-/);
});

test('creation refuses bad fields with 422 naming the field', async () => {
  const base = { kind: 'api', name: 'x', community_id: billing, language: 'en', sla_seconds: 60 };
  const cases = [
    [{ kind: 'sms' }, 'kind'],
    [{ name: '' }, 'name'],
    [{ community_id: 999999 }, 'community_id'],
    [{ community_id: 'billing' }, 'community_id'],
    [{ language: 'de' }, 'language'],
    [{ sla_seconds: 0 }, 'sla_seconds'],
    [{ sla_seconds: 2592001 }, 'sla_seconds'],
    [{ slug: 'Bad Slug' }, 'slug'],
    [{ owner_user_id: 999999 }, 'owner_user_id'],
    [{ secret: 'whsec_x' }, 'secret'],
  ];
  for (const [overrides, field] of cases) {
    const res = await api(srv, 'POST', '/api/v1/channels', { session: admin, body: { ...base, ...overrides } });
    assertError(res, 422, 'invalid_field', field);
  }
  const disabled = await newPerson(srv, admin);
  sql(srv, `UPDATE users SET status = 'disabled' WHERE id = ${disabled.id}`);
  assertError(await api(srv, 'POST', '/api/v1/channels', { session: admin, body: { ...base, owner_user_id: disabled.id } }), 422, 'invalid_field', 'owner_user_id');
  const bad = await api(srv, 'POST', '/api/v1/channels', { session: admin, body: '{"kind":' });
  assertError(bad, 400, 'invalid_json');
});

test('only admins manage channels: anonymous 401, employees and comms 403', async () => {
  const ch = await createChannel(srv, admin, { community_id: billing });
  const routes = [
    ['GET', '/api/v1/channels'], ['POST', '/api/v1/channels'], ['GET', `/api/v1/channels/${ch.id}`],
    ['PATCH', `/api/v1/channels/${ch.id}`], ['POST', `/api/v1/channels/${ch.id}/secret`], ['GET', `/api/v1/channels/${ch.id}/deliveries`],
  ];
  for (const [method, path] of routes) {
    const body = method === 'GET' || path.endsWith('/secret') ? undefined : { name: 'x' };
    assert.equal((await api(srv, method, path, { body })).status, 401, `${method} ${path}`);
    assert.equal((await api(srv, method, path, { session: employee, body })).status, 403, `${method} ${path}`);
    assert.equal((await api(srv, method, path, { session: comms, body })).status, 403, `${method} ${path}`);
  }
  assert.equal(sql(srv, `SELECT count(*) FROM channel_secrets WHERE channel_id = ${ch.id}`), '1');
});

test('PATCH changes name, language, SLA, status and owner; unknown channels 404', async () => {
  const ch = await createChannel(srv, admin, { community_id: billing });
  const owner = await newPerson(srv, admin);
  const res = await api(srv, 'PATCH', `/api/v1/channels/${ch.id}`, {
    session: admin, body: { name: 'Renamed', language: 'fr', sla_seconds: 900, status: 'disabled', owner_user_id: owner.id },
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.name, 'Renamed');
  assert.equal(res.body.slug, ch.slug);
  assert.equal(res.body.language, 'fr');
  assert.equal(res.body.sla_seconds, 900);
  assert.equal(res.body.status, 'disabled');
  assert.equal(res.body.owner_user_id, owner.id);
  assertError(await api(srv, 'PATCH', `/api/v1/channels/${ch.id}`, { session: admin, body: { status: 'paused' } }), 422, 'invalid_field', 'status');
  assertError(await api(srv, 'PATCH', `/api/v1/channels/${ch.id}`, { session: admin, body: { kind: 'web_form' } }), 422, 'invalid_field', 'kind');
  assertError(await api(srv, 'PATCH', `/api/v1/channels/${ch.id}`, { session: admin, body: { owner_user_id: 999999 } }), 422, 'invalid_field', 'owner_user_id');
  assert.equal((await api(srv, 'PATCH', '/api/v1/channels/999999', { session: admin, body: { name: 'x' } })).status, 404);
  assert.equal((await api(srv, 'GET', '/api/v1/channels/999999', { session: admin })).status, 404);
  await eventually(() => assert.equal(sql(srv, `SELECT count(*) FROM audit_log WHERE action = 'channel.updated' AND object_id = '${ch.id}'`), '1'));
});

test('rotation: 201 with a new secret and the previous expiry; audited; not for web forms; concurrent rotations', async () => {
  const ch = await createChannel(srv, admin, { community_id: billing });
  const rot = await api(srv, 'POST', `/api/v1/channels/${ch.id}/secret`, { session: admin });
  assert.equal(rot.status, 201, rot.text);
  assert.notEqual(rot.body.secret, ch.secret);
  assert.ok(Date.parse(rot.body.previous_expires_at) > Date.now() + 23.9 * 3600e3);
  assert.equal(sql(srv, `SELECT count(*) FILTER (WHERE expires_at IS NULL) || ' ' || count(*) FROM channel_secrets WHERE channel_id = ${ch.id}`), '1 2');
  await eventually(() => {
    const row = sql(srv, `SELECT details::text FROM audit_log WHERE action = 'channel.secret_rotated' AND object_id = '${ch.id}'`);
    assert.ok(row);
    assert.ok(!row.includes('whsec_') && !row.includes(rot.body.secret.slice(6, 20)));
  });
  const many = await Promise.all(Array.from({ length: 5 }, () => api(srv, 'POST', `/api/v1/channels/${ch.id}/secret`, { session: admin })));
  assert.ok(many.every((r) => r.status === 201), many.map((r) => r.status).join(','));
  assert.equal(sql(srv, `SELECT count(*) FROM channel_secrets WHERE channel_id = ${ch.id} AND expires_at IS NULL`), '1');
  const form = await createChannel(srv, admin, { community_id: billing, kind: 'web_form' });
  assertError(await api(srv, 'POST', `/api/v1/channels/${form.id}/secret`, { session: admin }), 409, 'not_api_channel');
  assert.equal((await api(srv, 'POST', '/api/v1/channels/999999/secret', { session: admin })).status, 404);
});

test('the delivery log lists deliveries newest first with their status and error code, paged by cursor', async () => {
  const ch = await createChannel(srv, admin, { community_id: billing });
  assert.equal((await deliver(srv, ch, question())).status, 202);
  assert.equal((await deliver(srv, ch, question(), { signature: 'v1,bm9wZQ==' })).status, 401);
  assert.equal((await deliver(srv, ch, question({ title: '' }))).status, 422);
  // Refused deliveries are logged beside the answer, not before it: the log catches up, and
  // two refusals in a row may be written in either order. The accepted one is written with
  // its question, before its answer.
  const res = await eventually(async () => {
    const r = await api(srv, 'GET', `/api/v1/channels/${ch.id}/deliveries`, { session: admin });
    assert.equal(r.status, 200, r.text);
    const rows = r.body.items.map((d) => [d.status, d.error_code]);
    assert.deepEqual([...rows.slice(0, 2)].sort(), [[401, 'invalid_signature'], [422, 'invalid_field']]);
    assert.deepEqual(rows[2], [202, '']);
    return r;
  });
  assert.equal(typeof res.body.items[2].question_id, 'number');
  assert.equal(res.body.items[1].ip, '127.0.0.1');
  const p1 = await api(srv, 'GET', `/api/v1/channels/${ch.id}/deliveries?limit=2`, { session: admin });
  assert.equal(p1.body.items.length, 2);
  assert.ok(p1.body.next_cursor);
  const p2 = await api(srv, 'GET', `/api/v1/channels/${ch.id}/deliveries?limit=2&cursor=${p1.body.next_cursor}`, { session: admin });
  assert.deepEqual(p2.body.items.map((d) => d.status), [202]);
  assert.equal(p2.body.next_cursor, null);
  assertError(await api(srv, 'GET', `/api/v1/channels/${ch.id}/deliveries?cursor=abc`, { session: admin }), 400, 'invalid_query');
  assert.equal((await api(srv, 'GET', '/api/v1/channels/999999/deliveries', { session: admin })).status, 404);
});
