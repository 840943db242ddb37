/** How the wait grows between attempts. */
export interface BackoffOptions {
  /** Wait before the first retry, in ms. */
  initialMs: number;
  /** Upper bound of any wait, in ms. */
  maxMs: number;
  /** Growth per retry (≥ 1). */
  factor: number;
  /** 'none'; 'full' = uniform in [0, delay]; a ratio r in [0, 1] = uniform in [delay × (1 − r), delay]. */
  jitter: 'none' | 'full' | number;
  /** Source of randomness in [0, 1); Math.random by default, injectable for tests. */
  random?: () => number;
}

/** Options of the retrying helpers: a backoff plus when to give up. */
export interface RetryOptions extends Partial<BackoffOptions> {
  /** Retries after the first attempt; 0 never retries, Infinity never gives up. */
  maxRetries?: number;
  /** Whether an error is worth another attempt; `isRetriable` by default. */
  shouldRetry?: (error: unknown) => boolean;
}

/** Options of `withBackoff`. */
export interface WithBackoffOptions extends RetryOptions {
  /** Aborting stops the waiting and rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Aborting ends the retries but not an attempt: no attempt starts after it (a first attempt still
   * does), and a failure rejects with its own error. For work that must still be tried at a stop.
   */
  stopRetrying?: AbortSignal;
  /** No retry starts once this long has passed since the first attempt (default: no time limit). */
  giveUpAfterMs?: number;
  /** The clock `giveUpAfterMs` is read on; Date.now by default. */
  now?: () => number;
  /** Called before each wait, e.g. to log the failure. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** The one set of backoff defaults in Vigil: 200 ms doubling up to 30 s, full jitter, 5 retries. */
export const DEFAULT_BACKOFF = {
  initialMs: 200,
  maxMs: 30_000,
  factor: 2,
  jitter: 'full',
  maxRetries: 5,
} as const satisfies BackoffOptions & RetryOptions;

/** False only when the error says so (`retriable: false`, as on VigilError): errors of unknown kind are worth a retry. */
export function isRetriable(error: unknown): boolean {
  if (typeof error === 'object' && error !== null && 'retriable' in error && typeof error.retriable === 'boolean') {
    return error.retriable;
  }
  return true;
}

/** The wait before retry number `attempt` (1 = first retry): initialMs × factor^(attempt − 1), capped at maxMs, then jittered. */
export function backoffDelay(attempt: number, options: Partial<BackoffOptions> = {}): number {
  const { initialMs, maxMs, factor, jitter, random } = resolve(options);
  if (!(Number.isInteger(attempt) && attempt >= 1)) {
    throw new RangeError(`attempt must be an integer ≥ 1, got ${String(attempt)}`);
  }
  // Past the cap the power may overflow to Infinity (and 0 × Infinity is NaN), hence the guard.
  const raw = initialMs * factor ** (attempt - 1);
  const capped = initialMs === 0 ? 0 : Math.min(maxMs, raw);
  if (jitter === 'none') return capped;
  const ratio = jitter === 'full' ? 1 : jitter;
  // min() keeps floating-point rounding from nudging a jittered wait past the cap.
  return Math.min(capped, capped * (1 - ratio) + capped * ratio * random());
}

/** Calls `fn` until it resolves, waiting `backoffDelay(attempt)` between failures; `fn` receives 0 first, then the retry number. */
export async function withBackoff<T>(fn: (attempt: number) => Promise<T>, options: WithBackoffOptions = {}): Promise<T> {
  const backoff = resolve(options);
  const { maxRetries, shouldRetry } = resolveRetry(options);
  const { signal, stopRetrying, onRetry, now = Date.now } = options;
  const giveUpAt = options.giveUpAfterMs === undefined ? Infinity : now() + options.giveUpAfterMs;
  const mayRetry = (attempt: number, error: unknown) =>
    attempt < maxRetries && shouldRetry(error) && !stopRetrying?.aborted && now() < giveUpAt;
  for (let attempt = 0; ; attempt += 1) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (!mayRetry(attempt, error)) throw error;
      const delayMs = backoffDelay(attempt + 1, backoff);
      onRetry?.({ attempt: attempt + 1, delayMs, error });
      await sleep(delayMs, signal, stopRetrying);
      if (stopRetrying?.aborted) throw error;
    }
  }
}

function resolve(options: Partial<BackoffOptions>): Required<BackoffOptions> {
  const resolved = {
    initialMs: options.initialMs ?? DEFAULT_BACKOFF.initialMs,
    maxMs: options.maxMs ?? DEFAULT_BACKOFF.maxMs,
    factor: options.factor ?? DEFAULT_BACKOFF.factor,
    jitter: options.jitter ?? DEFAULT_BACKOFF.jitter,
    random: options.random ?? Math.random,
  };
  const { initialMs, maxMs, factor, jitter } = resolved;
  if (!(Number.isFinite(initialMs) && initialMs >= 0)) throw new RangeError(`initialMs must be a finite number ≥ 0, got ${initialMs}`);
  if (!(Number.isFinite(maxMs) && maxMs >= initialMs)) throw new RangeError(`maxMs must be a finite number ≥ initialMs, got ${maxMs}`);
  if (!(Number.isFinite(factor) && factor >= 1)) throw new RangeError(`factor must be a finite number ≥ 1, got ${factor}`);
  if (typeof jitter === 'number' && !(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(`jitter must be 'none', 'full' or a ratio in [0, 1], got ${jitter}`);
  }
  return resolved;
}

function resolveRetry(options: RetryOptions): { maxRetries: number; shouldRetry: (error: unknown) => boolean } {
  const maxRetries = options.maxRetries ?? DEFAULT_BACKOFF.maxRetries;
  if (!((Number.isInteger(maxRetries) && maxRetries >= 0) || maxRetries === Infinity)) {
    throw new RangeError(`maxRetries must be an integer ≥ 0 or Infinity, got ${maxRetries}`);
  }
  return { maxRetries, shouldRetry: options.shouldRetry ?? isRetriable };
}

/** Waits `ms`; `signal` aborting rejects with its reason, `shortened` aborting ends the wait early. */
function sleep(ms: number, signal: AbortSignal | undefined, shortened: AbortSignal | undefined): Promise<void> {
  return new Promise((resolveSleep, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const settle = (aborted: boolean): void => {
      clearTimeout(timeout);
      signal?.removeEventListener('abort', onAbort);
      shortened?.removeEventListener('abort', onShortened);
      if (aborted) reject(signal?.reason);
      else resolveSleep();
    };
    const onAbort = () => settle(true);
    const onShortened = () => settle(false);
    const timeout = setTimeout(onShortened, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    shortened?.addEventListener('abort', onShortened, { once: true });
  });
}
