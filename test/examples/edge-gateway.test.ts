import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mqttReadingFires, ownReadingsAccepted, startGateway } from '../support/gateway.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/edge-gateway/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vigil-gateway-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('examples/edge-gateway (real process, Mosquitto)', () => {
  it('serves its own routes and Vigil at /vigil/, ingests its own readings and MQTT ones, and stops on SIGTERM', async () => {
    // From the checkout, plain node: the package's name resolves to this checkout's dist/ (built by the test setup).
    const gateway = await startGateway(EXAMPLE, 'gw-test', `sqlite:${join(dir, 'gateway.db')}`);
    let code: number | null = null;
    try {
      const { url } = gateway;
      expect(await (await fetch(`${url}/`)).json()).toEqual({ gateway: 'gw-test', vigil: '/vigil/' });
      expect((await fetch(`${url}/vigil/`)).headers.get('content-type')).toContain('text/html');
      expect(((await (await fetch(`${url}/vigil/openapi.json`)).json()) as { servers: unknown }).servers).toEqual([{ url: '/vigil', description: expect.any(String) }]);
      expect(await ownReadingsAccepted(gateway)).toBeGreaterThanOrEqual(2);
      expect(await mqttReadingFires(gateway)).toEqual({ created: 201, firing: expect.arrayContaining(['pump-hot']) });
    } finally {
      code = await gateway.stop();
    }
    expect(code).toBe(0);
    expect(gateway.process.output()).toContain('"msg":"stopped"');
  });
});
