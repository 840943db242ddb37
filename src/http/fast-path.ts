import type { RequestListener } from 'node:http';
import type { Logger } from '../runtime/logger.ts';
import { errorPayload } from './errors.ts';
import type { RequestGuard } from './guard.ts';
import type { HotReads } from './hot-reads.ts';
import type { RequestDurations } from './request-durations.ts';

/** What the fast path shares with the Hono app, so both answer a hot read alike. */
export interface FastPathParts {
  hotReads: HotReads;
  guard: RequestGuard;
  durations: RequestDurations;
  logger: Logger;
}

/**
 * The server's request listener: `GET` of a hot read (`/actors/:id`) is answered here on node:http,
 * everything else goes to `fallback` (the Hono app). The answer is the Hono route's, header for
 * header: the same guard (rate limits, token), the same read, the same error bodies and the same
 * duration histogram; test/http/fast-path.test.ts holds the two to that.
 *
 * Why: the hottest route is polled by dashboards and gateways, and Hono on @hono/node-server
 * reaches ~0.74 of bare node:http on it before any middleware (bench/http.ts), while the
 * issue's target for the whole route, rate limits on, is 0.8. Embedding gateways mount
 * `runtime.app` and get the Hono route, which is correct, only slower.
 */
export function withFastPath(parts: FastPathParts, fallback: RequestListener): RequestListener {
  const { hotReads, guard, durations, logger } = parts;
  return (req, res) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const match = req.method === 'GET' ? hotReads.match(path) : undefined;
    if (!match) return fallback(req, res);
    const started = performance.now();
    const verdict = guard.check({ method: 'GET', pattern: match.pattern, matched: true, address: req.socket.remoteAddress ?? 'local', authorization: guard.readsToken ? req.headers.authorization : undefined });
    let status = 200;
    let json: string;
    if (verdict.refusal) {
      status = verdict.refusal.status;
      json = JSON.stringify(verdict.refusal.body);
    } else {
      try {
        json = JSON.stringify(match.read(match.params));
      } catch (error) {
        const payload = errorPayload(error, logger, { method: 'GET', path });
        status = payload.status;
        json = JSON.stringify(payload.body);
      }
    }
    const headers = ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(json))];
    if (verdict.limitHeaders) headers.push(...verdict.limitHeaders);
    if (verdict.refusal) headers.push(...verdict.refusal.headers);
    res.writeHead(status, headers);
    res.end(json);
    durations.observe('GET', match.pattern, status, (performance.now() - started) / 1_000);
  };
}
