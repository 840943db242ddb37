import { Counter, Gauge } from 'prom-client';
import { createMqttSource } from '../sources/mqtt.ts';
import type { AlertEngine } from './alerts/engine.ts';
import type { Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';

/**
 * The MQTT reading source (when MQTT_URL is set): messages go through the same engine call as
 * `POST /readings`. QoS 1 messages are acknowledged once their readings and alert writes are
 * committed; its connection shows in `/readyz` and in `vigil_mqtt_connected`.
 */
export function mqttConcerns(ctx: RuntimeContext, engine: Pick<AlertEngine, 'accept' | 'settle'>): Concern[] {
  const { config } = ctx;
  if (!config.mqtt) return [];
  const messages = new Counter({ name: 'vigil_mqtt_messages_total', help: 'MQTT messages received, by outcome', labelNames: ['outcome'], registers: [ctx.metrics] });
  const source = createMqttSource({
    config: config.mqtt,
    logger: ctx.logger.child({ component: 'mqtt' }),
    async ingest(readings, { durable }) {
      const result = await engine.accept(readings);
      if (durable) await engine.settle();
      await result.stored;
      return { rejected: result.rejected };
    },
    onMessage: (outcome) => messages.inc({ outcome }),
  });
  new Gauge({ name: 'vigil_mqtt_connected', help: '1 while connected to the MQTT broker', registers: [ctx.metrics], collect() { this.set(source.health().ok ? 1 : 0); } });
  (ctx.readiness ??= []).push({ name: 'mqtt', check: () => source.health() });
  return [{ name: 'mqtt', start: () => source.start(), stop: () => source.stop() }];
}
