// docs/openapi.yaml describes every route of the route table (server/routes.c), and nothing else.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SRCDIR } from '../lib/harness.mjs';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

function routeTable() {
  const source = readFileSync(path.join(SRCDIR, 'server/routes.c'), 'utf8');
  const routes = new Set();
  for (const m of source.matchAll(/\{\s*((?:(?:HTTP_)?(?:GET|POST|PUT|PATCH|DELETE)\s*\|?\s*)+),\s*"([^"]+)"/g)) {
    for (const method of m[1].split('|').map((s) => s.trim().replace('HTTP_', ''))) routes.add(`${method} ${m[2]}`);
  }
  assert.ok(routes.size > 10, 'the route table was read');
  return routes;
}

function documented() {
  const yaml = readFileSync(path.join(SRCDIR, 'docs/openapi.yaml'), 'utf8');
  const lines = yaml.split('\n');
  const start = lines.indexOf('paths:');
  assert.ok(start >= 0, 'openapi.yaml has a paths: section');
  const routes = new Set();
  let current = null;
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break; // next top-level section
    const p = line.match(/^ {2}(\/\S*):\s*$/);
    if (p) { current = p[1]; continue; }
    const m = line.match(/^ {4}(get|post|put|patch|delete):\s*$/);
    if (m && current) routes.add(`${m[1].toUpperCase()} ${current}`);
  }
  return routes;
}

test('every route in the route table is in docs/openapi.yaml', () => {
  const doc = documented();
  const missing = [...routeTable()].filter((r) => METHODS.includes(r.split(' ')[0]) && !doc.has(r));
  assert.deepEqual(missing, [], 'add these routes to docs/openapi.yaml');
});

test('docs/openapi.yaml describes no route that does not exist', () => {
  const table = routeTable();
  const extra = [...documented()].filter((r) => !table.has(r));
  assert.deepEqual(extra, []);
});

test('docs/openapi.yaml is OpenAPI 3 with the error schema', () => {
  const yaml = readFileSync(path.join(SRCDIR, 'docs/openapi.yaml'), 'utf8');
  assert.match(yaml, /^openapi: 3\.\d+\.\d+$/m);
  assert.match(yaml, /^ {4}Error:$/m);
});
