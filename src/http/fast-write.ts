import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerHeaders, errorAnswer, guardVerdict, jsonAnswer, refusalAnswer, sendAnswer, type Answer } from './fast-answer.ts';
import type { Logger } from '../runtime/logger.ts';
import { tooLargeBody, type BodyLimit } from './middleware/body-limit.ts';
import type { HeaderList, RequestGuard } from './guard.ts';
import type { HotWriteMatch } from './hot-writes.ts';
import { parseJsonBytes } from './json-body.ts';
import type { RequestDurations } from './request-durations.ts';

/** What a hot write shares with the Hono app, so both answer it alike. */
export interface FastWriteParts {
  guard: RequestGuard;
  durations: RequestDurations;
  logger: Logger;
  /** The app's body limit (MAX_BODY_BYTES): a body over it is refused with the same 413. */
  bodyLimit: BodyLimit;
}


/**
 * Answers `POST` of a hot write on node:http as the Hono app does, step for step: the guard (rate
 * limit, token) before anything is read; the body limit, by Content-Length when there is one (the
 * body is then not read), else while reading; the body parsed as `Request.json()` parses it; the
 * write; its answer or its error as `onError` gives it; the duration histogram.
 */
export function answerHotWrite(match: HotWriteMatch, req: IncomingMessage, res: ServerResponse, path: string, parts: FastWriteParts): void {
  const { guard, durations, logger } = parts;
  const started = performance.now();
  const request = { method: 'POST', path };
  let answered = false;
  // Nothing thrown here may escape: it would be an uncaught error (or an unhandled rejection) of the process.
  const send = (answer: Answer) => {
    if (answered) return;
    answered = true;
    try {
      sendAnswer(res, answer);
    } catch (error) {
      logger.error({ err: error, path, method: 'POST' }, 'answer not written');
    }
    durations.observe('POST', match.pattern, answer.status, (performance.now() - started) / 1_000);
  };
  let headers: HeaderList;
  try {
    const verdict = guardVerdict(guard, 'POST', match.pattern, req);
    headers = answerHeaders(verdict);
    if (verdict.refusal) return send(refusalAnswer(verdict.refusal, headers));
  } catch (error) {
    // A failure of the guard itself is this request's 500, never the process's.
    return send(errorAnswer(error, logger, request, answerHeaders(undefined)));
  }
  const fail = (error: unknown) => send(errorAnswer(error, logger, request, headers));
  // The same 413 as the app's body limit gives.
  const { bodyLimit } = parts;
  const tooLarge = () => send(jsonAnswer(413, headers, tooLargeBody(bodyLimit)));
  if (declaredOver(req, bodyLimit.bytes)) return tooLarge();
  readBody(req, bodyLimit.bytes, (bytes) => {
    if (bytes === undefined) return tooLarge();
    let body: unknown;
    try {
      body = parseJsonBytes(bytes);
    } catch (error) {
      return fail(error);
    }
    // An answer that cannot be serialized is the write's error (a 500), as `c.json` throwing is for Hono.
    match.write(body).then((answer) => jsonAnswer(answer.status, headers, answer.body)).then(send, fail);
  });
}

/** Whether Content-Length (with no Transfer-Encoding, as Hono's body limit reads them) is over `max`. */
function declaredOver(req: IncomingMessage, max: number): boolean {
  const length = req.headers['content-length'];
  return length !== undefined && req.headers['transfer-encoding'] === undefined && Number.parseInt(length, 10) > max;
}

/**
 * Reads the whole body, then calls `done` with it; with `undefined` as soon as it passes `max`
 * bytes (the rest is read and dropped, so the connection stays usable). A body cut short (the
 * client went away) ends in an empty read, which parses as no JSON: the app's answer too, sent to
 * a client no longer there.
 */
function readBody(req: IncomingMessage, max: number, done: (bytes: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  /** Whether `done` was called: it is called once, whatever the request does next. */
  let told = false;
  const tell = (bytes: Buffer | undefined) => {
    if (told) return;
    told = true;
    chunks.length = 0;
    done(bytes);
  };
  req.on('data', (chunk: Buffer) => {
    if (told) return;
    size += chunk.length;
    if (size > max) tell(undefined);
    else chunks.push(chunk);
  });
  req.on('end', () => tell(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
  req.on('error', () => tell(Buffer.alloc(0)));
}
