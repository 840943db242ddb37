import type { Hono } from 'hono';
import { z } from 'zod';
import { silenceInputSchema, silenceSchema } from '../../domain/silence-schema.ts';
import { NotFoundError } from '../../errors.ts';
import type { Silences } from '../../runtime/silences.ts';
import type { RouteModule } from '../route-module.ts';
import { parseBody } from '../validate.ts';

const silenceList = z.object({ count: z.number(), silences: z.array(silenceSchema) });

/** `POST/GET /silences`, `GET/DELETE /silences/:id`: Alertmanager-style silences, each run by its own actor. */
export function silenceRoutes(silences: Pick<Silences, 'create' | 'list' | 'get' | 'expire'>): RouteModule {
  return (app: Hono, tools) => {
    tools.docs.add({
      method: 'post',
      path: '/silences',
      tag: 'silences',
      summary: 'Silence the notifications of matching alerts from starts_at (default now) to ends_at (201); alert states still change',
      body: silenceInputSchema,
      response: silenceSchema,
      status: 201,
      errors: [503],
    });
    app.post('/silences', async (c) => c.json(await silences.create(await parseBody(c, silenceInputSchema)), 201));

    tools.docs.add({ method: 'get', path: '/silences', tag: 'silences', summary: 'Every silence, newest first, with its state (pending, active, expired)', response: silenceList, errors: [503] });
    app.get('/silences', async (c) => {
      const all = await silences.list();
      return c.json({ count: all.length, silences: all });
    });

    tools.docs.add({ method: 'get', path: '/silences/:id', tag: 'silences', summary: 'One silence', response: silenceSchema, errors: [503] });
    app.get('/silences/:id', async (c) => {
      const silence = await silences.get(c.req.param('id'));
      if (!silence) throw new NotFoundError('silence', c.req.param('id'));
      return c.json(silence);
    });

    tools.docs.add({ method: 'delete', path: '/silences/:id', tag: 'silences', summary: 'Expire a silence now (204); it stays listed, expired', status: 204, errors: [503] });
    app.delete('/silences/:id', async (c) => {
      if (!(await silences.expire(c.req.param('id')))) throw new NotFoundError('silence', c.req.param('id'));
      return c.body(null, 204);
    });
  };
}
