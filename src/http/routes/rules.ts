import type { Hono } from 'hono';
import { z } from 'zod';
import { ruleInputSchema, rulePatchSchema, ruleSchema } from '../../domain/rule-schema.ts';
import type { RuleService } from '../../runtime/alerts/rule-service.ts';
import type { HttpDeps } from '../deps.ts';
import { parseBody } from '../validate.ts';

const ruleList = z.object({ count: z.number(), rules: z.array(ruleSchema) });

/** `GET/POST /rules`, `GET/PATCH/DELETE /rules/:id`: alert rules; every change reaches the rule's actor at once. */
export function ruleRoutes(app: Hono, deps: HttpDeps, rules: RuleService): void {
  deps.docs.add({ method: 'get', path: '/rules', tag: 'rules', summary: 'Every alert rule, oldest first', response: ruleList, errors: [503] });
  app.get('/rules', async (c) => {
    const all = await rules.list();
    return c.json({ count: all.length, rules: all });
  });

  deps.docs.add({ method: 'post', path: '/rules', tag: 'rules', summary: 'Create a rule (201); 409 when the id exists', body: ruleInputSchema, response: ruleSchema, status: 201, errors: [409, 503] });
  app.post('/rules', async (c) => c.json(await rules.create(await parseBody(c, ruleInputSchema)), 201));

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
