import type { Context, MiddlewareHandler } from 'hono';
import { rateLimiter } from 'hono-rate-limiter';
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

/** What hono-rate-limiter leaves on the context for the response headers. */
interface LimitInfo {
  limit: number;
  remaining: number;
  resetTime: Date | undefined;
}

const UNITS: Record<number, string> = { 1_000: 'second', 60_000: 'minute', 3_600_000: 'hour', 86_400_000: 'day' };

/** `100 per 1 minute`: the configured rate as a refusal states it. */
export function describeRate(rate: Rate): string {
  return `${rate.limit} per 1 ${UNITS[rate.windowMs] ?? `${rate.windowMs / 1_000} seconds`}`;
}

function setLimitHeaders(c: Context, info: LimitInfo, windowMs: number): void {
  const reset = info.resetTime?.getTime() ?? Date.now() + windowMs;
  setResponseHeader(c, 'X-RateLimit-Limit', String(info.limit));
  setResponseHeader(c, 'X-RateLimit-Remaining', String(info.remaining));
  setResponseHeader(c, 'X-RateLimit-Reset', String(Math.ceil(reset / 1_000)));
}

/** The limiter of one route class: its own counters, keyed by client address (and valid token). */
function classLimiter(rate: Rate, options: RateLimitOptions): MiddlewareHandler {
  const message = `Rate limit exceeded: ${describeRate(rate)}`;
  return rateLimiter({
    windowMs: rate.windowMs,
    limit: rate.limit,
    standardHeaders: false,
    // Only a valid token gets a bucket of its own: keying on any presented token would let a client
    // escape its limit by sending a new random token with each request.
    keyGenerator: (c) => (hasValidToken(c, options.apiToken) ? `token:${clientAddress(c)}` : clientAddress(c)),
    handler: (c) => {
      const info = c.get('rateLimit' as never) as LimitInfo;
      setLimitHeaders(c, info, rate.windowMs);
      const reset = info.resetTime?.getTime() ?? Date.now() + rate.windowMs;
      c.header('Retry-After', String(Math.max(1, Math.ceil((reset - Date.now()) / 1_000))));
      return c.json({ error: message, detail: 'Too many requests', code: 'RATE_LIMIT_EXCEEDED' }, 429);
    },
  });
}

/**
 * Rate limits by route class (reads, writes, admin: see `routeClass`), each with its own limit and
 * counters; probes and `/metrics` are never limited. Every limited response carries
 * `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds); a refusal is
 * 429 with `Retry-After` and a JSON body naming the configured rate.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const limiters: Record<RouteClass, MiddlewareHandler> = {
    read: classLimiter(options.classes.read, options),
    write: classLimiter(options.classes.write, options),
    admin: classLimiter(options.classes.admin, options),
  };
  return async (c, next) => {
    const kind = routeClass(c);
    if (kind === 'unlimited') return next();
    const windowMs = options.classes[kind].windowMs;
    return limiters[kind](c, async () => {
      setLimitHeaders(c, c.get('rateLimit' as never) as LimitInfo, windowMs);
      await next();
    });
  };
}
