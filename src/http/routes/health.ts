import type { Hono } from 'hono';
import { z } from 'zod';
import type { Broker } from '../../streams/broker.ts';
import type { Store } from '../../storage/store.ts';
import type { RouteTools } from '../route-module.ts';

const check = z.object({ ok: z.boolean(), detail: z.string().optional() });
const readiness = z.object({ status: z.enum(['ready', 'not ready']), checks: z.record(z.string(), check) });

/** What the health routes read: the adapters' health, whether the runtime started, and the concerns' own checks. */
export interface HealthDeps extends RouteTools {
  store: Pick<Store, 'health'>;
  broker: Pick<Broker, 'health'>;
  isStarted(): boolean;
  /** Readiness checks of the concerns (the MQTT connection, say). */
  readiness: readonly { name: string; check(): { ok: boolean; detail?: string } }[];
}

/** `GET /healthz` (the process answers) and `GET /readyz` (store and broker reachable, actors started). */
export function healthRoutes(app: Hono, deps: HealthDeps): void {
  deps.docs.add({ method: 'get', path: '/healthz', tag: 'health', summary: 'Liveness: the process answers' });
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  deps.docs.add({ method: 'get', path: '/readyz', tag: 'health', summary: 'Readiness: store and broker reachable, actors started (503 otherwise)', response: readiness, errors: [503], errorBodies: { 503: readiness } });
  app.get('/readyz', async (c) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    try {
      await deps.store.health();
      checks.store = { ok: true };
    } catch (error) {
      checks.store = { ok: false, detail: (error as Error).message };
    }
    try {
      checks.broker = await deps.broker.health();
    } catch (error) {
      checks.broker = { ok: false, detail: (error as Error).message };
    }
    checks.actors = { ok: deps.isStarted() };
    for (const { name, check } of deps.readiness) checks[name] = check();
    const ready = Object.values(checks).every((check) => check.ok);
    return c.json({ status: ready ? 'ready' : 'not ready', checks }, ready ? 200 : 503);
  });
}
