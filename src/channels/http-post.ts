import { DeliveryError } from '../errors.ts';

/** Options of `postJson`. */
export interface PostJsonOptions {
  /** Abort the request after this long (default 10 s). */
  timeoutMs?: number;
  /** Aborts the request early (a stop). */
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** Transient HTTP answers: the peer may take the same request later. */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/**
 * POSTs `body` as JSON and resolves with the status of a 2xx answer. Anything else rejects with a
 * DeliveryError: network errors, timeouts, 5xx and 429 are retriable; other statuses are not.
 */
export async function postJson(url: string, body: unknown, options: PostJsonOptions = {}): Promise<number> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(body),
      signal,
    });
  } catch (error) {
    const reason = timeout.aborted ? 'timed out' : options.signal?.aborted ? 'aborted' : ((error as Error).cause as Error)?.message ?? (error as Error).message;
    throw new DeliveryError(`POST ${url} failed: ${reason}`, { code: 'NETWORK', retriable: !options.signal?.aborted, cause: error });
  }
  // Drain the body so the connection can be reused.
  await response.arrayBuffer().catch(() => undefined);
  if (response.ok) return response.status;
  throw new DeliveryError(`POST ${url} answered ${response.status}`, {
    code: 'HTTP_STATUS',
    status: response.status,
    retriable: isTransientStatus(response.status),
  });
}
