// Turns the statements PostgreSQL logged while relais answered one request into a pgbench
// script that runs the same SQL with the same parameter values, for tests/bench/run.sh.
//
//   node tests/bench/captured-sql.mjs <log excerpt> <out dir> <psql> [psql args...]
//
// The log excerpt is what PostgreSQL wrote with log_statement = 'all' and
// log_line_prefix = '%p %v ' (backend pid, virtual transaction id):
//   1234 8/95 LOG:  execute auth_session: WITH s AS (...) SELECT ...
//   1234 8/95 DETAIL:  parameters: $1 = '\x35...', $2 = '43200'
// The job runner's poll (statements named jobs_*, once a second per worker) is left out; the
// caller makes sure that no job is due while it captures, so nothing else runs.
//
// Writes to <out dir>:
//   pgbench.sql  one SQL command per statement. Statements that relais sent in one batch (one
//                pipeline sync, hence one implicit transaction: same pid and virtual
//                transaction id) go between \startpipeline and \endpipeline, so that pgbench
//                also sends them at once and runs them in one transaction.
//   pgbench.vars one "name=value" per line, for pgbench -D.
//   check.sql    the same statements with the values as literals, each followed by
//                \echo ROWS <row count>, for psql: what pgbench's statements return.
// and prints one line per statement on stdout: "<name> <batch> <parameters>".
//
// How the parameters are rendered: pgbench sends a variable as a text parameter, like relais,
// so each non-NULL $n becomes :sK_n with the type PostgreSQL inferred for it (taken from
// pg_prepared_statements after a PREPARE of the captured text), which keeps the types exactly
// what relais's prepared statement has even though pgbench numbers every occurrence apart.
// A pgbench variable cannot be NULL (it would be sent as the string 'NULL'), so a parameter
// relais sends as NULL is written as a typed NULL literal.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [logFile, outDir, psql, ...psqlArgs] = process.argv.slice(2);
if (!logFile || !outDir || !psql) {
  console.error('usage: captured-sql.mjs <log excerpt> <out dir> <psql> [psql args...]');
  process.exit(2);
}

function fail(message) {
  console.error(`captured-sql: ${message}`);
  process.exit(1);
}

// "$1 = NULL, $2 = 'it''s'" -> [null, "it's"] (PostgreSQL quotes every non-NULL value).
function parseParameters(text) {
  const values = [];
  let i = 0;
  while (i < text.length) {
    const head = /^\$(\d+) = /.exec(text.slice(i));
    if (!head || Number(head[1]) !== values.length + 1) fail(`cannot read parameters: ${text}`);
    i += head[0].length;
    if (text.startsWith('NULL', i)) {
      values.push(null);
      i += 4;
    } else if (text[i] === "'") {
      let value = '';
      for (i++; ; i++) {
        if (i >= text.length) fail(`unterminated parameter value: ${text}`);
        if (text[i] === "'" && text[i + 1] === "'") {
          value += "'";
          i++;
        } else if (text[i] === "'") {
          i++;
          break;
        } else {
          value += text[i];
        }
      }
      values.push(value);
    } else {
      fail(`cannot read parameters: ${text}`);
    }
    if (text.startsWith(', ', i)) i += 2;
  }
  return values;
}

function readStatements(file) {
  const statements = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const exec = /^(\d+) (\S+) LOG: {2}execute ([^:]+): (.*)$/.exec(line);
    if (exec) {
      const [, pid, vxid, name, sql] = exec;
      if (name.startsWith('jobs_')) continue;
      if (name === '<unnamed>') fail('an unnamed statement was captured; relais prepares every statement');
      statements.push({ pid, vxid, name, sql, values: [] });
      continue;
    }
    const detail = /^(\d+) (\S+) DETAIL: {2}parameters: (.*)$/.exec(line);
    if (detail) {
      const last = statements[statements.length - 1];
      // Parameters of a statement that was left out (the job runner's).
      if (!last || last.pid !== detail[1] || last.vxid !== detail[2] || last.values.length) continue;
      last.values = parseParameters(detail[3]);
    }
  }
  return statements;
}

// The parameter types PostgreSQL infers for each statement, as relais lets it (no types
// are given at Prepare).
function inferTypes(statements) {
  const sql = statements.map((s, k) => `PREPARE captured_${k} AS ${s.sql};`).join('\n') +
    "\nSELECT name, array_to_json(parameter_types::text[]) FROM pg_prepared_statements" +
    " WHERE name LIKE 'captured\\_%' ORDER BY name;\n";
  let out;
  try {
    out = execFileSync(psql, [...psqlArgs, '-X', '-q', '-A', '-t', '-F', ' ', '-v', 'ON_ERROR_STOP=1'],
      { input: sql, encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'] });
  } catch {
    fail('psql could not prepare the captured statements');
  }
  for (const row of out.trim().split('\n')) {
    const space = row.indexOf(' ');
    const k = Number(row.slice(0, space).replace('captured_', ''));
    statements[k].types = JSON.parse(row.slice(space + 1));
  }
  for (const s of statements) {
    if (!s.types || s.types.length !== s.values.length)
      fail(`${s.name}: ${s.values.length} parameters logged, ${s.types?.length} inferred`);
  }
}

const literal = (value) => `'${value.replaceAll("'", "''")}'`;

// The statement's text with each $n rendered by render(value, type, n).
function substitute(s, render) {
  return s.sql.replace(/\$(\d+)(?!\d)/g, (_, n) => {
    const i = Number(n) - 1;
    if (i >= s.values.length) fail(`${s.name}: $${n} has no logged value`);
    return render(s.values[i], s.types[i], n);
  });
}

const statements = readStatements(logFile);
if (statements.length === 0) fail('no statement was captured');
inferTypes(statements);

const script = [];
const vars = [];
const check = [];
let batch = 0;
for (let k = 0; k < statements.length; k++) {
  const s = statements[k];
  const prev = statements[k - 1], next = statements[k + 1];
  const sameBatch = (a, b) => a && b && a.pid === b.pid && a.vxid === b.vxid;
  if (!sameBatch(prev, s)) batch++;
  s.batch = batch;
  const pipelined = sameBatch(prev, s) || sameBatch(s, next);
  if (pipelined && !sameBatch(prev, s)) script.push('\\startpipeline');
  script.push(substitute(s, (value, type, n) => {
    if (value === null) return `NULL::${type}`;
    return `:s${k}_${n}::${type}`;
  }) + ';');
  if (pipelined && !sameBatch(s, next)) script.push('\\endpipeline');
  s.values.forEach((value, i) => {
    if (value !== null) vars.push(`s${k}_${i + 1}=${value}`);
  });
  check.push(substitute(s, (value, type) => (value === null ? `NULL::${type}` : `${literal(value)}::${type}`)) +
    ' \\g /dev/null', '\\echo ROWS :ROW_COUNT');
  console.log(`${s.name} ${s.batch} ${s.values.map((v) => (v === null ? 'NULL' : literal(v))).join(',')}`);
}
if (vars.some((v) => v.includes('\n'))) fail('a parameter value spans lines');
writeFileSync(join(outDir, 'pgbench.sql'), script.join('\n') + '\n');
writeFileSync(join(outDir, 'pgbench.vars'), vars.join('\n') + '\n');
writeFileSync(join(outDir, 'check.sql'), check.join('\n') + '\n');
