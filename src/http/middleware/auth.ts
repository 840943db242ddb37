import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { bearerToken } from './request-info.ts';
import { routeClass } from './route-class.ts';

/** What the token guard needs from the config. */
export interface AuthOptions {
  /** When unset, nothing is guarded. */
  token: string | undefined;
  /** Guard reads too (API_TOKEN_READS); the probes and `/metrics` stay open either way. */
  reads: boolean;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Whether `presented` is `expected`, in time independent of where they differ (and of their lengths: both are hashed first). */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Whether the request carries the configured API token. */
export function hasValidToken(c: Context, expected: string | undefined): boolean {
  return expected !== undefined && tokenMatches(bearerToken(c), expected);
}

/**
 * API_TOKEN: mutating routes (and reads, with API_TOKEN_READS) need `Authorization: Bearer <token>`;
 * otherwise 401 JSON with `WWW-Authenticate: Bearer`. The probes and `/metrics` stay open: health
 * checkers and scrapers rarely carry a token, and neither exposes stored data.
 */
export function apiToken(options: AuthOptions): MiddlewareHandler {
  const expected = options.token;
  return async (c, next) => {
    if (expected === undefined) return next();
    const kind = routeClass(c);
    if (kind === 'unlimited' || (kind === 'read' && !options.reads)) return next();
    if (tokenMatches(bearerToken(c), expected)) return next();
    const presented = bearerToken(c) !== undefined;
    c.header('WWW-Authenticate', presented ? 'Bearer error="invalid_token"' : 'Bearer');
    return c.json(
      { error: presented ? 'invalid API token' : 'this route needs Authorization: Bearer <API_TOKEN>', code: 'UNAUTHORIZED' },
      401,
    );
  };
}
