// Browser tests of the web app shell (web/), driven in Debian's Chromium through
// playwright-core against a real `relais serve` started by tests/lib/harness.mjs.
//
//   node --test --test-reporter=tap tests/e2e/shell.test.mjs
//
// RELAIS_URL=http://127.0.0.1:8080 runs the same tests against a server that is
// already running instead of starting one. CHROMIUM_PATH overrides /usr/bin/chromium.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { waitForHeading, settlesTo, htmlLang } from '../lib/browser.mjs';

let chromium = null;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  // tests/node_modules is missing: skipped below.
}

// The harness serves $RELAIS_SRCDIR/web/dist (the source tree by default).
const ROOT = process.env.RELAIS_SRCDIR || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const DIST_INDEX = path.join(ROOT, 'web/dist/index.html');

const SKIP = !existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM} (apt-get install chromium)`
  : !existsSync(DIST_INDEX) && !process.env.RELAIS_URL
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

let server; // { url, stop() }
let browser;

before(async () => {
  if (SKIP) return;
  if (process.env.RELAIS_URL) {
    server = { url: process.env.RELAIS_URL.replace(/\/+$/, ''), stop: async () => {} };
  } else {
    const { startRelais } = await import('../lib/harness.mjs');
    server = await startRelais({});
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * Opens a fresh browser context (own storage, given locale) and a page whose
 * console errors, uncaught exceptions, failed requests and HTTP errors on
 * sub-resources are collected in `problems`; `requests` lists every URL asked for.
 */
async function openPage(t, { locale = 'en-US' } = {}) {
  const context = await browser.newContext({ locale });
  t.after(() => context.close());
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems = [];
  const requests = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (req) => requests.push(req.url()));
  page.on('requestfailed', (req) =>
    problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`),
  );
  page.on('response', (res) => {
    // The document's own status is checked by the tests that care about it.
    if (res.status() >= 400 && !res.request().isNavigationRequest()) {
      problems.push(`HTTP ${res.status()}: ${res.url()}`);
    }
  });
  return { page, problems, requests };
}

function url(p) {
  return server.url + p;
}

async function heading(page) {
  return (await page.getByRole('heading', { level: 1 }).textContent())?.trim();
}


function mainNav(page, name) {
  return page.getByRole('navigation', { name }).first();
}

test('the shell loads at / with no errors', { skip: SKIP, timeout: 60_000 }, async (t) => {
  const { page, problems } = await openPage(t);
  const response = await page.goto(url('/'));
  assert.equal(response.status(), 200);
  await waitForHeading(page, 'Welcome to Relais');

  assert.equal(await page.getByRole('banner').getByRole('link', { name: 'Relais', exact: true }).count(), 1);
  const nav = mainNav(page, 'Main navigation');
  for (const name of ['Home', 'Questions', 'Communities', 'People']) {
    assert.equal(await nav.getByRole('link', { name, exact: true }).count(), 1, `nav link ${name}`);
  }
  assert.equal(await nav.getByRole('link', { name: 'Home', exact: true }).getAttribute('aria-current'), 'page');
  assert.equal(await page.getByRole('main').count(), 1);
  assert.equal(await page.getByRole('contentinfo').count(), 1);
  await settlesTo(htmlLang(page), 'en', '<html lang>');
  assert.equal(await page.title(), 'Relais');

  // What the CSP forbids must not be there: inline scripts, style attributes, <style>.
  const inline = await page.evaluate(() => ({
    scripts: document.querySelectorAll('script:not([src])').length,
    styleAttrs: document.querySelectorAll('[style]').length,
    styleTags: document.querySelectorAll('style').length,
  }));
  assert.deepEqual(inline, { scripts: 0, styleAttrs: 0, styleTags: 0 });

  await page.waitForLoadState('networkidle');
  assert.deepEqual(problems, []);
});

test('the shell runs under the server\'s strict Content-Security-Policy', { skip: SKIP, timeout: 60_000 }, async (t) => {
  const { page, problems } = await openPage(t);
  const response = await page.goto(url('/'));
  const csp = response.headers()['content-security-policy'] ?? '';
  assert.match(csp, /script-src 'self'/, `CSP header: ${csp || '(none)'}`);
  assert.match(csp, /style-src 'self'/, `CSP header: ${csp}`);
  await waitForHeading(page, 'Welcome to Relais');
  // A CSP violation shows as a console error; the stylesheet must have applied.
  const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
  assert.match(font, /system-ui/);
  await page.waitForLoadState('networkidle');
  assert.deepEqual(problems, []);
});

test('navigation links switch pages without reloading and update the URL', { skip: SKIP, timeout: 60_000 }, async (t) => {
  const { page, problems } = await openPage(t);
  await page.goto(url('/'));
  await waitForHeading(page, 'Welcome to Relais');
  await page.evaluate(() => { window.__sameDocument = true; });

  const nav = mainNav(page, 'Main navigation');
  await nav.getByRole('link', { name: 'Questions', exact: true }).click();
  await waitForHeading(page, 'Questions');
  assert.equal(new URL(page.url()).pathname, '/questions');
  assert.ok(await page.getByText('Sign in to see the questions routed to you.').isVisible());
  assert.equal(await nav.getByRole('link', { name: 'Questions', exact: true }).getAttribute('aria-current'), 'page');
  assert.equal(await nav.getByRole('link', { name: 'Home', exact: true }).getAttribute('aria-current'), null);
  assert.equal(await page.title(), 'Questions — Relais');

  // People needs a session: a signed-out visitor is sent to the sign-in page, which
  // remembers where to go next (and replaces /people in the history).
  await nav.getByRole('link', { name: 'People', exact: true }).click();
  await waitForHeading(page, 'Sign in');
  assert.equal(new URL(page.url()).pathname, '/signin');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/people');
  assert.equal(await page.title(), 'Sign in — Relais');

  await page.goBack();
  await waitForHeading(page, 'Questions');
  assert.equal(new URL(page.url()).pathname, '/questions');

  await page.getByRole('banner').getByRole('link', { name: 'Relais', exact: true }).click();
  await waitForHeading(page, 'Welcome to Relais');
  assert.equal(new URL(page.url()).pathname, '/');

  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'links must not reload the page');
  assert.deepEqual(problems, []);
});

test('a deep link to /communities asks a signed-out visitor to sign in first', { skip: SKIP, timeout: 60_000 }, async (t) => {
  const { page, problems, requests } = await openPage(t);
  const response = await page.goto(url('/communities'));
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'] ?? '', /^text\/html/);
  await waitForHeading(page, 'Sign in');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/communities');
  assert.equal(await page.title(), 'Sign in — Relais');
  // A visitor who never signed in is not asked about: no GET /api/v1/me and no 401.
  await page.waitForLoadState('networkidle');
  assert.deepEqual(requests.filter((r) => new URL(r).pathname.startsWith('/api/')), []);
  assert.deepEqual(problems, []);
});

test('the language switch changes to French, sets <html lang> and survives a reload', { skip: SKIP, timeout: 60_000 }, async (t) => {
  const { page, problems } = await openPage(t);
  await page.goto(url('/questions'));
  await waitForHeading(page, 'Questions');
  assert.ok(await page.getByText('Sign in to see the questions routed to you.').isVisible());

  await page.getByLabel('Language').selectOption({ label: 'Français' });
  await page.getByText('Connectez-vous pour voir les questions qui vous sont transmises.').waitFor();
  await waitForHeading(page, 'Questions');
  await settlesTo(htmlLang(page), 'fr', '<html lang>');
  const nav = mainNav(page, 'Navigation principale');
  for (const name of ['Accueil', 'Questions', 'Communautés', 'Personnes']) {
    assert.equal(await nav.getByRole('link', { name, exact: true }).count(), 1, `nav link ${name}`);
  }
  assert.ok(await page.getByText('Les questions des clients, transmises aux experts qui peuvent y répondre.').isVisible());
  assert.equal(await page.title(), 'Questions — Relais');

  await page.reload();
  await page.getByText('Connectez-vous pour voir les questions qui vous sont transmises.').waitFor();
  await settlesTo(htmlLang(page), 'fr', '<html lang>');
  assert.equal(await page.getByLabel('Langue').inputValue(), 'fr');

  await page.getByLabel('Langue').selectOption({ label: 'English' });
  await page.getByText('Sign in to see the questions routed to you.').waitFor();
  await settlesTo(htmlLang(page), 'en', '<html lang>');
  assert.deepEqual(problems, []);
});

test('a browser whose locale is fr-FR starts in French', { skip: SKIP, timeout: 60_000 }, async (t) => {
  const { page, problems } = await openPage(t, { locale: 'fr-FR' });
  await page.goto(url('/'));
  await waitForHeading(page, 'Bienvenue sur Relais');
  await settlesTo(htmlLang(page), 'fr', '<html lang>');
  assert.equal(await page.getByLabel('Langue').inputValue(), 'fr');
  assert.equal(
    await mainNav(page, 'Navigation principale').getByRole('link', { name: 'Personnes', exact: true }).count(),
    1,
  );
  assert.deepEqual(problems, []);
});

test('/signin has labelled inputs usable from the keyboard and says when the credentials are wrong', { skip: SKIP, timeout: 60_000 }, async (t) => {
  const { page, problems, requests } = await openPage(t);
  await page.goto(url('/signin'));
  await waitForHeading(page, 'Sign in');

  const email = page.getByLabel('E-mail address');
  const password = page.getByLabel('Password');
  assert.equal(await email.getAttribute('type'), 'email');
  assert.equal(await password.getAttribute('type'), 'password');

  const focusedId = () => page.evaluate(() => document.activeElement?.id ?? '');
  const tabTo = async (id) => {
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      if ((await focusedId()) === id) return;
    }
    assert.fail(`Tab never reached #${id}`);
  };

  // Submitting empty fields from the keyboard names the problem and returns to the field,
  // without asking the server.
  await tabTo('signin-email');
  const before = requests.length;
  await page.keyboard.press('Enter');
  await page.getByText('Enter your e-mail address.').waitFor();
  await settlesTo(focusedId, 'signin-email', 'focus returns to the field');
  assert.equal(await email.getAttribute('aria-invalid'), 'true');
  assert.deepEqual(requests.slice(before), [], 'an incomplete form does not call the server');

  await page.keyboard.type('ada@example.com');
  await page.keyboard.press('Tab');
  assert.equal(await focusedId(), 'signin-password');
  await page.keyboard.type('correct horse battery staple');
  await page.keyboard.press('Tab');
  assert.equal(
    await page.evaluate(() => document.activeElement?.getAttribute('type')),
    'submit',
  );
  await page.keyboard.press('Enter');
  // No such account on this server: POST /api/v1/session answers 401 invalid_credentials.
  await page.getByRole('alert').getByText('The e-mail address or the password is wrong.').waitFor();
  assert.equal(new URL(page.url()).pathname, '/signin');
  await settlesTo(focusedId, 'signin-password', 'focus goes back to the password');
  assert.deepEqual(
    requests.filter((r) => new URL(r).pathname.startsWith('/api/')).map((r) => new URL(r).pathname),
    ['/api/v1/session'],
  );
  // That 401 is the expected answer (Chromium also logs it to the console); nothing else.
  const expected = (p) => p.startsWith('HTTP 401: ') && p.endsWith('/api/v1/session') ||
    p.startsWith('console error: Failed to load resource: the server responded with a status of 401');
  assert.deepEqual(problems.filter((p) => !expected(p)), []);
});

test('an unknown path shows the not-found view', { skip: SKIP, timeout: 60_000 }, async (t) => {
  const { page, problems } = await openPage(t);
  await page.goto(url('/no/such/page'));
  await waitForHeading(page, 'Page not found');
  assert.ok(await page.getByText('There is no page at /no/such/page.').isVisible());
  assert.equal(await page.title(), 'Page not found — Relais');

  await page.getByRole('main').getByRole('link', { name: 'Go to the home page' }).click();
  await waitForHeading(page, 'Welcome to Relais');
  assert.equal(new URL(page.url()).pathname, '/');
  assert.deepEqual(problems, []);
});
