// Pre-signs N unique intake deliveries for tests/bench/intake.lua: one per line,
// "webhook-id <TAB> timestamp <TAB> v1,signature <TAB> body", signed with node:crypto the
// Standard Webhooks way (HMAC-SHA256 over "{id}.{timestamp}.{body}", key = the base64 after
// whsec_). Distinct webhook ids, external ids and customer e-mails, so that every delivery
// stores a new question (a mix of tags and keywords exercises the triage rules).
//   node tests/bench/intake-sign.mjs <whsec_...> <count> <prefix> > deliveries.tsv
import crypto from 'node:crypto';

const [secret, countText, prefix = 'bench'] = process.argv.slice(2);
if (!secret || !secret.startsWith('whsec_') || !countText) {
  console.error('usage: intake-sign.mjs <whsec_secret> <count> [prefix]');
  process.exit(2);
}
const key = Buffer.from(secret.slice(6), 'base64');
const count = Number(countText);
const timestamp = Math.floor(Date.now() / 1000);
const topics = [['billing'], ['invoices', 'refunds'], ['payments'], []];
const out = [];
for (let i = 0; i < count; i++) {
  const id = `msg_${prefix}_${i}`;
  const body = JSON.stringify({
    external_id: `${prefix}-${i}`,
    title: `Question ${i} about my invoice`,
    body: `Hello, I was charged twice for order ${i}. Could you refund the second payment? Merci d'avance.`,
    customer: { name: `Customer ${i}`, email: `c${i % 5000}.${prefix}@bench.example` },
    language: i % 3 === 0 ? 'fr' : 'en',
    tags: topics[i % topics.length],
  });
  const mac = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  out.push(`${id}\t${timestamp}\tv1,${mac}\t${body}`);
  if (out.length === 5000) { process.stdout.write(`${out.join('\n')}\n`); out.length = 0; }
}
if (out.length) process.stdout.write(`${out.join('\n')}\n`);
