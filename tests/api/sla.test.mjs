// SLA timers as rows of the jobs queue: escalation primary → backup → manager → channel owner
// with a fresh window each, the breach, skipped steps, pause and resume, stale timers, a
// restart of relais in the middle, and two workers running each timer once.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, startRelais, sleep } from '../lib/harness.mjs';
import { login, loadDemo, sql, createUser, eventually, ADMIN_EMAIL } from '../lib/api.mjs';

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

function rows(query) {
  return JSON.parse(sql(srv, `SELECT coalesce(json_agg(t), '[]') FROM (${query}) t`));
}
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;

function community() {
  return Number(sql(srv, `INSERT INTO communities (slug, name, created_by) SELECT ${lit(unique('sla'))}, 'SLA test', id FROM users ORDER BY id LIMIT 1 RETURNING id`));
}

async function person(name) {
  return (await createUser(srv, admin, { name })).id;
}

async function member(c, role, name, level = 1) {
  const id = await person(name);
  sql(srv, `INSERT INTO community_members (community_id, user_id, role) VALUES (${c}, ${id}, ${lit(role)})`);
  if (role === 'expert') sql(srv, `INSERT INTO user_expertise (user_id, tag, level) VALUES (${id}, 'sla', ${level})`);
  return id;
}

function channel(c, owner, slaSeconds) {
  return Number(sql(srv, `INSERT INTO channels (kind, name, slug, community_id, language, sla_seconds, owner_user_id, created_by)
    VALUES ('web_form', 'SLA channel', ${lit(unique('ch'))}, ${c}, 'en', ${slaSeconds}, ${owner}, ${owner}) RETURNING id`));
}

function question(ch) {
  const ext = unique('q');
  const id = Number(sql(srv, `WITH c AS (INSERT INTO customers (name) VALUES ('Customer') RETURNING id)
    INSERT INTO questions (channel_id, external_id, community_id, customer_id, title, body, language, tags, status)
    SELECT ch.id, ${lit(ext)}, ch.community_id, c.id, 'Late question', 'Body.', 'en', '{sla}', 'routing'
    FROM channels ch, c WHERE ch.id = ${ch} RETURNING id`));
  sql(srv, `SELECT job_add('question.route', jsonb_build_object('question_id', ${id}), NULL)`);
  return id;
}

function state(id) {
  return rows(`SELECT status, assignee_id, claimed_by, escalation_level, sla_version, sla_due_at IS NOT NULL AS armed,
    extract(epoch FROM sla_remaining) AS remaining FROM questions WHERE id = ${id}`)[0];
}
function events(id, kinds) {
  return rows(`SELECT kind, details FROM question_events WHERE question_id = ${id} AND kind = ANY (${lit(`{${kinds.join(',')}}`)}) ORDER BY id`);
}
function notified(id) {
  return rows(`SELECT user_id, kind, data->>'level' AS level FROM notifications WHERE question_id = ${id} ORDER BY id`)
    .map((n) => [n.user_id, n.kind, n.level === null ? null : Number(n.level)]);
}
async function atLevel(id, level, timeoutMs = 8000) {
  return eventually(() => {
    const s = state(id);
    assert.equal(s.escalation_level, level, `question ${id}: level ${s.escalation_level}, waiting for ${level}`);
    return s;
  }, timeoutMs);
}
async function breached(id, timeoutMs = 8000) {
  return eventually(() => assert.equal(events(id, ['sla.breached']).length, 1), timeoutMs);
}

test('escalation runs primary → backup → manager → owner with a fresh window each, then records the breach; a restart in the middle loses nothing', async () => {
  const c = community();
  const owner = await person('Channel owner');
  const manager = await member(c, 'manager', 'Manager');
  const primary = await member(c, 'expert', 'Primary', 3);
  const backup = await member(c, 'expert', 'Backup', 2);
  const ch = channel(c, owner, 2);
  const q = question(ch);
  const s0 = await eventually(() => {
    const s = state(q);
    assert.equal(s.status, 'assigned');
    return s;
  }, 8000);
  assert.equal(s0.assignee_id, primary);
  assert.equal(s0.escalation_level, 0);
  // The primary claimed it but did not answer in time.
  sql(srv, `UPDATE questions SET status = 'claimed', claimed_by = ${primary} WHERE id = ${q}`);

  const s1 = await atLevel(q, 1);
  assert.deepEqual([s1.status, s1.assignee_id, s1.claimed_by], ['assigned', backup, null]);
  assert.ok(s1.sla_version > s0.sla_version && s1.armed, 'a fresh window');

  // Stop relais during the backup's window and start it again after the deadline passed.
  const url = srv.env.RELAIS_DATABASE_URL;
  await srv.stop();
  await sleep(2500);
  assert.equal(state(q).escalation_level, 1, 'nobody escalates while relais is down');
  srv = await startRelais({ pg, database: 'given', workers: 2, env: { RELAIS_DATABASE_URL: url, RELAIS_INSECURE_COOKIES: 'true' } });

  const s2 = await atLevel(q, 2);
  assert.equal(s2.assignee_id, manager);
  const s3 = await atLevel(q, 3);
  assert.equal(s3.assignee_id, owner);
  await breached(q);
  assert.equal(state(q).escalation_level, 3);
  assert.equal(state(q).assignee_id, owner);

  assert.deepEqual(events(q, ['sla.escalated', 'sla.breached']), [
    { kind: 'sla.escalated', details: { level: 1, from: primary, to: backup } },
    { kind: 'sla.escalated', details: { level: 2, from: backup, to: manager } },
    { kind: 'sla.escalated', details: { level: 3, from: manager, to: owner } },
    { kind: 'sla.breached', details: { level: 3, assignee: owner } },
  ]);
  assert.deepEqual(notified(q), [
    [primary, 'question.assigned', null],
    [backup, 'question.escalated', 1], [primary, 'question.unassigned', 1],
    [manager, 'question.escalated', 2], [backup, 'question.unassigned', 2],
    [owner, 'question.escalated', 3], [manager, 'question.unassigned', 3],
  ]);
  // The breach is recorded once and nothing is left queued for the question.
  await sleep(2500);
  assert.equal(events(q, ['sla.breached']).length, 1);
  assert.equal(rows(`SELECT 1 FROM jobs WHERE payload->>'question_id' = '${q}'`).length, 0);
});

test('missing, disabled and same-person steps are skipped', async () => {
  const c = community();
  const owner = await person('Owner');
  const disabledManager = await member(c, 'manager', 'Disabled manager');
  sql(srv, `UPDATE users SET status = 'disabled' WHERE id = ${disabledManager}`);
  const only = await member(c, 'expert', 'Only expert');
  // No backup (a single expert), no active manager: straight to the owner.
  const q = question(channel(c, owner, 1));
  const s = await atLevel(q, 3);
  assert.equal(s.assignee_id, owner);
  assert.deepEqual(events(q, ['sla.escalated']).map((e) => e.details), [{ level: 3, from: only, to: owner }]);
  await breached(q);

  // The expert owns the channel too: nobody else to go to, so the first deadline is a breach.
  const c2 = community();
  const solo = await member(c2, 'expert', 'Solo');
  const q2 = question(channel(c2, solo, 1));
  await breached(q2);
  assert.deepEqual(events(q2, ['sla.escalated', 'sla.breached']).map((e) => e.details), [{ level: 0, assignee: solo }]);
  assert.equal(state(q2).assignee_id, solo);
});

test('a paused clock does not escalate; resumed, it runs with the time that was left', async () => {
  const c = community();
  const owner = await person('Owner');
  const primary = await member(c, 'expert', 'Primary', 3);
  const backup = await member(c, 'expert', 'Backup', 1);
  const q = question(channel(c, owner, 3));
  await eventually(() => assert.equal(state(q).status, 'assigned'), 8000);
  sql(srv, `SELECT question_sla_pause(${q}, ${primary})`);
  const paused = state(q);
  assert.equal(paused.status, 'waiting_customer');
  assert.equal(paused.armed, false);
  assert.ok(paused.remaining > 1 && paused.remaining <= 3, `time left: ${paused.remaining}`);
  // The original deadline passes: its job finds a newer version and does nothing.
  await eventually(() => assert.equal(rows(`SELECT 1 FROM jobs WHERE kind = 'question.sla' AND payload->>'question_id' = '${q}'`).length, 0), 8000);
  assert.equal(state(q).escalation_level, 0);
  assert.equal(state(q).status, 'waiting_customer');

  const resumedAt = Date.now();
  sql(srv, `SELECT question_sla_resume(${q})`);
  assert.equal(state(q).status, 'assigned');
  const s1 = await atLevel(q, 1);
  const took = (Date.now() - resumedAt) / 1000;
  assert.equal(s1.assignee_id, backup);
  assert.ok(took >= paused.remaining - 0.2, `escalated ${took} s after resuming, ${paused.remaining} s were left`);
  assert.deepEqual(events(q, ['sla.paused', 'sla.resumed']).map((e) => e.kind), ['sla.paused', 'sla.resumed']);
});

test('stale timers do nothing: re-armed, answered, or a version from the past', async () => {
  const c = community();
  const owner = await person('Owner');
  await member(c, 'expert', 'Primary', 3);
  await member(c, 'expert', 'Backup', 1);
  const ch = channel(c, owner, 2);
  const rearmed = question(ch);
  const answered = question(ch);
  await eventually(() => {
    assert.equal(state(rearmed).status, 'assigned');
    assert.equal(state(answered).status, 'assigned');
  }, 8000);
  sql(srv, `SELECT question_sla_arm(${rearmed}, 3600)`);
  sql(srv, `UPDATE questions SET status = 'answered' WHERE id = ${answered}`);
  const bogus = Number(sql(srv, `SELECT job_add('question.sla', jsonb_build_object('question_id', ${rearmed}, 'version', 0), NULL)`));
  await eventually(() => assert.equal(rows(`SELECT 1 FROM jobs WHERE id = ${bogus}`).length, 0), 5000);
  await sleep(3000);
  assert.equal(state(rearmed).escalation_level, 0);
  assert.equal(state(answered).escalation_level, 0);
  assert.equal(events(rearmed, ['sla.escalated', 'sla.breached']).length, 0);
  assert.equal(events(answered, ['sla.escalated', 'sla.breached']).length, 0);
  // The re-armed timer is still queued for later; a malformed SLA payload ends dead.
  assert.equal(rows(`SELECT 1 FROM jobs WHERE kind = 'question.sla' AND payload->>'question_id' = '${rearmed}'`).length, 1);
  const bad = Number(sql(srv, `INSERT INTO jobs (kind, payload, max_attempts) VALUES ('question.sla', '{"question_id": 1}', 1) RETURNING id`));
  await eventually(() => assert.deepEqual(rows(`SELECT status, attempts FROM jobs WHERE id = ${bad}`), [{ status: 'dead', attempts: 1 }]), 5000);
  sql(srv, `DELETE FROM jobs WHERE id = ${bad}`);
});

test('two workers run each timer once: twenty questions escalate through every level exactly once', async () => {
  const c = community();
  const owner = await person('Owner');
  const manager = await member(c, 'manager', 'Manager');
  const a = await member(c, 'expert', 'A', 3);
  const b = await member(c, 'expert', 'B', 3);
  sql(srv, `UPDATE users SET weekly_cap = 1000 WHERE id IN (${a}, ${b})`);
  const ch = channel(c, owner, 1);
  const ids = [];
  for (let i = 0; i < 20; i++) ids.push(question(ch));
  await eventually(() => {
    const done = rows(`SELECT count(DISTINCT question_id) AS n FROM question_events WHERE kind = 'sla.breached' AND question_id IN (${ids.join(',')})`);
    assert.equal(done[0].n, 20);
  }, 25000);
  const perQuestion = rows(`SELECT question_id, array_agg(kind || ':' || coalesce(details->>'level', '') ORDER BY id) AS steps
    FROM question_events WHERE question_id IN (${ids.join(',')}) AND kind LIKE 'sla.%' GROUP BY question_id`);
  assert.equal(perQuestion.length, 20);
  for (const p of perQuestion) {
    assert.deepEqual(p.steps, ['sla.escalated:1', 'sla.escalated:2', 'sla.escalated:3', 'sla.breached:3'], `question ${p.question_id}`);
  }
  const finals = rows(`SELECT DISTINCT assignee_id FROM questions WHERE id IN (${ids.join(',')})`);
  assert.deepEqual(finals, [{ assignee_id: owner }]);
  assert.ok(manager);
});
