import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BrokerError, NotFoundError, StoreError } from '../../src/errors.ts';
import { errorPayload } from '../../src/http/errors.ts';

const logger = pino({ level: 'silent' });
const request = { method: 'POST', path: '/readings' };

describe('errorPayload', () => {
  it('answers 503 for a store or broker that is unreachable for now, naming the code, so the client retries', () => {
    expect(errorPayload(new BrokerError('broker unreachable: connect ECONNREFUSED', { code: 'BROKER_UNAVAILABLE', retriable: true }), logger, request)).toEqual({
      status: 503,
      body: { error: 'broker unreachable: connect ECONNREFUSED', code: 'BROKER_UNAVAILABLE', retriable: true },
    });
    expect(errorPayload(new StoreError('store busy', { code: 'STORE_BUSY', retriable: true }), logger, request).status).toBe(503);
  });

  it('answers 500 with no details for anything else that failed, and 404 for what is not there', () => {
    expect(errorPayload(new StoreError('constraint failed at /x.ts:1', { code: 'STORE_FAILED' }), logger, request)).toEqual({ status: 500, body: { error: 'internal error', code: 'INTERNAL' } });
    expect(errorPayload(new Error('boom'), logger, request)).toEqual({ status: 500, body: { error: 'internal error', code: 'INTERNAL' } });
    expect(errorPayload(new NotFoundError('actor', 'x'), logger, request).status).toBe(404);
  });
});
