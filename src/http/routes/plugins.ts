import type { Hono } from 'hono';
import { z } from 'zod';
import type { PluginHealth } from '../../domain/plugin.ts';
import type { RouteModule, RouteTools } from '../route-module.ts';

const pluginSchema = z.object({
  name: z.string(),
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  last_run_at: z.string().nullable(),
  last_success_at: z.string().nullable(),
  last_error: z.string().nullable(),
  consecutive_failures: z.number().int(),
  total_runs: z.number().int(),
  total_failures: z.number().int(),
  success_rate: z.number(),
});
const listResponse = z.object({ count: z.number().int(), plugins: z.array(pluginSchema) });

/** `GET /plugins`: every plugin's health, by name. */
export function pluginRoutes(source: { list(): PluginHealth[] }): RouteModule {
  return (app: Hono, deps: RouteTools) => {
    deps.docs.add({ method: 'get', path: '/plugins', tag: 'plugins', summary: 'Health of every plugin (jobs, consumers, channels, propagator)', response: listResponse });
    app.get('/plugins', (c) => {
      const plugins = source.list();
      return c.json({ count: plugins.length, plugins });
    });
  };
}
