import { Counter, Gauge } from 'prom-client';
import type { MqttSource } from '../sources/mqtt.ts';
import type { AlertEngine } from './alerts/engine.ts';
import type { Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';

/**
 * The MQTT reading source (when MQTT_URL is set): messages go through the same engine call as
 * `POST /readings`. QoS 1 messages are acknowledged once their readings and alert writes are
 * committed; its connection is a readiness check (`/readyz`) and in `vigil_mqtt_connected`. The `mqtt` package
 * is imported only when the source starts, so a Vigil without MQTT never loads it.
 */
export function mqttConcerns(ctx: Pick<RuntimeContext, 'config' | 'logger' | 'metrics'>, engine: Pick<AlertEngine, 'accept' | 'settle'>): Concern[] {
  const { config } = ctx;
  const mqttConfig = config.mqtt;
  if (!mqttConfig) return [];
  const messages = new Counter({ name: 'vigil_mqtt_messages_total', help: 'MQTT messages received, by outcome', labelNames: ['outcome'], registers: [ctx.metrics] });
  let source: MqttSource | undefined;
  const health = () => source?.health() ?? { ok: false, detail: 'not started' };
  new Gauge({ name: 'vigil_mqtt_connected', help: '1 while connected to the MQTT broker', registers: [ctx.metrics], collect() { this.set(health().ok ? 1 : 0); } });
  return [
    {
      name: 'mqtt',
      readiness: [{ name: 'mqtt', check: health }],
      async start() {
        const { createMqttSource } = await import('../sources/mqtt.ts');
        source = createMqttSource({
          config: mqttConfig,
          logger: ctx.logger.child({ component: 'mqtt' }),
          async ingest(readings, { durable }) {
            const result = await engine.accept(readings);
            if (durable) await engine.settle();
            await result.stored;
            return { rejected: result.rejected };
          },
          onMessage: (outcome, count) => messages.inc({ outcome }, count),
        });
        await source.start();
      },
      stop: async () => source?.stop(),
    },
  ];
}
