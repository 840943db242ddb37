import type { IncomingMessage, RequestListener } from 'node:http';
import type { Logger } from '../runtime/logger.ts';
import { errorPayload } from './errors.ts';
import type { RequestGuard } from './guard.ts';
import type { HotMatch, HotReads } from './hot-reads.ts';
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
 * reaches ~0.75 of bare node:http on it before any middleware (bench/http.ts), while Vigil's
 * target for the whole route, rate limits on, is 0.8. Embedding gateways mount `runtime.app` and
 * get the Hono route, which is correct, only slower.
 */
export function withFastPath(parts: FastPathParts, fallback: RequestListener): RequestListener {
  const { hotReads, durations, logger } = parts;
  return (req, res) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const match = req.method === 'GET' ? hotReads.match(path) : undefined;
    if (!match) return fallback(req, res);
    const started = performance.now();
    let answer: Answer;
    try {
      answer = answerHotRead(match, req, path, parts);
    } catch (error) {
      // A failure outside the read itself (the guard, say) is this request's 500, never the process's.
      answer = errorAnswer(error, logger, path, ['content-type', 'application/json']);
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.json);
    durations.observe('GET', match.pattern, answer.status, (performance.now() - started) / 1_000);
  };
}

/** A response as the fast path writes it: headers as a flat list of names and values. */
interface Answer {
  status: number;
  headers: string[];
  json: string;
}

function answerHotRead(match: HotMatch, req: IncomingMessage, path: string, { guard, logger }: FastPathParts): Answer {
  const verdict = guard.check({
    method: 'GET',
    pattern: match.pattern,
    matched: true,
    address: req.socket.remoteAddress ?? 'local',
    authorization: guard.readsToken ? req.headers.authorization : undefined,
  });
  const headers = ['content-type', 'application/json'];
  if (verdict.limitHeaders) headers.push(...verdict.limitHeaders);
  if (verdict.refusal) {
    headers.push(...verdict.refusal.headers);
    return withLength({ status: verdict.refusal.status, headers, json: JSON.stringify(verdict.refusal.body) });
  }
  try {
    return withLength({ status: 200, headers, json: JSON.stringify(match.read(match.params)) });
  } catch (error) {
    return errorAnswer(error, logger, path, headers);
  }
}

function errorAnswer(error: unknown, logger: Logger, path: string, headers: string[]): Answer {
  const payload = errorPayload(error, logger, { method: 'GET', path });
  return withLength({ status: payload.status, headers, json: JSON.stringify(payload.body) });
}

function withLength(answer: Answer): Answer {
  answer.headers.push('content-length', String(Buffer.byteLength(answer.json)));
  return answer;
}
