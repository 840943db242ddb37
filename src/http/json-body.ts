import { ValidationError } from '../errors.ts';

/** The 400 for a body that is not JSON, alike whichever server read it (the Hono app or the fast path). */
export function invalidJson(): ValidationError {
  return new ValidationError([{ path: 'body', message: 'must be valid JSON (send Content-Type: application/json)' }], { status: 400, code: 'INVALID_JSON' });
}

const utf8 = new TextDecoder();

/**
 * A raw body read as `Request.json()` reads it (the Fetch standard's "UTF-8 decode"): a leading
 * byte-order mark dropped, then decoded by a TextDecoder (which drops one more), bad bytes replaced;
 * its JSON value, or `invalidJson()` thrown.
 */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  const unmarked = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  try {
    return JSON.parse(utf8.decode(unmarked));
  } catch {
    throw invalidJson();
  }
}
