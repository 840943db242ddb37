import type { Context, Hono } from 'hono';
import type { ServerResponse } from 'node:http';
import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';
import type { Registry } from 'prom-client';
import type { SseHub } from '../sse-hub.ts';
import type { RouteTools } from '../route-module.ts';
import { requestHeader } from '../middleware/request-info.ts';
import { parseQuery, parseWith } from '../validate.ts';

const eventsQuery = z.object({
  actor: z.string().min(1).optional().describe('only this actor'),
  lastEventId: z.string().optional().describe('resume after this event id (the Last-Event-ID header wins)'),
  include: z.enum(['children']).optional().describe("children: also the changes of child actors (short-lived ones, such as the notifier's claims), as parent/child"),
});
const lastEventIdSchema = z.coerce.number({ error: 'must be a whole number from a previous event id' }).int().min(0);

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** The Node response behind the request, when served by @hono/node-server. */
const outgoingOf = (c: Context): ServerResponse | undefined => (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;

/**
 * `GET /events`: Server-Sent Events of actor snapshot changes (a snapshot with the same status, state
 * and context as the last one sent is not sent); `?actor=ID` filters, `?include=children` adds child
 * actors, `Last-Event-ID` resumes. On Node the frames are written straight to the socket (see `SseHub.attach`); elsewhere
 * (`app.request()`, other runtimes) the response body is the hub's web stream.
 */
export function eventRoutes(app: Hono, deps: RouteTools & { sse: SseHub; metrics: Registry }): void {
  new Gauge({ name: 'vigil_sse_clients', help: 'Connected Server-Sent Events clients', registers: [deps.metrics], collect() { this.set(deps.sse.clients); } });
  new Counter({
    name: 'vigil_sse_clients_dropped_total',
    help: 'SSE clients dropped for reading too slowly',
    registers: [deps.metrics],
    collect() {
      this.reset();
      if (deps.sse.dropped > 0) this.inc(deps.sse.dropped);
    },
  });

  deps.docs.add({ method: 'get', path: '/events', tag: 'actors', summary: 'Server-Sent Events of actor snapshot changes', query: eventsQuery, mediaType: 'text/event-stream' });
  app.get('/events', (c) => {
    const query = parseQuery(c, eventsQuery);
    const resumeFrom = requestHeader(c, 'last-event-id') || query.lastEventId;
    const lastEventId = resumeFrom ? parseWith(lastEventIdSchema, resumeFrom, { prefix: 'Last-Event-ID', status: 400 }) : undefined;
    const options = { actor: query.actor, lastEventId, children: query.include === 'children' };
    const outgoing = outgoingOf(c);
    if (!outgoing) return new Response(deps.sse.connect(options), { headers: SSE_HEADERS });
    const headers: Record<string, string> = { ...SSE_HEADERS };
    // Headers set by the middleware so far (rate limits), which would otherwise ride on the Response.
    for (const [name, value] of c.res.headers) if (name !== 'content-type') headers[name] = value;
    outgoing.writeHead(200, headers);
    outgoing.flushHeaders();
    deps.sse.attach(outgoing, options);
    return new Response(null, { headers: { 'x-hono-already-sent': '1' } });
  });
}
