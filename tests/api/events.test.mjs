// Live events (GET /api/v1/events) and notifications: live delivery, replay with
// Last-Event-ID, no duplicates or gaps between replay and live, heartbeats, the slow reader
// dropped at its buffer cap, sessions that end, delivery across workers and across two
// servers on one database, SIGTERM, the notifications list and "mark read", bad input.
// Events are made with SELECT notification_add(...) through psql, as other modules do in SQL.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { startRelais, pgBinDir } from '../lib/harness.mjs';
import {
  api, login, loadDemo, sql, newPerson, eventually, assertError, dbName, cookieName, ADMIN_EMAIL,
} from '../lib/api.mjs';
import { setTimeout as sleep } from 'node:timers/promises';

let srv, admin, alice, bob;

before(async () => {
  srv = await startRelais({
    workers: 2,
    // Idle and header deadlines far shorter than a stream's life: neither may end one.
    env: {
      RELAIS_INSECURE_COOKIES: 'true', RELAIS_SSE_HEARTBEAT: '1s', RELAIS_SSE_BUFFER_CAP: '64K',
      RELAIS_KEEPALIVE_TIMEOUT: '1s', RELAIS_HEADER_TIMEOUT: '1s', RELAIS_SSE_MAX_PER_USER: '20',
    },
  });
  await loadDemo(srv);
  admin = await login(srv, ADMIN_EMAIL);
  alice = await newPerson(srv, admin, { name: 'Alice Events' });
  bob = await newPerson(srv, admin, { name: 'Bob Events' });
});
after(async () => { await srv?.stop(); });

/** Adds a notification for `user` (a session with .id) in its own transaction; returns its id. */
function notify(user, kind = 'question.assigned', data = {}) {
  const json = JSON.stringify(data).replace(/'/g, "''");
  return Number(sql(srv, `SELECT notification_add(${user.id}, '${kind}', NULL, NULL, '${json}'::jsonb)`));
}

/**
 * A minimal SSE client over node:http. Resolves once the response headers arrived (the
 * subscription is registered before the server sends them). `events` fills as they come.
 */
function openStream(server, session, { query = '', headers = {}, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const h = { Accept: 'text/event-stream', ...headers };
    if (session) h.Cookie = `${session.name || cookieName(server)}=${session.cookie}`;
    const req = http.request({
      host: '127.0.0.1', port: server.port, path: `/api/v1/events${query}`, headers: h, agent: false,
      ...(localAddress ? { localAddress } : {}),
    }, (res) => {
      const stream = {
        status: res.statusCode, headers: res.headers, events: [], comments: 0, retry: null, text: '',
        ended: false, res, req,
      };
      stream.closed = new Promise((done) => {
        res.on('close', () => { stream.ended = true; done(); });
        res.on('error', () => {});
      });
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        stream.text += chunk;
        buf += chunk;
        let at;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const ev = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) { stream.comments += 1; continue; }
            const i = line.indexOf(':');
            const key = i < 0 ? line : line.slice(0, i);
            const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
            if (key === 'data') ev.data = ev.data === undefined ? value : `${ev.data}\n${value}`;
            else if (key === 'id') ev.id = value;
            else if (key === 'event') ev.event = value;
            else if (key === 'retry') stream.retry = Number(value);
          }
          if (ev.data !== undefined) stream.events.push({ id: Number(ev.id), event: ev.event, data: JSON.parse(ev.data) });
        }
      });
      stream.ids = () => stream.events.map((e) => e.id);
      stream.waitFor = (pred, timeoutMs = 5000) => eventually(() => assert.ok(pred(stream), `stream: ${JSON.stringify(stream.ids())}`), timeoutMs);
      stream.close = () => { req.destroy(); return stream.closed; };
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}

async function metric(server, name) {
  const res = await fetch(`${server.url}/metrics`);
  const text = await res.text();
  const values = [...text.matchAll(new RegExp(`^${name}\\{worker="(\\d+)"\\} (\\d+)$`, 'gm'))];
  return values.map((m) => ({ worker: Number(m[1]), value: Number(m[2]) }));
}

test('live events: headers, delivery of the caller\'s own events only, the notification shape', async () => {
  const a = await openStream(srv, alice);
  const b = await openStream(srv, bob);
  assert.equal(a.status, 200);
  assert.equal(a.headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(a.headers['cache-control'], 'no-store');
  assert.equal(a.headers['x-accel-buffering'], 'no');
  assert.ok(a.headers['x-request-id']);
  const id = notify(alice, 'question.assigned', { title: 'Refund — "quoted"\nline two' });
  const bobId = notify(bob, 'question.comment');
  await a.waitFor((s) => s.events.length >= 1);
  await b.waitFor((s) => s.events.length >= 1);
  const ev = a.events[0];
  assert.equal(ev.id, id);
  assert.equal(ev.event, 'question.assigned');
  assert.deepEqual(Object.keys(ev.data).sort(), ['actor_user_id', 'created_at', 'data', 'id', 'kind', 'question_id']);
  assert.equal(ev.data.id, id);
  assert.equal(ev.data.question_id, null);
  assert.deepEqual(ev.data.data, { title: 'Refund — "quoted"\nline two' });
  assert.match(ev.data.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.equal(a.retry, 2000);
  // The same timestamp as the list answers.
  const list = await api(srv, 'GET', '/api/v1/notifications?limit=1', { session: alice });
  assert.equal(list.body.items[0].created_at, ev.data.created_at);
  // Another user's events never arrive.
  await sleep(300);
  assert.deepEqual(a.ids(), [id]);
  assert.deepEqual(b.ids(), [bobId]);
  await a.close();
  await b.close();
});

test('live events: a payload too large for pg_notify is read back from its row, in order', async () => {
  const s = await openStream(srv, alice);
  // The large event (announced as {"truncated": true}) and a small one right behind it on the
  // bus: the small one must wait for the large one's row to be read, not overtake it.
  const ids = sql(srv, `SELECT notification_add(${alice.id}, 'question.customer_message', 7, NULL, jsonb_build_object('big', repeat('y', 9000)));`
    + ` SELECT notification_add(${alice.id}, 'question.comment', NULL, NULL, '{"small": true}')`).split('\n').map(Number);
  await s.waitFor((x) => x.events.length >= 2);
  assert.deepEqual(s.ids(), ids);
  assert.equal(s.events[0].event, 'question.customer_message');
  assert.equal(s.events[0].data.data.big.length, 9000);
  assert.equal(s.events[0].data.question_id, 7);
  assert.match(s.events[0].data.created_at, /Z$/);
  assert.deepEqual(s.events[1].data.data, { small: true });
  await s.close();
});

test('live events: created_at is UTC whatever the time zone of the transaction that wrote it', async () => {
  const s = await openStream(srv, alice);
  const out = sql(srv, `SET TIME ZONE 'America/St_Johns'; SELECT notification_add(${alice.id}, 'question.triage', NULL, NULL, '{}')`);
  const id = Number(out.split('\n').pop());
  await s.waitFor((x) => x.ids().includes(id));
  const list = await api(srv, 'GET', '/api/v1/notifications?limit=1', { session: alice });
  assert.equal(list.body.items[0].id, id);
  assert.equal(s.events.find((e) => e.id === id).data.created_at, list.body.items[0].created_at);
  await s.close();
});

test('live events: unauthenticated 401, API tokens 403, HEAD answers headers only', async () => {
  const anon = await openStream(srv, null);
  assert.equal(anon.status, 401);
  await anon.close();
  const token = await api(srv, 'POST', '/api/v1/tokens', { session: admin, body: { name: 'events', scopes: ['read'] } });
  assert.equal(token.status, 201, token.text);
  const withToken = await api(srv, 'GET', '/api/v1/events', { token: token.body.token });
  assertError(withToken, 403, 'forbidden');
  const head = await api(srv, 'HEAD', '/api/v1/events', { session: alice });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(head.text, '');
});

test('replay: Last-Event-ID and ?last_event_id send what was missed, in order, then live events', async () => {
  const first = notify(alice);
  const second = notify(alice, 'question.comment');
  const third = notify(alice, 'question.mentioned');
  const s = await openStream(srv, alice, { headers: { 'Last-Event-ID': String(first) } });
  await s.waitFor((x) => x.events.length >= 2);
  assert.deepEqual(s.ids(), [second, third]);
  assert.deepEqual(s.events.map((e) => e.event), ['question.comment', 'question.mentioned']);
  const fourth = notify(alice);
  await s.waitFor((x) => x.events.length >= 3);
  assert.deepEqual(s.ids(), [second, third, fourth]);
  await s.close();

  // The query parameter, for clients that cannot set headers; the header wins when both are sent.
  const q = await openStream(srv, alice, { query: `?last_event_id=${third}` });
  await q.waitFor((x) => x.events.length >= 1);
  assert.deepEqual(q.ids(), [fourth]);
  await q.close();
  const both = await openStream(srv, alice, { query: `?last_event_id=${first}`, headers: { 'Last-Event-ID': String(third) } });
  await both.waitFor((x) => x.events.length >= 1);
  await sleep(200);
  assert.deepEqual(both.ids(), [fourth]);
  await both.close();

  // Bounded: at most the latest 500, oldest first. 500 events do not fit in this server's
  // 64 KiB buffer cap: the stream ends cleanly after what fits, and reconnecting with the
  // last id received (as EventSource does) continues where it stopped.
  const base = notify(bob);
  sql(srv, `SELECT notification_add(${bob.id}, 'question.triage', NULL, NULL, jsonb_build_object('n', g)) FROM generate_series(1, 520) g`);
  const got = [];
  let last = base;
  for (let round = 0; round < 20 && (got.length === 0 || got[got.length - 1].data.data.n !== 520); round++) {
    const part = await openStream(srv, bob, { headers: { 'Last-Event-ID': String(last) } });
    await eventually(() => assert.ok(part.ended || (part.events.length && part.events[part.events.length - 1].data.data.n === 520)), 5000);
    got.push(...part.events);
    if (part.events.length) last = part.events[part.events.length - 1].id;
    await part.close();
  }
  assert.ok(got.length > 0);
  assert.equal(got[0].data.data.n, 21);
  assert.equal(got.length, 500);
  assert.equal(got[499].data.data.n, 520);
  const ids = got.map((e) => e.id);
  assert.deepEqual([...ids].sort((x, y) => x - y), ids);
  assert.equal(new Set(ids).size, 500);
});

test('replay: an event larger than the buffer cap still gets through, and so do those after it', async () => {
  const base = notify(bob);
  const ids = sql(srv, `SELECT notification_add(${bob.id}, 'question.customer_message', NULL, NULL, jsonb_build_object('big', repeat('z', 100000)));`
    + ` SELECT notification_add(${bob.id}, 'question.comment', NULL, NULL, '{}')`).split('\n').map(Number);
  const got = [];
  let last = base;
  for (let round = 0; round < 5 && got.length < 2; round++) {
    const part = await openStream(srv, bob, { headers: { 'Last-Event-ID': String(last) } });
    await eventually(() => assert.ok(part.ended || part.events.length + got.length >= 2), 5000);
    got.push(...part.events);
    if (part.events.length) last = part.events[part.events.length - 1].id;
    await part.close();
  }
  assert.deepEqual(got.map((e) => e.id), ids);
  assert.equal(got[0].data.data.big.length, 100000);
});

test('replay and live together: no duplicates and no gaps while events keep coming', async () => {
  const start = notify(alice);
  // Events committed one by one, about every 5 ms, while streams subscribe with a replay.
  const writer = spawn(`${pgBinDir()}/psql`, ['-X', '-q', '-h', '127.0.0.1', '-p', String(srv.pg.port), '-U', 'postgres',
    '-d', dbName(srv), '-v', 'ON_ERROR_STOP=1', '-c',
    `DO $$ BEGIN FOR i IN 1..150 LOOP PERFORM notification_add(${alice.id}, 'question.comment', NULL, NULL, jsonb_build_object('i', i)); COMMIT; PERFORM pg_sleep(0.005); END LOOP; END $$`]);
  const writerDone = new Promise((resolve) => writer.on('exit', resolve));
  const streams = [];
  for (let i = 0; i < 6; i++) {
    await sleep(80);
    streams.push(await openStream(srv, alice, { headers: { 'Last-Event-ID': String(start) } }));
  }
  assert.equal(await writerDone, 0);
  const expected = sql(srv, `SELECT id FROM notifications WHERE user_id = ${alice.id} AND id > ${start} ORDER BY id`)
    .split('\n').map(Number);
  assert.equal(expected.length, 150);
  for (const s of streams) {
    await s.waitFor((x) => x.events.length >= 150, 10000);
    await sleep(100);
    assert.deepEqual(s.ids(), expected);
    await s.close();
  }
});

test('replay: many streams reconnecting at once (one query per batch) each get exactly what they missed', async () => {
  const gina = await newPerson(srv, admin, { name: 'Gina Events' });
  const ids = sql(srv, `SELECT notification_add(${gina.id}, 'question.assigned', NULL, NULL, jsonb_build_object('n', g)) FROM generate_series(1, 16) g`)
    .split('\n').map(Number);
  const streams = await Promise.all(ids.map((id, i) => openStream(srv, gina, { headers: { 'Last-Event-ID': String(ids[i] - 1) } })));
  for (let i = 0; i < streams.length; i++) {
    await streams[i].waitFor((x) => x.events.length >= ids.length - i);
  }
  await sleep(200);
  for (let i = 0; i < streams.length; i++) assert.deepEqual(streams[i].ids(), ids.slice(i));
  await Promise.all(streams.map((x) => x.close()));
});

test('heartbeat: a comment line every sse_heartbeat; the idle and header deadlines do not end a stream', async () => {
  const s = await openStream(srv, alice);
  await s.waitFor((x) => x.comments >= 3, 6000); // over 2 s: twice keepalive_timeout and header_timeout
  assert.equal(s.events.length, 0);
  assert.ok(!s.ended);
  const id = notify(alice);
  await s.waitFor((x) => x.ids().includes(id));
  await s.close();
});

test('slow reader: a client that does not read is dropped at the buffer cap and counted', async () => {
  const before = (await metric(srv, 'relais_sse_dropped_total')).reduce((n, m) => n + m.value, 0);
  const sock = net.connect(srv.port, '127.0.0.1');
  await new Promise((resolve) => sock.once('connect', resolve));
  let received = 0;
  sock.on('data', (d) => { received += d.length; });
  let closed = false;
  sock.on('close', () => { closed = true; });
  sock.on('error', () => {});
  sock.write(`GET /api/v1/events HTTP/1.1\r\nHost: x\r\nCookie: ${cookieName(srv)}=${bob.cookie}\r\n\r\n`);
  await eventually(() => assert.ok(received > 0));
  sock.pause(); // stop reading: the kernel buffers fill, then the server's
  // A fast reader of the same user keeps up meanwhile.
  const fast = await openStream(srv, bob);
  const big = 'x'.repeat(7000);
  let made = 0;
  await eventually(async () => {
    sql(srv, `SELECT notification_add(${bob.id}, 'question.comment', NULL, NULL, jsonb_build_object('big', '${big}', 'n', g)) FROM generate_series(1, 400) g`);
    made += 400;
    const now = (await metric(srv, 'relais_sse_dropped_total')).reduce((n, m) => n + m.value, 0);
    assert.ok(now > before, `not dropped after ${made} events`);
  }, 40000);
  sock.resume();
  await eventually(() => assert.ok(closed, 'the slow reader\'s connection was not closed'), 5000);
  await fast.waitFor((x) => x.events.length >= made, 20000);
  assert.ok(!fast.ended);
  await fast.close();
});

test('sessions: signing out or being disabled ends the stream', async () => {
  const carol = await newPerson(srv, admin, { name: 'Carol Events' });
  const s = await openStream(srv, carol);
  const other = await login(srv, carol.email, carol.password);
  const t = await openStream(srv, other);
  assert.equal(s.status, 200);
  const out = await api(srv, 'DELETE', '/api/v1/session', { session: carol });
  assert.ok(out.status === 204 || out.status === 200, out.text);
  await eventually(() => assert.ok(s.ended, 'stream of the signed-out session still open'), 3000);
  // The other session's stream goes on until the user is disabled.
  notify(carol);
  await t.waitFor((x) => x.events.length === 1);
  assert.ok(!t.ended);
  const dis = await api(srv, 'PATCH', `/api/v1/users/${carol.id}`, { session: admin, body: { status: 'disabled' } });
  assert.equal(dis.status, 200, dis.text);
  await eventually(() => assert.ok(t.ended, 'stream of a disabled user still open'), 3000);
  const again = await openStream(srv, other);
  assert.equal(again.status, 401);
  await again.close();
});

test('sessions: an expired session is noticed at the next heartbeat', async () => {
  const dave = await newPerson(srv, admin, { name: 'Dave Events' });
  const s = await openStream(srv, dave);
  sql(srv, `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = ${dave.id}`);
  await eventually(() => assert.ok(s.ended), 4000);
});

test('two workers: many connections of one user spread over both workers all get the event', async () => {
  const base = await metric(srv, 'relais_sse_subscribers');
  const streams = [];
  for (let i = 0; i < 24; i++) streams.push(await openStream(srv, alice));
  await eventually(async () => {
    const subs = await metric(srv, 'relais_sse_subscribers');
    assert.equal(subs.length, 2);
    assert.ok(subs.every((m) => m.value > base.find((b) => b.worker === m.worker).value), JSON.stringify({ base, subs }));
    assert.equal(subs.reduce((n, m) => n + m.value, 0) - base.reduce((n, m) => n + m.value, 0), 24);
  });
  const id = notify(alice, 'question.escalated');
  for (const s of streams) await s.waitFor((x) => x.ids().includes(id));
  for (const s of streams) assert.deepEqual(s.ids(), [id]);
  await Promise.all(streams.map((s) => s.close()));
  await eventually(async () => {
    const subs = await metric(srv, 'relais_sse_subscribers');
    assert.equal(subs.reduce((n, m) => n + m.value, 0), base.reduce((n, m) => n + m.value, 0));
  });
});

test('LISTEN reconnect: events committed while the bus was down are replayed, each once', async () => {
  const fresh = await openStream(srv, alice);
  const first = notify(alice);
  await fresh.waitFor((x) => x.ids().includes(first));
  const resumed = await openStream(srv, alice, { headers: { 'Last-Event-ID': String(first) } });
  // Cut every worker's LISTEN connection; the events below commit while it reconnects.
  // One psql call, so that the events commit within milliseconds of the cut, long before
  // the listener's first reconnection attempt (100 ms).
  const out = sql(srv, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%';"
    + ` SELECT notification_add(${alice.id}, 'question.assigned', NULL, NULL, '{}') FROM generate_series(1, 3)`).split('\n').map(Number);
  const [cut, ...during] = out;
  assert.ok(cut >= 2, `LISTEN connections cut: ${cut}`);
  assert.equal(during.length, 3);
  await fresh.waitFor((x) => during.every((id) => x.ids().includes(id)), 8000);
  await resumed.waitFor((x) => during.every((id) => x.ids().includes(id)), 8000);
  const later = notify(alice);
  await fresh.waitFor((x) => x.ids().includes(later));
  await resumed.waitFor((x) => x.ids().includes(later));
  await sleep(300);
  assert.deepEqual(fresh.ids(), [first, ...during, later]);
  assert.deepEqual(resumed.ids(), [...during, later]);
  await fresh.close();
  await resumed.close();
});

test('one person holds at most sse_max_per_user streams per worker; beyond it 429', async () => {
  const frank = await newPerson(srv, admin, { name: 'Frank Events' });
  const streams = [];
  for (let i = 0; i < 48; i++) streams.push(await openStream(srv, frank));
  const open = streams.filter((s) => s.status === 200);
  const refused = streams.filter((s) => s.status === 429);
  assert.equal(open.length + refused.length, 48);
  assert.ok(open.length <= 40, `${open.length} streams open (2 workers x 20)`);
  assert.ok(refused.length >= 8);
  assert.equal(refused[0].headers['retry-after'], '5');
  await refused[0].closed;
  assert.equal(JSON.parse(refused[0].text).error.code, 'too_many_streams');
  // Other people are not affected, and closing streams makes room again.
  const other = await openStream(srv, bob);
  assert.equal(other.status, 200);
  await other.close();
  await Promise.all(streams.map((s) => s.close()));
  await eventually(async () => {
    const again = await openStream(srv, frank);
    const status = again.status;
    await again.close();
    assert.equal(status, 200);
  });
});

test('two servers on one database: an event written through one reaches streams on the other', async () => {
  const other = await startRelais({
    workers: 1, database: 'shared',
    env: { RELAIS_INSECURE_COOKIES: 'true', RELAIS_SSE_HEARTBEAT: '1s', RELAIS_DATABASE_URL: srv.env.RELAIS_DATABASE_URL },
  });
  try {
    const session = await login(other, alice.email, alice.password);
    const there = await openStream(other, session);
    const here = await openStream(srv, alice);
    assert.equal(there.status, 200);
    const id = notify(alice, 'question.unassigned');
    await there.waitFor((x) => x.ids().includes(id));
    await here.waitFor((x) => x.ids().includes(id));
    await there.close();
    await here.close();
  } finally {
    await other.stop();
  }
});

test('notifications: newest first with a cursor, unread count, mark read up to an id, own rows only', async () => {
  const erin = await newPerson(srv, admin, { name: 'Erin Events' });
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(notify(erin, 'question.comment', { i }));
  notify(bob);
  let res = await api(srv, 'GET', '/api/v1/notifications?limit=2', { session: erin });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.items.map((n) => n.id), [ids[4], ids[3]]);
  assert.equal(res.body.unread, 5);
  assert.equal(res.body.items[0].read_at, null);
  assert.deepEqual(Object.keys(res.body.items[0]).sort(), ['actor_user_id', 'created_at', 'data', 'id', 'kind', 'question_id', 'read_at']);
  res = await api(srv, 'GET', `/api/v1/notifications?limit=2&cursor=${res.body.next_cursor}`, { session: erin });
  assert.deepEqual(res.body.items.map((n) => n.id), [ids[2], ids[1]]);
  res = await api(srv, 'GET', `/api/v1/notifications?limit=2&cursor=${res.body.next_cursor}`, { session: erin });
  assert.deepEqual(res.body.items.map((n) => n.id), [ids[0]]);
  assert.equal(res.body.next_cursor, null);

  res = await api(srv, 'POST', '/api/v1/notifications/read', { session: erin, body: { up_to: ids[2] } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { marked: 3, unread: 2 });
  res = await api(srv, 'POST', '/api/v1/notifications/read', { session: erin, body: { up_to: ids[2] } });
  assert.deepEqual(res.body, { marked: 0, unread: 2 });
  res = await api(srv, 'GET', '/api/v1/notifications', { session: erin });
  assert.equal(res.body.unread, 2);
  assert.equal(res.body.items.length, 5);
  assert.ok(res.body.items.find((n) => n.id === ids[0]).read_at);
  assert.equal(res.body.items.find((n) => n.id === ids[4]).read_at, null);
  // Another user's notifications are neither listed nor marked.
  const bobUnread = Number(sql(srv, `SELECT count(*) FROM notifications WHERE user_id = ${bob.id} AND read_at IS NULL`));
  res = await api(srv, 'POST', '/api/v1/notifications/read', { session: erin, body: { up_to: 999999999 } });
  assert.deepEqual(res.body, { marked: 2, unread: 0 });
  assert.equal(Number(sql(srv, `SELECT count(*) FROM notifications WHERE user_id = ${bob.id} AND read_at IS NULL`)), bobUnread);
  // Concurrent "mark read" calls mark each row once.
  const more = [notify(erin), notify(erin), notify(erin)];
  const answers = await Promise.all([1, 2, 3].map(() => api(srv, 'POST', '/api/v1/notifications/read', { session: erin, body: { up_to: more[2] } })));
  assert.equal(answers.reduce((n, r) => n + r.body.marked, 0), 3);
});

test('bad input: last event ids, cursors, limits, up_to, bodies, CSRF', async () => {
  for (const bad of ['abc', '-1', '1e3', '12345678901234567890', '1 2', '0x10']) {
    const q = await api(srv, 'GET', `/api/v1/events?last_event_id=${encodeURIComponent(bad)}`, { session: alice });
    assertError(q, 400, 'invalid_query', 'last_event_id');
    const h = await api(srv, 'GET', '/api/v1/events', { session: alice, headers: { 'Last-Event-ID': bad } });
    assertError(h, 400, 'invalid_query', 'Last-Event-ID');
  }
  for (const bad of ['abc', '-5', '99999999999999999999']) {
    assertError(await api(srv, 'GET', `/api/v1/notifications?cursor=${bad}`, { session: alice }), 400, 'invalid_query', 'cursor');
  }
  for (const bad of ['0', '201', 'x']) {
    assertError(await api(srv, 'GET', `/api/v1/notifications?limit=${bad}`, { session: alice }), 400, 'invalid_query', 'limit');
  }
  const read = (body, opts = {}) => api(srv, 'POST', '/api/v1/notifications/read', { session: alice, body, ...opts });
  assertError(await read({}), 422, 'invalid_field', 'up_to');
  assertError(await read({ up_to: 'x' }), 422, 'invalid_field', 'up_to');
  assertError(await read({ up_to: 0 }), 422, 'invalid_field', 'up_to');
  assertError(await read({ up_to: -3 }), 422, 'invalid_field', 'up_to');
  assertError(await read({ up_to: 1.5 }), 422, 'invalid_field', 'up_to');
  assertError(await read({ up_to: 1, also: true }), 422, 'invalid_field', 'also');
  assertError(await read('{"up_to": 1'), 400, 'invalid_json');
  assertError(await read({ up_to: 1, pad: 'x'.repeat(5000) }), 413, 'body_too_large');
  assertError(await read({ up_to: 1 }, { csrf: false }), 403, 'csrf_failed');
  assertError(await api(srv, 'GET', '/api/v1/notifications'), 401, 'unauthenticated');
  assertError(await api(srv, 'POST', '/api/v1/notifications/read', { body: { up_to: 1 } }), 401, 'unauthenticated');
});

test('a stream sending bytes after its request is cut; the server stays healthy', async () => {
  const sock = net.connect(srv.port, '127.0.0.1');
  await new Promise((resolve) => sock.once('connect', resolve));
  let closed = false;
  sock.on('close', () => { closed = true; });
  sock.on('error', () => {});
  sock.on('data', () => {});
  sock.write(`GET /api/v1/events HTTP/1.1\r\nHost: x\r\nCookie: ${cookieName(srv)}=${alice.cookie}\r\n\r\n`);
  await sleep(100);
  sock.write('GET /api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200));
  await eventually(() => assert.ok(closed), 4000);
  assert.equal((await api(srv, 'GET', '/api/v1/me', { session: alice })).status, 200);
});

test('SIGTERM: open streams end and the server stops well within the grace period', async () => {
  const own = await startRelais({ workers: 2, env: { RELAIS_INSECURE_COOKIES: 'true', RELAIS_SHUTDOWN_GRACE: '20s' } });
  await loadDemo(own);
  const adm = await login(own, ADMIN_EMAIL);
  const streams = [];
  for (let i = 0; i < 6; i++) streams.push(await openStream(own, adm));
  const t0 = Date.now();
  const result = await own.stop();
  const took = Date.now() - t0;
  assert.equal(result.code, 0, own.logs());
  assert.ok(took < 8000, `stop took ${took} ms`);
  for (const s of streams) await s.closed;
});
