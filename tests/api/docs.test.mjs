// The shell example of docs/questions.md works as written: signed with openssl, sent with curl,
// against the demo data, with the secret that `relais demo` prints.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startRelais, runRelais, SRCDIR } from '../lib/harness.mjs';
import { sql, eventually } from '../lib/api.mjs';

let srv;
let printed;
before(async () => {
  srv = await startRelais();
  const demo = await runRelais(['demo'], { env: { RELAIS_DATABASE_URL: srv.env.RELAIS_DATABASE_URL } });
  assert.equal(demo.code, 0, demo.stderr);
  printed = demo.stdout;
});
after(async () => { await srv?.stop(); });

test('relais demo prints the id and secret of its API channels', () => {
  const m = printed.match(/Help center\s+POST \/api\/v1\/channels\/(\d+)\/questions\s+secret (whsec_\S+)/);
  assert.ok(m, printed);
});

test('the curl example of docs/questions.md posts a signed question that gets routed', async () => {
  const [, channel, secret] = printed.match(/Help center\s+POST \/api\/v1\/channels\/(\d+)\/questions\s+secret (whsec_\S+)/);
  const doc = readFileSync(path.join(SRCDIR, 'docs/questions.md'), 'utf8');
  const script = doc.split('## Trying it with curl')[1].match(/```sh\n([^`]*)```/)[1]
    .replace("secret='whsec_...'", `secret='${secret}'`)
    .replace(/^channel=\d+/m, `channel=${channel}`)
    .replaceAll('http://127.0.0.1:8080', `http://127.0.0.1:${srv.port}`);
  const out = execFileSync('bash', ['-euo', 'pipefail', '-c', script]).toString();
  const answer = JSON.parse(out);
  assert.ok(answer.question_id > 0, out);
  // A new delivery id with the same external_id: still one question.
  const again = JSON.parse(execFileSync('bash', ['-euo', 'pipefail', '-c', script]).toString());
  assert.equal(again.question_id, answer.question_id, 'the same external_id answers the same question');
  // Routed to the expert the demo prints, as the page says: whoever signs in as them sees it.
  const expert = printed.match(/expert in Billing help\s+(\S+)/)[1];
  await eventually(() => {
    assert.equal(sql(srv, `SELECT q.status || ' ' || u.email FROM questions q JOIN users u ON u.id = q.assignee_id
      WHERE q.id = ${answer.question_id}`), `assigned ${expert}`);
  }, 10000);
});

test('relais demo prints its public ask forms, and each one opens', async () => {
  const forms = [...printed.matchAll(/^ {2}(.+?)\s+\/ask\/([a-z0-9-]+)$/gm)];
  assert.deepEqual(forms.map((m) => m[1]), ['Billing help', 'Mobile app'], printed);
  for (const [, community, slug] of forms) {
    const res = await fetch(`${srv.url}/api/v1/ask/${slug}`);
    assert.equal(res.status, 200, slug);
    assert.equal((await res.json()).channel.community_name, community);
  }
});
