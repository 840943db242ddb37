// An edge gateway embedding Vigil: its own Hono app and server, Vigil mounted at /vigil,
// readings from MQTT (Vigil's MQTT source) and from the gateway's own code (runtime.ingest),
// and a graceful stop on SIGINT/SIGTERM.
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { createRuntime } from '@vigil-alerts/vigil';

const port = Number(process.env.GATEWAY_PORT ?? 8080);
const gatewayId = process.env.GATEWAY_ID ?? 'gw-1';

// Settings by their environment names; they are merged over process.env, so MQTT_URL,
// DATABASE_URL… set in the environment apply too.
const runtime = createRuntime({
  env: {
    DATABASE_URL: process.env.DATABASE_URL ?? 'sqlite:./data/gateway.db',
    MQTT_URL: process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883',
    MQTT_TOPICS: process.env.MQTT_TOPICS ?? 'sensors/+/+',
    PUBLISH_INTERVAL_SECONDS: '0', // no heartbeat: nothing consumes it here
  },
});
await runtime.start({ listen: false });

// The gateway's own rule on its own load, created once (rules persist in the store).
const rules = await runtime.rules.list();
if (!rules.some((rule) => rule.id === `${gatewayId}-load`)) {
  await runtime.rules.create({ id: `${gatewayId}-load`, name: 'gateway overloaded', device_id: gatewayId, metric: 'load1', operator: '>', threshold: 8, for_seconds: 30 });
}

// Readings from the gateway's own code: in-process, never rate limited.
const sample = async () => {
  const result = await runtime.ingest({ device_id: gatewayId, metric: 'load1', value: loadavg()[0] });
  if (result.rejected.length > 0) runtime.logger.warn({ rejected: result.rejected }, 'gateway reading rejected');
};
const sampler = setInterval(() => void sample().catch((error) => runtime.logger.error({ err: error }, 'gateway sample failed')), 1_000);
await sample();

const app = new Hono();
app.get('/', (c) => c.json({ gateway: gatewayId, vigil: '/vigil/' }));
app.get('/firing', async (c) => c.json((await runtime.alerts.stats()).firing_now));
app.route('/vigil', runtime.app);

const server = createServer(getRequestListener(app.fetch));
server.listen(port, '127.0.0.1', () => {
  runtime.logger.info({ url: `http://127.0.0.1:${server.address().port}`, dashboard: '/vigil/' }, 'gateway listening');
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    clearInterval(sampler);
    server.close();
    server.closeAllConnections(); // the dashboard's event stream stays open otherwise
    runtime.stop().then(
      () => process.exit(0),
      (error) => {
        runtime.logger.error({ err: error }, 'gateway stop failed');
        process.exit(1);
      },
    );
  });
}
