// The README's configuration table documents every key relais knows, with its default.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runRelais, SRCDIR } from '../lib/harness.mjs';

test('README documents every configuration key and its default', async () => {
  const readme = readFileSync(path.join(SRCDIR, 'README.md'), 'utf8');
  const help = (await runRelais(['--help'])).stdout;
  const keys = [...help.split('Configuration keys')[1].matchAll(/^ {2}(\w+) +.*\(default: (.*)\)$/gm)];
  assert.ok(keys.length >= 15);
  for (const [, key, def] of keys) {
    const row = readme.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
    assert.ok(row, `README lacks a row for ${key}`);
    const expected = def === 'empty' ? 'empty' : `\`${def}\``;
    assert.ok(row.includes(`| ${expected} |`), `README default of ${key} should be ${expected}: ${row}`);
  }
});

test('README opens with the two quick-start commands', () => {
  const readme = readFileSync(path.join(SRCDIR, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([^`]*)```/g)].map((m) => m[1].trim());
  assert.equal(blocks[0], 'deploy/quickstart.sh run');
  assert.equal(blocks[1], 'deploy/quickstart.sh test');
});
