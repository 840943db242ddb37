import type { Hono } from 'hono';
import { z } from 'zod';
import { READINGS_BATCH_LIMIT, readingsBodySchema } from '../../domain/reading-schema.ts';
import { ValidationError } from '../../errors.ts';
import type { AlertEngine } from '../../runtime/alerts/engine.ts';
import type { WriteAnswer } from '../hot-writes.ts';
import type { RouteTools } from '../route-module.ts';

const accepted = z.object({ accepted: z.number(), stale: z.number() });

/**
 * `POST /readings`: one reading or an array of up to READINGS_BATCH_LIMIT. Each reading is checked
 * on its own: the valid ones are evaluated and stored even when others are rejected (422 listing
 * the rejected ones by index, with `accepted`); 202 when all were accepted. A hot write: the
 * server's fast path answers it too (see fast-write.ts).
 */
export function readingRoutes(app: Hono, deps: RouteTools, engine: Pick<AlertEngine, 'accept'>): void {
  deps.docs.add({
    method: 'post',
    path: '/readings',
    tag: 'readings',
    summary: `Readings: one or an array of up to ${READINGS_BATCH_LIMIT}; 422 lists the rejected ones, the others are kept`,
    body: readingsBodySchema,
    response: accepted,
    status: 202,
    errors: [503],
  });
  deps.hotWrites.post(app, '/readings', (body) => postReadings(engine, body));
}

/** The readings of one request, accepted: the answer once they are committed. */
async function postReadings(engine: Pick<AlertEngine, 'accept'>, body: unknown): Promise<WriteAnswer> {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) throw new ValidationError([{ path: 'body', message: 'must hold at least one reading' }]);
  if (items.length > READINGS_BATCH_LIMIT) {
    throw new ValidationError([{ path: 'body', message: `at most ${READINGS_BATCH_LIMIT} readings per request (got ${items.length})` }], { code: 'BATCH_TOO_LARGE' });
  }
  // 202 only once the readings, the alert events they caused and those events' outbox rows are
  // committed (a group commit shared by concurrent requests); on Kafka, once the broker acknowledged
  // them (acks = all) for the instances that own their rules. A store that cannot take them now is
  // a 503 with `retriable: true`: nothing of the request was acknowledged, and it can be resent.
  const result = await engine.accept(items);
  await result.stored;
  if (result.rejected.length === 0) return { status: 202, body: { accepted: result.accepted, stale: result.stale } };
  const issues = result.rejected.map(({ issue }) => issue);
  return { status: 422, body: { error: new ValidationError(issues).message, code: 'VALIDATION_FAILED', accepted: result.accepted, stale: result.stale, issues } };
}
