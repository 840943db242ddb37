import type { Hono } from 'hono';
import type { RouteTools } from '../route-module.ts';

/** `GET /messages`: the subscriber buffer, oldest first. */
export function messageRoutes(app: Hono, deps: RouteTools & { messages(): unknown[] }): void {
  deps.docs.add({ method: 'get', path: '/messages', tag: 'actors', summary: 'The subscriber buffer, oldest first' });
  app.get('/messages', (c) => {
    const messages = deps.messages();
    return c.json({ count: messages.length, messages });
  });
}
