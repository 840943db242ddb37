import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttReadingFires, ownReadingsAccepted, startGateway } from '../support/gateway.ts';
import { installPacked, PACKAGE_NAME } from '../support/packed.ts';

const GATEWAY = fileURLToPath(new URL('../../examples/edge-gateway/gateway.js', import.meta.url));

// The example as an embedder runs it: the tarball installed into an empty project (the install
// shared with test/package/tarball.test.ts), plain node.
describe(`examples/edge-gateway from the packed ${PACKAGE_NAME} (plain node, Mosquitto)`, () => {
  let project: string;

  beforeAll(async () => {
    ({ project } = await installPacked());
    copyFileSync(GATEWAY, join(project, 'gateway.js'));
  }, 300_000);
  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('runs with plain node: Vigil at /vigil/, its own readings and an MQTT one firing a rule, exit 0 on SIGTERM', async () => {
    const gateway = await startGateway(project, 'gw-packed', `sqlite:${join(project, 'gateway.db')}`);
    let code: number | null = null;
    try {
      const page = await fetch(`${gateway.url}/vigil/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('assets/dashboard.js');
      expect((await fetch(`${gateway.url}/vigil/assets/dashboard.js`)).status).toBe(200);
      expect(await ownReadingsAccepted(gateway)).toBeGreaterThanOrEqual(2);
      expect(await mqttReadingFires(gateway)).toEqual({ created: 201, firing: expect.arrayContaining(['pump-hot']) });
    } finally {
      code = await gateway.stop();
    }
    expect(code).toBe(0);
  });
});
