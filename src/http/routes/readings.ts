import type { Hono } from 'hono';
import { z } from 'zod';
import { READINGS_BATCH_LIMIT, readingsBodySchema } from '../../domain/reading-schema.ts';
import { ValidationError } from '../../errors.ts';
import type { AlertEngine } from '../../runtime/alerts/engine.ts';
import type { HttpDeps } from '../deps.ts';

const accepted = z.object({ accepted: z.number(), stale: z.number() });

/** The body's JSON, or a 400 naming it. */
async function jsonBody(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    throw new ValidationError([{ path: 'body', message: 'must be valid JSON (send Content-Type: application/json)' }], { status: 400, code: 'INVALID_JSON' });
  }
}

/**
 * `POST /readings`: one reading or an array of up to READINGS_BATCH_LIMIT. Each reading is checked
 * on its own: the valid ones are evaluated and stored even when others are rejected (422 listing
 * the rejected ones by index, with `accepted`); 202 when all were accepted.
 */
export function readingRoutes(app: Hono, deps: HttpDeps, engine: Pick<AlertEngine, 'accept'>): void {
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
  app.post('/readings', async (c) => {
    const body = await jsonBody(c.req.raw);
    const items = Array.isArray(body) ? body : [body];
    if (items.length === 0) throw new ValidationError([{ path: 'body', message: 'must hold at least one reading' }]);
    if (items.length > READINGS_BATCH_LIMIT) {
      throw new ValidationError([{ path: 'body', message: `at most ${READINGS_BATCH_LIMIT} readings per request (got ${items.length})` }], { code: 'BATCH_TOO_LARGE' });
    }
    // 202: evaluated now, the latest reading per series stored write-behind (within 250 ms); on
    // Kafka, once the broker has them for the instances that own their rules.
    const result = await engine.accept(items);
    if (result.rejected.length === 0) return c.json({ accepted: result.accepted, stale: result.stale }, 202);
    const issues = result.rejected.map(({ issue }) => issue);
    return c.json({ error: new ValidationError(issues).message, code: 'VALIDATION_FAILED', accepted: result.accepted, stale: result.stale, issues }, 422);
  });
}
