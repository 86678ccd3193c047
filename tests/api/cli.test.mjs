// The command line: help, version, usage errors, configuration validation.
import test from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runRelais, tempDir } from '../lib/harness.mjs';

test('--help prints usage and every configuration key to stdout, exit 0', async () => {
  const r = await runRelais(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: relais/);
  for (const key of ['listen', 'workers', 'data_dir', 'database_url', 'header_timeout', 'max_connections']) {
    assert.match(r.stdout, new RegExp(`\\n  ${key} `), key);
  }
  assert.equal(r.stderr, '');
});

test('--version and version print the version, exit 0', async () => {
  for (const args of [['--version'], ['-V'], ['version']]) {
    const r = await runRelais(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /^relais \d+\.\d+\.\d+\n$/);
  }
});

test('bad usage exits 2 with a one-line hint on stderr', async () => {
  for (const args of [[], ['frobnicate'], ['--bogus'], ['serve', '--bogus'], ['serve', 'extra'], ['migrate', 'extra']]) {
    const r = await runRelais(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0], /^relais: /);
    assert.equal(lines[1], "Try 'relais --help'.");
  }
});

test('serve --check-config validates and prints the effective configuration', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'relais.conf');
  writeFileSync(file, '; comment\nlisten = 127.0.0.1:9999\nworkers = 3\nheader_timeout = 7s\n');
  const r = await runRelais(['-c', file, 'serve', '--check-config'], { env: { RELAIS_WORKERS: '5' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^listen = 127\.0\.0\.1:9999$/m);
  assert.match(r.stdout, /^workers = 5$/m, 'the environment overrides the file');
  assert.match(r.stdout, /^header_timeout = 7000ms$/m);
  assert.match(r.stdout, /^max_header_size = 16384$/m, 'default header limit is 16 KiB');
  assert.match(r.stdout, /^max_body_size = 1048576$/m, 'default body limit is 1 MiB');
  assert.match(r.stdout, /configuration is valid/);
});

test('the -c option is also accepted after the command', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'relais.conf');
  writeFileSync(file, 'workers = 7\n');
  const r = await runRelais(['serve', '--check-config', '-c', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^workers = 7$/m);
});

test('a database URL is never printed', async () => {
  const r = await runRelais(['serve', '--check-config'], { env: { RELAIS_DATABASE_URL: 'postgresql://u:secret@db/x' } });
  assert.equal(r.code, 0);
  assert.doesNotMatch(r.stdout, /secret/);
  assert.match(r.stdout, /^database_url = \(set\)$/m);
});

test('an unknown key in the file is an error naming the key', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'relais.conf');
  writeFileSync(file, 'listen = 127.0.0.1:8080\nwrokers = 2\n');
  const r = await runRelais(['-c', file, 'serve', '--check-config']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown key "wrokers"/);
});

test('a bad value is an error naming the key, from the file or the environment', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'relais.conf');
  const cases = [
    ['workers = lots\n', {}, /invalid value for workers: "lots"/],
    ['header_timeout = soon\n', {}, /invalid value for header_timeout/],
    ['max_body_size = 12Q\n', {}, /invalid value for max_body_size/],
    ['access_log = perhaps\n', {}, /invalid value for access_log/],
    ['listen = nowhere\n', {}, /invalid value for listen/],
    ['', { RELAIS_WORKERS: '-1' }, /RELAIS_WORKERS: invalid value for workers/],
    ['', { RELAIS_DB_POOL_SIZE: '0' }, /invalid value for db_pool_size/],
    ['', { RELAIS_LOG_LEVEL: 'loud' }, /invalid value for log_level/],
    ['trusted_proxies = 10.0.0.1, proxy.local\n', {}, /invalid value for trusted_proxies: "proxy.local"/],
    ['trusted_proxies = 10.0.0.0/8, 10.0.0.0/33\n', {}, /invalid value for trusted_proxies: "10.0.0.0\/33"/],
    ['', { RELAIS_TRUSTED_PROXIES: '::/0' }, /invalid value for trusted_proxies: "::\/0" would let every client choose its address/],
    ['[elsewhere]\nworkers = 2\n', {}, /unknown section \[elsewhere\]/],
  ];
  for (const [content, env, pattern] of cases) {
    writeFileSync(file, content);
    const r = await runRelais(['-c', file, 'serve', '--check-config'], { env });
    assert.equal(r.code, 1, content + JSON.stringify(env));
    assert.match(r.stderr, pattern);
  }
});

test('a missing configuration file is a clear error', async () => {
  const r = await runRelais(['-c', '/nonexistent/relais.conf', 'serve', '--check-config']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot open configuration file \/nonexistent\/relais\.conf/);
});

test('a misspelt RELAIS_ variable is reported, not silently ignored', async () => {
  const r = await runRelais(['serve', '--check-config'], { env: { RELAIS_WROKERS: '2' } });
  assert.equal(r.code, 0);
  assert.match(r.stderr, /unknown environment variable RELAIS_WROKERS/);
});
