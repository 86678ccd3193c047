// Helpers shared by the browser tests (tests/e2e).
import assert from 'node:assert/strict';

export async function waitForHeading(page, name) {
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
}

// What follows a render rather than causing it (a form's fields after a client-side
// navigation, <html lang> set by an effect) can lag a step behind what a test waited for:
// read it until it has the expected value, then assert it.
export async function settlesTo(read, expected, what, ms = 5000) {
  const deadline = Date.now() + ms;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  assert.equal(value, expected, what);
}

export function htmlLang(page) {
  return () => page.evaluate(() => document.documentElement.lang);
}

export function focusedId(page) {
  return () => page.evaluate(() => document.activeElement?.id);
}
