// Profiles, expertise, time away and the people directory; bad input and injection attempts.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelais } from '../lib/harness.mjs';
import {
  api, login, loadDemo, sql, newPerson, userId, communityId, audit, eventually, assertError, ADMIN_EMAIL,
} from '../lib/api.mjs';

let srv, admin, logins;

before(async () => {
  srv = await startRelais({ env: { RELAIS_INSECURE_COOKIES: 'true' } });
  logins = await loadDemo(srv);
  admin = await login(srv, ADMIN_EMAIL);
});
after(async () => { await srv?.stop(); });

const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

async function me(session) {
  const res = await api(srv, 'GET', '/api/v1/me', { session });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

/** The profile fields that PATCH /api/v1/me may change. */
function profile(m) {
  const { display_name, department, job_title, locale, time_zone, languages, weekly_cap, working_hours, role, status, email } = m;
  return { display_name, department, job_title, locale, time_zone, languages, weekly_cap, working_hours, role, status, email };
}

// --- PATCH /api/v1/me ------------------------------------------------------------------------

test('PATCH /api/v1/me changes the profile fields, and only those sent', async () => {
  const s = await newPerson(srv, admin);
  const body = {
    display_name: 'Zoë Ølstad-Lefèvre', department: 'Research & Development', job_title: 'Principal engineer',
    locale: 'fr', time_zone: 'America/Argentina/Buenos_Aires', languages: ['fr', 'en', 'es'], weekly_cap: 25,
    working_hours: { mon: [['09:00', '12:00'], ['13:30', '17:30']], fri: [['09:00', '16:00']], sun: [] },
  };
  const res = await api(srv, 'PATCH', '/api/v1/me', { session: s, body });
  assert.equal(res.status, 200, res.text);
  for (const [k, v] of Object.entries(body)) assert.deepEqual(res.body[k], v, k);
  let m = await me(s);
  for (const [k, v] of Object.entries(body)) assert.deepEqual(m[k], v, k);

  const partial = await api(srv, 'PATCH', '/api/v1/me', { session: s, body: { job_title: 'Staff engineer' } });
  assert.equal(partial.status, 200);
  m = await me(s);
  assert.equal(m.job_title, 'Staff engineer');
  assert.equal(m.department, 'Research & Development', 'fields not sent keep their value');
  assert.deepEqual(m.languages, ['fr', 'en', 'es']);

  // Edges that are allowed.
  for (const ok of [{ weekly_cap: 0 }, { weekly_cap: 1000 }, { languages: [] }, { working_hours: {} }, { department: '' },
    { display_name: 'x'.repeat(100) }, { working_hours: { tue: [['00:00', '24:00']] } }, { time_zone: 'UTC' }]) {
    const r = await api(srv, 'PATCH', '/api/v1/me', { session: s, body: ok });
    assert.equal(r.status, 200, `${JSON.stringify(ok)}: ${r.text}`);
  }
  const trimmed = await api(srv, 'PATCH', '/api/v1/me', { session: s, body: { display_name: '  Ann Trim  ' } });
  assert.equal(trimmed.body.display_name, 'Ann Trim', 'surrounding spaces are dropped');
  await eventually(async () => {
    const rows = await audit(srv, admin, { action: 'profile.updated', actor_id: s.id });
    assert.ok(rows.items.length >= 10, `profile.updated rows: ${rows.items.length}`);
  });
});

test('PATCH /api/v1/me refuses bad values with 422 naming the field, and changes nothing', async () => {
  const s = await newPerson(srv, admin);
  const before = profile(await me(s));
  const cases = [
    ['display_name', ''], ['display_name', '   '], ['display_name', 'x'.repeat(101)], ['display_name', 'two\nlines'], ['display_name', 42],
    ['department', 'x'.repeat(101)], ['department', 'tab\there'], ['job_title', 'x'.repeat(101)], ['job_title', ['a']],
    ['locale', 'de'], ['locale', 'EN'], ['locale', ''], ['locale', 1],
    ['time_zone', 'Mars/Olympus'], ['time_zone', ''], ['time_zone', 'x'.repeat(65)], ['time_zone', 'Europe/Nowhere'],
    ['languages', 'en'], ['languages', ['EN']], ['languages', ['eng']], ['languages', ['e']], ['languages', [1]], ['languages', Array(21).fill('en')],
    ['weekly_cap', -1], ['weekly_cap', 1001], ['weekly_cap', 'ten'], ['weekly_cap', 1.5], ['weekly_cap', true],
    ['working_hours', []], ['working_hours', 'mon'], ['working_hours', { mon: [['09:00']] }], ['working_hours', { mon: [['17:00', '09:00']] }],
    ['working_hours', { mon: [['09:00', '12:00'], ['11:00', '13:00']] }], ['working_hours', { funday: [] }],
    ['working_hours', { mon: [['9:00', '17:00']] }], ['working_hours', { mon: [['09:00', '24:30']] }], ['working_hours', { mon: [['09:60', '10:00']] }],
    ['working_hours', { mon: Array.from({ length: 5 }, (_, i) => [`0${i}:00`, `0${i}:30`]) }], ['working_hours', { mon: 'all day' }],
  ];
  const problems = [];
  for (const [field, value] of cases) {
    const res = await api(srv, 'PATCH', '/api/v1/me', { session: s, body: { [field]: value } });
    if (res.status !== 422 || res.body?.error?.code !== 'invalid_field' || res.body?.error?.field !== field) {
      problems.push(`${field}=${JSON.stringify(value).slice(0, 60)}: ${res.status} ${res.text}`);
    }
  }
  assert.deepEqual(problems, []);
  assert.deepEqual(profile(await me(s)), before);
});

test('time_zone must be an IANA zone name, not any string PostgreSQL happens to parse', async () => {
  const s = await newPerson(srv, admin);
  const problems = [];
  for (const tz of ['XYZ+3', '+05', 'UTC+5']) {
    const res = await api(srv, 'PATCH', '/api/v1/me', { session: s, body: { time_zone: tz } });
    if (res.status !== 422 || res.body?.error?.field !== 'time_zone') problems.push(`${tz}: ${res.status} ${res.text.slice(0, 120)}`);
  }
  assert.deepEqual(problems, []);
});

test('PATCH /api/v1/me {"role":"admin"} is refused and the role stays (no mass assignment)', async () => {
  const s = await newPerson(srv, admin);
  for (const [field, value] of [['role', 'admin'], ['status', 'active'], ['email', 'admin2@relais.example'], ['id', 1],
    ['password_hash', 'x'], ['expertise', []], ['created_at', '2000-01-01T00:00:00Z'], ['csrf_token', 'x']]) {
    const res = await api(srv, 'PATCH', '/api/v1/me', { session: s, body: { display_name: 'Escalator', [field]: value } });
    assertError(res, 422, 'invalid_field', field);
  }
  const m = await me(s);
  assert.equal(m.role, 'employee');
  assert.notEqual(m.display_name, 'Escalator', 'nothing of a refused request is applied');
  assert.equal((await api(srv, 'GET', '/api/v1/users', { session: s })).status, 403);
});

// --- expertise ------------------------------------------------------------------------------------

test('PUT /api/v1/me/expertise sets the list (levels 1-5, tags ^[a-z0-9][a-z0-9-]{0,47}$), strongest first, idempotently', async () => {
  const s = await newPerson(srv, admin);
  const tag48 = 'a'.repeat(48);
  const body = { expertise: [{ tag: 'billing', level: 3 }, { tag: 'gdpr', level: 5 }, { tag: '9-lives', level: 1 }, { tag: tag48, level: 2 }] };
  const res = await api(srv, 'PUT', '/api/v1/me/expertise', { session: s, body });
  assert.equal(res.status, 200, res.text);
  const expected = [{ tag: 'gdpr', level: 5 }, { tag: 'billing', level: 3 }, { tag: tag48, level: 2 }, { tag: '9-lives', level: 1 }];
  assert.deepEqual(res.body.expertise, expected);
  assert.deepEqual((await me(s)).expertise, expected);
  const again = await api(srv, 'PUT', '/api/v1/me/expertise', { session: s, body });
  assert.equal(again.status, 200);
  assert.deepEqual(again.body.expertise, expected, 'the same request twice gives the same result');
  assert.equal(sql(srv, `SELECT count(*) FROM user_expertise WHERE user_id = ${s.id}`), '4');
  // Replacing drops what is not listed any more.
  const replaced = await api(srv, 'PUT', '/api/v1/me/expertise', { session: s, body: { expertise: [{ tag: 'billing', level: 4 }] } });
  assert.deepEqual(replaced.body.expertise, [{ tag: 'billing', level: 4 }]);
  const cleared = await api(srv, 'PUT', '/api/v1/me/expertise', { session: s, body: { expertise: [] } });
  assert.deepEqual(cleared.body.expertise, []);
  await eventually(async () => {
    const rows = await audit(srv, admin, { action: 'profile.expertise_changed', object_id: String(s.id) });
    assert.equal(rows.items.length, 4);
  });
});

test('PUT /api/v1/me/expertise refuses bad levels, bad tags and duplicates with 422 field expertise', async () => {
  const s = await newPerson(srv, admin);
  await api(srv, 'PUT', '/api/v1/me/expertise', { session: s, body: { expertise: [{ tag: 'kept', level: 2 }] } });
  const bad = [
    [{ tag: 'billing', level: 0 }], [{ tag: 'billing', level: 6 }], [{ tag: 'billing', level: '3' }], [{ tag: 'billing', level: 2.5 }],
    [{ tag: 'Billing', level: 3 }], [{ tag: '-billing', level: 3 }], [{ tag: 'bill ing', level: 3 }], [{ tag: 'bill_ing', level: 3 }],
    [{ tag: 'a'.repeat(49), level: 3 }], [{ tag: '', level: 3 }], [{ tag: 'café', level: 3 }], [{ tag: 'billing' }],
    [{ tag: 'billing', level: 3, extra: true }], [{ tag: 'billing', level: 3 }, { tag: 'billing', level: 4 }], ['billing'],
    Array.from({ length: 51 }, (_, i) => ({ tag: `t${i}`, level: 1 })),
  ];
  const problems = [];
  for (const expertise of bad) {
    const res = await api(srv, 'PUT', '/api/v1/me/expertise', { session: s, body: { expertise } });
    if (res.status !== 422 || res.body?.error?.field !== 'expertise') problems.push(`${JSON.stringify(expertise).slice(0, 80)}: ${res.status} ${res.text}`);
  }
  for (const body of [{}, { expertise: 'billing' }, { expertise: { billing: 3 } }]) {
    const res = await api(srv, 'PUT', '/api/v1/me/expertise', { session: s, body });
    if (res.status !== 422 || res.body?.error?.field !== 'expertise') problems.push(`${JSON.stringify(body)}: ${res.status} ${res.text}`);
  }
  assert.deepEqual(problems, []);
  assert.deepEqual((await me(s)).expertise, [{ tag: 'kept', level: 2 }], 'unchanged');
});

test('a community manager edits the expertise of a member, not of a non-member (403, audited)', async () => {
  const manager = await login(srv, logins['manager of Billing help']);
  const billing = communityId(srv, 'billing-help');
  const member = await newPerson(srv, admin, { name: 'Billing Member' });
  const joined = await api(srv, 'POST', `/api/v1/communities/${billing}/join`, { session: member });
  assert.equal(joined.body.status, 'active');
  const outsider = await newPerson(srv, admin, { name: 'Not In Billing' });
  const body = { expertise: [{ tag: 'refunds', level: 4 }] };

  const ok = await api(srv, 'PUT', `/api/v1/people/${member.id}/expertise`, { session: manager, body });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual((await me(member)).expertise, [{ tag: 'refunds', level: 4 }]);

  const denied = await api(srv, 'PUT', `/api/v1/people/${outsider.id}/expertise`, { session: manager, body });
  assertError(denied, 403, 'forbidden');
  assert.deepEqual((await me(outsider)).expertise, []);
  // A plain member of the same community may not edit another member either.
  const peer = await newPerson(srv, admin, { name: 'Billing Peer' });
  await api(srv, 'POST', `/api/v1/communities/${billing}/join`, { session: peer });
  assertError(await api(srv, 'PUT', `/api/v1/people/${member.id}/expertise`, { session: peer, body }), 403, 'forbidden');
  // Oneself through the same route, and an admin, may.
  assert.equal((await api(srv, 'PUT', `/api/v1/people/${outsider.id}/expertise`, { session: outsider, body })).status, 200);
  assert.equal((await api(srv, 'PUT', `/api/v1/people/${outsider.id}/expertise`, { session: admin, body: { expertise: [] } })).status, 200);
  assertError(await api(srv, 'PUT', '/api/v1/people/999999999/expertise', { session: manager, body }), 404, 'not_found');
  // Once the member leaves, the manager's right goes.
  await api(srv, 'POST', `/api/v1/communities/${billing}/leave`, { session: member });
  assertError(await api(srv, 'PUT', `/api/v1/people/${member.id}/expertise`, { session: manager, body }), 403, 'forbidden');

  await eventually(async () => {
    const rows = await audit(srv, admin, { action: 'access.denied', object_type: 'user', object_id: String(outsider.id) });
    assert.equal(rows.items.length, 1);
    assert.equal(rows.items[0].actor_user_id, manager.user.id);
    const changed = await audit(srv, admin, { action: 'profile.expertise_changed', object_id: String(member.id), actor_id: manager.user.id });
    assert.equal(changed.items.length, 1);
  });
});

// --- out of office --------------------------------------------------------------------------------

test('periods away: create, list, delete; the end must come after the start', async () => {
  const s = await newPerson(srv, admin);
  const now = Date.now();
  const starts = new Date(now - 3600e3).toISOString(), ends = new Date(now + 86400e3).toISOString();
  const created = await api(srv, 'POST', '/api/v1/me/out-of-office', { session: s, body: { starts_at: starts, ends_at: ends, note: 'Conference' } });
  assert.equal(created.status, 201, created.text);
  assert.equal(Date.parse(created.body.starts_at), Date.parse(starts));
  assert.equal(Date.parse(created.body.ends_at), Date.parse(ends));
  assert.equal(created.body.note, 'Conference');
  const later = await api(srv, 'POST', '/api/v1/me/out-of-office', { session: s, body: { starts_at: '2031-07-01T00:00:00+02:00', ends_at: '2031-07-15T00:00:00+02:00' } });
  assert.equal(later.status, 201);
  assert.equal(later.body.note, '');

  let list = await api(srv, 'GET', '/api/v1/me/out-of-office', { session: s });
  assert.deepEqual(list.body.items.map((i) => i.id), [created.body.id, later.body.id]);
  assert.deepEqual((await me(s)).out_of_office.map((i) => i.id), [created.body.id, later.body.id]);
  // Others see that the person is away now, and until when, but not the note.
  const viewer = await newPerson(srv, admin);
  const seen = await api(srv, 'GET', `/api/v1/people/${s.id}`, { session: viewer });
  assert.equal(Date.parse(seen.body.away_until), Date.parse(ends));
  assert.ok(!seen.text.includes('Conference'), 'the note is private');

  assert.equal((await api(srv, 'DELETE', `/api/v1/me/out-of-office/${created.body.id}`, { session: s })).status, 204);
  list = await api(srv, 'GET', '/api/v1/me/out-of-office', { session: s });
  assert.deepEqual(list.body.items.map((i) => i.id), [later.body.id]);
  assertError(await api(srv, 'DELETE', `/api/v1/me/out-of-office/${created.body.id}`, { session: s }), 404, 'not_found');
  assert.equal((await api(srv, 'GET', `/api/v1/people/${s.id}`, { session: viewer })).body.away_until, null);

  for (const [body, field] of [
    [{ starts_at: '2031-01-02T00:00:00Z', ends_at: '2031-01-01T00:00:00Z' }, 'ends_at'],
    [{ starts_at: '2031-01-01T00:00:00Z', ends_at: '2031-01-01T00:00:00Z' }, 'ends_at'],
    [{ ends_at: '2031-01-01T00:00:00Z' }, 'starts_at'],
    [{ starts_at: '2031-01-01T00:00:00Z' }, 'ends_at'],
    [{ starts_at: '2031-01-01T00:00:00Z', ends_at: '2031-01-02T00:00:00Z', note: 'x'.repeat(501) }, 'note'],
    [{ starts_at: '2031-01-01T00:00:00Z', ends_at: '2031-01-02T00:00:00Z', where: 'beach' }, 'where'],
  ]) {
    assertError(await api(srv, 'POST', '/api/v1/me/out-of-office', { session: s, body }), 422, 'invalid_field', field);
  }
});

test('a malformed date is 422 naming the malformed field', async () => {
  const s = await newPerson(srv, admin);
  const problems = [];
  for (const [body, field] of [
    [{ starts_at: 'not-a-date-at-all', ends_at: '2031-01-02T00:00:00Z' }, 'starts_at'],
    [{ starts_at: '2031-01-01T00:00:00Z', ends_at: 'not-a-date-at-all' }, 'ends_at'],
    [{ starts_at: '2031-01-01T00:00:00Z', ends_at: '2031-02-30T00:00:00Z' }, 'ends_at'],
    [{ starts_at: '2031-13-01T00:00:00Z', ends_at: '2031-12-30T00:00:00Z' }, 'starts_at'],
  ]) {
    const res = await api(srv, 'POST', '/api/v1/me/out-of-office', { session: s, body });
    if (res.status !== 422 || res.body?.error?.field !== field) problems.push(`${JSON.stringify(body)}: ${res.status} ${res.text}`);
  }
  assert.deepEqual(problems, []);
});

test('another person\'s periods away and sessions cannot be reached by id', async () => {
  const a = await newPerson(srv, admin);
  const b = await newPerson(srv, admin);
  const o = await api(srv, 'POST', '/api/v1/me/out-of-office', { session: a, body: { starts_at: '2031-03-01T00:00:00Z', ends_at: '2031-03-02T00:00:00Z', note: 'secret trip' } });
  assertError(await api(srv, 'DELETE', `/api/v1/me/out-of-office/${o.body.id}`, { session: b }), 404, 'not_found');
  const bList = await api(srv, 'GET', '/api/v1/me/out-of-office', { session: b });
  assert.deepEqual(bList.body.items, []);
  const profileOfA = await api(srv, 'GET', `/api/v1/people/${a.id}`, { session: b });
  assert.ok(!profileOfA.text.includes('secret trip'));
  assert.ok(!('out_of_office' in profileOfA.body) && !('sessions' in profileOfA.body));
  const aSessions = await api(srv, 'GET', '/api/v1/me/sessions', { session: a });
  assertError(await api(srv, 'DELETE', `/api/v1/me/sessions/${aSessions.body.items[0].id}`, { session: b }), 404, 'not_found');
  assert.equal((await api(srv, 'GET', '/api/v1/me/out-of-office', { session: a })).body.items.length, 1);
  assert.equal((await api(srv, 'GET', '/api/v1/me', { session: a })).status, 200);
});

// --- directory -----------------------------------------------------------------------------------

async function directory(session, query) {
  const res = await api(srv, 'GET', `/api/v1/people?${new URLSearchParams(query)}`, { session });
  assert.equal(res.status, 200, `${JSON.stringify(query)}: ${res.text}`);
  return res.body;
}

test('the directory search is accent- and case-insensitive on names, departments, titles and expertise', async () => {
  const s = await newPerson(srv, admin);
  const amelie = await directory(s, { q: 'amelie', limit: 200 });
  const names = amelie.items.map((p) => p.display_name);
  assert.ok(names.includes('Amélie Martin') && names.includes('Amélie Bernard'), names.join(', '));
  for (const p of amelie.items) assert.ok(fold(p.display_name).includes('amelie'), p.display_name);
  assert.deepEqual((await directory(s, { q: 'AMÉLIE', limit: 200 })).items.map((p) => p.id), amelie.items.map((p) => p.id));
  assert.deepEqual((await directory(s, { q: 'Amelie Martin', limit: 200 })).items.map((p) => p.display_name), ['Amélie Martin'], 'every word must match');

  const billing = await directory(s, { q: 'BILLING', limit: 200 });
  const bNames = billing.items.map((p) => p.display_name);
  assert.ok(bNames.includes('Amélie Martin'), `found through her expertise: ${bNames.join(', ')}`);
  for (const p of billing.items) {
    const text = fold([p.display_name, p.department, p.job_title, ...p.expertise.map((e) => e.tag)].join(' '));
    assert.ok(text.includes('billing'), p.display_name);
  }
  const byTitle = await directory(s, { q: 'paralegal', limit: 200 });
  assert.ok(byTitle.items.length > 0 && byTitle.items.every((p) => p.job_title === 'Paralegal'));
  const none = await directory(s, { q: 'zzzzzz-nobody', limit: 200 });
  assert.deepEqual(none.items, []);
});

test('directory filters: department= and expertise=, alone and together', async () => {
  const s = await newPerson(srv, admin);
  const legal = await directory(s, { department: 'Legal', limit: 200 });
  assert.ok(legal.items.length > 0);
  assert.ok(legal.items.every((p) => p.department === 'Legal'));
  assert.equal(legal.items.length, Number(sql(srv, "SELECT count(*) FROM users WHERE department = 'Legal' AND status = 'active'")));
  const gdpr = await directory(s, { expertise: 'gdpr', limit: 200 });
  assert.ok(gdpr.items.length > 0);
  assert.ok(gdpr.items.every((p) => p.expertise.some((e) => e.tag === 'gdpr')));
  const both = await directory(s, { department: 'Legal', expertise: 'gdpr', limit: 200 });
  assert.deepEqual(both.items.map((p) => p.id).sort(), legal.items.filter((p) => p.expertise.some((e) => e.tag === 'gdpr')).map((p) => p.id).sort());
  assert.deepEqual((await directory(s, { department: 'legal', limit: 200 })).items, [], 'the department filter is exact');
});

test('directory cursor pagination: limit=7 pages cover the whole list once, in order', async () => {
  const s = await newPerson(srv, admin);
  const all = await directory(s, { limit: 200 });
  assert.equal(all.next_cursor, null);
  assert.ok(all.items.length > 60);
  const seen = [];
  let cursor = null, pages = 0;
  do {
    const page = await directory(s, { limit: 7, ...(cursor ? { cursor } : {}) });
    assert.ok(page.items.length <= 7);
    seen.push(...page.items.map((p) => p.id));
    cursor = page.next_cursor;
    pages += 1;
    assert.ok(pages < 100, 'pagination ends');
  } while (cursor);
  assert.equal(new Set(seen).size, seen.length, 'no duplicates');
  assert.deepEqual(seen, all.items.map((p) => p.id));
  const filtered = await directory(s, { q: 'e', limit: 5 });
  assert.ok(filtered.next_cursor);
  const next = await directory(s, { q: 'e', limit: 5, cursor: filtered.next_cursor });
  assert.ok(next.items.every((p) => !filtered.items.some((q) => q.id === p.id)));
});

test('directory query errors are 400 invalid_query; disabled people are not listed', async () => {
  const s = await newPerson(srv, admin);
  for (const qs of ['limit=0', 'limit=201', 'limit=abc', 'cursor=zz', `q=${'x'.repeat(201)}`, 'q=a%0Ab']) {
    const res = await api(srv, 'GET', `/api/v1/people?${qs}`, { session: s });
    assertError(res, 400, 'invalid_query');
  }
  const gone = await newPerson(srv, admin, { name: 'Vanishing Verity' });
  assert.equal((await directory(s, { q: 'vanishing verity' })).items.length, 1);
  await api(srv, 'PATCH', `/api/v1/users/${gone.id}`, { session: admin, body: { status: 'disabled' } });
  assert.equal((await directory(s, { q: 'vanishing verity' })).items.length, 0);
});

test('SQL metacharacters are stored and returned verbatim, and searched literally', async () => {
  const s = await newPerson(srv, admin);
  const name = "Robert'); DROP TABLE users; --";
  const department = '%_\\';
  const title = '"quoted" <b>bold</b> $1 \\x00 ;--';
  const res = await api(srv, 'PATCH', '/api/v1/me', { session: s, body: { display_name: name, department, job_title: title } });
  assert.equal(res.status, 200, res.text);
  const m = await me(s);
  assert.equal(m.display_name, name);
  assert.equal(m.department, department);
  assert.equal(m.job_title, title);
  const viewer = await newPerson(srv, admin);
  const seen = await api(srv, 'GET', `/api/v1/people/${s.id}`, { session: viewer });
  assert.equal(seen.body.display_name, name);
  assert.equal(seen.body.department, department);

  const byName = await directory(viewer, { q: "'); DROP TABLE users; --", limit: 200 });
  assert.deepEqual(byName.items.map((p) => p.id), [s.id]);
  for (const q of ['%', '_', '\\', '%_\\', "'", '%_', '_\\']) {
    const found = await directory(viewer, { q, limit: 200 });
    assert.deepEqual(found.items.map((p) => p.id), [s.id], `q=${q} matches only the literal text`);
  }
  assert.deepEqual((await directory(viewer, { department, limit: 200 })).items.map((p) => p.id), [s.id]);
  assert.deepEqual((await directory(viewer, { department: '%', limit: 200 })).items, []);
  assert.deepEqual((await directory(viewer, { expertise: "' OR 1=1 --", limit: 200 })).items, []);
  assert.ok(Number(sql(srv, 'SELECT count(*) FROM users')) > 60, 'the users table is still there');
  const users = await api(srv, 'GET', `/api/v1/users?q=${encodeURIComponent("'); DROP")}`, { session: admin });
  assert.equal(users.status, 200);
  assert.deepEqual(users.body.items.map((u) => u.id), [s.id]);
});

test('over-long and malformed fields are 422 with the right field on several routes', async () => {
  const s = await newPerson(srv, admin);
  const problems = [];
  const check = async (method, path, session, body, field) => {
    const res = await api(srv, method, path, { session, body });
    if (res.status !== 422 || res.body?.error?.code !== 'invalid_field' || res.body?.error?.field !== field) {
      problems.push(`${method} ${path} ${JSON.stringify(body).slice(0, 80)}: expected 422 ${field}, got ${res.status} ${res.text}`);
    }
  };
  await check('PATCH', '/api/v1/me', s, { job_title: 'x'.repeat(101) }, 'job_title');
  await check('POST', '/api/v1/users', admin, { email: 'long@test.example', display_name: 'x'.repeat(101) }, 'display_name');
  await check('POST', '/api/v1/users', admin, { email: 'long2@test.example', display_name: 'Long', department: 'd'.repeat(101) }, 'department');
  await check('POST', '/api/v1/users', admin, { email: 'long3@test.example', display_name: 'Long', role: 'superuser' }, 'role');
  await check('POST', '/api/v1/users', admin, { email: 'long4@test.example', display_name: 'Long', locale: 'xx' }, 'locale');
  await check('POST', '/api/v1/tokens', admin, { name: 'n'.repeat(101), scopes: ['read'] }, 'name');
  await check('POST', '/api/v1/me/out-of-office', s, { starts_at: '2031-01-01T00:00:00Z', ends_at: '2031-01-02T00:00:00Z', note: 'n'.repeat(501) }, 'note');
  await check('POST', '/api/v1/me/out-of-office', s, { starts_at: 'x'.repeat(41), ends_at: '2031-01-02T00:00:00Z' }, 'starts_at');
  await check('POST', '/api/v1/communities', admin, { slug: 'long-name', name: 'n'.repeat(101) }, 'name');
  await check('POST', '/api/v1/communities', admin, { slug: 'long-description', name: 'Long', description: 'd'.repeat(2001) }, 'description');
  await check('POST', '/api/v1/communities', admin, { slug: 's'.repeat(64), name: 'Long slug' }, 'slug');
  await check('PATCH', `/api/v1/users/${s.id}`, admin, { job_title: 'j'.repeat(101) }, 'job_title');
  await check('PATCH', `/api/v1/users/${s.id}`, admin, { status: 'deleted' }, 'status');
  await check('POST', '/api/v1/me/password', s, { current_password: s.password, new_password: 'p'.repeat(1025) }, 'new_password');
  assert.deepEqual(problems, []);
});

test('a person\'s profile shows their communities, but a secret one only to its members', async () => {
  const pressRoom = communityId(srv, 'press-room');
  const insiderId = Number(sql(srv, `SELECT user_id FROM community_members WHERE community_id = ${pressRoom} AND role = 'expert' ORDER BY user_id LIMIT 1`));
  const outsider = await newPerson(srv, admin);
  const viewedByOutsider = await api(srv, 'GET', `/api/v1/people/${insiderId}`, { session: outsider });
  assert.equal(viewedByOutsider.status, 200);
  assert.ok(!viewedByOutsider.body.communities.some((c) => c.slug === 'press-room'), 'hidden from non-members');
  const comms = await login(srv, 'comms@relais.example');
  const viewedByMember = await api(srv, 'GET', `/api/v1/people/${insiderId}`, { session: comms });
  assert.ok(viewedByMember.body.communities.some((c) => c.slug === 'press-room'), 'shown to members');
  assert.equal(userId(srv, 'comms@relais.example'), comms.user.id);
});
