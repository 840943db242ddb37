import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHttpPeer, type HttpPeer } from '../support/peers.ts';
import { eventually, startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-propagate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const payloads = join(dir, 'payloads.json');
writeFileSync(payloads, JSON.stringify([{ event: 'a' }, { event: 'b' }]));

let peer: HttpPeer;
beforeEach(async () => {
  peer = await startHttpPeer();
});
afterEach(() => peer.close());

describe('vigil propagate (real process)', () => {
  it('POSTs every period, logs jitter, status, failure rate and count, and exits 0 on SIGTERM', async () => {
    const vigil = startVigil(['propagate'], { PERIOD_IN_SECONDS: '1', HTTP_POST_ENDPOINT: `${peer.url}/events`, PAYLOAD_FILE_PATH: payloads });
    const sent = await vigil.waitForLog((line) => line.msg === 'payload sent');
    expect(sent).toMatchObject({ actor: 'propagator', status: 200, count: 1, failure_rate: 0, jitter: expect.any(Number) });
    expect(peer.requests[0]).toMatchObject({ method: 'POST', path: '/events', body: { event: 'a' } });
    const stopping = Date.now();
    expect(await vigil.stop()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(5_000);
  });

  it('SIGTERM while a request hangs: aborted, exit 0 within 5 s', async () => {
    peer.mode = 'hang';
    const vigil = startVigil(['propagate'], { PERIOD_IN_SECONDS: '1', HTTP_POST_ENDPOINT: peer.url, PAYLOAD_FILE_PATH: payloads });
    await vigil.waitForLog((line) => line.msg === 'propagator started');
    await eventually(async () => (peer.requests.length > 0 ? true : undefined));
    const stopping = Date.now();
    expect(await vigil.stop()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(5_000);
  });

  it.each([
    ['a payload file that is not JSON', 'bad.json', 'nope', /PAYLOAD_FILE_PATH: .*not valid JSON/],
    ['an empty payload array', 'empty.json', '[]', /PAYLOAD_FILE_PATH: .*empty array/],
    ['a payload array of non-objects', 'numbers.json', '[1,2]', /PAYLOAD_FILE_PATH: .*not a JSON object/],
  ])('exits 2 on %s', async (_, name, text, message) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    const vigil = startVigil(['propagate'], { PERIOD_IN_SECONDS: '1', HTTP_POST_ENDPOINT: peer.url, PAYLOAD_FILE_PATH: path });
    expect(await vigil.exit()).toBe(2);
    expect(vigil.output()).toMatch(message);
    expect(peer.requests).toEqual([]);
  });

  it.each([
    [{ PERIOD_IN_SECONDS: '0' }, /PERIOD_IN_SECONDS: /],
    [{ PERIOD_IN_SECONDS: '1.5' }, /PERIOD_IN_SECONDS: /],
    [{ HTTP_POST_ENDPOINT: 'not a url' }, /HTTP_POST_ENDPOINT: /],
    [{ HTTP_POST_ENDPOINT: '' }, /HTTP_POST_ENDPOINT: required/],
    [{ PAYLOAD_FILE_PATH: join(dir, 'missing.json') }, /PAYLOAD_FILE_PATH: cannot read/],
  ])('exits 2 naming the variable: %o', async (override, message) => {
    const env = { PERIOD_IN_SECONDS: '1', HTTP_POST_ENDPOINT: peer.url, PAYLOAD_FILE_PATH: payloads, ...override };
    const vigil = startVigil(['propagate'], env);
    expect(await vigil.exit()).toBe(2);
    expect(vigil.output()).toMatch(message);
  });

  it('exits 2 naming PERIOD_IN_SECONDS when nothing is configured', async () => {
    const vigil = startVigil(['propagate'], {});
    expect(await vigil.exit()).toBe(2);
    expect(vigil.output()).toMatch(/PERIOD_IN_SECONDS: required by vigil propagate/);
  });
});
