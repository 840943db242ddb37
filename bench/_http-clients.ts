/**
 * The load generators of bench/http.ts, run in a worker thread so the servers under test keep the
 * main thread's event loop to themselves. Kept as plain JavaScript source (run with `eval`), so
 * the worker needs no TypeScript loader.
 */

/** Keep-alive GET loop: `concurrency` requests in flight for `durationMs`; posts `{ requests, errors, statuses }`. */
export const REQUEST_LOOP = `
const { workerData, parentPort } = require('node:worker_threads');
const http = require('node:http');
const { url, concurrency, durationMs } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(url);
let requests = 0, errors = 0;
const statuses = {};
const deadline = Date.now() + durationMs;
function one() {
  return new Promise((resolve) => {
    const req = http.get({ host: target.hostname, port: target.port, path: target.pathname, agent }, (res) => {
      statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
      res.on('data', () => {});
      res.on('end', () => { requests++; resolve(); });
    });
    req.on('error', () => { errors++; resolve(); });
  });
}
async function worker() { while (Date.now() < deadline) await one(); }
Promise.all(Array.from({ length: concurrency }, worker)).then(() => {
  agent.destroy();
  parentPort.postMessage({ requests, errors, statuses });
});
`;

/**
 * SSE clients: opens \`clients\` streams, says 'ready' once all have their headers, then records for
 * every event with a \`seq\` in [0, expected) its latency (now − sentAt, both epoch ms with sub-ms
 * precision). On 'stop' posts \`{ received, latencies }\`.
 */
export const SSE_CLIENTS = `
const { workerData, parentPort } = require('node:worker_threads');
const http = require('node:http');
const { url, clients, expected } = workerData;
const now = () => performance.timeOrigin + performance.now();
const latencies = [];
let received = 0, ready = 0;
const sockets = [];
for (let i = 0; i < clients; i++) {
  const req = http.get(url, { agent: false }, (res) => {
    sockets.push(res);
    if (++ready === clients) parentPort.postMessage('ready');
    res.setEncoding('utf8');
    let pending = '';
    res.on('data', (chunk) => {
      pending += chunk;
      let end;
      while ((end = pending.indexOf('\\n\\n')) !== -1) {
        const frame = pending.slice(0, end);
        pending = pending.slice(end + 2);
        const line = frame.split('\\n').find((l) => l.startsWith('data: '));
        if (!line) continue;
        const data = JSON.parse(line.slice(6));
        const ctx = data.context || data;
        if (ctx.seq >= 0 && ctx.seq < expected) {
          received++;
          latencies.push(now() - ctx.sentAt);
        }
      }
    });
  });
  req.on('error', () => {});
}
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  for (const res of sockets) res.destroy();
  parentPort.postMessage({ received, latencies });
});
`;
