import type { Hono } from 'hono';
import { z } from 'zod';
import { NotFoundError } from '../../errors.ts';
import { machineConfig } from '../../runtime/machine-config.ts';
import { viewOf } from '../../runtime/registry.ts';
import type { ActorRegistry } from '../../runtime/registry.ts';
import type { RouteTools } from '../route-module.ts';
import { parseQuery } from '../validate.ts';

const listQuery = z.object({
  kind: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
});

/** An actor as `/actors/:id` shows it (and `/actors`, without `context`, and every SSE event's data). */
const actorView = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.enum(['active', 'done', 'error', 'stopped']),
  value: z.unknown().describe('the state value: a name, or nested names for compound states'),
  context: z.unknown().optional(),
  error: z.string().optional().describe('what stopped the actor, when status is error'),
});
const actorList = z.object({ total: z.number().int(), actors: z.array(actorView.omit({ context: true })) });

/** `GET /actors` (states), `GET /actors/:id` (value, context, status), `GET /actors/:id/machine` (config), `GET /actors/:id/definition` (resolved). */
export function actorRoutes(app: Hono, deps: RouteTools & { registry: Pick<ActorRegistry, 'entries' | 'get' | 'size'> }): void {
  deps.docs.add({ method: 'get', path: '/actors', tag: 'actors', summary: 'Every actor with its state', query: listQuery, response: actorList });
  app.get('/actors', (c) => {
    const { kind, limit } = parseQuery(c, listQuery);
    const actors = [];
    for (const entry of deps.registry.entries(kind)) {
      if (actors.length >= limit) break;
      actors.push(viewOf(entry, false));
    }
    return c.json({ total: deps.registry.size, actors });
  });

  const lookup = (id: string) => {
    const entry = deps.registry.get(id);
    if (!entry) throw new NotFoundError('actor', id);
    return entry;
  };

  deps.docs.add({ method: 'get', path: '/actors/:id', tag: 'actors', summary: 'One actor: value, context, status', response: actorView });
  deps.hotReads.get(app, '/actors/:id', ({ id }) => viewOf(lookup(id!), true));

  deps.docs.add({
    method: 'get',
    path: '/actors/:id/machine',
    tag: 'actors',
    summary: "The actor's machine config, as createMachine() takes it (with eventless and delayed transitions)",
  });
  deps.hotReads.get(app, '/actors/:id/machine', ({ id }) => machineConfig(lookup(id!).machine));

  // XState's resolved definition (state ids, resolved targets, eventType per transition): what the dashboard's drawing reads.
  deps.docs.add({ method: 'get', path: '/actors/:id/definition', tag: 'actors', summary: "The actor's machine as XState resolves it (machine.toJSON())" });
  deps.hotReads.get(app, '/actors/:id/definition', ({ id }) => lookup(id!).machine.toJSON());
}
