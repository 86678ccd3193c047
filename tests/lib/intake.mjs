// Helpers for the tests of channels, signed intake, the ask form and triage: creating
// channels as an admin and signing deliveries the Standard Webhooks way, either with the
// reference library (npm standardwebhooks) or with node:crypto directly.
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
// The reference library is an npm package (tests/node_modules); a distribution tarball has
// none, and only the files that sign with it are skipped there (run-node-test.sh).
let Webhook = null;
try {
  ({ Webhook } = await import('standardwebhooks'));
} catch {
  // left null: signWithLibrary says what is missing
}
import { api, request } from './api.mjs';

let counter = 0;
/** A string unique within this process and across runs. */
export function unique(prefix = 'x') {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** POST /api/v1/channels as `admin`; returns the channel (with `secret` for api channels). */
export async function createChannel(srv, admin, body) {
  const res = await api(srv, 'POST', '/api/v1/channels', {
    session: admin,
    body: { kind: 'api', name: unique('Channel'), language: 'en', sla_seconds: 3600, ...body },
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

/** "v1,<base64>" computed with node:crypto: key = base64-decoded part after whsec_. */
export function signWithCrypto(secret, id, timestamp, payload) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${payload}`).digest('base64');
  return `v1,${mac}`;
}

/** The same with the Standard Webhooks reference library. */
export function signWithLibrary(secret, id, timestamp, payload) {
  if (!Webhook) throw new Error("the npm package standardwebhooks is missing: run 'npm ci' in tests/");
  return new Webhook(secret).sign(id, new Date(timestamp * 1000), payload);
}

export const now = () => Math.floor(Date.now() / 1000);

/**
 * Delivers `payload` (object or raw string) to `path` signed with `secret`. Options: id,
 * timestamp, signer (signWithCrypto by default), signature (sent as is), headers (extra or
 * overriding; a null value removes the header), from.
 */
export function deliverTo(srv, path, secret, payload, { id = unique('msg'), timestamp = now(), signer = signWithCrypto, signature, headers = {}, from } = {}) {
  const raw = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const h = {
    'Content-Type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature ?? signer(secret, id, timestamp, raw),
    ...headers,
  };
  for (const [k, v] of Object.entries(h)) if (v === null) delete h[k];
  return request(srv, 'POST', path, { headers: h, body: raw, from });
}

/** Delivers a question to channel `channel` ({id, secret}). */
export function deliver(srv, channel, payload, options = {}) {
  return deliverTo(srv, `/api/v1/channels/${channel.id}/questions`, options.secret ?? channel.secret, payload, options);
}

/** A valid question payload with a fresh external id. */
export function question(overrides = {}) {
  return {
    external_id: unique('ext'),
    title: 'How do I change my billing address?',
    body: 'I moved last month and my invoices still show the old address.',
    customer: { name: 'Ada Customer', email: `${unique('ada')}@customer.example`, external_ref: 'crm-1' },
    language: 'en',
    tags: ['billing'],
    url: 'https://forum.example/t/1',
    ...overrides,
  };
}
