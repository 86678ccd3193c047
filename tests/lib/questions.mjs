// Fixtures for the API tests of the expert inbox, the question view, actions and the internal
// thread: people with community roles, channels, a customer and questions inserted by SQL in
// any state (intake and routing have their own tests).
import assert from 'node:assert/strict';
import { startRelais } from './harness.mjs';
import { api, login, loadDemo, sql, newPerson, ADMIN_EMAIL } from './api.mjs';

let counter = 0;
const unique = (prefix) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;

/** A SQL literal: null, a number, a string, or an array of strings (text[]). */
export function lit(v) {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `ARRAY[${v.map(lit).join(',')}]::text[]`;
  return `'${String(v).replace(/'/g, "''")}'`;
}

/** Creates a community (its manager: `manager`) and adds members with roles ({session: role}). */
export async function makeCommunity(srv, admin, manager, members = []) {
  const slug = unique('qc');
  const res = await api(srv, 'POST', '/api/v1/communities', { session: admin, body: { slug, name: `Community ${slug}`, manager_id: manager.id } });
  assert.equal(res.status, 201, res.text);
  const id = res.body.id;
  for (const [person, role] of members) {
    sql(srv, `INSERT INTO community_members (community_id, user_id, role, status) VALUES (${id}, ${person.id}, '${role}', 'active')`);
  }
  return id;
}

export function makeChannel(srv, community, ownerId, { language = 'en', sla = 3600 } = {}) {
  return Number(sql(srv, `INSERT INTO channels (kind, name, slug, community_id, language, sla_seconds, owner_user_id, created_by)
    VALUES ('api', 'Channel', ${lit(unique('ch'))}, ${community}, ${lit(language)}, ${sla}, ${ownerId}, ${ownerId}) RETURNING id`));
}

export function makeCustomer(srv, { name = 'Ann Customer', email = `${unique('ann')}@customer.example`, ref = unique('crm') } = {}) {
  const id = Number(sql(srv, `INSERT INTO customers (name, email, external_ref) VALUES (${lit(name)}, ${lit(email)}, ${lit(ref)}) RETURNING id`));
  return { id, name, email, ref, pseudonym: sql(srv, `SELECT pseudonym FROM customers WHERE id = ${id}`) };
}

/**
 * A question in any state. sla: seconds from now to the deadline (null: no deadline);
 * people are sessions or ids.
 */
export function makeQuestion(srv, fx, {
  status = 'assigned', title = 'Where is my invoice?', body = 'I cannot find my invoice.', language = 'en', tags = [],
  topic = '', assignee = null, primary = undefined, backup = null, claimed = null, sla = 3600, community = fx.community,
  channel = fx.channel, customer = fx.customer, paused = null,
} = {}) {
  const id = (p) => (p === null || p === undefined ? null : typeof p === 'number' ? p : p.id);
  const due = sla === null ? 'NULL' : `now() + make_interval(secs => ${sla})`;
  const remaining = paused === null ? 'NULL' : `make_interval(secs => ${paused})`;
  return Number(sql(srv, `INSERT INTO questions (channel_id, external_id, community_id, customer_id, title, body, language,
      tags, topic, status, assignee_id, primary_expert_id, backup_expert_id, claimed_by, sla_due_at, sla_remaining)
    VALUES (${channel}, ${lit(unique('ext'))}, ${community}, ${customer.id}, ${lit(title)}, ${lit(body)}, ${lit(language)},
      ${lit(tags)}, ${lit(topic)}, ${lit(status)}, ${lit(id(assignee))}, ${lit(id(primary === undefined ? assignee : primary))},
      ${lit(id(backup))}, ${lit(id(claimed))}, ${due}, ${remaining}) RETURNING id`));
}

/**
 * A server with the demo data and, for questions: an admin, a community managed by
 * `manager` with experts (`expert`, `expert2`, `backup`) and a plain `member`; a second
 * community managed by `manager2`; an `outsider`; an English channel, a French one and a
 * customer.
 */
export async function setup() {
  const srv = await startRelais({ env: { RELAIS_INSECURE_COOKIES: 'true' } });
  await loadDemo(srv);
  const admin = await login(srv, ADMIN_EMAIL);
  const p = {};
  for (const name of ['manager', 'expert', 'expert2', 'backup', 'member', 'outsider', 'manager2']) {
    p[name] = await newPerson(srv, admin, { name: `Person ${name}` });
  }
  const community = await makeCommunity(srv, admin, p.manager, [[p.expert, 'expert'], [p.expert2, 'expert'], [p.backup, 'expert'], [p.member, 'member']]);
  const community2 = await makeCommunity(srv, admin, p.manager2, []);
  const channel = makeChannel(srv, community, admin.user.id);
  const channelFr = makeChannel(srv, community, admin.user.id, { language: 'fr' });
  const channel2 = makeChannel(srv, community2, admin.user.id);
  const fx = { srv, admin, p, community, community2, channel, channelFr, channel2 };
  fx.customer = makeCustomer(srv);
  return fx;
}

/** Notifications of a user, by SQL: [{kind, question_id, actor_user_id, data}]. */
export function notifications(srv, userId, questionId) {
  const out = sql(srv, `SELECT coalesce(json_agg(json_build_object('kind', kind, 'question_id', question_id,
    'actor_user_id', actor_user_id, 'data', data) ORDER BY id), '[]') FROM notifications
    WHERE user_id = ${userId} AND question_id = ${questionId}`);
  return JSON.parse(out);
}

/** Timeline event kinds of a question, by SQL. */
export function eventKinds(srv, questionId) {
  return sql(srv, `SELECT string_agg(kind, ',' ORDER BY id) FROM question_events WHERE question_id = ${questionId}`).split(',').filter(Boolean);
}
