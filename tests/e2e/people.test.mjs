// Browser tests of people and access in the web app: signing in and out, one's profile and
// expertise, communities (joining, asking to join, a manager approving), the admin pages and
// who may open them, French, and no console error or CSP violation anywhere. Driven in
// Debian's Chromium through playwright-core against a real `relais serve` (tests/lib/harness.mjs)
// with the demo data loaded.
//
//   node --test --test-reporter=tap tests/e2e/people.test.mjs
//
// CHROMIUM_PATH overrides /usr/bin/chromium.
//
// Sign-ins are limited to 10 a minute per client address and per e-mail. All browser traffic
// comes from 127.0.0.1, so the server trusts 127.0.0.1 as a proxy and each browser context
// sends its own X-Forwarded-For address; each test signs in its own new account when it can.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { waitForHeading, settlesTo, htmlLang, focusedId } from '../lib/browser.mjs';

const ROOT = process.env.RELAIS_SRCDIR || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const DIST_INDEX = path.join(ROOT, 'web/dist/index.html');

let chromium = null;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  // tests/node_modules is missing: skipped below.
}

const SKIP = !existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM} (apt-get install chromium)`
  : !existsSync(DIST_INDEX)
    ? 'web/dist/index.html is missing (cd web && npm ci && npm run build)'
    : !chromium
      ? 'playwright-core is missing (cd tests && npm ci)'
      : false;

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

let srv; // the relais server
let browser;
let lib; // tests/lib/api.mjs
let logins; // demo logins: { admin, comms, employee, 'manager of Billing help', ... }
let adminApi; // an API session of the admin, for setting things up
let counter = 0;

before(async () => {
  if (SKIP) return;
  const { startRelais } = await import('../lib/harness.mjs');
  lib = await import('../lib/api.mjs');
  srv = await startRelais({ env: { RELAIS_INSECURE_COOKIES: 'true', RELAIS_TRUSTED_PROXIES: '127.0.0.1' } });
  logins = await lib.loadDemo(srv);
  adminApi = await lib.login(srv, lib.ADMIN_EMAIL);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}, { timeout: 180_000 });

after(async () => {
  await browser?.close();
  await srv?.stop();
});

function url(p) {
  return srv.url + p;
}

/** A new account (employee unless said otherwise) that can sign in; returns { id, email, name, password }. */
async function newAccount(prefix, extra = {}) {
  counter += 1;
  const name = extra.name ?? `${prefix} E2e ${counter}`;
  const password = `pw-${Math.random().toString(36).slice(2)}-long`;
  const user = await lib.createUser(srv, adminApi, {
    email: lib.uniqueEmail(prefix.toLowerCase()),
    name,
    password,
    ...extra,
  });
  return { id: user.id, email: user.email, name, password };
}

/**
 * A fresh browser context (own cookies and storage, own client address) and a page whose
 * problems are collected: console errors, uncaught exceptions, CSP violations, failed
 * requests, HTTP errors of sub-requests and reports sent to /api/v1/client-errors.
 * `expectError(status, pathname)` declares an API error answer the test provokes on purpose;
 * `assertClean()` fails on anything else.
 */
async function openPage(t, { locale = 'en-US', viewport } = {}) {
  const context = await browser.newContext({
    locale,
    ...(viewport ? { viewport } : {}),
    extraHTTPHeaders: { 'X-Forwarded-For': lib.nextIp() },
  });
  t.after(() => context.close());
  context.setDefaultTimeout(10_000);
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  const consoleErrors = [];
  const httpErrors = [];
  const problems = [];
  const expected = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (req) => {
    if (new URL(req.url()).pathname === '/api/v1/client-errors') problems.push(`client error reported: ${req.postData()}`);
  });
  page.on('requestfailed', (req) => {
    // A fetch aborted because the page moved on is not a problem.
    if (req.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && !res.request().isNavigationRequest()) {
      httpErrors.push({ status: res.status(), path: new URL(res.url()).pathname, method: res.request().method() });
    }
  });

  const expectError = (status, pathname) => expected.push({ status, path: pathname });

  const assertClean = async () => {
    await page.waitForLoadState('networkidle').catch(() => {});
    const csp = await page.evaluate(() => window.__cspViolations).catch(() => []);
    const unexpectedHttp = httpErrors.filter((e) => !expected.some((x) => x.status === e.status && x.path === e.path));
    // Chromium logs each HTTP error of a fetch as "Failed to load resource: ... status of N".
    const unexpectedConsole = consoleErrors.filter((text) => {
      const m = /Failed to load resource: the server responded with a status of (\d+)/.exec(text);
      return !(m && expected.some((x) => x.status === Number(m[1])));
    });
    assert.deepEqual(
      {
        problems,
        csp,
        console: unexpectedConsole,
        http: unexpectedHttp.map((e) => `${e.status} ${e.method} ${e.path}`),
      },
      { problems: [], csp: [], console: [], http: [] },
    );
  };

  return { context, page, expectError, assertClean };
}


/** The header's "signed in as" link. */
function accountLink(page, name) {
  return page.getByRole('banner').getByRole('link', { name: new RegExp(`${escapeRe(name)}$`) });
}

function escapeRe(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Signs in through the sign-in form and waits until the app shows the person as signed in.
 * `start` is a page that needs a session (it sends signed-out visitors to the sign-in page
 * with ?next=, and the app comes back to it), or '/' for the sign-in page itself.
 */
async function signIn(page, account, start = '/') {
  await page.goto(url(start === '/' ? '/signin' : start));
  await page.locator('#signin-email').fill(account.email);
  await page.locator('#signin-password').fill(account.password);
  await page.locator('form button[type=submit]').click();
  await accountLink(page, account.name).waitFor();
}

function mainNav(page) {
  return page.getByRole('navigation', { name: /^(Main navigation|Navigation principale)$/ });
}

async function statusText(page, text) {
  await page.getByRole('status').filter({ hasText: text }).first().waitFor();
}

// --- reloading ------------------------------------------------------------------------------------

test('a reload keeps the app working: the revalidated page keeps its Content-Security-Policy', { skip: SKIP, timeout: 60_000 }, async (t) => {
  // The browser revalidates index.html (ETag, Cache-Control: no-cache) and takes the headers
  // of the 304 answer into the cached page: a 304 with another policy breaks the app.
  const { page, assertClean } = await openPage(t);
  const first = await page.goto(url('/questions'));
  assert.match(first.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  await waitForHeading(page, 'Questions');
  const again = await page.reload();
  assert.match(
    again.headers()['content-security-policy'] ?? '(none)',
    /script-src 'self'/,
    'the reloaded page runs under the policy of the 304 answer',
  );
  await waitForHeading(page, 'Questions');
  await assertClean();
});

// --- (a) signing in and out --------------------------------------------------------------------

test('an employee signs in (after a wrong password), sees their name, and signs out', { skip: SKIP, timeout: 90_000 }, async (t) => {
  const email = logins.employee;
  assert.ok(email, 'relais demo printed no employee login');
  const name = lib.sql(srv, `SELECT display_name FROM users WHERE lower(email) = lower('${email}')`);
  const { page, expectError, assertClean } = await openPage(t);

  // A page that needs a session sends a signed-out visitor to the sign-in page, with next.
  await page.goto(url('/people?q=billing'));
  await waitForHeading(page, 'Sign in');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/people?q=billing');
  assert.equal(await page.title(), 'Sign in — Relais');

  // A wrong password: the form says so and stays.
  expectError(401, '/api/v1/session');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'The e-mail address or the password is wrong.' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/signin');
  await settlesTo(focusedId(page), 'signin-password', 'focus');
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);

  // The right one: on to `next`, with the name in the header.
  await page.getByLabel('Password').fill(lib.DEMO_PASSWORD);
  await page.keyboard.press('Enter');
  await waitForHeading(page, 'People');
  const here = new URL(page.url());
  assert.equal(here.pathname + here.search, '/people?q=billing');
  await accountLink(page, name).waitFor();
  assert.equal(await page.getByRole('banner').getByRole('link', { name: `Signed in as ${name}` }).count(), 1);
  assert.equal(await page.getByRole('banner').getByRole('link', { name: 'Sign in' }).count(), 0);
  assert.equal(await page.getByLabel('Search', { exact: true }).inputValue(), 'billing');

  // A reload keeps the session (GET /me), and the app can still change things (CSRF token from /me).
  await page.reload();
  await accountLink(page, name).waitFor();
  await page.goto(url('/'));
  await page.getByText(`Hello, ${name}.`).waitFor();

  // Sign out: back to the sign-in page, signed out for the server too.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await waitForHeading(page, 'Sign in');
  await page.getByText('You have signed out.').waitFor();
  assert.equal(await page.getByRole('banner').getByRole('link', { name: 'Sign in' }).count(), 1);
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
  const cookies = await page.context().cookies();
  assert.equal(cookies.filter((c) => c.name === 'relais_session' && c.value).length, 0, 'the session cookie is cleared');
  await page.goto(url('/me'));
  await waitForHeading(page, 'Sign in');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/me');
  await assertClean();
});

test('when the session ends elsewhere, the next action leads to the sign-in page, and back', { skip: SKIP, timeout: 90_000 }, async (t) => {
  const me = await newAccount('Expired');
  const mobile = lib.communityId(srv, 'mobile-app');
  const { page, expectError, assertClean } = await openPage(t);
  // The live stream would notice the end first (next test): hold it, so that the action does.
  await page.route('**/api/v1/events*', () => {});
  await signIn(page, me, '/communities');
  await waitForHeading(page, 'Communities');

  // An admin disables the account and enables it again: every session of it has ended.
  for (const status of ['disabled', 'active']) {
    const res = await lib.api(srv, 'PATCH', `/api/v1/users/${me.id}`, { session: adminApi, body: { status } });
    assert.equal(res.status, 200, res.text);
  }
  expectError(401, `/api/v1/communities/${mobile}/join`);
  await page.getByRole('button', { name: 'Join — Mobile app' }).click();
  await waitForHeading(page, 'Sign in');
  await page.getByText('Your session has ended. Sign in again to continue.').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('next'), '/communities');
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);

  await page.getByLabel('E-mail address').fill(me.email);
  await page.getByLabel('Password').fill(me.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await waitForHeading(page, 'Communities');
  await page.getByRole('button', { name: 'Join — Mobile app' }).click();
  await statusText(page, 'You are now a member of Mobile app.');
  await assertClean();
});

test('when the session ends elsewhere, the live stream notices: the page goes to the sign-in page by itself', { skip: SKIP, timeout: 90_000 }, async (t) => {
  const me = await newAccount('Streamed');
  const { page, expectError, assertClean } = await openPage(t);
  const streaming = page.waitForResponse((res) => new URL(res.url()).pathname === '/api/v1/events' && res.status() === 200);
  await signIn(page, me, '/communities');
  await waitForHeading(page, 'Communities');
  await page.getByRole('button', { name: 'Join — Mobile app' }).waitFor(); // the list has loaded
  await streaming;

  for (const status of ['disabled', 'active']) {
    const res = await lib.api(srv, 'PATCH', `/api/v1/users/${me.id}`, { session: adminApi, body: { status } });
    assert.equal(res.status, 200, res.text);
  }
  // The stream is closed, its reconnection refused, and GET /me says the session ended.
  expectError(401, '/api/v1/events');
  expectError(401, '/api/v1/me');
  await waitForHeading(page, 'Sign in');
  await page.getByText('Your session has ended. Sign in again to continue.').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('next'), '/communities');
  await assertClean();
});

test('after a new sign-in elsewhere in the browser, a page still works: it fetches the new CSRF token', { skip: SKIP, timeout: 90_000 }, async (t) => {
  const me = await newAccount('Twotabs');
  const open = lib.communityId(srv, 'onboarding');
  const { context, page, expectError, assertClean } = await openPage(t);
  await signIn(page, me, '/communities');
  await waitForHeading(page, 'Communities');

  // Another tab signs in again: the browser gets a new session cookie (the old session
  // ends), so the token this page holds no longer matches.
  const again = await context.request.post(url('/api/v1/session'), { data: { email: me.email, password: me.password } });
  assert.equal(again.status(), 200);

  // The first try answers 403 csrf_failed; the app asks GET /me for the token and retries.
  expectError(403, `/api/v1/communities/${open}/join`);
  await page.getByRole('button', { name: 'Join — Welcome aboard' }).click();
  await statusText(page, 'You are now a member of Welcome aboard.');
  assert.equal(
    lib.sql(srv, `SELECT status FROM community_members WHERE community_id = ${open} AND user_id = ${me.id}`),
    'active',
  );
  await assertClean();
});

test('uncaught errors and unhandled rejections are reported to the server, a few per page load', { skip: SKIP, timeout: 60_000 }, async (t) => {
  const { page } = await openPage(t);
  const reports = [];
  page.on('request', (req) => {
    if (new URL(req.url()).pathname === '/api/v1/client-errors') reports.push(JSON.parse(req.postData()));
  });
  const answers = [];
  page.on('response', (res) => {
    if (new URL(res.url()).pathname === '/api/v1/client-errors') answers.push(res.status());
  });
  await page.goto(url('/questions?x=1'));
  await waitForHeading(page, 'Questions');
  await page.evaluate(() => {
    for (let i = 0; i < 4; i++) setTimeout(() => { throw new Error(`e2e boom ${i}`); }, 0);
    for (let i = 0; i < 4; i++) Promise.reject(new Error(`e2e rejection ${i}`));
  });
  const deadline = Date.now() + 5000;
  while (answers.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await page.waitForTimeout(500);
  assert.equal(reports.length, 5, `at most 5 reports per page load: ${JSON.stringify(reports)}`);
  assert.deepEqual(answers, [204, 204, 204, 204, 204]);
  const boom = reports.find((r) => r.message.includes('e2e boom 0'));
  assert.ok(boom, JSON.stringify(reports));
  assert.match(boom.message, /^uncaught: Error: e2e boom 0/);
  assert.equal(boom.url, '/questions?x=1');
  assert.match(boom.stack, /e2e boom 0/);
  assert.ok(reports.some((r) => /^unhandled rejection: Error: e2e rejection \d/.test(r.message)), JSON.stringify(reports));
  // The server logs them.
  const { waitForLogLine } = await import('../lib/harness.mjs');
  await waitForLogLine(srv, 'e2e boom 0', 5000);
});

// --- (b) profile and expertise -----------------------------------------------------------------

test('an employee edits their expertise and job title, and both survive a reload', { skip: SKIP, timeout: 90_000 }, async (t) => {
  const me = await newAccount('Profile', { job_title: 'Analyst', department: 'Quality' });
  const { page, assertClean } = await openPage(t);
  await signIn(page, me, '/me');
  await waitForHeading(page, 'My profile');
  assert.equal(new URL(page.url()).pathname, '/me');

  // Job title.
  const jobTitle = page.getByLabel('Job title');
  assert.equal(await jobTitle.inputValue(), 'Analyst');
  await jobTitle.fill('Head of testing');
  await page.getByRole('button', { name: 'Save my profile' }).click();
  await statusText(page, 'Your profile is saved.');

  // Expertise: a bad tag is refused on the spot, next to it, with focus on it.
  const expertise = page.locator('#expertise');
  await expertise.getByRole('button', { name: 'Add an area of expertise' }).click();
  // The new row's tag input has the focus.
  await page.waitForFunction(() => document.activeElement?.id?.startsWith('expertise-tag-'));
  await page.keyboard.type('Not a tag!');
  await expertise.getByRole('button', { name: 'Save my expertise' }).click();
  await expertise.getByText('Use lower-case letters, digits and dashes').waitFor();
  assert.equal(await expertise.getByLabel('Tag', { exact: true }).last().getAttribute('aria-invalid'), 'true');

  // A good one, with level 5, saved.
  await expertise.getByLabel('Tag', { exact: true }).last().fill('e2e-testing');
  await expertise.getByLabel('Level', { exact: true }).last().selectOption('5');
  await expertise.getByRole('button', { name: 'Save my expertise' }).click();
  await statusText(page, 'Your expertise is saved.');

  await page.reload();
  await waitForHeading(page, 'My profile');
  assert.equal(await page.getByLabel('Job title').inputValue(), 'Head of testing');
  const tags = await page.locator('#expertise').getByLabel('Tag', { exact: true }).evaluateAll((els) => els.map((e) => e.value));
  assert.deepEqual(tags, ['e2e-testing']);
  assert.equal(await page.locator('#expertise').getByLabel('Level', { exact: true }).first().inputValue(), '5');

  // Colleagues see it: the person page shows the job title and the chip.
  await page.goto(url(`/people/${me.id}`));
  await waitForHeading(page, me.name);
  await page.getByText('Head of testing · Quality').waitFor();
  await page.getByRole('list', { name: `Expertise of ${me.name}` }).getByRole('link', { name: /e2e-testing\s+level 5/ }).waitFor();
  await assertClean();
});

test('my profile: working hours with two ranges, time away, other sessions and the password', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const me = await newAccount('Busy');
  const elsewhere = await lib.login(srv, me.email, me.password); // another device
  const { page, expectError, assertClean } = await openPage(t);
  await signIn(page, me, '/me');
  await waitForHeading(page, 'My profile');

  // Working hours: a mistake is caught next to its day; Monday gets a second range.
  const availability = page.locator('#availability');
  await availability.getByLabel('Weekly cap').fill('5');
  const monday = availability.getByRole('group', { name: 'Monday' });
  await monday.getByLabel('From', { exact: true }).fill('9:00');
  await monday.getByLabel('To', { exact: true }).fill('12:30');
  await monday.getByRole('button', { name: 'Add a second range on Monday' }).click();
  await page.waitForFunction(() => document.activeElement?.id === 'hours-mon-start2');
  await page.keyboard.type('13:30');
  await monday.getByLabel('Then to').fill('17:30');
  const tuesday = availability.getByRole('group', { name: 'Tuesday' });
  await tuesday.getByLabel('From', { exact: true }).fill('18:00');
  await tuesday.getByLabel('To', { exact: true }).fill('08:00');
  await availability.getByRole('button', { name: 'Save my availability' }).click();
  await tuesday.getByText('The end must come after the start.').waitFor();
  await settlesTo(focusedId(page), 'hours-tue-end1', 'focus');
  await tuesday.getByLabel('To', { exact: true }).fill('19:00');
  await availability.getByRole('button', { name: 'Save my availability' }).click();
  await statusText(page, 'Your availability is saved.');
  assert.deepEqual(JSON.parse(lib.sql(srv, `SELECT working_hours FROM users WHERE id = ${me.id}`)), {
    mon: [['09:00', '12:30'], ['13:30', '17:30']],
    tue: [['18:00', '19:00']],
  });
  assert.equal(lib.sql(srv, `SELECT weekly_cap FROM users WHERE id = ${me.id}`), '5');

  // Time away: planned, listed, cancelled.
  const away = page.locator('#away');
  const day = (n) => {
    const d = new Date();
    d.setDate(d.getDate() + n);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  };
  await away.getByLabel('First day away').fill(day(7));
  await away.getByLabel('Last day away').fill(day(9));
  await away.getByLabel('Note').fill('Conference');
  await away.getByRole('button', { name: 'Add this time away' }).click();
  await statusText(page, 'The time away is planned.');
  await away.getByText('— Conference').waitFor();
  assert.equal(lib.sql(srv, `SELECT count(*) FROM out_of_office WHERE user_id = ${me.id}`), '1');
  await away.getByRole('button', { name: /^Cancel the time away from / }).click();
  await statusText(page, 'The time away is cancelled.');
  await away.getByText('No time away planned.').waitFor();

  // My sessions: this browser and the other device, which is signed out from here.
  const sessions = page.locator('#sessions');
  await sessions.getByText('this browser').waitFor();
  await sessions.getByRole('button', { name: /^Sign out Unknown browser/ }).click();
  await statusText(page, 'The session is signed out.');
  assert.equal((await lib.api(srv, 'GET', '/api/v1/me', { session: elsewhere })).status, 401);

  // The password: the wrong current one is said next to it; then changed, and the page
  // goes on working with the new session's CSRF token.
  const password = page.locator('#password');
  expectError(422, '/api/v1/me/password');
  await password.getByLabel('Current password').fill('not-my-password');
  await password.getByLabel('New password', { exact: true }).fill('a-new-long-password');
  await password.getByLabel('New password, again').fill('a-new-long-password');
  await password.getByRole('button', { name: 'Change my password' }).click();
  await password.getByText('The current password is wrong.').waitFor();
  await settlesTo(focusedId(page), 'password-current_password', 'focus');
  await password.getByLabel('Current password').fill(me.password);
  await password.getByRole('button', { name: 'Change my password' }).click();
  await statusText(page, 'Your password is changed. Your other sessions have been signed out.');
  await page.getByLabel('Job title').fill('Busy person');
  await page.getByRole('button', { name: 'Save my profile' }).click();
  await statusText(page, 'Your profile is saved.');
  await assertClean();
});

test('the directory searches, filters, shows more and keeps its filters in the address', { skip: SKIP, timeout: 90_000 }, async (t) => {
  const me = await newAccount('Finder');
  const { page, assertClean } = await openPage(t);
  await signIn(page, me, '/people');
  await waitForHeading(page, 'People');
  await page.getByText('20 people shown, more below.').waitFor();
  await page.getByRole('button', { name: 'Show more people' }).click();
  await page.getByText('40 people shown, more below.').waitFor();

  await page.getByLabel('Department').fill('Legal');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL((u) => u.search === '?department=Legal');
  const cards = page.getByRole('list', { name: 'People found' }).getByRole('listitem').filter({ has: page.getByRole('heading') });
  await page.getByText(/^\d+ people\.$/).waitFor();
  const jobs = await cards.locator('p.muted').allTextContents();
  assert.ok(jobs.length > 0 && jobs.every((j) => j.endsWith('· Legal')), jobs.join(' / '));

  // A chip filters by its tag; Back returns to the department filter.
  const chip = cards.first().getByRole('link', { name: /level \d/ }).first();
  const tag = (await chip.locator('.chip-tag').textContent()).trim();
  await chip.click();
  await page.waitForURL((u) => new URL(u).searchParams.get('expertise') === tag);
  // The address changes first; the form follows it on the next render.
  await settlesTo(() => page.getByLabel('Expertise tag').inputValue(), tag, 'expertise field after the chip');
  await page.goBack();
  await page.waitForURL((u) => u.search === '?department=Legal');
  await settlesTo(() => page.getByLabel('Department').inputValue(), 'Legal', 'department field after Back');
  await assertClean();
});

// --- (c) joining an open community ---------------------------------------------------------------

test('an employee joins an open community and is then among its members', { skip: SKIP, timeout: 90_000 }, async (t) => {
  const me = await newAccount('Joiner');
  const { page, assertClean } = await openPage(t);
  await signIn(page, me, '/communities');
  await waitForHeading(page, 'Communities');

  const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Mobile app', exact: true }) });
  await card.getByText('Open', { exact: true }).waitFor();
  await card.getByRole('button', { name: 'Join — Mobile app' }).click();
  await statusText(page, 'You are now a member of Mobile app.');
  await card.getByText('You are a member (member).').waitFor();
  assert.equal(await card.getByRole('button').count(), 0, 'no Join button once a member');

  await card.getByRole('link', { name: 'Mobile app' }).click();
  await waitForHeading(page, 'Mobile app');
  await page.getByText('You are a member (member).').waitFor();
  const members = page.getByRole('list', { name: 'Members' });
  await members.getByRole('link', { name: me.name, exact: true }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Leave' }).count(), 1);
  assert.equal(await page.getByRole('heading', { name: /^Manage / }).count(), 0, 'members do not get the manager tools');
  await assertClean();
});

// --- (d) asking to join; the manager approves -----------------------------------------------------

test('an employee asks to join a request community and its manager approves in another browser', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const manager = await newAccount('Manager');
  const asker = await newAccount('Asker');
  const res = await lib.api(srv, 'POST', '/api/v1/communities', {
    session: adminApi,
    body: {
      slug: `review-board-${Date.now().toString(36)}`,
      name: `Review board ${counter}`,
      description: 'Reviews of sensitive answers.',
      visibility: 'request',
      topics: ['reviews'],
      manager_id: manager.id,
    },
  });
  assert.equal(res.status, 201, res.text);
  const community = res.body;

  // The employee asks.
  const a = await openPage(t);
  await signIn(a.page, asker, `/communities/${community.id}`);
  await waitForHeading(a.page, community.name);
  await a.page.getByText('On request', { exact: true }).waitFor();
  await a.page.getByRole('button', { name: 'Ask to join' }).click();
  await statusText(a.page, `Your request to join ${community.name} is sent to its managers.`);
  await a.page.getByText('Request pending').waitFor();
  await a.page.getByRole('button', { name: 'Withdraw my request' }).waitFor();
  assert.equal(await a.page.getByRole('list', { name: 'Members' }).getByRole('link', { name: asker.name }).count(), 0);

  // The manager, in another browser context, approves.
  const m = await openPage(t);
  await signIn(m.page, manager, `/communities/${community.id}`);
  await waitForHeading(m.page, community.name);
  await m.page.getByRole('heading', { name: `Manage ${community.name}` }).waitFor();
  const requests = m.page.getByRole('list', { name: 'Requests to join' });
  await requests.getByRole('link', { name: asker.name }).waitFor();
  await requests.getByRole('button', { name: `Approve the request of ${asker.name}` }).click();
  await statusText(m.page, `${asker.name} is now a member.`);
  await m.page.getByText('No request is waiting.').waitFor();
  await m.page.getByRole('list', { name: 'Members' }).getByRole('link', { name: asker.name, exact: true }).waitFor();

  // The employee is a member now.
  await a.page.reload();
  await waitForHeading(a.page, community.name);
  await a.page.getByText('You are a member (member).').waitFor();
  await a.page.getByRole('list', { name: 'Members' }).getByRole('link', { name: asker.name, exact: true }).waitFor();
  await a.page.getByRole('button', { name: 'Leave' }).waitFor();

  // The manager makes them an expert; the last manager cannot leave.
  await m.page.getByLabel(`Role of ${asker.name}`, { exact: true }).selectOption('expert');
  await m.page.getByRole('button', { name: `Change the role of ${asker.name}` }).click();
  await statusText(m.page, `${asker.name} is now expert.`);
  m.expectError(409, `/api/v1/communities/${community.id}/leave`);
  await m.page.getByRole('button', { name: 'Leave' }).click();
  await m.page.getByRole('alert').filter({ hasText: 'The last manager cannot leave or be removed.' }).waitFor();
  await a.page.reload();
  await a.page.getByText('You are a member (expert).').waitFor();

  await a.assertClean();
  await m.assertClean();
});

// --- (e) the admin pages ------------------------------------------------------------------------

test('an employee cannot open the admin pages; the admin can', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const employee = await newAccount('Curious');

  const e = await openPage(t);
  await signIn(e.page, employee, '/');
  assert.equal(await mainNav(e.page).getByRole('link', { name: 'Admin' }).count(), 0, 'no Admin link for employees');
  for (const [p, api] of [['/admin/users', '/api/v1/users'], ['/admin/tokens', '/api/v1/tokens'], ['/admin/audit', '/api/v1/audit']]) {
    e.expectError(403, api);
    await e.page.goto(url(p));
    await waitForHeading(e.page, 'You may not open this page');
    assert.equal(await e.page.title(), 'You may not open this page — Relais');
    assert.equal(await e.page.getByRole('table').count(), 0);
  }
  await e.assertClean();

  const admin = { email: lib.ADMIN_EMAIL, password: lib.DEMO_PASSWORD, name: 'Ada Admin' };
  const a = await openPage(t);
  await signIn(a.page, admin, '/');
  await mainNav(a.page).getByRole('link', { name: 'Admin' }).click();
  await waitForHeading(a.page, 'Users');
  assert.equal(new URL(a.page.url()).pathname, '/admin/users');
  const table = a.page.getByRole('table');
  // Newest first: the account just created heads the list.
  await table.getByRole('row').nth(1).getByRole('cell', { name: new RegExp(escapeRe(employee.email)) }).waitFor();

  // Search the list, then change the employee's role and back.
  await a.page.getByLabel('Name or e-mail').fill(employee.email);
  await a.page.getByRole('button', { name: 'Filter' }).click();
  await table.getByRole('link', { name: employee.name }).waitFor();
  await a.page.waitForFunction(() => document.querySelectorAll('table tbody tr').length === 1);
  await a.page.getByLabel(`Role of ${employee.name}`, { exact: true }).selectOption('comms');
  await a.page.getByRole('button', { name: `Change the role of ${employee.name}` }).click();
  await statusText(a.page, `${employee.name} is now Comms / HR.`);
  assert.equal(lib.sql(srv, `SELECT role FROM users WHERE id = ${employee.id}`), 'comms');

  // Disable and enable.
  await a.page.getByRole('button', { name: `Disable ${employee.name}` }).click();
  await statusText(a.page, `${employee.name} is disabled and signed out everywhere.`);
  await a.page.getByRole('button', { name: `Enable ${employee.name}` }).click();
  await statusText(a.page, `${employee.name} is enabled again.`);

  // The audit log shows it.
  await a.page.getByRole('navigation', { name: 'Administration sections' }).getByRole('link', { name: 'Audit log' }).click();
  await waitForHeading(a.page, 'Audit log');
  await a.page.getByLabel('Action', { exact: true }).fill('user.disabled');
  await a.page.getByRole('button', { name: 'Filter' }).click();
  await a.page.getByRole('table').getByRole('cell', { name: `user ${employee.id}` }).first().waitFor();
  await a.assertClean();
});

test('the admin creates an API token and sees it once, then revokes it', { skip: SKIP, timeout: 90_000 }, async (t) => {
  const admin = { email: lib.ADMIN_EMAIL, password: lib.DEMO_PASSWORD, name: 'Ada Admin' };
  const { page, assertClean } = await openPage(t);
  await signIn(page, admin, '/admin/tokens');
  await waitForHeading(page, 'API tokens');
  const name = `CRM ${Date.now()}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('admin', { exact: true }).check();
  await page.getByRole('button', { name: 'Create the token' }).click();
  const secret = await page.getByLabel('Token', { exact: true }).inputValue();
  assert.match(secret, /^rlt_[A-Za-z0-9_-]{43}$/);
  // The token works.
  const check = await lib.api(srv, 'GET', '/api/v1/people?limit=1', { token: secret });
  assert.equal(check.status, 200, check.text);
  await page.getByRole('button', { name: 'Done' }).click();
  assert.equal(await page.getByLabel('Token', { exact: true }).count(), 0, 'the secret is not shown again');

  await page.getByRole('button', { name: `Revoke the token ${name}` }).click();
  await statusText(page, `The token ${name} is revoked.`);
  const revoked = await lib.api(srv, 'GET', '/api/v1/people?limit=1', { token: secret });
  assert.equal(revoked.status, 401);
  await assertClean();
});

test('the admin issues a reset link; the person sets a password with it and signs in', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const person = await newAccount('Forgetful');
  const admin = { email: lib.ADMIN_EMAIL, password: lib.DEMO_PASSWORD, name: 'Ada Admin' };
  const a = await openPage(t);
  await signIn(a.page, admin, '/admin/users');
  await waitForHeading(a.page, 'Users');
  await a.page.getByLabel('Name or e-mail').fill(person.email);
  await a.page.getByRole('button', { name: 'Filter' }).click();
  await a.page.getByRole('button', { name: `Issue a password reset link for ${person.name}` }).click();
  const link = await a.page.getByLabel('Reset link', { exact: true }).inputValue();
  assert.match(link, /\/reset-password\?token=[A-Za-z0-9_-]{43}$/);
  await a.assertClean();

  const p = await openPage(t);
  await p.page.goto(link);
  await waitForHeading(p.page, 'Choose a new password');
  // Too short, then two different ones: said next to the field.
  await p.page.getByLabel('New password', { exact: true }).fill('short');
  await p.page.getByRole('button', { name: 'Set my password' }).click();
  await p.page.getByText('A password has at least 10 characters.').waitFor();
  const password = 'a-brand-new-password-2026';
  await p.page.getByLabel('New password', { exact: true }).fill(password);
  await p.page.getByLabel('New password, again').fill(`${password}x`);
  await p.page.getByRole('button', { name: 'Set my password' }).click();
  await p.page.getByText('The two passwords are not the same.').waitFor();
  await p.page.getByLabel('New password, again').fill(password);
  await p.page.getByRole('button', { name: 'Set my password' }).click();
  await p.page.getByText('Your password is set.').waitFor();
  await p.page.getByRole('link', { name: 'Sign in with your new password' }).click();
  await waitForHeading(p.page, 'Sign in');
  await signIn(p.page, { ...person, password });
  await p.assertClean();

  // The link works once.
  const q = await openPage(t);
  q.expectError(400, '/api/v1/password-reset');
  await q.page.goto(link);
  await q.page.getByLabel('New password', { exact: true }).fill('yet-another-password');
  await q.page.getByLabel('New password, again').fill('yet-another-password');
  await q.page.getByRole('button', { name: 'Set my password' }).click();
  await q.page.getByRole('alert').filter({ hasText: 'This link is not valid' }).waitFor();
  await q.assertClean();
});

// --- (f) French ---------------------------------------------------------------------------------

test('the pages work in French: the language switch changes the app and the profile', { skip: SKIP, timeout: 90_000 }, async (t) => {
  const me = await newAccount('Polyglotte');
  const { page, expectError, assertClean } = await openPage(t);
  await signIn(page, me, '/communities');
  await waitForHeading(page, 'Communities');

  await page.getByLabel('Language').selectOption({ label: 'Français' });
  await waitForHeading(page, 'Communautés');
  await settlesTo(htmlLang(page), 'fr', '<html lang>');
  assert.equal(await page.title(), 'Communautés — Relais');
  await page.getByRole('button', { name: 'Se déconnecter' }).waitFor();
  await page.getByRole('button', { name: 'Rejoindre — Mobile app' }).waitFor();
  await page.getByRole('button', { name: /^Demander à rejoindre — / }).first().waitFor();
  for (const name of ['Accueil', 'Communautés', 'Personnes']) {
    assert.equal(await mainNav(page).getByRole('link', { name, exact: true }).count(), 1, `nav link ${name}`);
  }

  // The profile's locale follows (saved on the server too).
  await page.getByRole('banner').getByRole('link', { name: new RegExp(escapeRe(me.name)) }).click();
  await waitForHeading(page, 'Mon profil');
  assert.equal(await page.getByLabel('Langue de l’application').inputValue(), 'fr');
  await page.getByRole('button', { name: 'Enregistrer mes expertises' }).waitFor();
  await page.getByRole('group', { name: 'Lundi' }).waitFor();
  assert.equal(lib.sql(srv, `SELECT locale FROM users WHERE id = ${me.id}`), 'fr');

  // A French message next to the field the server refused (422 invalid_field, time_zone).
  expectError(422, '/api/v1/me');
  await page.getByLabel('Fuseau horaire').fill('Mars/Olympus');
  await page.getByRole('button', { name: 'Enregistrer mon profil' }).click();
  await page.getByText('Fuseau horaire inconnu ; utilisez un nom comme Europe/Paris.').waitFor();
  assert.equal(await page.getByLabel('Fuseau horaire').getAttribute('aria-invalid'), 'true');
  await settlesTo(focusedId(page), 'profile-time_zone', 'focus');
  await page.getByLabel('Fuseau horaire').fill('Europe/Paris');
  await page.getByRole('button', { name: 'Enregistrer mon profil' }).click();
  await statusText(page, 'Votre profil est enregistré.');

  // The directory, after a reload, still in French.
  await page.goto(url('/people?expertise=billing'));
  await waitForHeading(page, 'Personnes');
  assert.equal(await page.getByLabel('Étiquette d’expertise').inputValue(), 'billing');
  await page.getByText(/^\d+ personnes/).waitFor();
  await page.getByRole('link', { name: /billing\s+niveau \d/ }).first().waitFor();
  await assertClean();
});

// --- (g) every page: no console error, no CSP violation, labelled controls, small screens ---------

test('every page loads without console errors or CSP violations, with labelled controls, on a phone too', { skip: SKIP, timeout: 180_000 }, async (t) => {
  const admin = { email: lib.ADMIN_EMAIL, password: lib.DEMO_PASSWORD, name: 'Ada Admin' };
  const billing = lib.communityId(srv, 'billing-help');
  const someone = lib.userId(srv, logins['expert in Billing help']);
  const pages = [
    ['/', 'Welcome to Relais'],
    ['/me', 'My profile'],
    ['/people', 'People'],
    [`/people/${someone}`, null],
    ['/communities', 'Communities'],
    [`/communities/${billing}`, 'Billing help'],
    ['/communities/new', 'Create a community'],
    ['/admin/users', 'Users'],
    ['/admin/tokens', 'API tokens'],
    ['/admin/audit', 'Audit log'],
    ['/questions', 'Questions'],
    ['/reset-password', 'Choose a new password'],
    ['/no/such/page', 'Page not found'],
  ];
  for (const viewport of [{ width: 1280, height: 900 }, { width: 375, height: 740 }]) {
    const { page, assertClean } = await openPage(t, { viewport });
    await signIn(page, admin, '/');
    for (const [p, title] of pages) {
      await page.goto(url(p));
      if (title) await waitForHeading(page, title);
      else await page.getByRole('heading', { level: 1 }).waitFor();
      await page.waitForLoadState('networkidle');
      const report = await page.evaluate(() => {
        const unlabelled = [...document.querySelectorAll('input, select, textarea')]
          .filter((el) => !el.hidden && el.type !== 'hidden')
          .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))
          .map((el) => el.outerHTML.slice(0, 80));
        const unnamedButtons = [...document.querySelectorAll('button, a[href]')]
          .filter((el) => !(el.textContent?.trim() || el.getAttribute('aria-label')))
          .map((el) => el.outerHTML.slice(0, 80));
        return {
          unlabelled,
          unnamedButtons,
          inline: document.querySelectorAll('script:not([src]), style, [style]').length,
          overflow: document.documentElement.scrollWidth > document.documentElement.clientWidth + 1,
          h1: document.querySelectorAll('h1').length,
        };
      });
      assert.deepEqual(report.unlabelled, [], `${p}: unlabelled controls`);
      assert.deepEqual(report.unnamedButtons, [], `${p}: unnamed buttons or links`);
      assert.equal(report.inline, 0, `${p}: inline scripts or styles`);
      assert.equal(report.h1, 1, `${p}: one h1`);
      // Wide tables scroll inside their own box; the page itself never scrolls sideways.
      assert.equal(report.overflow, false, `${p}: horizontal overflow at ${viewport.width}px`);
    }
    await assertClean();
  }
});

test('comms creates a community with the form and manages it', { skip: SKIP, timeout: 90_000 }, async (t) => {
  const comms = { email: lib.COMMS_EMAIL, password: lib.DEMO_PASSWORD, name: 'Camille Comms' };
  const invitee = await newAccount('Invitee');
  const { page, expectError, assertClean } = await openPage(t);
  await signIn(page, comms, '/communities/new');
  // Camille's profile is in French: the app follows it after sign-in.
  await waitForHeading(page, 'Créer une communauté');
  await page.getByLabel('Langue', { exact: true }).selectOption('en');
  await waitForHeading(page, 'Create a community');

  const name = `Accessibility guild ${counter}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  const slug = await page.getByLabel('Short name').inputValue();
  assert.match(slug, /^accessibility-guild-\d+$/);
  await page.getByLabel('Description').fill('Making every page usable by everyone.');
  await page.getByLabel('On request').check();
  await page.getByLabel('Topics').fill('accessibility, wcag');
  await page.getByRole('button', { name: 'Create the community' }).click();
  await waitForHeading(page, name);
  await page.getByText('On request', { exact: true }).waitFor();
  await page.getByRole('heading', { name: `Manage ${name}` }).waitFor();

  // Invite someone found through the people search.
  await page.getByLabel('Find a person to invite').fill(invitee.name);
  await page.getByRole('button', { name: `Invite ${invitee.name}` }).click();
  await statusText(page, `${invitee.name} is invited.`);
  await page.getByRole('list', { name: 'Invitations' }).getByRole('link', { name: invitee.name }).waitFor();

  // The same short name again: said next to the field.
  expectError(409, '/api/v1/communities');
  await page.goto(url('/communities/new'));
  await page.getByLabel('Name', { exact: true }).fill(name);
  const conflict = page.waitForResponse((r) => r.url().endsWith('/api/v1/communities') && r.request().method() === 'POST');
  await page.getByRole('button', { name: 'Create the community' }).click();
  assert.equal((await conflict).status(), 409);
  await page.getByText('Another community already has this short name.').waitFor();
  assert.equal(await page.getByLabel('Short name').getAttribute('aria-invalid'), 'true');
  await assertClean();
});
