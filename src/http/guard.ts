import { createHash, timingSafeEqual } from 'node:crypto';
import { MemoryStore } from 'hono-rate-limiter';
import type { Rate, RouteClass } from '../config/index.ts';

/** Routes that are never rate limited (probes and scrapes) nor guarded by API_TOKEN_READS: they end with these. */
const UNLIMITED = ['/healthz', '/readyz', '/metrics'];

/**
 * The dashboard shell: its page (`/`) and the routes ending with these (its files). They hold no
 * data, and a browser navigating to the page cannot send a bearer header: the page asks for the
 * token and sends it on its own data requests. So reading them never needs API_TOKEN; they are
 * still rate limited as reads.
 */
const PUBLIC = ['/assets/:file'];

const UNITS: Record<number, string> = { 1_000: 'second', 60_000: 'minute', 3_600_000: 'hour', 86_400_000: 'day' };

/** `100 per 1 minute`: the configured rate as a refusal states it. */
export function describeRate(rate: Rate): string {
  return `${rate.limit} per 1 ${UNITS[rate.windowMs] ?? `${rate.windowMs / 1_000} seconds`}`;
}

/**
 * How a request is limited: `/admin/…` routes are admin, GET and HEAD are reads, anything else is a
 * write, and the probes and `/metrics` are `unlimited`. Decided on the route pattern (`/rules/:id`)
 * when a route matched, so a rule whose id is `admin` is not mistaken for an admin route, and
 * mounting under a prefix keeps the class.
 */
export function routeClass(method: string, pattern: string): RouteClass | 'unlimited' {
  if (UNLIMITED.some((suffix) => pattern.endsWith(suffix))) return 'unlimited';
  if (/(^|\/)admin(\/|$)/.test(pattern)) return 'admin';
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

/**
 * Whether a request needs `Authorization: Bearer <API_TOKEN>` when API_TOKEN is set: writes and
 * admin always; reads only with API_TOKEN_READS, and then not the dashboard shell; the probes and
 * `/metrics` never. Like `routeClass`, decided on the route pattern.
 */
export function needsToken(method: string, pattern: string, tokenReads: boolean): boolean {
  const kind = routeClass(method, pattern);
  if (kind === 'unlimited') return false;
  if (kind !== 'read') return true;
  return tokenReads && pattern !== '/' && !PUBLIC.some((suffix) => pattern.endsWith(suffix));
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Whether `presented` is `expected`, in time independent of where they differ (and of their lengths: both are hashed first). */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The bearer token of an `Authorization` header value, if any. */
export function bearerOf(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}

/** What the guard needs to know of one request, whichever server received it. */
export interface RequestFacts {
  method: string;
  /** The matched route pattern (`/actors/:id`), or the path when no route matched. */
  pattern: string;
  /** Whether `pattern` is a route's (its class is then remembered) rather than a path no route matched. */
  matched: boolean;
  /** The client's address: the socket's peer (forwarding headers are not trusted), or `local`. */
  address: string;
  /** The raw `Authorization` header; needed only when `guard.readsToken`. */
  authorization: string | undefined;
}

/** Response headers as a flat list of names and values, the form `writeHead` takes fastest. */
export type HeaderList = string[];

/** A refused request: the status, the extra headers and the JSON body to answer with. */
export interface Refusal {
  status: 401 | 429;
  headers: HeaderList;
  body: { error: string; code: string; detail?: string };
}

/** The guard's answer. `limitHeaders` (X-RateLimit-*) go on the response whether it is refused or not. */
export interface Verdict {
  limitHeaders: HeaderList | undefined;
  refusal: Refusal | undefined;
}

/** What the guard enforces, from the config. */
export interface GuardOptions {
  /** Per route class; absent when ENABLE_RATE_LIMITING=false. */
  rates: Record<RouteClass, Rate> | undefined;
  /** API_TOKEN; when unset nothing needs a token. */
  token: string | undefined;
  /** API_TOKEN_READS: reads need the token too. */
  tokenReads: boolean;
}

/** One route class: its rate, its refusal text and its own counters (hono-rate-limiter's MemoryStore, fixed windows). */
interface ClassLimiter {
  rate: Rate;
  limit: string;
  message: string;
  store: MemoryStore;
  /** `X-RateLimit-Reset` for a window ending at `resetMs`: Unix seconds, the last one's text kept. */
  resetText(resetMs: number): string;
}

function classLimiter(rate: Rate): ClassLimiter {
  const store = new MemoryStore();
  store.init({ windowMs: rate.windowMs } as Parameters<MemoryStore['init']>[0]);
  let lastReset = NaN;
  let lastText = '';
  const resetText = (resetMs: number): string => {
    const seconds = Math.ceil(resetMs / 1_000);
    if (seconds !== lastReset) {
      lastReset = seconds;
      lastText = String(seconds);
    }
    return lastText;
  };
  return { rate, limit: String(rate.limit), message: `Rate limit exceeded: ${describeRate(rate)}`, store, resetText };
}

const PASS: Verdict = { limitHeaders: undefined, refusal: undefined };

/** How the guard treats one route for one method: its rate-limit class, and whether it needs the token. */
interface Access {
  kind: RouteClass | 'unlimited';
  /** API_TOKEN is set and `needsToken` says this route needs it. */
  guarded: boolean;
}

/**
 * Vigil's request policy, in one place for every server that answers Vigil's routes (the Hono
 * middleware and the node:http fast path): rate limits by route class, then the API token.
 *
 * Rate limits: reads, writes and admin (see `routeClass`) each have their own limit and counters,
 * keyed by client address, and by token too for a request carrying the valid token; probes and
 * `/metrics` are never limited. The counting is hono-rate-limiter's MemoryStore, whose `increment`
 * is synchronous. A refusal is 429 with `Retry-After` and a body naming the configured rate.
 *
 * API token: mutating routes (and reads, with API_TOKEN_READS) need `Authorization: Bearer <token>`,
 * compared in constant time; otherwise 401 with `WWW-Authenticate: Bearer`. The probes and
 * `/metrics` stay open: health checkers and scrapers rarely carry a token, and neither exposes
 * stored data. So does the dashboard shell (see `needsToken`): a browser cannot send the token to
 * load it, and the page sends the token on its data requests itself.
 */
export class RequestGuard {
  readonly #limiters: Record<RouteClass, ClassLimiter> | undefined;
  readonly #token: string | undefined;
  readonly #tokenReads: boolean;
  /**
   * Whether `check` looks at the `Authorization` header (API_TOKEN is set). When not, the fast path
   * leaves `req.headers` alone: Node builds that object on first look, a cost a hot read need not pay.
   */
  readonly readsToken: boolean;
  /** The access of each matched route pattern, for GET/HEAD and for the other methods, worked out once. */
  readonly #routes = new Map<string, { read: Access; other: Access }>();

  constructor(options: GuardOptions) {
    const rates = options.rates;
    this.#limiters = rates && { read: classLimiter(rates.read), write: classLimiter(rates.write), admin: classLimiter(rates.admin) };
    this.#token = options.token;
    this.readsToken = options.token !== undefined;
    this.#tokenReads = options.tokenReads;
  }

  check(request: RequestFacts): Verdict {
    const access = this.#accessOf(request);
    const kind = access.kind;
    if (kind === 'unlimited' || (this.#limiters === undefined && this.#token === undefined)) return PASS;
    // Hashed at most once per request, and only when the answer is used: to key the rate limit, or
    // for a route that needs the token.
    const token = this.#token;
    const checksToken = token !== undefined && (this.#limiters !== undefined || access.guarded);
    const bearer = checksToken ? bearerOf(request.authorization) : undefined;
    const validToken = checksToken && tokenMatches(bearer, token);
    let limitHeaders: HeaderList | undefined;
    if (this.#limiters) {
      const limiter = this.#limiters[kind];
      // Only a valid token gets a bucket of its own: keying on any presented token would let a
      // client escape its limit by sending a new random token with each request.
      const { totalHits, resetTime } = limiter.store.increment(validToken ? `token:${request.address}` : request.address);
      const resetMs = resetTime?.getTime() ?? Date.now() + limiter.rate.windowMs;
      const limit = limiter.rate.limit;
      limitHeaders = [
        'X-RateLimit-Limit',
        limiter.limit,
        'X-RateLimit-Remaining',
        String(Math.max(limit - totalHits, 0)),
        'X-RateLimit-Reset',
        limiter.resetText(resetMs),
      ];
      if (totalHits > limit) {
        const retryAfter = String(Math.max(1, Math.ceil((resetMs - Date.now()) / 1_000)));
        return {
          limitHeaders,
          refusal: { status: 429, headers: ['Retry-After', retryAfter], body: { error: limiter.message, detail: 'Too many requests', code: 'RATE_LIMIT_EXCEEDED' } },
        };
      }
    }
    if (!access.guarded || validToken) return { limitHeaders, refusal: undefined };
    const presented = bearer !== undefined;
    return {
      limitHeaders,
      refusal: {
        status: 401,
        headers: ['WWW-Authenticate', presented ? 'Bearer error="invalid_token"' : 'Bearer'],
        body: { error: presented ? 'invalid API token' : 'this route needs Authorization: Bearer <API_TOKEN>', code: 'UNAUTHORIZED' },
      },
    };
  }

  /** Cached per matched pattern, so a hot route costs one map lookup; a path no route matched is worked out each time (not kept: there is no end to them). */
  #accessOf(request: RequestFacts): Access {
    const { method, pattern } = request;
    if (!request.matched) return this.#access(method, pattern);
    let route = this.#routes.get(pattern);
    if (route === undefined) {
      route = { read: this.#access('GET', pattern), other: this.#access('POST', pattern) };
      this.#routes.set(pattern, route);
    }
    return method === 'GET' || method === 'HEAD' ? route.read : route.other;
  }

  #access(method: string, pattern: string): Access {
    return { kind: routeClass(method, pattern), guarded: this.#token !== undefined && needsToken(method, pattern, this.#tokenReads) };
  }
}
