import type { Context, MiddlewareHandler } from 'hono';
import { MemoryStore } from 'hono-rate-limiter';
import type { Rate, RouteClass } from '../../config.ts';
import { hasValidToken } from './auth.ts';
import { clientAddress, setResponseHeader } from './request-info.ts';
import { routeClass } from './route-class.ts';

/** What the rate limiter needs from the config. */
export interface RateLimitOptions {
  classes: Record<RouteClass, Rate>;
  /** A request carrying this token is counted apart from the anonymous requests of its address. */
  apiToken: string | undefined;
}

const UNITS: Record<number, string> = { 1_000: 'second', 60_000: 'minute', 3_600_000: 'hour', 86_400_000: 'day' };

/** `100 per 1 minute`: the configured rate as a refusal states it. */
export function describeRate(rate: Rate): string {
  return `${rate.limit} per 1 ${UNITS[rate.windowMs] ?? `${rate.windowMs / 1_000} seconds`}`;
}

/** One route class: its rate, its refusal text and its own counters (hono-rate-limiter's MemoryStore, fixed windows). */
interface ClassLimiter {
  rate: Rate;
  message: string;
  store: MemoryStore;
}

function classLimiter(rate: Rate): ClassLimiter {
  const store = new MemoryStore();
  store.init({ windowMs: rate.windowMs } as Parameters<MemoryStore['init']>[0]);
  return { rate, message: `Rate limit exceeded: ${describeRate(rate)}`, store };
}

/**
 * Rate limits by route class (reads, writes, admin: see `routeClass`), each with its own limit and
 * counters; probes and `/metrics` are never limited. Every limited response carries
 * `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds); a refusal is
 * 429 with `Retry-After` and a JSON body naming the configured rate.
 *
 * The counting is hono-rate-limiter's MemoryStore, whose `increment` is synchronous; the middleware
 * is Vigil's own: the library's middleware (a chain of awaits and two `bind`s per request) took the
 * read route from ~30k to ~20k requests/s in `bench/http.ts`.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const limiters: Record<RouteClass, ClassLimiter> = {
    read: classLimiter(options.classes.read),
    write: classLimiter(options.classes.write),
    admin: classLimiter(options.classes.admin),
  };
  return (c, next) => {
    const kind = routeClass(c);
    if (kind === 'unlimited') return next();
    const limiter = limiters[kind];
    // Only a valid token gets a bucket of its own: keying on any presented token would let a client
    // escape its limit by sending a new random token with each request.
    const key = hasValidToken(c, options.apiToken) ? `token:${clientAddress(c)}` : clientAddress(c);
    const { totalHits, resetTime } = limiter.store.increment(key);
    const resetMs = resetTime?.getTime() ?? Date.now() + limiter.rate.windowMs;
    setLimitHeaders(c, limiter.rate.limit, Math.max(limiter.rate.limit - totalHits, 0), resetMs);
    if (totalHits <= limiter.rate.limit) return next();
    setResponseHeader(c, 'Retry-After', String(Math.max(1, Math.ceil((resetMs - Date.now()) / 1_000))));
    return Promise.resolve(c.json({ error: limiter.message, detail: 'Too many requests', code: 'RATE_LIMIT_EXCEEDED' }, 429));
  };
}

function setLimitHeaders(c: Context, limit: number, remaining: number, resetMs: number): void {
  setResponseHeader(c, 'X-RateLimit-Limit', String(limit));
  setResponseHeader(c, 'X-RateLimit-Remaining', String(remaining));
  setResponseHeader(c, 'X-RateLimit-Reset', String(Math.ceil(resetMs / 1_000)));
}
