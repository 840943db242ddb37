import type { Context, MiddlewareHandler } from 'hono';
import type { HeaderList, RequestGuard } from '../guard.ts';
import { clientAddress, requestHeader, setResponseHeader } from './request-info.ts';
import { matchedRoute } from './matched-route.ts';

/** The request guard (rate limits, then the API token) as Hono middleware; see `RequestGuard`. */
export function guardRequests(guard: RequestGuard): MiddlewareHandler {
  return (c, next) => {
    const route = matchedRoute(c);
    const verdict = guard.check({
      method: c.req.method,
      pattern: route ?? c.req.path,
      matched: route !== undefined,
      address: clientAddress(c),
      authorization: guard.readsToken ? requestHeader(c, 'authorization') : undefined,
    });
    if (verdict.limitHeaders) setHeaders(c, verdict.limitHeaders);
    const refusal = verdict.refusal;
    if (!refusal) return next();
    setHeaders(c, refusal.headers);
    return Promise.resolve(c.json(refusal.body, refusal.status));
  };
}

function setHeaders(c: Context, headers: HeaderList): void {
  for (let i = 0; i < headers.length; i += 2) setResponseHeader(c, headers[i]!, headers[i + 1]!);
}
