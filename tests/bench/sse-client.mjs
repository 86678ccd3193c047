// One load process of tests/bench/sse.mjs: opens many live event streams over raw TCP from
// one source address and reports, as JSON lines on stdout:
//   {"ready": n}                        once n streams answered 200 (or {"failed": ...})
//   {"run": r, "last": ms, "got": n}    once every stream got the event of run r, with the
//                                       epoch time (ms, sub-ms precision) of the last arrival
// Reads commands from stdin: "expect <run>" (an event with data.run = <run> is coming), "quit".
// argv: port, source address, cookie name, first token number, number of streams (token i is
// "bench" + i on 38 digits: sse.mjs stores their hashes as sessions).
import net from 'node:net';
import readline from 'node:readline';

const [port, from, cookieName, first, count] = process.argv.slice(2);
const tokens = Array.from({ length: Number(count) }, (_, i) => `bench${String(Number(first) + i).padStart(38, '0')}`);
const now = () => performance.timeOrigin + performance.now();
const conns = [];
let ready = 0;
let failed = 0;
let expecting = null;
let got = 0;
let last = 0;

function open(token) {
  return new Promise((resolve) => {
    const c = { sock: null, ok: false, buf: '', seen: new Set() };
    const sock = net.connect({ port: Number(port), host: '127.0.0.1', localAddress: from });
    c.sock = sock;
    sock.setEncoding('latin1');
    sock.on('connect', () => {
      sock.write(`GET /api/v1/events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\nCookie: ${cookieName}=${token}\r\n\r\n`);
    });
    sock.on('data', (d) => {
      if (!c.ok) {
        c.buf += d;
        const end = c.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        c.ok = c.buf.startsWith('HTTP/1.1 200');
        if (!c.ok) { failed += 1; resolve(); return; }
        d = c.buf.slice(end + 4);
        c.buf = '';
        ready += 1;
        resolve();
      }
      if (expecting === null) return;
      // Chunked framing and SSE lines: the event's JSON carries "run":<r>.
      const marker = `"run":${expecting}`;
      if (!c.seen.has(expecting) && (c.buf + d).includes(marker)) {
        c.seen.add(expecting);
        got += 1;
        last = now();
        if (got === ready) {
          process.stdout.write(`${JSON.stringify({ run: expecting, last, got })}\n`);
        }
        c.buf = '';
      } else {
        c.buf = d.slice(-64);
      }
    });
    sock.on('error', () => { if (!c.ok) { failed += 1; resolve(); } });
    sock.on('close', () => { if (c.ok) process.stdout.write(`${JSON.stringify({ closed: 1 })}\n`); });
    conns.push(c);
  });
}

// Opens in waves so that the listen backlog and the gate's database queries keep up.
const WAVE = 200;
for (let i = 0; i < tokens.length; i += WAVE) {
  await Promise.all(tokens.slice(i, i + WAVE).map(open));
}
process.stdout.write(`${JSON.stringify({ ready, failed })}\n`);

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.trim().split(' ');
  if (cmd === 'expect') { expecting = Number(arg); got = 0; last = 0; }
  if (cmd === 'status') process.stdout.write(`${JSON.stringify({ status: { ready, failed, got, expecting } })}\n`);
  if (cmd === 'quit') { for (const c of conns) c.sock.destroy(); process.exit(0); }
});
