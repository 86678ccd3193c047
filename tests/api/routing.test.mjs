// Routing of external questions by the jobs queue: the decision and its score parts, time
// zones and working hours, exclusions, the triage queue, re-routing on decline, disabling and
// out of office, round robin, bad and leased jobs, a restart, and two workers claiming at once.
// Questions are inserted by SQL with status 'routing' and a question.route job, as intake does.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, startRelais, sleep } from '../lib/harness.mjs';
import { api, login, loadDemo, sql, createUser, newPerson, eventually, assertError, ADMIN_EMAIL } from '../lib/api.mjs';

let pg, srv, admin;
let counter = 0;
const unique = (prefix) => `${prefix}-${Date.now().toString(36)}-${++counter}`;

before(async () => {
  pg = await startPostgres();
  srv = await startRelais({ pg, workers: 2, env: { RELAIS_INSECURE_COOKIES: 'true' } });
  await loadDemo(srv);
  admin = await login(srv, ADMIN_EMAIL);
});
after(async () => {
  await srv?.stop();
  await pg?.destroy();
});

/** Rows of a query as objects. */
function rows(query) {
  return JSON.parse(sql(srv, `SELECT coalesce(json_agg(t), '[]') FROM (${query}) t`));
}
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;

function community() {
  const s = unique('rt');
  return Number(sql(srv, `INSERT INTO communities (slug, name, created_by) SELECT ${lit(s)}, 'Routing test', id FROM users ORDER BY id LIMIT 1 RETURNING id`));
}

/** A user with a community role and routing facts set by SQL; returns the id. */
async function member(communityId, role, { expertise = {}, languages = [], timeZone = 'UTC', hours = {}, weeklyCap = 10, name = 'Expert' } = {}) {
  const u = await createUser(srv, admin, { name });
  sql(srv, `INSERT INTO community_members (community_id, user_id, role) VALUES (${communityId}, ${u.id}, ${lit(role)})`);
  for (const [tag, level] of Object.entries(expertise)) {
    sql(srv, `INSERT INTO user_expertise (user_id, tag, level) VALUES (${u.id}, ${lit(tag)}, ${level})`);
  }
  sql(srv, `UPDATE users SET languages = ${lit(`{${languages.join(',')}}`)}, time_zone = ${lit(timeZone)},
    working_hours = ${lit(JSON.stringify(hours))}, weekly_cap = ${weeklyCap} WHERE id = ${u.id}`);
  return u.id;
}

function channel(communityId, ownerId, slaSeconds = 3600) {
  return Number(sql(srv, `INSERT INTO channels (kind, name, slug, community_id, language, sla_seconds, owner_user_id, created_by)
    VALUES ('api', 'Routing channel', ${lit(unique('ch'))}, ${communityId}, 'en', ${slaSeconds}, ${ownerId}, ${ownerId}) RETURNING id`));
}

/** Inserts a question waiting for routing and its routing job (unless job is false); returns its id. */
function question(channelId, { tags = [], language = 'en', title = 'Where is my invoice?', status = 'routing', assignee = null, job = true } = {}) {
  const ext = unique('q');
  const id = Number(sql(srv, `WITH c AS (INSERT INTO customers (name, email) VALUES ('Ann Lee', ${lit(`${ext}@customer.example`)}) RETURNING id)
    INSERT INTO questions (channel_id, external_id, community_id, customer_id, title, body, language, tags, status, assignee_id)
    SELECT ch.id, ${lit(ext)}, ch.community_id, c.id, ${lit(title)}, 'Body of the question.', ${lit(language)},
      ${lit(`{${tags.join(',')}}`)}, ${lit(status)}, ${assignee ?? 'NULL'} FROM channels ch, c WHERE ch.id = ${channelId} RETURNING id`));
  if (job) sql(srv, `SELECT job_add('question.route', jsonb_build_object('question_id', ${id}), NULL)`);
  return id;
}

function state(id) {
  return rows(`SELECT status, assignee_id, primary_expert_id, backup_expert_id, claimed_by, triage_reason,
    escalation_level, sla_version, extract(epoch FROM sla_due_at - now()) AS sla_left FROM questions WHERE id = ${id}`)[0];
}

async function decided(id, timeoutMs = 10000) {
  return eventually(() => {
    const s = state(id);
    assert.notEqual(s.status, 'routing', `question ${id} is still routing`);
    return s;
  }, timeoutMs);
}

function routes(id) {
  return rows(`SELECT user_id, rank, score, parts FROM question_routes WHERE question_id = ${id} ORDER BY id`);
}
function events(id, kind) {
  return rows(`SELECT kind, actor_user_id, details FROM question_events WHERE question_id = ${id} AND kind = ${lit(kind)} ORDER BY id`);
}
function notifications(id) {
  return rows(`SELECT user_id, kind, data FROM notifications WHERE question_id = ${id} ORDER BY id`);
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
/** The ISO weekday index (0 = Monday) of now in a time zone, from the database clock. */
function localDay(zone) {
  return Number(sql(srv, `SELECT extract(isodow FROM now() AT TIME ZONE ${lit(zone)})::int - 1`));
}
/** Working hours covering all of today and tomorrow in a zone (safe across midnight). */
function hoursTodayIn(zone) {
  const d = localDay(zone);
  return { [DAYS[d]]: [['00:00', '24:00']], [DAYS[(d + 1) % 7]]: [['00:00', '24:00']] };
}

test('the best expert is primary, the next backup, with the score parts, the event, the notification and the SLA', async () => {
  const c = community();
  const owner = await member(c, 'manager', { name: 'Owner' });
  // 30 + 20 (en) + 0 (always) = 50... plus a second tag: billing 3 + invoices 2 = 50 + 20 = 70
  const a = await member(c, 'expert', { expertise: { billing: 3, invoices: 2 }, languages: ['en', 'fr'], name: 'Alice' });
  // billing 5 = 50, no English, never in working hours: 50 - 30 = 20
  const b = await member(c, 'expert', { expertise: { billing: 5, shipping: 4 }, languages: ['fr'], hours: { mon: [] }, name: 'Bob' });
  // billing 1 = 10, English 20, two open questions -10: 20
  const d = await member(c, 'expert', { expertise: { billing: 1 }, languages: ['en'], name: 'Dan' });
  // A member who is not an expert, and an expert of another community: never candidates.
  await member(c, 'member', { expertise: { billing: 5 }, languages: ['en'] });
  await member(community(), 'expert', { expertise: { billing: 5 }, languages: ['en'] });
  const ch = channel(c, owner, 7200);
  question(ch, { status: 'assigned', assignee: d, job: false });
  question(ch, { status: 'claimed', assignee: owner, job: false });
  sql(srv, `UPDATE questions SET claimed_by = ${d} WHERE status = 'claimed' AND assignee_id = ${owner}`);

  const q = question(ch, { tags: ['billing', 'invoices'], title: 'Invoice address is wrong' });
  const s = await decided(q);
  assert.equal(s.status, 'assigned');
  assert.equal(s.assignee_id, a);
  assert.equal(s.primary_expert_id, a);
  assert.equal(s.backup_expert_id, b, 'Bob and Dan tie at 20; never routed either, so the lower id');
  assert.equal(s.escalation_level, 0);
  assert.ok(s.sla_left > 7100 && s.sla_left <= 7200, `SLA armed with the channel's 7200 s: ${s.sla_left}`);

  assert.deepEqual(routes(q), [
    { user_id: a, rank: 1, score: 70, parts: { expertise: 50, language: 20, availability: 0, load: 0 } },
    { user_id: b, rank: 2, score: 20, parts: { expertise: 50, language: 0, availability: -30, load: 0 } },
  ]);
  assert.deepEqual(events(q, 'question.routed').map((e) => e.details), [{ primary: a, backup: b }]);
  const n = notifications(q);
  assert.equal(n.length, 1);
  assert.equal(n[0].user_id, a);
  assert.equal(n[0].kind, 'question.assigned');
  assert.equal(n[0].data.title, 'Invoice address is wrong');
  assert.ok(!JSON.stringify(n[0].data).match(/Ann Lee|customer\.example/), 'no customer identity in notifications');
  const jobs = rows(`SELECT kind, payload, run_at > now() AS later FROM jobs WHERE payload->>'question_id' = '${q}'`);
  assert.deepEqual(jobs, [{ kind: 'question.sla', payload: { question_id: q, version: s.sla_version }, later: true }]);
});

test('working hours are read in each expert\'s own time zone; an unknown zone counts as UTC', async () => {
  const c = community();
  const owner = await member(c, 'manager');
  const zone = 'Pacific/Kiritimati'; // UTC+14
  const hours = hoursTodayIn(zone);
  // Same working hours, but Pago Pago (UTC-11) is a day or two behind Kiritimati: outside.
  const behind = await member(c, 'expert', { expertise: { api: 2 }, languages: ['en'], timeZone: 'Pacific/Pago_Pago', hours });
  const ahead = await member(c, 'expert', { expertise: { api: 1 }, languages: ['en'], timeZone: zone, hours });
  const lost = await member(c, 'expert', { expertise: { api: 1 }, languages: ['en'], timeZone: 'Mars/Olympus_Mons', hours: hoursTodayIn('UTC') });
  const ch = channel(c, owner);
  const q = question(ch, { tags: ['api'] });
  const s = await decided(q);
  assert.equal(s.status, 'assigned');
  const r = routes(q);
  // ahead: 10 + 20 + 0 = 30; lost (UTC hours, in them): 30; behind: 20 + 20 - 30 = 10.
  assert.deepEqual(r.map((x) => [x.user_id, x.score, x.parts.availability]), [[ahead, 30, 0], [lost, 30, 0]]);
  assert.ok(ahead < lost);
  assert.ok(behind);
});

test('out of office, weekly cap reached and declined experts are left out; nobody left means triage for the managers', async () => {
  const c = community();
  const m1 = await member(c, 'manager', { name: 'Manager one' });
  const m2 = await member(c, 'manager', { name: 'Manager two' });
  const gone = await member(c, 'manager', { name: 'Disabled manager' });
  sql(srv, `UPDATE users SET status = 'disabled' WHERE id = ${gone}`);
  const away = await member(c, 'expert', { expertise: { tax: 5 }, languages: ['en'] });
  sql(srv, `INSERT INTO out_of_office (user_id, starts_at, ends_at) VALUES (${away}, now() - interval '1 hour', now() + interval '1 day')`);
  const capped = await member(c, 'expert', { expertise: { tax: 5 }, languages: ['en'], weeklyCap: 0 });
  const decliner = await member(c, 'expert', { expertise: { tax: 5 }, languages: ['en'] });
  const disabled = await member(c, 'expert', { expertise: { tax: 5 }, languages: ['en'] });
  sql(srv, `UPDATE users SET status = 'disabled' WHERE id = ${disabled}`);
  // A period away that is over, or still to come, does not count.
  const back = await member(c, 'expert', { expertise: { tax: 1 }, languages: ['en'] });
  sql(srv, `INSERT INTO out_of_office (user_id, starts_at, ends_at) VALUES (${back}, now() - interval '2 days', now() - interval '1 day'),
    (${back}, now() + interval '1 day', now() + interval '2 days')`);
  const ch = channel(c, m1);

  const q = question(ch, { tags: ['tax'], job: false });
  sql(srv, `INSERT INTO question_declines (question_id, user_id, reason) VALUES (${q}, ${decliner}, 'Not my field')`);
  sql(srv, `SELECT job_add('question.route', jsonb_build_object('question_id', ${q}), NULL)`);
  const s = await decided(q);
  assert.equal(s.status, 'assigned');
  assert.equal(s.assignee_id, back);
  assert.equal(s.backup_expert_id, null, 'a single candidate: no backup');
  assert.equal(routes(q).length, 1);

  // Without `back`, nobody is left.
  sql(srv, `DELETE FROM community_members WHERE user_id = ${back}`);
  const t = question(ch, { tags: ['tax'], title: 'Tax question', job: false });
  sql(srv, `INSERT INTO question_declines (question_id, user_id, reason) VALUES (${t}, ${decliner}, 'Still not my field')`);
  sql(srv, `SELECT job_add('question.route', jsonb_build_object('question_id', ${t}), NULL)`);
  const ts = await decided(t);
  assert.equal(ts.status, 'triage');
  assert.equal(ts.triage_reason, 'no_expert');
  assert.equal(ts.assignee_id, null);
  assert.deepEqual(events(t, 'question.triaged').map((e) => e.details), [{ action: 'triage', reason: 'no_expert' }]);
  const n = notifications(t);
  assert.deepEqual(n.map((x) => [x.user_id, x.kind]).sort(), [[m1, 'question.triage'], [m2, 'question.triage']].sort());
  assert.equal(n[0].data.title, 'Tax question');
  assert.equal(routes(t).length, 0);
  assert.equal(rows(`SELECT 1 FROM jobs WHERE payload->>'question_id' = '${t}'`).length, 0, 'no SLA timer in triage');
});

test('a decline (through the API) hands the question back to routing and the new decision leaves the decliner out', async () => {
  const c = community();
  const owner = await member(c, 'manager');
  const declining = await newPerson(srv, admin, { name: 'Declining expert' });
  const a = declining.id;
  sql(srv, `INSERT INTO community_members (community_id, user_id, role) VALUES (${c}, ${a}, 'expert');
    INSERT INTO user_expertise (user_id, tag, level) VALUES (${a}, 'refunds', 4); UPDATE users SET languages = '{en}' WHERE id = ${a}`);
  const b = await member(c, 'expert', { expertise: { refunds: 2 }, languages: ['en'] });
  const d = await member(c, 'expert', { expertise: { refunds: 1 }, languages: ['en'] });
  const q = question(channel(c, owner), { tags: ['refunds'] });
  const first = await decided(q);
  assert.equal(first.assignee_id, a);
  // The question view shows the decision and its parts.
  const view = await api(srv, 'GET', `/api/v1/questions/${q}`, { session: declining });
  assert.equal(view.status, 200, view.text);
  assert.deepEqual(view.body.routing.map((r) => [r.user.id, r.rank, r.score, r.parts]), [
    [a, 1, 60, { expertise: 40, language: 20, availability: 0, load: 0 }],
    [b, 2, 40, { expertise: 20, language: 20, availability: 0, load: 0 }],
  ]);

  const res = await api(srv, 'POST', `/api/v1/questions/${q}/decline`, { session: declining, body: { reason: 'On leave tomorrow' } });
  assert.ok(res.status < 300, res.text);
  const second = await eventually(() => {
    const s = state(q);
    assert.equal(s.status, 'assigned');
    assert.equal(s.assignee_id, b);
    return s;
  }, 10000);
  assert.equal(second.backup_expert_id, d);
  assert.ok(second.sla_version > first.sla_version, 'a fresh SLA window');
  assert.deepEqual(events(q, 'question.rerouted').map((e) => [e.actor_user_id, e.details.reason]), [[a, 'declined']]);
  assert.deepEqual(events(q, 'question.routed').map((e) => e.details), [{ primary: a, backup: b }, { primary: b, backup: d }]);
  assert.equal(routes(q).length, 4);
  // The first SLA timer is stale now: only the new version matters.
  const versions = rows(`SELECT (payload->>'version')::int AS v FROM jobs WHERE kind = 'question.sla' AND payload->>'question_id' = '${q}' ORDER BY 1`);
  assert.deepEqual(versions.map((x) => x.v), [first.sla_version, second.sla_version]);
});

test('disabling the assignee re-routes their assigned and claimed questions, not the others', async () => {
  const c = community();
  const owner = await member(c, 'manager');
  const a = await member(c, 'expert', { expertise: { vat: 4 }, languages: ['en'] });
  const b = await member(c, 'expert', { expertise: { vat: 2 }, languages: ['en'] });
  const ch = channel(c, owner);
  const q1 = question(ch, { tags: ['vat'] });
  assert.equal((await decided(q1)).assignee_id, a);
  const q2 = question(ch, { tags: ['vat'] });
  assert.equal((await decided(q2)).assignee_id, a, 'vat 4 with load 1 (35+20) still beats vat 2 (20+20)');
  sql(srv, `UPDATE questions SET status = 'claimed', claimed_by = ${a} WHERE id = ${q2}`);
  const done = question(ch, { status: 'answered', assignee: a, job: false });

  const res = await api(srv, 'PATCH', `/api/v1/users/${a}`, { session: admin, body: { status: 'disabled' } });
  assert.equal(res.status, 200, res.text);
  for (const q of [q1, q2]) {
    await eventually(() => {
      const s = state(q);
      assert.equal(s.status, 'assigned');
      assert.equal(s.assignee_id, b);
      assert.equal(s.claimed_by, null);
    }, 10000);
    assert.deepEqual(events(q, 'question.rerouted').map((e) => [e.actor_user_id, e.details.reason]), [[admin.user.id, 'assignee_disabled']]);
  }
  assert.equal(state(done).status, 'answered');
  assert.equal(state(done).assignee_id, a);
  // Changing something else of a user re-routes nothing.
  const before2 = events(q1, 'question.rerouted').length;
  const ok = await api(srv, 'PATCH', `/api/v1/users/${b}`, { session: admin, body: { department: 'Tax' } });
  assert.equal(ok.status, 200, ok.text);
  await sleep(300);
  assert.equal(events(q1, 'question.rerouted').length, before2);
  assert.equal(state(q1).assignee_id, b);
});

test('an out-of-office period that covers now re-routes the expert\'s questions; a future one does not', async () => {
  const c = community();
  const owner = await member(c, 'manager');
  const password = 'a-long-password-for-ooo';
  const u = await createUser(srv, admin, { name: 'Away soon', password });
  sql(srv, `INSERT INTO community_members (community_id, user_id, role) VALUES (${c}, ${u.id}, 'expert');
    INSERT INTO user_expertise (user_id, tag, level) VALUES (${u.id}, 'payroll', 5)`);
  const other = await member(c, 'expert', { expertise: { payroll: 1 } });
  const q = question(channel(c, owner), { tags: ['payroll'] });
  assert.equal((await decided(q)).assignee_id, u.id);
  const session = await login(srv, u.email, password);

  const later = new Date(Date.now() + 86400e3).toISOString();
  const muchLater = new Date(Date.now() + 2 * 86400e3).toISOString();
  let res = await api(srv, 'POST', '/api/v1/me/out-of-office', { session, body: { starts_at: later, ends_at: muchLater } });
  assert.equal(res.status, 201, res.text);
  await sleep(300);
  assert.equal(state(q).assignee_id, u.id, 'a future period changes nothing now');

  res = await api(srv, 'POST', '/api/v1/me/out-of-office', { session, body: { starts_at: new Date(Date.now() - 60e3).toISOString(), ends_at: later, note: 'Sick' } });
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(Object.keys(res.body).sort(), ['ends_at', 'id', 'note', 'starts_at']);
  await eventually(() => {
    const s = state(q);
    assert.equal(s.status, 'assigned');
    assert.equal(s.assignee_id, other);
  }, 10000);
  assert.deepEqual(events(q, 'question.rerouted').map((e) => [e.actor_user_id, e.details.reason]), [[u.id, 'assignee_away']]);
  // Bad input is still refused as before, and re-routes nothing.
  res = await api(srv, 'POST', '/api/v1/me/out-of-office', { session, body: { starts_at: 'yesterday', ends_at: later } });
  assertError(res, 422, 'invalid_field', 'starts_at');
});

test('equal experts take turns: round robin over the routing history', async () => {
  const c = community();
  const owner = await member(c, 'manager');
  const experts = [];
  for (let i = 0; i < 3; i++) experts.push(await member(c, 'expert', { expertise: { mobile: 2 }, languages: ['en'] }));
  const ch = channel(c, owner);
  const counts = new Map(experts.map((e) => [e, 0]));
  for (let i = 0; i < 6; i++) {
    const q = question(ch, { tags: ['mobile'] });
    const s = await decided(q);
    counts.set(s.assignee_id, counts.get(s.assignee_id) + 1);
    // Close it so that load does not decide: only the round robin does.
    sql(srv, `UPDATE questions SET status = 'answered' WHERE id = ${q}`);
  }
  assert.deepEqual([...counts.values()], [2, 2, 2]);
});

test('open load counts what is assigned to an expert and what they claimed of others, once each, open statuses only', async () => {
  const c = community();
  const owner = await member(c, 'manager');
  const busy = await member(c, 'expert', { expertise: { load: 3 }, languages: ['en'], weeklyCap: 1000 });
  const idle = await member(c, 'expert', { expertise: { load: 1 }, languages: ['en'], weeklyCap: 1000 });
  const ch = channel(c, owner);
  // busy: two assigned (one also claimed by them: counted once), one claimed of idle's, one
  // waiting for the customer; closed and answered ones do not count. Load 4: 30 − 20 = 10.
  question(ch, { status: 'assigned', assignee: busy, job: false });
  const both = question(ch, { status: 'claimed', assignee: busy, job: false });
  sql(srv, `UPDATE questions SET claimed_by = ${busy} WHERE id = ${both}`);
  const others = question(ch, { status: 'claimed', assignee: idle, job: false });
  sql(srv, `UPDATE questions SET claimed_by = ${busy} WHERE id = ${others}`);
  question(ch, { status: 'waiting_customer', assignee: busy, job: false });
  question(ch, { status: 'closed', assignee: busy, job: false });
  question(ch, { status: 'answered', assignee: busy, job: false });
  const q = question(ch, { tags: ['load'] });
  await decided(q);
  const got = routes(q).map((r) => [r.user_id, r.rank, r.parts.load]);
  // idle has one open question (claimed by busy, still assigned to idle): load 1, 10 − 5 = 5.
  assert.deepEqual(got, [[busy, 1, -20], [idle, 2, -5]]);
});

test('the weekly cap counts the questions routed in the last 7 days', async () => {
  const c = community();
  const owner = await member(c, 'manager');
  const strong = await member(c, 'expert', { expertise: { cap: 5 }, languages: ['en'], weeklyCap: 2 });
  const weak = await member(c, 'expert', { expertise: { cap: 1 }, languages: ['en'] });
  const ch = channel(c, owner);
  // One routed eight days ago does not count.
  const old = question(ch, { status: 'answered', job: false });
  sql(srv, `INSERT INTO question_routes (question_id, user_id, rank, score, parts, created_at) VALUES (${old}, ${strong}, 1, 0, '{}', now() - interval '8 days')`);
  const got = [];
  for (let i = 0; i < 3; i++) {
    const q = question(ch, { tags: ['cap'] });
    got.push((await decided(q)).assignee_id);
    sql(srv, `UPDATE questions SET status = 'answered' WHERE id = ${q}`);
  }
  assert.deepEqual(got, [strong, strong, weak]);
});

test('bad jobs: a malformed payload is retried with backoff then dead; a missing question ends the job; unknown kinds wait', async () => {
  const bad = Number(sql(srv, `INSERT INTO jobs (kind, payload, max_attempts) VALUES ('question.route', '{"question_id": "x"}', 2) RETURNING id`));
  const missing = Number(sql(srv, `SELECT job_add('question.route', '{"question_id": 999999999}', NULL)`));
  const unknown = Number(sql(srv, `SELECT job_add('test.unknown_kind', '{}', NULL)`));
  const first = await eventually(() => {
    const [j] = rows(`SELECT attempts, status, last_error, extract(epoch FROM run_at - now()) AS wait FROM jobs WHERE id = ${bad}`);
    assert.equal(j.attempts, 1);
    assert.ok(j.last_error);
    return j;
  }, 5000);
  assert.equal(first.status, 'pending');
  assert.match(first.last_error, /question_id/);
  assert.ok(first.wait > 0 && first.wait <= 1.25, `backoff of about a second: ${first.wait}`);
  const dead = await eventually(() => {
    const [j] = rows(`SELECT attempts, status, last_error, locked_until FROM jobs WHERE id = ${bad}`);
    assert.equal(j.status, 'dead');
    return j;
  }, 8000);
  assert.equal(dead.attempts, 2);
  assert.equal(dead.locked_until, null);
  await eventually(() => assert.equal(rows(`SELECT 1 FROM jobs WHERE id = ${missing}`).length, 0), 5000);
  await sleep(1200);
  assert.equal(rows(`SELECT attempts FROM jobs WHERE id = ${bad}`)[0].attempts, 2, 'dead jobs are not claimed again');
  assert.deepEqual(rows(`SELECT attempts, status FROM jobs WHERE id = ${unknown}`), [{ attempts: 0, status: 'pending' }]);
  sql(srv, `DELETE FROM jobs WHERE id IN (${bad}, ${unknown})`);
  // The schema refuses nonsense jobs.
  assert.throws(() => sql(srv, `INSERT INTO jobs (kind) VALUES ('Bad Kind')`));
  assert.throws(() => sql(srv, `INSERT INTO jobs (kind, status) VALUES ('question.route', 'done')`));
});

test('a job whose worker died is run again once its lease has passed, not before', async () => {
  const c = community();
  const owner = await member(c, 'manager');
  const e = await member(c, 'expert', { expertise: { lease: 1 } });
  const ch = channel(c, owner);
  // As a worker that crashed left it: claimed, attempt 1, lease over.
  const q1 = question(ch, { job: false });
  sql(srv, `INSERT INTO jobs (kind, payload, attempts, locked_until, locked_by) VALUES ('question.route', '{"question_id": ${q1}}', 1, now() - interval '1 second', 'gone/1/worker-0')`);
  // Still leased for 3 seconds.
  const q2 = question(ch, { job: false });
  sql(srv, `INSERT INTO jobs (kind, payload, attempts, locked_until, locked_by) VALUES ('question.route', '{"question_id": ${q2}}', 1, now() + interval '3 seconds', 'busy/1/worker-0')`);
  sql(srv, `SELECT pg_notify('relais_jobs', '')`);
  assert.equal((await decided(q1)).assignee_id, e);
  await sleep(1000);
  assert.equal(state(q2).status, 'routing', 'leased to another worker');
  assert.equal((await decided(q2, 8000)).assignee_id, e);
  // A lease that expired on the last attempt makes the job dead instead of running it again.
  const q3 = question(ch, { job: false });
  const j = Number(sql(srv, `INSERT INTO jobs (kind, payload, attempts, max_attempts, locked_until) VALUES ('question.route', '{"question_id": ${q3}}', 3, 3, now() - interval '1 second') RETURNING id`));
  sql(srv, `SELECT pg_notify('relais_jobs', '')`);
  await eventually(() => assert.equal(rows(`SELECT status FROM jobs WHERE id = ${j}`)[0].status, 'dead'), 5000);
  assert.equal(state(q3).status, 'routing');
  assert.match(rows(`SELECT last_error FROM jobs WHERE id = ${j}`)[0].last_error, /lease/);
});

test('the same question queued twice, and many questions at once: two hosts route each exactly once', async () => {
  // One worker per host routes (the first); a second relais on the same database is a second
  // host deciding side by side, which the community lock and the freshness guard settle.
  const second = await startRelais({ pg, database: 'given', env: { RELAIS_DATABASE_URL: srv.env.RELAIS_DATABASE_URL, RELAIS_INSECURE_COOKIES: 'true' } });
  const c = community();
  const owner = await member(c, 'manager');
  for (let i = 0; i < 4; i++) await member(c, 'expert', { expertise: { bulk: 1 + i }, languages: ['en'], weeklyCap: 1000 });
  const ch = channel(c, owner);
  const twice = question(ch, { tags: ['bulk'] });
  sql(srv, `SELECT job_add('question.route', jsonb_build_object('question_id', ${twice}), NULL)`);
  // 40 questions and their jobs in one transaction: both workers wake on the same NOTIFY.
  const ids = sql(srv, `WITH c AS (INSERT INTO customers (name) SELECT 'Bulk ' || g FROM generate_series(1, 40) g RETURNING id),
    q AS (INSERT INTO questions (channel_id, external_id, community_id, customer_id, title, body, language, tags, status)
      SELECT ${ch}, 'bulk-' || c.id, ${c}, c.id, 'Bulk question', 'Body.', 'en', '{bulk}', 'routing' FROM c RETURNING id)
    SELECT id FROM q WHERE job_add('question.route', jsonb_build_object('question_id', id), NULL) > 0`).split('\n').map(Number);
  assert.equal(ids.length, 40);
  const all = [twice, ...ids];
  await eventually(() => {
    const left = rows(`SELECT id FROM questions WHERE id IN (${all.join(',')}) AND status = 'routing'`);
    assert.equal(left.length, 0);
  }, 20000);
  const perQuestion = rows(`SELECT q.id, (SELECT count(*) FROM question_events e WHERE e.question_id = q.id AND e.kind = 'question.routed') AS routed,
    (SELECT count(*) FROM question_routes r WHERE r.question_id = q.id) AS routes,
    (SELECT count(*) FROM notifications n WHERE n.question_id = q.id) AS notified,
    (SELECT count(*) FROM jobs j WHERE j.kind = 'question.sla' AND j.payload->>'question_id' = q.id::text) AS timers
    FROM questions q WHERE q.id IN (${all.join(',')})`);
  for (const p of perQuestion) assert.deepEqual(p, { id: p.id, routed: 1, routes: 2, notified: 1, timers: 1 }, `question ${p.id}`);
  assert.equal(rows(`SELECT 1 FROM jobs WHERE kind = 'question.route' AND payload->>'question_id' IN (${all.map((x) => `'${x}'`).join(',')})`).length, 0);
  await second.stop();
});

test('two workers claim side by side and run each job once', async () => {
  // 60 jobs that fail at once and may not be retried: each handler run leaves one log line.
  // (SLA timers: every worker claims them, while routing is left to the first worker.)
  const ids = sql(srv, `WITH j AS (INSERT INTO jobs (kind, payload, max_attempts)
    SELECT 'question.sla', jsonb_build_object('question_id', 'n' || g), 1 FROM generate_series(1, 60) g RETURNING id)
    SELECT id FROM j`).split('\n').map(Number);
  sql(srv, `SELECT pg_notify('relais_jobs', '')`);
  await eventually(() => {
    const left = rows(`SELECT id FROM jobs WHERE id IN (${ids.join(',')}) AND status <> 'dead'`);
    assert.equal(left.length, 0);
  }, 15000);
  assert.deepEqual(rows(`SELECT DISTINCT attempts FROM jobs WHERE id IN (${ids.join(',')})`), [{ attempts: 1 }]);
  const ran = await eventually(() => {
    const lines = srv.logs().split('\n').filter((l) => / gave up after 1 attempts/.test(l))
      .map((l) => JSON.parse(l)).filter((l) => ids.includes(Number(l.msg.match(/^job (\d+)/)[1])));
    assert.equal(lines.length, 60);
    return lines;
  }, 5000);
  assert.equal(new Set(ran.map((l) => l.msg.match(/^job (\d+)/)[1])).size, 60, 'no job ran twice');
  sql(srv, `DELETE FROM jobs WHERE id IN (${ids.join(',')})`);
});

test('a burst of questions is shared among equal experts as if they came one by one', async () => {
  const c = community();
  const owner = await member(c, 'manager');
  const experts = [];
  for (let i = 0; i < 3; i++) experts.push(await member(c, 'expert', { expertise: { burst: 2 }, languages: ['en'], weeklyCap: 1000 }));
  const ch = channel(c, owner);
  const ids = sql(srv, `WITH c AS (INSERT INTO customers (name) SELECT 'Burst ' || g FROM generate_series(1, 30) g RETURNING id),
    q AS (INSERT INTO questions (channel_id, external_id, community_id, customer_id, title, body, language, tags, status)
      SELECT ${ch}, 'burst-' || c.id, ${c}, c.id, 'Burst question', 'Body.', 'en', '{burst}', 'routing' FROM c RETURNING id)
    SELECT id FROM q WHERE job_add('question.route', jsonb_build_object('question_id', id), NULL) > 0`).split('\n').map(Number);
  await eventually(() => {
    assert.equal(rows(`SELECT 1 FROM questions WHERE id IN (${ids.join(',')}) AND status = 'routing'`).length, 0);
  }, 30000);
  const shares = rows(`SELECT assignee_id, count(*)::int AS n FROM questions WHERE id IN (${ids.join(',')}) GROUP BY 1 ORDER BY 1`);
  assert.deepEqual(shares.map((x) => x.assignee_id), experts);
  for (const x of shares) assert.ok(x.n >= 9 && x.n <= 11, `expert ${x.assignee_id} got ${x.n} of 30`);
  assert.deepEqual(rows(`SELECT count(*)::int AS n FROM question_events WHERE kind = 'question.routed' AND question_id IN (${ids.join(',')})`), [{ n: 30 }]);
});

test('one group with questions for experts and questions for nobody: each assigned or triaged once', async () => {
  // Queued in one statement, the two communities' questions are claimed and decided together
  // in one group: its assignments and its triage decisions are each written in one statement.
  // The community with nobody available still has a candidate (capped), so that the triage
  // decisions carry candidates through the freshness guard.
  const staffed = community();
  const empty = community();
  const owner = await member(staffed, 'manager');
  const managers = [await member(empty, 'manager'), await member(empty, 'manager')];
  const expert = await member(staffed, 'expert', { expertise: { mixed: 2 }, languages: ['en'], weeklyCap: 1000 });
  await member(empty, 'expert', { expertise: { mixed: 5 }, languages: ['en'], weeklyCap: 0 });
  const chStaffed = channel(staffed, owner);
  const chEmpty = channel(empty, managers[0]);
  const ids = sql(srv, `WITH c AS (INSERT INTO customers (name) SELECT 'Mixed ' || g FROM generate_series(1, 24) g RETURNING id),
    n AS (SELECT id, row_number() OVER (ORDER BY id) % 2 = 0 AS staffed FROM c),
    q AS (INSERT INTO questions (channel_id, external_id, community_id, customer_id, title, body, language, tags, status)
      SELECT CASE WHEN n.staffed THEN ${chStaffed} ELSE ${chEmpty} END, 'mixed-' || n.id,
        CASE WHEN n.staffed THEN ${staffed} ELSE ${empty} END, n.id, 'Mixed question', 'Body.', 'en', '{mixed}', 'routing'
      FROM n RETURNING id)
    SELECT id FROM q WHERE job_add('question.route', jsonb_build_object('question_id', id), NULL) > 0`).split('\n').map(Number);
  const list = ids.join(',');
  await eventually(() => {
    assert.equal(rows(`SELECT 1 FROM questions WHERE id IN (${list}) AND status = 'routing'`).length, 0);
  }, 30000);
  const outcome = rows(`SELECT community_id, status, assignee_id, count(*)::int AS n FROM questions WHERE id IN (${list})
    GROUP BY 1, 2, 3 ORDER BY 1`);
  assert.deepEqual(outcome, [
    { community_id: staffed, status: 'assigned', assignee_id: expert, n: 12 },
    { community_id: empty, status: 'triage', assignee_id: null, n: 12 },
  ].sort((a, b) => a.community_id - b.community_id));
  // One transaction wrote every decision: one now() for all their timeline rows.
  assert.deepEqual(rows(`SELECT count(DISTINCT at)::int AS n FROM question_events
    WHERE kind IN ('question.routed', 'question.triaged') AND question_id IN (${list})`), [{ n: 1 }]);
  const triaged = rows(`SELECT id FROM questions WHERE id IN (${list}) AND status = 'triage' ORDER BY id`).map((r) => r.id);
  for (const t of triaged) {
    assert.deepEqual(events(t, 'question.triaged').map((e) => e.details), [{ action: 'triage', reason: 'no_expert' }]);
    assert.deepEqual(notifications(t).map((x) => x.user_id).sort(), [...managers].sort());
    assert.equal(routes(t).length, 0);
  }
  assert.deepEqual(rows(`SELECT count(*)::int AS n FROM question_events WHERE kind = 'question.routed' AND question_id IN (${list})`), [{ n: 12 }]);
});

test('jobs survive a restart: a question queued while relais is down is routed by the next start', async () => {
  const c = community();
  const owner = await member(c, 'manager');
  const e = await member(c, 'expert', { expertise: { restart: 2 } });
  const ch = channel(c, owner);
  const url = srv.env.RELAIS_DATABASE_URL;
  await srv.stop();
  const q = question(ch, { tags: ['restart'] });
  assert.equal(state(q).status, 'routing');
  srv = await startRelais({ pg, database: 'given', env: { RELAIS_DATABASE_URL: url, RELAIS_INSECURE_COOKIES: 'true' } });
  admin = await login(srv, ADMIN_EMAIL);
  const s = await decided(q);
  assert.equal(s.assignee_id, e);
  const bad = await api(srv, 'PATCH', `/api/v1/users/${e}`, { session: admin, body: { status: 'asleep' } });
  assertError(bad, 422, 'invalid_field', 'status');
});

test('the per-day routing tallies that weekly caps and round robin read match the routing history', () => {
  // Every test above routed questions (one route inserted by hand, eight days back): the
  // tallies kept by the question_routes trigger must be exactly a recount of the history.
  const recount = rows(`SELECT user_id, (created_at AT TIME ZONE 'UTC')::date::text AS day, count(*)::int AS routed,
    max(created_at)::text AS last FROM question_routes WHERE rank = 1 GROUP BY 1, 2 ORDER BY 1, 2`);
  const tallies = rows(`SELECT user_id, day::text, routed, last_routed_at::text AS last FROM expert_route_days ORDER BY 1, 2`);
  assert.ok(recount.length > 10, `only ${recount.length} tallies`);
  assert.deepEqual(tallies, recount);
});
