import type { IncomingMessage, RequestListener } from 'node:http';
import { answerHeaders, errorAnswer, guardVerdict, jsonAnswer, refusalAnswer, sendAnswer, type Answer } from './fast-answer.ts';
import { answerHotWrite, type FastWriteParts } from './fast-write.ts';
import type { HotMatch, HotReads } from './hot-reads.ts';
import type { HotWrites } from './hot-writes.ts';

/** What the fast path shares with the Hono app, so both answer a hot route alike: the hot routes, and what a write needs. */
export interface FastPathParts extends FastWriteParts {
  hotReads: HotReads;
  hotWrites: HotWrites;
}

/**
 * The server's request listener: `GET` of a hot read (`/actors/:id`) and `POST` of a hot write
 * (`/readings`, see fast-write.ts) are answered here on node:http, everything else goes to
 * `fallback` (the Hono app). The answer is the Hono route's, header for header: the same guard
 * (rate limits, token), the same body limit, the same work, the same error bodies and the same
 * duration histogram; test/http/fast-path.test.ts holds the two to that.
 *
 * Why: the hottest routes are polled by dashboards and gateways or posted to by every device, and
 * Hono on @hono/node-server reaches ~0.75 of bare node:http on a read before any middleware
 * (bench/http.ts); on a write it also builds a web `Request` and its body stream, and a `Response`.
 * Embedding gateways mount `runtime.app` and get the Hono routes, which are correct, only slower.
 */
export function withFastPath(parts: FastPathParts, fallback: RequestListener): RequestListener {
  const { hotReads, hotWrites, durations, logger } = parts;
  return (req, res) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const method = req.method;
    if (method === 'POST') {
      const write = hotWrites.match(path);
      return write ? answerHotWrite(write, req, res, path, parts) : fallback(req, res);
    }
    const match = method === 'GET' ? hotReads.match(path) : undefined;
    if (!match) return fallback(req, res);
    const started = performance.now();
    let answer: Answer;
    try {
      answer = answerHotRead(match, req, path, parts);
    } catch (error) {
      // A failure outside the read itself (the guard, say) is this request's 500, never the process's.
      answer = errorAnswer(error, logger, { method: 'GET', path }, answerHeaders(undefined));
    }
    sendAnswer(res, answer);
    durations.observe('GET', match.pattern, answer.status, (performance.now() - started) / 1_000);
  };
}

function answerHotRead(match: HotMatch, req: IncomingMessage, path: string, { guard, logger }: FastPathParts): Answer {
  const verdict = guardVerdict(guard, 'GET', match.pattern, req);
  const headers = answerHeaders(verdict);
  if (verdict.refusal) return refusalAnswer(verdict.refusal, headers);
  try {
    return jsonAnswer(200, headers, match.read(match.params));
  } catch (error) {
    return errorAnswer(error, logger, { method: 'GET', path }, headers);
  }
}
