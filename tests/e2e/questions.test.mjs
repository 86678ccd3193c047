// Browser tests of external questions in the web app: an admin creates a signed API channel,
// a question sent through the signed intake shows up live in an expert's inbox (no reload),
// the expert opens it, claims it and writes in the internal thread with an @mention; the
// triage queue and reassignment; a customer asks on the public form and follows the question;
// a manager edits the perimeter rules and crisis topics; the pages in French; and no console
// error or CSP violation anywhere. Driven in Debian's Chromium through playwright-core against
// a real `relais serve` (tests/lib/harness.mjs) with the demo data loaded.
//
//   node --test --test-reporter=tap tests/e2e/questions.test.mjs
//
// CHROMIUM_PATH overrides /usr/bin/chromium.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { waitForHeading } from '../lib/browser.mjs';

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

// Routing is a job: give it time on a busy machine.
const LIVE_TIMEOUT = 30_000;

let srv;
let browser;
let lib;
let adminApi;
let counter = 0;
const ADMIN = { email: 'admin@relais.example', name: 'Ada Admin' };

before(async () => {
  if (SKIP) return;
  const { startRelais } = await import('../lib/harness.mjs');
  lib = await import('../lib/api.mjs');
  srv = await startRelais({ env: { RELAIS_INSECURE_COOKIES: 'true', RELAIS_TRUSTED_PROXIES: '127.0.0.1' } });
  await lib.loadDemo(srv);
  ADMIN.password = lib.DEMO_PASSWORD;
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

function unique(prefix) {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

function escapeRe(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A new account that can sign in; returns { id, email, name, password }. */
async function newAccount(prefix) {
  counter += 1;
  const name = `${prefix} Q${counter} ${Date.now().toString(36)}`;
  const password = `pw-${Math.random().toString(36).slice(2)}-long`;
  const user = await lib.createUser(srv, adminApi, { email: lib.uniqueEmail(prefix.toLowerCase()), name, password });
  return { id: user.id, email: user.email, name, password };
}

async function ok(res, status = 200) {
  assert.equal(res.status, status, `${res.status} ${res.text}`);
  return res.body;
}

/** An open community with these topics, managed by `manager` (an account). */
async function newCommunity(manager, topics) {
  const slug = unique('e2e-q');
  return ok(
    await lib.api(srv, 'POST', '/api/v1/communities', {
      session: adminApi,
      body: { slug, name: `Support ${slug}`, description: 'Questions of the browser tests.', visibility: 'open', topics, manager_id: manager.id },
    }),
    201,
  );
}

/**
 * Makes `account` an available expert of `community`: a member with the expert role, this
 * expertise, English, always available (no working hours), a roomy weekly cap.
 */
async function makeExpert(community, account, expertise) {
  const session = await lib.login(srv, account.email, account.password);
  await ok(await lib.api(srv, 'POST', `/api/v1/communities/${community.id}/join`, { session }));
  await ok(await lib.api(srv, 'PUT', `/api/v1/communities/${community.id}/members/${account.id}`, { session: adminApi, body: { role: 'expert' } }));
  await ok(await lib.api(srv, 'PUT', '/api/v1/me/expertise', { session, body: { expertise } }));
  await ok(await lib.api(srv, 'PATCH', '/api/v1/me', { session, body: { languages: ['en'], working_hours: {}, weekly_cap: 50 } }));
  return session;
}

/** Standard Webhooks headers for `body` signed with `secret` ("whsec_<base64>"). */
function signed(secret, body) {
  const id = `msg_${randomUUID()}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return {
    'Content-Type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature}`,
  };
}

/** Posts a question through the signed intake of channel `channelId`; returns its id. */
async function intake(channelId, secret, question) {
  const body = JSON.stringify({
    external_id: unique('ext'),
    body: 'Sent by the browser tests.',
    customer: { name: 'Casey Customer', email: `${unique('casey')}@example.com`, external_ref: 'crm-42' },
    language: 'en',
    tags: [],
    url: 'https://support.example.com/t/1',
    ...question,
  });
  const res = await lib.request(srv, 'POST', `/api/v1/channels/${channelId}/questions`, { headers: signed(secret, body), body });
  assert.equal(res.status, 202, `intake: ${res.status} ${res.text}`);
  return res.body.question_id;
}

/** See people.test.mjs: a fresh context whose problems (console, CSP, HTTP errors) are collected. */
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
    const unexpectedConsole = consoleErrors.filter((text) => {
      const m = /Failed to load resource: the server responded with a status of (\d+)/.exec(text);
      return !(m && expected.some((x) => x.status === Number(m[1])));
    });
    assert.deepEqual(
      { problems, csp, console: unexpectedConsole, http: unexpectedHttp.map((e) => `${e.status} ${e.method} ${e.path}`) },
      { problems: [], csp: [], console: [], http: [] },
    );
  };

  return { context, page, expectError, assertClean };
}


/** Signs in on the sign-in page, which then goes on to `start`. */
async function signIn(page, account, start) {
  await page.goto(url(start === '/' ? '/signin' : `/signin?next=${encodeURIComponent(start)}`));
  await page.locator('#signin-email').fill(account.email);
  await page.locator('#signin-password').fill(account.password);
  await page.locator('form button[type=submit]').click();
  await page.getByRole('banner').getByRole('link', { name: new RegExp(`${escapeRe(account.name)}$`) }).waitFor();
}

async function statusText(page, text) {
  await page.getByRole('status').filter({ hasText: text }).first().waitFor();
}

// --- the expert's live inbox ------------------------------------------------------------------------

test('an admin creates an API channel; a signed question appears live in the expert\'s inbox; the expert claims it, asks the customer, mentions a colleague, and declines another; the admin rotates the secret', { skip: SKIP, timeout: 150_000 }, async (t) => {
  const manager = await newAccount('Lead');
  const expert = await newAccount('Expert');
  const colleague = await newAccount('Colleague');
  const community = await newCommunity(manager, ['e2e-widgets']);
  await makeExpert(community, expert, [{ tag: 'e2e-widgets', level: 4 }]);
  const colleagueSession = await lib.login(srv, colleague.email, colleague.password);
  await ok(await lib.api(srv, 'POST', `/api/v1/communities/${community.id}/join`, { session: colleagueSession }));

  // The admin creates the channel in the app and sees its secret once.
  const a = await openPage(t);
  await signIn(a.page, ADMIN, '/admin/channels');
  await waitForHeading(a.page, 'Channels');
  await a.page.getByText('Create a channel', { exact: true }).click();
  const channelName = `Widget desk ${unique('c')}`;
  await a.page.getByLabel('Kind').selectOption('api');
  await a.page.getByLabel('Name', { exact: true }).fill(channelName);
  await a.page.getByLabel('Community').selectOption({ label: community.name });
  await a.page.locator('#channel-language').selectOption('en');
  await a.page.getByLabel('Time to answer (hours)').fill('4');
  await a.page.getByRole('button', { name: 'Create the channel' }).click();
  await a.page.getByRole('heading', { name: `Signing secret of ${channelName}` }).waitFor();
  await a.page.getByText('it is shown only once').waitFor();
  const secret = await a.page.getByLabel('Signing secret', { exact: true }).inputValue();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  await a.page.getByRole('button', { name: 'Done' }).click();
  assert.equal(await a.page.getByLabel('Signing secret', { exact: true }).count(), 0, 'the secret is not shown again');
  await a.page.getByRole('table').getByText(channelName).waitFor();
  const channelId = Number(lib.sql(srv, `SELECT id FROM channels WHERE name = '${channelName}'`));
  assert.ok(channelId > 0);
  await a.assertClean();

  // The expert has the inbox open, and its live stream connected.
  const e = await openPage(t);
  const stream = e.page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/events', { timeout: 20_000 });
  await signIn(e.page, expert, '/questions');
  await waitForHeading(e.page, 'Questions');
  assert.equal((await stream).status(), 200);
  await e.page.getByText('No question for you right now.').waitFor();
  await e.page.evaluate(() => { window.__sameDocument = true; });

  // A question arrives through the signed intake: it shows up without a reload.
  const title = `Widget will not start ${unique('w')}`;
  const questionId = await intake(channelId, secret, { title, tags: ['e2e-widgets'] });
  const row = e.page.getByRole('listitem').filter({ has: e.page.getByRole('link', { name: title }) });
  await row.waitFor({ timeout: LIVE_TIMEOUT });
  await statusText(e.page, `New question: ${title}`);
  await row.getByText(/^Due in /).waitFor();
  assert.equal(await e.page.evaluate(() => window.__sameDocument), true, 'the inbox did not reload');

  // The expert opens it: the customer is a pseudonym for an expert; why they were chosen.
  await row.getByRole('link', { name: title }).click();
  await waitForHeading(e.page, title);
  assert.equal(new URL(e.page.url()).pathname, `/questions/${questionId}`);
  const details = e.page.getByRole('complementary', { name: 'Details' });
  await details.getByText(/^Customer [0-9A-F]{4}$/).waitFor();
  assert.equal(await e.page.getByText('Casey Customer').count(), 0, 'an expert does not see the customer\'s name');
  const routing = e.page.getByRole('region', { name: 'Why these experts' });
  await routing.getByText('Expertise in the question’s tags: +40').waitFor();
  await routing.getByText('Speaks the question’s language: +20').waitFor();
  await e.page.getByRole('region', { name: 'Timeline' }).getByText('Question received').waitFor();

  // Claim.
  await e.page.getByRole('button', { name: 'Claim', exact: true }).click();
  await statusText(e.page, 'You have claimed this question.');
  await e.page.getByText('Claimed', { exact: true }).first().waitFor();
  assert.equal(lib.sql(srv, `SELECT claimed_by FROM questions WHERE id = ${questionId}`), String(expert.id));
  await e.page.getByRole('button', { name: 'Unclaim' }).waitFor();

  // A request for details to the customer pauses the clock.
  await e.page.getByLabel('Message to the customer').fill('Which model is your widget?');
  await e.page.getByRole('button', { name: 'Send to the customer' }).click();
  await statusText(e.page, 'Your message is sent; the deadline is paused until the customer answers.');
  await e.page.getByRole('region', { name: 'Conversation with the customer' }).getByText('Which model is your widget?').waitFor();
  await e.page.getByText('Waiting for the customer', { exact: true }).first().waitFor();
  await e.page.getByText(/^Clock paused, /).first().waitFor();
  assert.equal(lib.sql(srv, `SELECT status FROM questions WHERE id = ${questionId}`), 'waiting_customer');

  // The internal thread, with an @mention picked in the directory.
  const thread = e.page.getByRole('region', { name: 'Internal thread' });
  await thread.getByLabel('Comment', { exact: true }).fill('Could you check the widget logs?');
  await thread.getByLabel('Mention a colleague').fill(colleague.name);
  await thread.getByRole('button', { name: `Mention ${colleague.name}` }).click();
  assert.equal(
    await thread.getByLabel('Comment', { exact: true }).inputValue(),
    `Could you check the widget logs? @${colleague.name} `,
  );
  await thread.getByRole('list', { name: 'People mentioned' }).getByText(`@${colleague.name}`).waitFor();
  await thread.getByRole('button', { name: 'Post the comment' }).click();
  await statusText(e.page, 'Your comment is posted.');
  await thread.getByRole('listitem').filter({ hasText: 'Could you check the widget logs?' }).waitFor();
  assert.equal(
    lib.sql(srv, `SELECT mentions::text FROM question_comments WHERE question_id = ${questionId} ORDER BY id DESC LIMIT 1`),
    `{${colleague.id}}`,
  );
  await lib.eventually(async () => {
    assert.equal(
      lib.sql(srv, `SELECT count(*) FROM notifications WHERE user_id = ${colleague.id} AND kind = 'question.mentioned' AND question_id = ${questionId}`),
      '1',
    );
  }, 10_000);

  // Elsewhere in the app, the navigation counts what arrives; the inbox clears the count.
  const nav = e.page.getByRole('navigation', { name: 'Main navigation' });
  await nav.getByRole('link', { name: 'Communities', exact: true }).click();
  await waitForHeading(e.page, 'Communities');
  const second = `Widget beeps twice ${unique('w')}`;
  await intake(channelId, secret, { title: second, tags: ['e2e-widgets'] });
  await nav.getByRole('link', { name: 'Questions 1 new' }).waitFor({ timeout: LIVE_TIMEOUT });
  await nav.getByRole('link', { name: 'Questions 1 new' }).click();
  await waitForHeading(e.page, 'Questions');
  await e.page.getByRole('link', { name: second }).waitFor();
  await nav.getByRole('link', { name: 'Questions', exact: true }).waitFor();

  // Declining asks why, in a dialog; the question goes back to routing.
  await e.page.getByRole('link', { name: second }).click();
  await waitForHeading(e.page, second);
  await e.page.getByRole('button', { name: 'Decline…' }).click();
  const dialog = e.page.getByRole('dialog', { name: 'Decline this question' });
  await dialog.getByRole('button', { name: 'Decline the question' }).click();
  await dialog.getByText('Say why you decline.').waitFor();
  await dialog.getByLabel('Reason').fill('Not my product line.');
  await dialog.getByRole('button', { name: 'Decline the question' }).click();
  // Back to the inbox, which says so.
  await waitForHeading(e.page, 'Questions');
  await statusText(e.page, 'You have declined this question; it is routed to someone else.');
  assert.equal(await dialog.count(), 0);
  assert.equal(
    lib.sql(srv, `SELECT reason FROM question_declines d JOIN questions q ON q.id = d.question_id WHERE q.title = '${second}'`),
    'Not my product line.',
  );
  assert.equal(await e.page.evaluate(() => window.__sameDocument), true, 'no reload along the way');
  await e.assertClean();

  // Back to the admin: the deliveries of the channel, a new secret (after a confirmation),
  // disabling and enabling it.
  await a.page.reload();
  await waitForHeading(a.page, 'Channels');
  await a.page.getByRole('button', { name: `Recent deliveries of ${channelName}` }).click();
  const deliveries = a.page.getByRole('table', { name: `Recent deliveries of ${channelName}` });
  await deliveries.getByRole('cell', { name: '202', exact: true }).first().waitFor();
  await deliveries.getByRole('link', { name: `#${questionId}` }).waitFor();
  await a.page.getByRole('button', { name: `Rotate the signing secret of ${channelName}` }).click();
  await a.page.getByText(`Rotate the signing secret of ${channelName}? The current secret keeps working for 24 hours`).waitFor();
  await a.page.getByRole('button', { name: 'Rotate now' }).click();
  await a.page.getByRole('heading', { name: `Signing secret of ${channelName}` }).waitFor();
  await a.page.getByText('The previous secret stays valid until').waitFor();
  const rotated = await a.page.getByLabel('Signing secret', { exact: true }).inputValue();
  assert.match(rotated, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.notEqual(rotated, secret);
  await a.page.getByRole('button', { name: 'Done' }).click();
  await a.page.getByRole('button', { name: `Disable the channel ${channelName}` }).click();
  await statusText(a.page, `The channel ${channelName} is disabled: it accepts no question.`);
  assert.equal(lib.sql(srv, `SELECT status FROM channels WHERE id = ${channelId}`), 'disabled');
  await a.page.getByRole('button', { name: `Enable the channel ${channelName}` }).click();
  await statusText(a.page, `The channel ${channelName} is enabled.`);
  await a.assertClean();
});

// --- triage queue and reassignment ---------------------------------------------------------------------

test('a question outside the community\'s topics waits in the triage queue; its manager assigns it to an expert', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const manager = await newAccount('Triager');
  const expert = await newAccount('Picked');
  const community = await newCommunity(manager, ['e2e-gadgets']);
  await makeExpert(community, expert, [{ tag: 'e2e-gadgets', level: 3 }]);
  const channel = await ok(
    await lib.api(srv, 'POST', '/api/v1/channels', {
      session: adminApi,
      body: { kind: 'api', name: `Gadget desk ${unique('c')}`, community_id: community.id, language: 'en', sla_seconds: 7200 },
    }),
    201,
  );
  const title = `Something unrelated ${unique('u')}`;
  const questionId = await intake(channel.id, channel.secret, { title, tags: ['e2e-elsewhere'] });
  await lib.eventually(async () => {
    assert.equal(lib.sql(srv, `SELECT status FROM questions WHERE id = ${questionId}`), 'triage');
  }, LIVE_TIMEOUT);

  const m = await openPage(t);
  await signIn(m.page, manager, '/questions');
  await waitForHeading(m.page, 'Questions');
  await m.page.getByRole('navigation', { name: 'Question lists' }).getByRole('link', { name: 'Triage queue' }).click();
  await waitForHeading(m.page, 'Triage queue');
  const row = m.page.getByRole('listitem').filter({ has: m.page.getByRole('link', { name: title }) });
  await row.waitFor();
  // A manager sees who the customer is.
  await row.getByText(/Casey Customer/).waitFor();
  await row.getByRole('button', { name: `Assign “${title}”` }).click();
  await row.getByLabel('Give it to a person').fill(expert.name);
  await row.getByRole('button', { name: `Assign to ${expert.name}` }).click();
  await statusText(m.page, `“${title}” is assigned to ${expert.name}.`);
  assert.equal(await m.page.getByRole('link', { name: title }).count(), 0, 'gone from the queue');
  await lib.eventually(async () => {
    assert.equal(lib.sql(srv, `SELECT assignee_id FROM questions WHERE id = ${questionId}`), String(expert.id));
  }, 10_000);
  await m.assertClean();
});

// --- the public ask form and follow page ------------------------------------------------------------

test('a customer asks on the public form, follows the question and replies; unknown links say so', { skip: SKIP, timeout: 90_000 }, async (t) => {
  const { page, expectError, assertClean } = await openPage(t);
  await page.goto(url('/ask/ask-billing'));
  await waitForHeading(page, 'Ask billing');
  // No app chrome: no main navigation, no sign-in link.
  assert.equal(await page.getByRole('navigation', { name: 'Main navigation' }).count(), 0);
  assert.equal(await page.getByRole('link', { name: 'Sign in' }).count(), 0);

  // The honeypot is out of sight and out of the keyboard's way.
  const trap = page.locator('#ask-website');
  assert.equal(await trap.getAttribute('name'), 'website');
  assert.equal(await trap.getAttribute('tabindex'), '-1');
  assert.equal(await trap.getAttribute('autocomplete'), 'off');
  const box = await trap.boundingBox();
  assert.ok(!box || (box.width <= 1 && box.height <= 1), `the honeypot is visually hidden: ${JSON.stringify(box)}`);

  // Missing fields are said next to them, without asking the server.
  await page.getByRole('button', { name: 'Send my question' }).click();
  await page.getByText('This field is required.').first().waitFor();
  assert.equal(await page.getByLabel('Your question in a few words').getAttribute('aria-invalid'), 'true');

  const title = `Can I get a VAT invoice? ${unique('v')}`;
  await page.getByLabel('Your question in a few words').fill(title);
  await page.getByLabel('Your question', { exact: true }).fill('I need an invoice with our VAT number for last month.');
  await page.getByLabel('Your name').fill('Robin Client');
  await page.getByLabel('Your e-mail address').fill(`${unique('robin')}@example.com`);
  await page.getByRole('button', { name: 'Send my question' }).click();
  await page.getByRole('heading', { name: 'Thank you, your question is received' }).waitFor();
  const link = await page.getByLabel('Link to follow your question').inputValue();
  assert.match(new URL(link).pathname, /^\/follow\/[A-Za-z0-9_-]+$/);

  await page.getByRole('link', { name: 'Follow my question' }).click();
  await waitForHeading(page, title);
  assert.equal(new URL(page.url()).pathname, new URL(link).pathname);
  await page.getByText('I need an invoice with our VAT number for last month.').waitFor();
  await page.getByLabel('Your message').fill('Our VAT number is FR12345678901.');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await statusText(page, 'Your message is sent.');
  const conversation = page.getByRole('region', { name: 'Conversation' });
  await conversation.getByText('Our VAT number is FR12345678901.').waitFor();
  await conversation.getByText('You', { exact: true }).first().waitFor();

  // The link works after a reload too (a deep link).
  await page.reload();
  await waitForHeading(page, title);

  // Unknown form, unknown follow link: a friendly page.
  expectError(404, '/api/v1/ask/no-such-form');
  await page.goto(url('/ask/no-such-form'));
  await waitForHeading(page, 'Page not found');
  await page.getByText('This form does not exist or is closed.').waitFor();
  const badToken = 'A'.repeat(43);
  expectError(404, `/api/v1/follow/${badToken}`);
  await page.goto(url(`/follow/${badToken}`));
  await waitForHeading(page, 'Page not found');
  await page.getByText('This link does not lead to a question.').waitFor();
  await assertClean();
});

// --- perimeter rules and crisis topics ----------------------------------------------------------------

test('a manager edits the perimeter rules (add, escalate owner, reorder, save) and the crisis topics', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const manager = await newAccount('Ruler');
  const community = await newCommunity(manager, ['refunds']);
  const { page, expectError, assertClean } = await openPage(t);
  await signIn(page, manager, `/communities/${community.id}`);
  await waitForHeading(page, community.name);
  const rules = page.getByRole('region', { name: 'Perimeter rules' });
  await rules.getByText(/^No rule:/).waitFor();

  // Rule 1: escalate legal threats; the owner is required, said next to the field.
  await rules.getByRole('button', { name: 'Add a rule' }).click();
  await page.waitForFunction(() => /^rule-\d+-name$/.test(document.activeElement?.id ?? ''));
  await page.keyboard.type('Legal threats');
  const first = rules.getByRole('group', { name: /^Rule 1\b/ });
  await first.getByLabel('Keywords').fill('lawsuit, legal action');
  await first.getByLabel('Action').selectOption('escalate');
  await rules.getByRole('button', { name: 'Save the rules' }).click();
  await first.getByText('Choose who receives the escalated questions.').waitFor();
  await first.getByLabel('Owner of escalated questions').fill(manager.name);
  await first.getByRole('button', { name: `Choose ${manager.name} as owner of Legal threats` }).click();
  await first.getByText(`Escalated to ${manager.name}.`).waitFor();

  // Rule 2: refunds to the experts, in French only; moved to the top.
  await rules.getByRole('button', { name: 'Add a rule' }).click();
  const second = rules.getByRole('group', { name: /^Rule 2\b/ });
  await second.getByLabel('Name').fill('Refunds');
  await second.getByLabel('Tags').fill('refunds, chargebacks');
  await second.getByLabel('French').check();
  await second.getByLabel('Topic').fill('refunds');
  await rules.getByRole('button', { name: 'Move Refunds up' }).click();
  await statusText(page, 'Refunds is now rule 1. Save to keep the order.');
  await rules.getByRole('group', { name: 'Rule 1 Refunds' }).waitFor();

  // A server refusal names the field: too many keywords (at most 50).
  const legal = rules.getByRole('group', { name: 'Rule 2 Legal threats' });
  const many = Array.from({ length: 51 }, (_, i) => `word${i}`).join(', ');
  await legal.getByLabel('Keywords').fill(many);
  expectError(422, `/api/v1/communities/${community.id}/rules`);
  await rules.getByRole('button', { name: 'Save the rules' }).click();
  await page.waitForFunction(() => document.activeElement?.getAttribute('aria-invalid') === 'true');
  assert.equal(await legal.getByLabel('Keywords').getAttribute('aria-invalid'), 'true');
  await legal.getByLabel('Keywords').fill('lawsuit, legal action');

  await rules.getByRole('button', { name: 'Save the rules' }).click();
  await statusText(page, 'The rules are saved.');
  assert.equal(
    lib.sql(srv, `SELECT string_agg(position || ':' || name || ':' || action, ' ' ORDER BY position) FROM perimeter_rules WHERE community_id = ${community.id}`),
    '0:Refunds:answer 1:Legal threats:escalate',
  );
  assert.equal(
    lib.sql(srv, `SELECT tags::text || languages::text || topic FROM perimeter_rules WHERE community_id = ${community.id} AND position = 0`),
    '{refunds,chargebacks}{fr}refunds',
  );
  assert.equal(
    lib.sql(srv, `SELECT keywords::text || owner_user_id FROM perimeter_rules WHERE community_id = ${community.id} AND position = 1`),
    `{lawsuit,"legal action"}${manager.id}`,
  );

  // After a reload, the rules are there in their order.
  await page.reload();
  await waitForHeading(page, community.name);
  await rules.getByRole('group', { name: 'Rule 1 Refunds' }).waitFor();
  await rules.getByRole('group', { name: 'Rule 2 Legal threats' }).waitFor();

  // Crisis topics: set one with a reason, then end it.
  await rules.getByLabel('Topic', { exact: true }).last().fill('e2e-outage');
  await rules.getByLabel('Reason').fill('Checkout down since 9:00.');
  await rules.getByRole('button', { name: 'Put the topic in crisis mode' }).click();
  await statusText(page, 'e2e-outage is in crisis mode.');
  await rules.getByText('Checkout down since 9:00.').waitFor();
  await rules.getByRole('button', { name: 'End the crisis on e2e-outage' }).click();
  await statusText(page, 'The crisis on e2e-outage is over.');
  await rules.getByText('No topic is in crisis mode.').waitFor();
  await assertClean();
});

// --- French, and every new page without errors ----------------------------------------------------

test('the question pages work in French and load without errors, with labelled controls, on a phone too', { skip: SKIP, timeout: 150_000 }, async (t) => {
  const billing = lib.communityId(srv, 'billing-help');
  const someQuestion = lib.sql(srv, 'SELECT id FROM questions ORDER BY id LIMIT 1');
  const { page, assertClean } = await openPage(t);
  await signIn(page, ADMIN, '/questions');
  await waitForHeading(page, 'Questions');
  await page.getByLabel('Language').selectOption({ label: 'Français' });
  await waitForHeading(page, 'Questions');
  await page.getByRole('navigation', { name: 'Listes de questions' }).getByRole('link', { name: 'Mes questions' }).waitFor();
  await page.getByLabel('Statut').waitFor();
  await page.getByRole('option', { name: 'En attente du client' }).waitFor({ state: 'attached' });

  await page.goto(url('/admin/channels'));
  await waitForHeading(page, 'Canaux');
  await page.getByText('Créer un canal').click();
  await page.getByLabel('Délai de réponse (heures)').waitFor();
  await page.getByRole('columnheader', { name: 'Délai de réponse' }).waitFor();

  await page.goto(url(`/communities/${billing}`));
  await page.getByRole('heading', { name: 'Règles de périmètre' }).waitFor();
  await page.getByRole('button', { name: 'Enregistrer les règles' }).waitFor();
  await page.getByRole('heading', { name: 'Sujets de crise' }).waitFor();

  await page.goto(url('/ask/ask-billing'));
  await page.getByLabel('Votre question en quelques mots').waitFor();
  await page.getByRole('button', { name: 'Envoyer ma question' }).waitFor();
  await page.getByLabel('Langue', { exact: true }).selectOption('en');
  await page.getByRole('button', { name: 'Send my question' }).waitFor();
  await assertClean();

  const pages = [
    ['/questions', 'Questions'],
    ['/questions/triage', 'Triage queue'],
    [`/questions/${someQuestion}`, null],
    ['/admin/channels', 'Channels'],
    [`/communities/${billing}`, 'Billing help'],
    ['/ask/ask-billing', 'Ask billing'],
  ];
  for (const viewport of [{ width: 1280, height: 900 }, { width: 375, height: 740 }]) {
    const p = await openPage(t, { viewport });
    await signIn(p.page, ADMIN, '/');
    for (const [where, title] of pages) {
      await p.page.goto(url(where));
      if (title) await waitForHeading(p.page, title);
      else await p.page.getByRole('heading', { level: 1 }).waitFor();
      await p.page.waitForLoadState('networkidle');
      const report = await p.page.evaluate(() => {
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
      assert.deepEqual(report.unlabelled, [], `${where}: unlabelled controls`);
      assert.deepEqual(report.unnamedButtons, [], `${where}: unnamed buttons or links`);
      assert.equal(report.inline, 0, `${where}: inline scripts or styles`);
      assert.equal(report.h1, 1, `${where}: one h1`);
      assert.equal(report.overflow, false, `${where}: horizontal overflow at ${viewport.width}px`);
    }
    await p.assertClean();
  }
});
