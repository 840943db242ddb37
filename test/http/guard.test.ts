import { describe, expect, it } from 'vitest';
import { needsToken } from '../../src/http/guard.ts';

describe('needsToken', () => {
  it('asks it of writes and admin always, of reads only with API_TOKEN_READS, never of the probes', () => {
    for (const tokenReads of [false, true]) {
      expect(needsToken('POST', '/rules', tokenReads)).toBe(true);
      expect(needsToken('DELETE', '/rules/:id', tokenReads)).toBe(true);
      expect(needsToken('POST', '/admin/cleanup', tokenReads)).toBe(true);
      expect(needsToken('GET', '/actors/:id', tokenReads)).toBe(tokenReads);
      expect(needsToken('HEAD', '/events', tokenReads)).toBe(tokenReads);
      for (const probe of ['/healthz', '/readyz', '/metrics']) expect(needsToken('GET', probe, tokenReads)).toBe(false);
    }
  });

  it('never asks it to read the dashboard page or its files (its files under a mount prefix too); writes there still need it', () => {
    for (const pattern of ['/', '/assets/:file', '/vigil/assets/:file']) {
      expect(needsToken('GET', pattern, true), pattern).toBe(false);
      expect(needsToken('HEAD', pattern, true), pattern).toBe(false);
      expect(needsToken('POST', pattern, true), pattern).toBe(true);
    }
    // Only the shell's own patterns: a route that merely resembles them is guarded.
    expect(needsToken('GET', '/assets', true)).toBe(true);
    expect(needsToken('GET', '/assets/:file/raw', true)).toBe(true);
    expect(needsToken('GET', '/rules/:id', true)).toBe(true);
  });
});
