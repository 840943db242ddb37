import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../runtime/logger.ts';
import { errorPayload } from './errors.ts';
import type { HeaderList, RequestGuard, Verdict } from './guard.ts';

/** A response as the fast path writes it: headers as a flat list of names and values. */
export interface Answer {
  status: number;
  headers: HeaderList;
  json: string;
}

/** The guard's verdict (rate limits, token) on a request of a hot route, read as the Hono middleware reads it. */
export function guardVerdict(guard: RequestGuard, method: string, pattern: string, req: IncomingMessage): Verdict {
  return guard.check({
    method,
    pattern,
    matched: true,
    address: req.socket.remoteAddress ?? 'local',
    authorization: guard.readsToken ? req.headers.authorization : undefined,
  });
}

/** The headers every fast-path answer starts with: the JSON type, then the guard's rate-limit headers. */
export function answerHeaders(verdict: Verdict | undefined): HeaderList {
  const headers = ['content-type', 'application/json'];
  if (verdict?.limitHeaders) headers.push(...verdict.limitHeaders);
  return headers;
}

/** `value` as JSON with `headers` and its Content-Length. */
export function jsonAnswer(status: number, headers: HeaderList, value: unknown): Answer {
  const json = JSON.stringify(value);
  headers.push('content-length', String(Buffer.byteLength(json)));
  return { status, headers, json };
}

/** The guard's refusal, with its own headers after `headers`. */
export function refusalAnswer(refusal: NonNullable<Verdict['refusal']>, headers: HeaderList): Answer {
  headers.push(...refusal.headers);
  return jsonAnswer(refusal.status, headers, refusal.body);
}

/** An error as the Hono app's `onError` answers it (see `errorPayload`). */
export function errorAnswer(error: unknown, logger: Logger, request: { method: string; path: string }, headers: HeaderList): Answer {
  const payload = errorPayload(error, logger, request);
  return jsonAnswer(payload.status, headers, payload.body);
}

/** Writes `answer` out. */
export function sendAnswer(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.json);
}
