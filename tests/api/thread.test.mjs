// The internal thread (comments, mentions and their notifications) and similar answered
// questions (full text in French and English without accents, trigrams for typos).
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, sql, assertError, newPerson } from '../lib/api.mjs';
import { setup, makeQuestion, makeCommunity, makeChannel, notifications } from '../lib/questions.mjs';

let fx, srv, p, admin;

before(async () => {
  fx = await setup();
  ({ srv, p, admin } = fx);
});
after(async () => { await fx?.srv?.stop(); });

const get = (session, path) => api(srv, 'GET', path, { session });
const post = (session, path, body) => api(srv, 'POST', path, { session, body });

// --- comments -----------------------------------------------------------------------------------------

test('comments: anyone who sees the question writes; mentions and the assignee are notified', async () => {
  const q = makeQuestion(srv, fx, { assignee: p.expert });
  let res = await get(p.member, `/api/v1/questions/${q}/comments`);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { items: [], next_cursor: null });

  res = await post(p.member, `/api/v1/questions/${q}/comments`, { body: 'Ask @expert2?\nSee the wiki.', mentions: [p.expert2.id, p.manager.id, p.expert2.id] });
  assert.equal(res.status, 201, res.text);
  const c = res.body;
  assert.equal(c.body, 'Ask @expert2?\nSee the wiki.');
  assert.deepEqual(c.author, { id: p.member.id, display_name: 'Person member' });
  assert.deepEqual(c.mentions.map((m) => m.id), [p.expert2.id, p.manager.id].sort((a, b) => a - b), 'duplicates collapse');
  assert.ok(c.id && c.created_at);
  assert.deepEqual(notifications(srv, p.expert2.id, q).map((n) => [n.kind, n.actor_user_id, n.data.comment_id]), [['question.mentioned', p.member.id, c.id]]);
  assert.deepEqual(notifications(srv, p.manager.id, q).map((n) => n.kind), ['question.mentioned']);
  assert.deepEqual(notifications(srv, p.expert.id, q).map((n) => [n.kind, n.data.comment_id]), [['question.comment', c.id]]);
  assert.deepEqual(notifications(srv, p.member.id, q), [], 'not to the author');

  // The assignee writes: nobody is told of their own comment; mentioned, they get one notification.
  res = await post(p.expert, `/api/v1/questions/${q}/comments`, { body: 'On it', mentions: [p.expert.id] });
  assert.equal(res.status, 201, res.text);
  assert.equal(notifications(srv, p.expert.id, q).length, 1);
  res = await post(p.manager, `/api/v1/questions/${q}/comments`, { body: 'Thanks', mentions: [p.expert.id] });
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(notifications(srv, p.expert.id, q).map((n) => n.kind), ['question.comment', 'question.mentioned']);
  // Admins comment without being members; no mentions is fine.
  assert.equal((await post(admin, `/api/v1/questions/${q}/comments`, { body: 'Noted' })).status, 201);

  res = await get(p.expert2, `/api/v1/questions/${q}/comments`);
  assert.deepEqual(res.body.items.map((x) => x.body), ['Ask @expert2?\nSee the wiki.', 'On it', 'Thanks', 'Noted']);
  assert.deepEqual(res.body.items[0], c);
  assert.equal(sql(srv, `SELECT count(*) FROM question_comments WHERE question_id = ${q}`), '4');
});

test('comments are paged oldest first', async () => {
  const q = makeQuestion(srv, fx, { assignee: p.expert });
  for (let i = 0; i < 5; i++) assert.equal((await post(p.expert, `/api/v1/questions/${q}/comments`, { body: `c${i}` })).status, 201);
  const seen = [];
  let cursor = null;
  for (let i = 0; i < 10; i++) {
    const res = await get(p.expert, `/api/v1/questions/${q}/comments?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200, res.text);
    seen.push(...res.body.items.map((x) => x.body));
    cursor = res.body.next_cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, ['c0', 'c1', 'c2', 'c3', 'c4']);
  assertError(await get(p.expert, `/api/v1/questions/${q}/comments?cursor=abc`), 422, 'invalid_field', 'cursor');
  assertError(await get(p.expert, `/api/v1/questions/${q}/comments?limit=500`), 400, 'invalid_query', 'limit');
});

test('mentions must be active people who can see the question', async () => {
  const q = makeQuestion(srv, fx, { assignee: p.expert });
  const disabled = await newPerson(srv, admin, { name: 'Gone' });
  sql(srv, `INSERT INTO community_members (community_id, user_id, role, status) VALUES (${fx.community}, ${disabled.id}, 'expert', 'active')`);
  sql(srv, `UPDATE users SET status = 'disabled' WHERE id = ${disabled.id}`);
  const bad = [[p.outsider.id], [p.manager2.id], [disabled.id], [999999999], [p.expert2.id, p.outsider.id]];
  for (const mentions of bad) {
    assertError(await post(p.expert, `/api/v1/questions/${q}/comments`, { body: 'x', mentions }), 422, 'invalid_field', 'mentions');
  }
  const malformed = [['1'], [0], [-1], [1.5], 'x', 5, { a: 1 }, [null], Array.from({ length: 21 }, (_, i) => i + 1)];
  for (const mentions of malformed) {
    assertError(await post(p.expert, `/api/v1/questions/${q}/comments`, { body: 'x', mentions }), 422, 'invalid_field', 'mentions');
  }
  assert.equal(sql(srv, `SELECT count(*) FROM question_comments WHERE question_id = ${q}`), '0', 'nothing written');
  assert.equal(sql(srv, `SELECT count(*) FROM notifications WHERE question_id = ${q}`), '0');
  // Admins see everything; a former assignee outside the community too.
  sql(srv, `INSERT INTO question_routes (question_id, user_id, rank, score, parts) VALUES (${q}, ${p.outsider.id}, 2, 0, '{}')`);
  const res = await post(p.expert, `/api/v1/questions/${q}/comments`, { body: 'x', mentions: [admin.user.id, p.outsider.id] });
  assert.equal(res.status, 201, res.text);
  // Triage is for managers: a member cannot be mentioned there, a manager can.
  const t = makeQuestion(srv, fx, { status: 'triage', sla: null });
  assertError(await post(p.manager, `/api/v1/questions/${t}/comments`, { body: 'x', mentions: [p.member.id] }), 422, 'invalid_field', 'mentions');
  assert.equal((await post(p.manager, `/api/v1/questions/${t}/comments`, { body: 'x', mentions: [admin.user.id] })).status, 201);
});

test('comments: bad input, invisible questions, concurrency', async () => {
  const q = makeQuestion(srv, fx, { assignee: p.expert });
  const bad = [
    [{}, 'body'], [{ body: '' }, 'body'], [{ body: '  ' }, 'body'], [{ body: 12 }, 'body'], [{ body: null }, 'body'],
    [{ body: 'x'.repeat(10001) }, 'body'], [{ body: 'x', extra: true }, 'extra'], [{ body: 'x', author_id: 1 }, 'author_id'],
  ];
  for (const [body, field] of bad) {
    assertError(await post(p.expert, `/api/v1/questions/${q}/comments`, body), 422, 'invalid_field', field);
  }
  for (const raw of ['{', 'null', '[]']) {
    const r = await api(srv, 'POST', `/api/v1/questions/${q}/comments`, { session: p.expert, body: raw });
    assert.ok(r.status === 400 || r.status === 422, `${raw}: ${r.status} ${r.text}`);
  }
  assert.equal((await post(p.expert, `/api/v1/questions/${q}/comments`, { body: 'x'.repeat(40000) })).status, 413);
  assert.equal((await api(srv, 'POST', `/api/v1/questions/${q}/comments`, { session: p.expert, body: { body: 'x' }, csrf: false })).status, 403);
  assert.equal((await api(srv, 'GET', `/api/v1/questions/${q}/comments`)).status, 401);
  assertError(await post(p.outsider, `/api/v1/questions/${q}/comments`, { body: 'x' }), 404, 'question_not_found');
  assertError(await post(p.expert, '/api/v1/questions/999999999/comments', { body: 'x' }), 404);
  assertError(await get(p.expert, '/api/v1/questions/999999999/comments'), 404);
  const t = makeQuestion(srv, fx, { status: 'triage', sla: null });
  assertError(await post(p.expert, `/api/v1/questions/${t}/comments`, { body: 'x' }), 404);
  assertError(await get(p.member, `/api/v1/questions/${t}/comments`), 404);
  assert.equal(sql(srv, `SELECT count(*) FROM question_comments WHERE question_id IN (${q}, ${t})`), '0');

  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => post([p.expert, p.member][i % 2], `/api/v1/questions/${q}/comments`, { body: `n${i}`, mentions: [p.expert2.id] })));
  assert.deepEqual(results.map((r) => r.status), Array(10).fill(201));
  assert.equal(new Set(results.map((r) => r.body.id)).size, 10);
  assert.equal(notifications(srv, p.expert2.id, q).length, 10);
  assert.equal(notifications(srv, p.expert.id, q).length, 5, 'the assignee hears of the member\'s comments only');
});

// --- similar questions --------------------------------------------------------------------------------

test('similar: French without accents, stemmed, answered or closed only, with a figure', async () => {
  const fr = { language: 'fr', channel: fx.channelFr };
  const match = makeQuestion(srv, fx, { ...fr, status: 'answered', title: 'Où est ma facture du mois de février ?', body: 'Je ne trouve pas la facture.' });
  const closed = makeQuestion(srv, fx, { ...fr, status: 'closed', title: 'Factures de février introuvables', body: 'Impossible de télécharger.' });
  const open = makeQuestion(srv, fx, { ...fr, status: 'assigned', assignee: p.expert2, title: 'Où est ma facture de février', body: 'Pas encore répondu.' });
  makeQuestion(srv, fx, { ...fr, status: 'answered', title: 'Changer mon mot de passe', body: 'Comment faire ?' });
  const q = makeQuestion(srv, fx, { ...fr, assignee: p.expert, title: 'ou est ma FACTURE de fevrier', body: 'Bonjour' });

  const res = await get(p.expert, `/api/v1/questions/${q}/similar`);
  assert.equal(res.status, 200, res.text);
  const got = res.body.items.map((x) => x.id);
  assert.ok(got.includes(match), JSON.stringify(res.body));
  assert.ok(got.includes(closed), 'stems: factures / facture');
  assert.equal(got.length, 2, JSON.stringify(res.body.items.map((x) => x.title)));
  const item = res.body.items[0];
  assert.deepEqual(Object.keys(item).sort(), ['community', 'created_at', 'id', 'language', 'similarity', 'status', 'title']);
  assert.equal(item.id, match, 'the closest first');
  assert.ok(item.similarity > 0 && item.similarity <= 1);
  assert.ok(res.body.items[0].similarity >= res.body.items[1].similarity);
  assert.equal(item.community.id, fx.community);

  // An open question's text is indexed when it is answered, not before.
  assert.equal(sql(srv, `SELECT search IS NULL FROM questions WHERE id = ${open}`), 't');
  sql(srv, `UPDATE questions SET status = 'answered' WHERE id = ${open}`);
  const later = await get(p.expert, `/api/v1/questions/${q}/similar`);
  assert.deepEqual(later.body.items.map((x) => x.id).sort((a, b) => a - b), [match, closed, open].sort((a, b) => a - b));
});

test('similar: English stems, typos through trigrams, visibility and at most 10', async () => {
  const answered = makeQuestion(srv, fx, { status: 'answered', title: 'How do I reset my password?', body: 'Password reset steps.' });
  const typo = makeQuestion(srv, fx, { status: 'answered', title: 'Refund request for duplicate charge', body: 'Charged twice.' });
  const hidden = makeQuestion(srv, fx, { status: 'answered', title: 'Resetting passwords', body: 'Elsewhere', community: fx.community2, channel: fx.channel2 });

  const q1 = makeQuestion(srv, fx, { assignee: p.expert, title: 'Resetting passwords', body: 'help' });
  let res = await get(p.expert, `/api/v1/questions/${q1}/similar`);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.items.map((x) => x.id), [answered], 'the other community is not visible to this expert');
  res = await get(admin, `/api/v1/questions/${q1}/similar`);
  assert.deepEqual(res.body.items.map((x) => x.id).sort((a, b) => a - b), [answered, hidden].sort((a, b) => a - b));

  // Misspelled words match no lexeme; the title's trigrams still do.
  const q2 = makeQuestion(srv, fx, { assignee: p.expert, title: 'Refnud reqest for duplicte charje', body: 'x' });
  assert.equal(sql(srv, `SELECT count(*) FROM questions o, questions s WHERE s.id = ${q2} AND o.id = ${typo}
    AND o.search @@ replace(plainto_tsquery('public.en_unaccent', s.title)::text, '&', '|')::tsquery`), '0', 'no word in common');
  res = await get(p.expert, `/api/v1/questions/${q2}/similar`);
  assert.equal(res.status, 200, res.text);
  assert.ok(res.body.items.some((x) => x.id === typo), JSON.stringify(res.body));
  assert.ok(res.body.items.find((x) => x.id === typo).similarity >= 0.3);

  // Many look-alikes: the ten closest.
  const c = await makeCommunity(srv, admin, p.manager, [[p.expert, 'expert']]);
  const ch = makeChannel(srv, c, admin.user.id);
  for (let i = 0; i < 12; i++) makeQuestion(srv, fx, { community: c, channel: ch, status: 'answered', title: `Shipping delay for order ${i}`, body: 'Late parcel' });
  const q3 = makeQuestion(srv, fx, { community: c, channel: ch, assignee: p.expert, title: 'Shipping delay for my order', body: 'x' });
  res = await get(p.expert, `/api/v1/questions/${q3}/similar`);
  assert.equal(res.body.items.length, 10);
  // Nothing alike: an empty list; an invisible or unknown question: 404.
  const q4 = makeQuestion(srv, fx, { assignee: p.expert, title: 'Zzyzx qwv', body: 'x' });
  assert.deepEqual((await get(p.expert, `/api/v1/questions/${q4}/similar`)).body.items, []);
  assertError(await get(p.outsider, `/api/v1/questions/${q1}/similar`), 404, 'question_not_found');
  assertError(await get(p.expert, '/api/v1/questions/999999999/similar'), 404);
  assertError(await get(p.expert, '/api/v1/questions/x/similar'), 404);
});
