// Migrations: in order, once, under an advisory lock, with checksums.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, writeFileSync, readFileSync, readdirSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { startPostgres, runRelais, tempDir, SRCDIR } from '../lib/harness.mjs';

let pg;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.destroy(); });

const migrationCount = readdirSync(path.join(SRCDIR, 'schema')).filter((f) => f.endsWith('.sql')).length;

async function migrate(db, env = {}) {
  return runRelais(['migrate'], { env: { RELAIS_DATABASE_URL: pg.url(db), ...env } });
}

test('relais migrate applies every migration once, in order, with checksums', async () => {
  const db = await pg.createDatabase();
  let r = await migrate(db);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`${migrationCount} migrations? applied`));
  const rows = pg.psql('SELECT version, name, length(checksum) FROM schema_migrations ORDER BY version', db).split('\n');
  assert.equal(rows.length, migrationCount);
  assert.equal(rows[0], '1|0001_foundation.sql|64');
  r = await migrate(db);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /0 migrations applied/);
});

test('two relais starting at once apply each migration once', async () => {
  const db = await pg.createDatabase();
  const results = await Promise.all(Array.from({ length: 4 }, () => migrate(db)));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const applied = results.map((r) => Number(r.stdout.match(/(\d+) migrations? applied/)[1]));
  assert.equal(applied.reduce((a, b) => a + b, 0), migrationCount, 'each applied exactly once in total');
  assert.equal(pg.psql('SELECT count(*) FROM schema_migrations', db), String(migrationCount));
});

test('an applied migration whose file changed is refused, naming it', async () => {
  const db = await pg.createDatabase();
  const dir = tempDir();
  cpSync(path.join(SRCDIR, 'schema'), dir, { recursive: true });
  let r = await migrate(db, { RELAIS_SCHEMA_DIR: dir });
  assert.equal(r.code, 0, r.stderr);
  appendFileSync(path.join(dir, '0001_foundation.sql'), '\n-- edited afterwards\n');
  r = await migrate(db, { RELAIS_SCHEMA_DIR: dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /migration 0001_foundation\.sql was changed after it was applied/);
});

test('a new migration is applied after the existing ones; a failing one changes nothing', async () => {
  const db = await pg.createDatabase();
  const dir = tempDir();
  cpSync(path.join(SRCDIR, 'schema'), dir, { recursive: true });
  writeFileSync(path.join(dir, '9998_widgets.sql'), 'CREATE TABLE widgets (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\n');
  writeFileSync(path.join(dir, '9999_broken.sql'), 'CREATE TABLE gadgets (id int);\nSELECT * FROM no_such_table;\n');
  const r = await migrate(db, { RELAIS_SCHEMA_DIR: dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /migration 9999_broken\.sql failed: .*no_such_table/);
  assert.equal(pg.psql("SELECT to_regclass('widgets') IS NOT NULL, to_regclass('gadgets') IS NULL", db), 't|t');
  assert.equal(pg.psql('SELECT max(version) FROM schema_migrations', db), '9998');
});

test('a badly named migration file is refused', async () => {
  const db = await pg.createDatabase();
  const dir = tempDir();
  cpSync(path.join(SRCDIR, 'schema'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'add-things.sql'), 'SELECT 1;\n');
  const r = await migrate(db, { RELAIS_SCHEMA_DIR: dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /add-things\.sql does not follow the NNNN_name\.sql pattern/);
});

test('a database with a migration unknown to this relais is refused', async () => {
  const db = await pg.createDatabase();
  assert.equal((await migrate(db)).code, 0);
  pg.psql("INSERT INTO schema_migrations (version, name, checksum) VALUES (9000, '9000_future.sql', 'x')", db);
  const r = await migrate(db);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /9000_future\.sql, which this relais does not know/);
});

test('every schema file is built into relais (listed in Makefile.am)', () => {
  const makefile = readFileSync(path.join(SRCDIR, 'Makefile.am'), 'utf8');
  for (const f of readdirSync(path.join(SRCDIR, 'schema')).filter((n) => n.endsWith('.sql'))) {
    assert.ok(makefile.includes(`schema/${f}`), `${f} is missing from SCHEMA_FILES in Makefile.am`);
  }
});
