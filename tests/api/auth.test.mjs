// People and access, accounts and sessions: passwords, sign-in and out, session cookies and
// timeouts, one's sessions, password changes and reset links, CSRF, sign-in rate limits,
// API tokens, and the races and timings an attacker would try.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelais } from '../lib/harness.mjs';
import {
  api, request, login, tryLogin, loadDemo, sql, createUser, newPerson, uniqueEmail, nextIp, assertError,
  audit, eventually, median, waitHealthy, DEMO_PASSWORD, ADMIN_EMAIL,
} from '../lib/api.mjs';

const ABSOLUTE_SECONDS = 2 * 86400;
let srv, admin, employeeEmail;

before(async () => {
  srv = await startRelais({
    env: { RELAIS_INSECURE_COOKIES: 'true', RELAIS_SESSION_ABSOLUTE_TIMEOUT: '2d', RELAIS_SESSION_IDLE_TIMEOUT: '1h' },
  });
  const logins = await loadDemo(srv);
  employeeEmail = logins.employee;
  admin = await login(srv, ADMIN_EMAIL);
});
after(async () => { await srv?.stop(); });

function userIdOf(session) { return session.user.id; }

async function alive(session) {
  const res = await api(srv, 'GET', '/api/v1/me', { session });
  return res.status;
}

// --- sign-in and the session cookie -------------------------------------------------------

test('login answers 200 {user, csrf_token} and an HttpOnly, SameSite=Lax, Path=/ cookie whose Max-Age is the absolute timeout', async () => {
  const res = await tryLogin(srv, employeeEmail, DEMO_PASSWORD, { headers: { 'User-Agent': 'auth-test/1.0' } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(Object.keys(res.body).sort(), ['csrf_token', 'user']);
  assert.equal(res.body.user.email, employeeEmail);
  assert.equal(res.body.user.role, 'employee');
  assert.equal(typeof res.body.user.id, 'number');
  assert.ok(!('password_hash' in res.body.user), 'no password hash in the answer');
  assert.match(res.body.csrf_token, /^[A-Za-z0-9_-]{32,64}$/);
  const cookie = res.cookies.find((c) => c.name === 'relais_session');
  assert.ok(cookie, `Set-Cookie: ${res.headers['set-cookie']}`);
  assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  assert.equal(cookie.attrs.httponly, true);
  assert.equal(cookie.attrs.samesite, 'Lax');
  assert.equal(cookie.attrs.path, '/');
  assert.equal(Number(cookie.attrs['max-age']), ABSOLUTE_SECONDS);
  assert.ok(!cookie.attrs.secure, 'no Secure flag with insecure_cookies');
  // The session is stored by hash only, with its absolute expiry.
  const row = sql(srv, `SELECT encode(token_hash, 'hex') = encode(sha256('${cookie.value}'::bytea), 'hex'),`
    + ` round(extract(epoch FROM expires_at - created_at)), user_agent FROM sessions WHERE user_id = ${res.body.user.id}`
    + ' ORDER BY id DESC LIMIT 1');
  assert.equal(row, `t|${ABSOLUTE_SECONDS}|auth-test/1.0`);
  assert.equal(sql(srv, `SELECT count(*) FROM sessions WHERE token_hash::text LIKE '%${cookie.value}%'`), '0');
});

test('without insecure_cookies the cookie is __Host-relais_session with Secure', async () => {
  const email = 'secure-admin@test.example';
  const password = 'secure-admin-password';
  const other = await startRelais({ pg: srv.pg, env: { RELAIS_ADMIN_EMAIL: email, RELAIS_ADMIN_PASSWORD: password } });
  try {
    const res = await request(other, 'POST', '/api/v1/session', { body: { email, password }, from: nextIp() });
    assert.equal(res.status, 200, res.text);
    const cookie = res.cookies.find((c) => c.name === '__Host-relais_session');
    assert.ok(cookie, `Set-Cookie: ${res.headers['set-cookie']}`);
    assert.equal(cookie.attrs.secure, true);
    assert.equal(cookie.attrs.httponly, true);
    assert.equal(cookie.attrs.samesite, 'Lax');
    assert.equal(cookie.attrs.path, '/');
    assert.ok(!('domain' in cookie.attrs), '__Host- cookies have no Domain');
    let me = await request(other, 'GET', '/api/v1/me', { headers: { Cookie: `__Host-relais_session=${cookie.value}` } });
    assert.equal(me.status, 200);
    me = await request(other, 'GET', '/api/v1/me', { headers: { Cookie: `relais_session=${cookie.value}` } });
    assert.equal(me.status, 401, 'the unprefixed name is not accepted');
  } finally {
    await other.stop();
  }
});

test('a wrong password and an unknown e-mail both answer 401 invalid_credentials with the same body', async () => {
  const wrong = await tryLogin(srv, employeeEmail, 'not-the-password-at-all');
  const unknown = await tryLogin(srv, uniqueEmail('nobody'), 'not-the-password-at-all');
  assertError(wrong, 401, 'invalid_credentials');
  assertError(unknown, 401, 'invalid_credentials');
  assert.deepEqual(wrong.body, unknown.body);
  assert.equal(wrong.cookies.length, 0, 'no cookie on failure');
  assert.equal(unknown.cookies.length, 0);
});

test('login input is checked: missing or malformed e-mail and password are 422 naming the field', async () => {
  const from = nextIp();
  let res = await request(srv, 'POST', '/api/v1/session', { body: { password: 'whatever-long' }, from });
  assertError(res, 422, 'invalid_field', 'email');
  res = await request(srv, 'POST', '/api/v1/session', { body: { email: employeeEmail, password: 12345678901 }, from });
  assertError(res, 422, 'invalid_field', 'password');
  res = await request(srv, 'POST', '/api/v1/session', { body: { email: employeeEmail, password: 'x'.repeat(1025) }, from });
  assertError(res, 422, 'invalid_field', 'password');
  res = await request(srv, 'POST', '/api/v1/session', { body: { email: employeeEmail, password: 'whatever-long', remember: true }, from });
  assertError(res, 422, 'invalid_field', 'remember');
});

test('GET /api/v1/me needs a session: none, a malformed or an unknown cookie is 401', async () => {
  const s = await login(srv, employeeEmail);
  const ok = await api(srv, 'GET', '/api/v1/me', { session: s });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.email, employeeEmail);
  assert.equal(ok.body.csrf_token, s.csrf);
  assertError(await request(srv, 'GET', '/api/v1/me'), 401, 'unauthenticated');
  for (const value of ['x', 'A'.repeat(43), `${s.cookie}x`, s.cookie.slice(1)]) {
    assertError(await api(srv, 'GET', '/api/v1/me', { session: { cookie: value } }), 401, 'unauthenticated');
  }
});

test('DELETE /api/v1/session signs out: the cookie is cleared and no longer works', async () => {
  const s = await login(srv, employeeEmail);
  const other = await login(srv, employeeEmail);
  const res = await api(srv, 'DELETE', '/api/v1/session', { session: s });
  assert.equal(res.status, 204, res.text);
  const cleared = res.cookies.find((c) => c.name === 'relais_session');
  assert.ok(cleared && cleared.value === '' && Number(cleared.attrs['max-age']) === 0, `Set-Cookie: ${res.headers['set-cookie']}`);
  assert.equal(await alive(s), 401);
  assert.equal(await alive(other), 200, 'only this session ends');
});

test('the session token changes at every login (no session fixation)', async () => {
  // A cookie the browser had before signing in (planted by an attacker) is not adopted.
  const planted = 'P'.repeat(43);
  const res = await tryLogin(srv, employeeEmail, DEMO_PASSWORD, { cookie: planted });
  assert.equal(res.status, 200);
  assert.notEqual(res.session.cookie, planted);
  assert.equal(await alive({ cookie: planted }), 401);
  // Signing in again with a live session replaces it: the old token dies.
  const again = await tryLogin(srv, employeeEmail, DEMO_PASSWORD, { cookie: res.session.cookie });
  assert.equal(again.status, 200);
  assert.notEqual(again.session.cookie, res.session.cookie);
  assert.notEqual(again.session.csrf, res.session.csrf);
  assert.equal(await alive(res.session), 401, 'the pre-login session is gone');
  assert.equal(await alive(again.session), 200);
  // Two separate logins never share a token.
  const a = await login(srv, employeeEmail);
  const b = await login(srv, employeeEmail);
  assert.notEqual(a.cookie, b.cookie);
  assert.notEqual(a.csrf, b.csrf);
});

test('an idle session ends after the idle timeout and any session after the absolute timeout', async () => {
  const s = await newPerson(srv, admin);
  const id = sql(srv, `SELECT id FROM sessions WHERE user_id = ${s.id}`);
  sql(srv, `UPDATE sessions SET last_seen_at = now() - interval '50 minutes' WHERE id = ${id}`);
  assert.equal(await alive(s), 200, 'used 50 minutes ago: idle timeout (1h) not reached');
  sql(srv, `UPDATE sessions SET last_seen_at = now() - interval '61 minutes' WHERE id = ${id}`);
  const idle = await api(srv, 'GET', '/api/v1/me', { session: s });
  assertError(idle, 401, 'unauthenticated');
  const cleared = idle.cookies.find((c) => c.name === 'relais_session');
  assert.ok(cleared && Number(cleared.attrs['max-age']) === 0, 'the dead cookie is cleared');

  const t = await login(srv, s.email, s.password);
  const tid = sql(srv, `SELECT id FROM sessions WHERE user_id = ${s.id} ORDER BY id DESC LIMIT 1`);
  sql(srv, `UPDATE sessions SET expires_at = now() + interval '5 seconds' WHERE id = ${tid}`);
  assert.equal(await alive(t), 200);
  sql(srv, `UPDATE sessions SET expires_at = now() - interval '1 second', last_seen_at = now() WHERE id = ${tid}`);
  assertError(await api(srv, 'GET', '/api/v1/me', { session: t }), 401, 'unauthenticated');
});

test('a session in use is kept alive: last_seen_at moves forward', async () => {
  const s = await newPerson(srv, admin);
  const id = sql(srv, `SELECT id FROM sessions WHERE user_id = ${s.id}`);
  sql(srv, `UPDATE sessions SET last_seen_at = now() - interval '30 minutes' WHERE id = ${id}`);
  assert.equal(await alive(s), 200);
  const age = Number(sql(srv, `SELECT extract(epoch FROM now() - last_seen_at) FROM sessions WHERE id = ${id}`));
  assert.ok(age < 60, `last_seen_at refreshed (${age} s old)`);
});

// --- one's sessions ---------------------------------------------------------------------------

test('a user lists their sessions and revokes one; another user\'s session id is 404', async () => {
  const a1 = await newPerson(srv, admin);
  const a2 = await login(srv, a1.email, a1.password);
  const b = await newPerson(srv, admin);
  const list = await api(srv, 'GET', '/api/v1/me/sessions', { session: a1 });
  assert.equal(list.status, 200, list.text);
  assert.equal(list.body.items.length, 2);
  for (const item of list.body.items) {
    assert.deepEqual(Object.keys(item).sort(), ['created_at', 'current', 'expires_at', 'id', 'ip', 'last_seen_at', 'user_agent']);
  }
  assert.equal(list.body.items.filter((i) => i.current).length, 1);
  assert.ok(!list.text.includes(a1.cookie) && !list.text.includes(a1.csrf), 'no secrets in the list');
  const otherId = list.body.items.find((i) => !i.current).id;

  // b cannot revoke a1's session, nor see it.
  const bList = await api(srv, 'GET', '/api/v1/me/sessions', { session: b });
  assert.ok(!bList.body.items.some((i) => i.id === otherId));
  assertError(await api(srv, 'DELETE', `/api/v1/me/sessions/${otherId}`, { session: b }), 404, 'not_found');
  assert.equal(await alive(a2), 200, 'still alive after b\'s attempt');

  const res = await api(srv, 'DELETE', `/api/v1/me/sessions/${otherId}`, { session: a1 });
  assert.equal(res.status, 204, res.text);
  assert.equal(await alive(a2), 401);
  assert.equal(await alive(a1), 200);
  assertError(await api(srv, 'DELETE', `/api/v1/me/sessions/${otherId}`, { session: a1 }), 404, 'not_found');
  for (const bad of ['abc', '0', '-1', '1.5', '99999999999999999999']) {
    assertError(await api(srv, 'DELETE', `/api/v1/me/sessions/${bad}`, { session: a1 }), 404, 'not_found');
  }
});

test('disabling a user (PATCH /api/v1/users/{id}) ends their sessions at once and refuses their logins', async () => {
  const u = await newPerson(srv, admin);
  const u2 = await login(srv, u.email, u.password);
  const res = await api(srv, 'PATCH', `/api/v1/users/${u.id}`, { session: admin, body: { status: 'disabled' } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.status, 'disabled');
  assert.equal(await alive(u), 401);
  assert.equal(await alive(u2), 401);
  assert.equal(sql(srv, `SELECT count(*) FROM sessions WHERE user_id = ${u.id}`), '0');
  const denied = await tryLogin(srv, u.email, u.password);
  assertError(denied, 401, 'invalid_credentials');
  const enabled = await api(srv, 'PATCH', `/api/v1/users/${u.id}`, { session: admin, body: { status: 'active' } });
  assert.equal(enabled.status, 200);
  await login(srv, u.email, u.password);
  // An admin cannot disable themselves.
  assertError(await api(srv, 'PATCH', `/api/v1/users/${userIdOf(admin)}`, { session: admin, body: { status: 'disabled' } }),
    422, 'own_account', 'status');
});

// --- accounts and passwords -------------------------------------------------------------------

test('e-mail addresses are unique regardless of case: 409 email_taken', async () => {
  const email = uniqueEmail('Case.Sensitive');
  const u = await createUser(srv, admin, { email, password: 'first-password-ok' });
  assert.equal(u.email, email);
  for (const variant of [email.toLowerCase(), email.toUpperCase(), ` ${email} `]) {
    const res = await api(srv, 'POST', '/api/v1/users', { session: admin, body: { email: variant, display_name: 'Dup' } });
    assertError(res, 409, 'email_taken', 'email');
  }
  const s = await login(srv, email.toUpperCase(), 'first-password-ok');
  assert.equal(s.user.id, u.id, 'login ignores the case of the e-mail');
});

test('malformed e-mails are 422 field email', async () => {
  for (const email of ['no-at-sign', 'a@', '@b', 'two@@x', 'sp ace@x.example', 'x'.repeat(250) + '@x.example', '']) {
    const res = await api(srv, 'POST', '/api/v1/users', { session: admin, body: { email, display_name: 'Bad' } });
    assertError(res, 422, 'invalid_field', 'email');
  }
});

test('a password has at least 10 characters (422 field password); characters, not bytes, are counted', async () => {
  for (const password of ['123456789', 'ééééé', '         ']) {
    const res = await api(srv, 'POST', '/api/v1/users', { session: admin, body: { email: uniqueEmail(), display_name: 'P', password } });
    assertError(res, 422, 'invalid_field', 'password');
  }
  for (const password of ['1234567890', 'éééééééééé']) {
    const u = await createUser(srv, admin, { password });
    await login(srv, u.email, password);
  }
});

test('128- and 1000-character passwords work and are not truncated', async () => {
  for (const length of [128, 1000]) {
    const password = Array.from({ length }, (_, i) => String.fromCharCode(33 + ((i * 7) % 90))).join('');
    const u = await createUser(srv, admin, { password });
    await login(srv, u.email, password);
    const at = Math.min(199, length - 1); // the 200th character, or the last one
    const other = `${password.slice(0, at)}${password[at] === 'A' ? 'B' : 'A'}${password.slice(at + 1)}`;
    assert.equal(other.length, length);
    assertError(await tryLogin(srv, u.email, other), 401, 'invalid_credentials');
    assertError(await tryLogin(srv, u.email, password.slice(0, -1)), 401, 'invalid_credentials');
  }
  // At most 1024 bytes.
  const res = await api(srv, 'POST', '/api/v1/users', { session: admin, body: { email: uniqueEmail(), display_name: 'P', password: 'x'.repeat(1025) } });
  assertError(res, 422, 'invalid_field', 'password');
});

test('a password change needs the current password and ends every session, giving this client a new one', async () => {
  const s1 = await newPerson(srv, admin);
  const s2 = await login(srv, s1.email, s1.password);
  let res = await api(srv, 'POST', '/api/v1/me/password', { session: s1, body: { current_password: 'wrong-current-pw', new_password: 'brand-new-password' } });
  assertError(res, 422, 'invalid_field', 'current_password');
  res = await api(srv, 'POST', '/api/v1/me/password', { session: s1, body: { new_password: 'brand-new-password' } });
  assertError(res, 422, 'invalid_field', 'current_password');
  res = await api(srv, 'POST', '/api/v1/me/password', { session: s1, body: { current_password: s1.password, new_password: 'short' } });
  assertError(res, 422, 'invalid_field', 'new_password');
  assert.equal(await alive(s1), 200, 'failed attempts change nothing');

  res = await api(srv, 'POST', '/api/v1/me/password', { session: s1, body: { current_password: s1.password, new_password: 'brand-new-password' } });
  assert.equal(res.status, 200, res.text);
  assert.match(res.body.csrf_token, /^[A-Za-z0-9_-]{32,64}$/);
  const cookie = res.cookies.find((c) => c.name === 'relais_session');
  assert.ok(cookie && cookie.value.length === 43, `Set-Cookie: ${res.headers['set-cookie']}`);
  assert.equal(cookie.attrs.httponly, true);
  const fresh = { cookie: cookie.value, csrf: res.body.csrf_token };
  assert.equal(await alive(s1), 401, 'the old cookie is dead');
  assert.equal(await alive(s2), 401, 'the other session is dead');
  assert.equal(await alive(fresh), 200, 'the new session works');
  const patch = await api(srv, 'PATCH', '/api/v1/me', { session: fresh, body: { job_title: 'Changed password' } });
  assert.equal(patch.status, 200, 'and its CSRF token works');
  assertError(await tryLogin(srv, s1.email, s1.password), 401, 'invalid_credentials');
  await login(srv, s1.email, 'brand-new-password');
});

// --- reset links ------------------------------------------------------------------------------

async function issueReset(userId) {
  const res = await api(srv, 'POST', `/api/v1/users/${userId}/password-reset`, { session: admin });
  assert.equal(res.status, 201, res.text);
  assert.match(res.body.token, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(res.body.reset_url.includes(res.body.token));
  assert.ok(Date.parse(res.body.expires_at) > Date.now());
  return res.body.token;
}

test('an admin-issued reset link works once, ends the old sessions, and a second use is 400 invalid_token', async () => {
  const s = await newPerson(srv, admin);
  const token = await issueReset(s.id);
  assert.equal(sql(srv, `SELECT count(*) FROM password_resets WHERE token_hash::text LIKE '%${token}%'`), '0', 'stored hashed');
  let res = await request(srv, 'POST', '/api/v1/password-reset', { body: { token, password: 'short' } });
  assertError(res, 422, 'invalid_field', 'password');
  res = await request(srv, 'POST', '/api/v1/password-reset', { body: { token, password: 'reset-password-1' } });
  assert.equal(res.status, 204, res.text);
  assert.equal(await alive(s), 401, 'sessions from before the reset are dead');
  assertError(await tryLogin(srv, s.email, s.password), 401, 'invalid_credentials');
  await login(srv, s.email, 'reset-password-1');
  const second = await request(srv, 'POST', '/api/v1/password-reset', { body: { token, password: 'reset-password-2' } });
  assertError(await tryLogin(srv, s.email, 'reset-password-2'), 401, 'invalid_credentials');
  await login(srv, s.email, 'reset-password-1');
  const unknown = await request(srv, 'POST', '/api/v1/password-reset', { body: { token: 'A'.repeat(43), password: 'reset-password-2' } });
  assertError(second, 400, 'invalid_token', 'token');
  assertError(unknown, 400, 'invalid_token', 'token');
});

test('replaying a used reset link does not end the sessions opened after the reset', async () => {
  const s = await newPerson(srv, admin);
  const token = await issueReset(s.id);
  let res = await request(srv, 'POST', '/api/v1/password-reset', { body: { token, password: 'after-reset-pass' } });
  assert.equal(res.status, 204, res.text);
  const fresh = await login(srv, s.email, 'after-reset-pass');
  res = await request(srv, 'POST', '/api/v1/password-reset', { body: { token, password: 'attacker-password' } });
  assert.equal(res.body?.error?.code, 'invalid_token', res.text);
  assert.equal(await alive(fresh), 200, 'a used (or leaked) link must not be a way to sign the user out');
  assertError(await tryLogin(srv, s.email, 'attacker-password'), 401, 'invalid_credentials');
});

test('a new reset link voids the previous one; only admins issue links', async () => {
  const s = await newPerson(srv, admin);
  assertError(await api(srv, 'POST', `/api/v1/users/${userIdOf(admin)}/password-reset`, { session: s }), 403, 'forbidden');
  assertError(await api(srv, 'POST', '/api/v1/users/999999999/password-reset', { session: admin }), 404, 'not_found');
  const first = await issueReset(s.id);
  const second = await issueReset(s.id);
  const stale = await request(srv, 'POST', '/api/v1/password-reset', { body: { token: first, password: 'from-first-link' } });
  assert.equal(stale.body?.error?.code, 'invalid_token', stale.text);
  assert.notEqual(stale.status, 204);
  const ok = await request(srv, 'POST', '/api/v1/password-reset', { body: { token: second, password: 'from-second-link' } });
  assert.equal(ok.status, 204);
  await login(srv, s.email, 'from-second-link');
});

test('an account created without a password signs in only after a reset link', async () => {
  const u = await createUser(srv, admin, {});
  assertError(await tryLogin(srv, u.email, 'any-password-here'), 401, 'invalid_credentials');
  const token = await issueReset(u.id);
  const res = await request(srv, 'POST', '/api/v1/password-reset', { body: { token, password: 'first-real-password' } });
  assert.equal(res.status, 204);
  await login(srv, u.email, 'first-real-password');
});

// --- CSRF ------------------------------------------------------------------------------------

test('cookie-authenticated changes without the right X-CSRF-Token are 403 csrf_failed', async () => {
  const s = await newPerson(srv, admin);
  const other = await newPerson(srv, admin);
  const changes = [
    ['PATCH', '/api/v1/me', { job_title: 'csrf' }],
    ['PUT', '/api/v1/me/expertise', { expertise: [] }],
    ['POST', '/api/v1/me/out-of-office', { starts_at: '2030-01-01T00:00:00Z', ends_at: '2030-01-02T00:00:00Z' }],
    ['POST', '/api/v1/me/password', { current_password: s.password, new_password: 'csrf-new-password' }],
    ['DELETE', '/api/v1/session', undefined],
    ['POST', '/api/v1/communities/1/join', undefined],
  ];
  for (const [method, path, body] of changes) {
    for (const csrf of [false, 'wrong', '', other.csrf, s.csrf.slice(0, -1), `${s.csrf}x`]) {
      const res = await api(srv, method, path, { session: s, body, csrf });
      assertError(res, 403, 'csrf_failed');
    }
  }
  assert.equal(await alive(s), 200, 'nothing happened: the session is still there');
  const me = await api(srv, 'GET', '/api/v1/me', { session: s });
  assert.notEqual(me.body.job_title, 'csrf');
  const ok = await api(srv, 'PATCH', '/api/v1/me', { session: s, body: { job_title: 'csrf' } });
  assert.equal(ok.status, 200, 'the right token works');
  await eventually(async () => {
    const rows = await audit(srv, admin, { action: 'access.csrf_failed', actor_id: s.id, limit: 200 });
    assert.equal(rows.items.length, changes.length * 6);
  });
});

test('Bearer requests need no CSRF token', async () => {
  const created = await api(srv, 'POST', '/api/v1/tokens', { session: admin, body: { name: 'csrf-free', scopes: ['admin'] } });
  assert.equal(created.status, 201, created.text);
  const res = await api(srv, 'POST', '/api/v1/users', { token: created.body.token, body: { email: uniqueEmail('bearer'), display_name: 'By token' } });
  assert.equal(res.status, 201, res.text);
});

// --- sign-in rate limits ----------------------------------------------------------------------

/** A sign-in attempt that reports a dropped connection (a crashed worker) as a status. */
async function attempt(email, password, options) {
  try {
    return await tryLogin(srv, email, password, options);
  } catch (err) {
    const crashes = srv.logs().split('\n').filter((l) => l.includes('ended unexpectedly')).join('\n');
    return { status: `${err.code || err.message} (no answer)`, text: crashes, headers: {}, body: null, cookies: [] };
  }
}


test('the 11th sign-in attempt in a minute from one address is 429 rate_limited with Retry-After', async () => {
  const from = nextIp();
  try {
    for (let i = 0; i < 10; i++) {
      assertError(await attempt(uniqueEmail('flood'), 'wrong-password-x', { from }), 401, 'invalid_credentials');
    }
    const res = await attempt(uniqueEmail('flood'), 'wrong-password-x', { from });
    assertError(res, 429, 'rate_limited');
    const retry = Number(res.headers['retry-after']);
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After: ${res.headers['retry-after']}`);
    // Even the right password is refused from that address now; other addresses are not affected.
    assertError(await attempt(employeeEmail, DEMO_PASSWORD, { from }), 429, 'rate_limited');
  } finally {
    await waitHealthy(srv);
  }
  // Another address signs in (with an account whose own counter is fresh).
  const other = await createUser(srv, admin, { password: 'other-address-pw' });
  await login(srv, other.email, 'other-address-pw', { from: nextIp() });
});

test('the 11th sign-in attempt in a minute on one account, from many addresses, is 429', async () => {
  const u = await createUser(srv, admin, { password: 'account-limit-pw' });
  try {
    for (let i = 0; i < 10; i++) {
      assertError(await attempt(u.email, 'wrong-password-x'), 401, 'invalid_credentials');
    }
    const res = await attempt(u.email, 'account-limit-pw');
    assertError(res, 429, 'rate_limited');
    assert.ok(Number(res.headers['retry-after']) >= 1);
  } finally {
    await waitHealthy(srv);
  }
});

test('the per-account limit cannot be dodged by changing the case of the e-mail', async () => {
  const u = await createUser(srv, admin, { email: uniqueEmail('casey'), password: 'case-limit-pw-1' });
  const variants = [u.email, u.email.toUpperCase(), u.email[0].toUpperCase() + u.email.slice(1)];
  try {
    for (let i = 0; i < 10; i++) {
      assertError(await attempt(variants[i % 3], 'wrong-password-x'), 401, 'invalid_credentials');
    }
    const res = await attempt(variants[1], 'case-limit-pw-1');
    assertError(res, 429, 'rate_limited');
  } finally {
    await waitHealthy(srv);
  }
});

test('X-Forwarded-For from an untrusted peer does not change the address the sign-in limit counts', async () => {
  const from = nextIp();
  try {
    for (let i = 0; i < 10; i++) {
      const res = await attempt(uniqueEmail('xff'), 'wrong-password-x', { from, headers: { 'X-Forwarded-For': `203.0.113.${i + 1}` } });
      assertError(res, 401, 'invalid_credentials');
    }
    const res = await attempt(uniqueEmail('xff'), 'wrong-password-x', { from, headers: { 'X-Forwarded-For': '198.51.100.77' } });
    assertError(res, 429, 'rate_limited');
  } finally {
    await waitHealthy(srv);
  }
  const rows = sql(srv, "SELECT count(*) FROM audit_log WHERE ip LIKE '203.0.113.%' OR ip = '198.51.100.77'");
  assert.equal(rows, '0', 'the forged address is never recorded');
});

test('the general per-address request limit (rate_limit) answers 429 with Retry-After', async () => {
  const limited = await startRelais({ pg: srv.pg, workers: 1, env: { RELAIS_RATE_LIMIT: '20', RELAIS_INSECURE_COOKIES: 'true' } });
  try {
    const from = nextIp();
    const statuses = [];
    let limitedRes = null;
    for (let i = 0; i < 30; i++) {
      const res = await request(limited, 'GET', '/api/v1/version', { from });
      statuses.push(res.status);
      if (res.status === 429 && !limitedRes) limitedRes = res;
    }
    assert.deepEqual(statuses.slice(0, 20), Array(20).fill(200), `the first 20 pass: ${statuses}`);
    assert.ok(statuses.filter((s) => s === 429).length >= 9, `429 after 20 requests a minute: ${statuses}`);
    assertError(limitedRes, 429, 'rate_limited');
    assert.ok(Number(limitedRes.headers['retry-after']) >= 1, `Retry-After: ${limitedRes.headers['retry-after']}`);
    const elsewhere = await request(limited, 'GET', '/api/v1/version', { from: nextIp() });
    assert.equal(elsewhere.status, 200, 'another address is not limited');
  } finally {
    await limited.stop();
  }
});

// --- API tokens ------------------------------------------------------------------------------

test('API tokens: created by an admin (201, rlt_, shown once), Bearer works for GET with read scope, cannot write, revoked is 401', async () => {
  const employee = await login(srv, employeeEmail);
  assertError(await api(srv, 'POST', '/api/v1/tokens', { session: employee, body: { name: 'mine', scopes: ['read'] } }), 403, 'forbidden');
  assertError(await api(srv, 'POST', '/api/v1/tokens', { session: admin, body: { name: 'bad', scopes: ['write'] } }), 422, 'invalid_field', 'scopes');
  assertError(await api(srv, 'POST', '/api/v1/tokens', { session: admin, body: { name: 'bad', scopes: [] } }), 422, 'invalid_field', 'scopes');
  assertError(await api(srv, 'POST', '/api/v1/tokens', { session: admin, body: { scopes: ['read'] } }), 422, 'invalid_field', 'name');

  const res = await api(srv, 'POST', '/api/v1/tokens', { session: admin, body: { name: 'reporting', scopes: ['read'] } });
  assert.equal(res.status, 201, res.text);
  const { token, id } = res.body;
  assert.match(token, /^rlt_[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(res.body.scopes, ['read']);
  assert.equal(res.body.name, 'reporting');

  let list = await api(srv, 'GET', '/api/v1/tokens', { session: admin });
  assert.equal(list.status, 200);
  const entry = list.body.items.find((t) => t.id === id);
  assert.ok(entry, 'listed');
  assert.equal(entry.last_used_at, null);
  assert.ok(!('token' in entry) && !('token_hash' in entry));
  assert.ok(!list.text.includes(token) && !list.text.includes(token.slice(4)), 'the token is never shown again');
  assert.equal(sql(srv, `SELECT count(*) FROM api_tokens WHERE token_hash::text LIKE '%${token.slice(4, 20)}%'`), '0');

  for (const path of ['/api/v1/people', '/api/v1/communities', `/api/v1/people/${employee.user.id}`, '/api/v1/communities/1/members']) {
    const r = await api(srv, 'GET', path, { token });
    assert.equal(r.status, 200, `${path}: ${r.text}`);
  }
  assertError(await api(srv, 'POST', '/api/v1/communities', { token, body: { slug: 'by-read-token', name: 'No' } }), 403, 'forbidden');
  assertError(await api(srv, 'POST', '/api/v1/communities/1/join', { token }), 403, 'forbidden');
  assertError(await api(srv, 'PATCH', '/api/v1/me', { token, body: { job_title: 'x' } }), 403, 'forbidden');
  assertError(await api(srv, 'GET', '/api/v1/me', { token }), 403, 'forbidden');
  assertError(await api(srv, 'GET', '/api/v1/users', { token }), 403, 'forbidden');
  assertError(await api(srv, 'GET', '/api/v1/audit', { token }), 403, 'forbidden');

  list = await api(srv, 'GET', '/api/v1/tokens', { session: admin });
  assert.ok(list.body.items.find((t) => t.id === id).last_used_at, 'last_used_at is set');

  const revoked = await api(srv, 'DELETE', `/api/v1/tokens/${id}`, { session: admin });
  assert.equal(revoked.status, 204, revoked.text);
  const gone = await api(srv, "GET", "/api/v1/people", { token });
  assertError(gone, 401, 'unauthenticated');
  assert.match(gone.headers['www-authenticate'] || '', /^Bearer/);
  assertError(await api(srv, 'DELETE', `/api/v1/tokens/${id}`, { session: admin }), 404, 'not_found');
  list = await api(srv, 'GET', '/api/v1/tokens', { session: admin });
  assert.ok(list.body.items.find((t) => t.id === id).revoked_at);
  for (const bad of ['rlt_nope', 'x'.repeat(300), '']) {
    assertError(await api(srv, 'GET', '/api/v1/people', { headers: { Authorization: `Bearer ${bad}` } }), 401, 'unauthenticated');
  }
});

// --- races and timings -------------------------------------------------------------------------

test('10 concurrent POST /api/v1/users with one e-mail: exactly one 201, the others 409 email_taken', async () => {
  const email = uniqueEmail('race');
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => api(srv, 'POST', '/api/v1/users', {
    session: admin, body: { email: i % 2 ? email.toUpperCase() : email, display_name: `Racer ${i}`, password: 'race-password-1' },
  })));
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, ...Array(9).fill(409)], results.map((r) => `${r.status} ${r.text}`).join('\n'));
  for (const r of results.filter((x) => x.status === 409)) assertError(r, 409, 'email_taken', 'email');
  assert.equal(sql(srv, `SELECT count(*) FROM users WHERE lower(email) = lower('${email}')`), '1');
  await eventually(async () => {
    assert.equal(sql(srv, `SELECT count(*) FROM audit_log WHERE action = 'user.created' AND lower(details->>'email') = lower('${email}')`), '1',
      'one audit row for the one account created');
  });
});

test('an unknown e-mail takes as long as a known one to refuse (within 20%)', async () => {
  const known = await createUser(srv, admin, { password: 'timing-password-1' });
  // Warm up the hashing threads.
  for (let i = 0; i < 3; i++) await tryLogin(srv, uniqueEmail('warm'), 'wrong-password-x');
  const knownTimes = [], unknownTimes = [];
  for (let i = 0; i < 7; i++) {
    const a = await tryLogin(srv, known.email, 'wrong-password-x');
    assert.equal(a.status, 401);
    knownTimes.push(a.ms);
    const b = await tryLogin(srv, uniqueEmail('ghost'), 'wrong-password-x');
    assert.equal(b.status, 401);
    unknownTimes.push(b.ms);
  }
  const k = median(knownTimes), u = median(unknownTimes);
  assert.ok(Math.abs(u - k) <= 0.2 * k, `median known ${k.toFixed(1)} ms, unknown ${u.toFixed(1)} ms`);
  assert.ok(k > 5, `a refused sign-in still costs a password hash (${k.toFixed(1)} ms)`);
});

test('a disabled account is refused like an unknown one, after the same work', async () => {
  const u = await createUser(srv, admin, { password: 'disabled-timing-1' });
  await api(srv, 'PATCH', `/api/v1/users/${u.id}`, { session: admin, body: { status: 'disabled' } });
  const res = await tryLogin(srv, u.email, 'disabled-timing-1');
  const unknown = await tryLogin(srv, uniqueEmail('ghost'), 'disabled-timing-1');
  assertError(res, 401, 'invalid_credentials');
  assert.deepEqual(res.body, unknown.body);
});

test('login successes and failures, password changes and resets are audited without secrets', async () => {
  const s = await newPerson(srv, admin);
  await tryLogin(srv, s.email, 'wrong-password-audit');
  await eventually(async () => {
    const ok = await audit(srv, admin, { action: 'login.succeeded', actor_id: s.id });
    assert.ok(ok.items.length >= 1);
    const failed = await audit(srv, admin, { action: 'login.failed', object_type: 'user', object_id: String(s.id) });
    assert.equal(failed.items.length, 1);
    assert.equal(failed.items[0].details.reason, 'wrong_password');
    assert.ok(!JSON.stringify(failed.items[0]).includes('wrong-password-audit'), 'no password in the audit log');
  });
  const all = await audit(srv, admin, { limit: 200 });
  const text = JSON.stringify(all);
  for (const secret of [s.password, s.cookie, s.csrf, DEMO_PASSWORD]) assert.ok(!text.includes(secret), 'no secret in the audit log');
});
