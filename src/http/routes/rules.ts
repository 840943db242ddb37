import type { Hono } from 'hono';
import { z } from 'zod';
import { ruleInputSchema, rulePatchSchema, ruleSchema } from '../../domain/rule-schema.ts';
import type { RuleService } from '../../runtime/alerts/rule-service.ts';
import type { RouteTools } from '../route-module.ts';
import { parseBody, parseWith } from '../validate.ts';
import { ValidationError } from '../../errors.ts';
import { maxBody } from '../middleware/body-limit.ts';

const ruleList = z.object({ count: z.number(), rules: z.array(ruleSchema) });
const createdList = z.object({ created: z.number(), rules: z.array(ruleSchema) });

/** Rules one `POST /rules` may create: a large file goes in a few requests (or `vigil rules apply`). */
export const RULES_BATCH_LIMIT = 10_000;

/**
 * `POST /rules` takes rules in bulk, so it has a body limit of its own (RULES_MAX_BODY_BYTES), not
 * MAX_BODY_BYTES. By the path's end: a gateway may mount the app under a prefix (`/vigil/rules`).
 */
export const limitsItsOwnBody = (method: string, path: string): boolean => method === 'POST' && path.endsWith('/rules');

/** The body's JSON, or a 400 naming it. */
async function jsonBody(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    throw new ValidationError([{ path: 'body', message: 'must be valid JSON (send Content-Type: application/json)' }], { status: 400, code: 'INVALID_JSON' });
  }
}

/** `GET/POST /rules`, `GET/PATCH/DELETE /rules/:id`: alert rules; every change reaches the rule's actor at once. */
export function ruleRoutes(app: Hono, deps: RouteTools, rules: RuleService, maxBodyBytes: number): void {
  deps.docs.add({ method: 'get', path: '/rules', tag: 'rules', summary: 'Every alert rule, oldest first', response: ruleList, errors: [503] });
  app.get('/rules', async (c) => {
    const all = await rules.list();
    return c.json({ count: all.length, rules: all });
  });

  deps.docs.add({
    method: 'post',
    path: '/rules',
    tag: 'rules',
    summary: `Create a rule (201; 409 when the id exists), or an array of up to ${RULES_BATCH_LIMIT}: each checked on its own, 422 lists the rejected by index, the others are created`,
    body: z.union([ruleInputSchema, z.array(ruleInputSchema)]),
    response: z.union([ruleSchema, createdList]),
    status: 201,
    errors: [409, 503],
  });
  app.post('/rules', maxBody({ bytes: maxBodyBytes, setting: 'RULES_MAX_BODY_BYTES' }), async (c) => {
    const body = await jsonBody(c.req.raw);
    if (!Array.isArray(body)) return c.json(await rules.create(parseWith(ruleInputSchema, body)), 201);
    if (body.length === 0) throw new ValidationError([{ path: 'body', message: 'must hold at least one rule' }]);
    if (body.length > RULES_BATCH_LIMIT) {
      throw new ValidationError([{ path: 'body', message: `at most ${RULES_BATCH_LIMIT} rules per request (got ${body.length}); split the array` }], { code: 'BATCH_TOO_LARGE' });
    }
    const { created, rejected } = await rules.createMany(body);
    if (rejected.length === 0) return c.json({ created: created.length, rules: created }, 201);
    const issues = rejected.flatMap((r) => r.issues);
    return c.json({ error: new ValidationError(issues).message, code: 'VALIDATION_FAILED', created: created.length, rules: created, rejected: rejected.map((r) => r.index), issues }, 422);
  });

  deps.docs.add({ method: 'get', path: '/rules/:id', tag: 'rules', summary: 'One rule', response: ruleSchema, errors: [503] });
  app.get('/rules/:id', async (c) => c.json(await rules.get(c.req.param('id'))));

  deps.docs.add({ method: 'patch', path: '/rules/:id', tag: 'rules', summary: 'Change some fields of a rule', body: rulePatchSchema, response: ruleSchema, errors: [503] });
  app.patch('/rules/:id', async (c) => c.json(await rules.update(c.req.param('id'), await parseBody(c, rulePatchSchema))));

  deps.docs.add({ method: 'delete', path: '/rules/:id', tag: 'rules', summary: 'Delete a rule (204); its open alert is resolved', status: 204, errors: [503] });
  app.delete('/rules/:id', async (c) => {
    await rules.delete(c.req.param('id'));
    return c.body(null, 204);
  });
}
