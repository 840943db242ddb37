import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { ConfigError } from '../../src/errors.ts';

const load = (env: Record<string, string>) => loadConfig({ env });

describe('MQTT settings', () => {
  it('are off without MQTT_URL, and take their defaults with it', () => {
    expect(load({}).mqtt).toBeNull();
    expect(load({ MQTT_URL: 'mqtt://127.0.0.1:1883' }).mqtt).toEqual({
      url: 'mqtt://127.0.0.1:1883',
      topics: ['sensors/+/+'],
      template: [{ kind: 'literal', text: 'sensors' }, { kind: 'field', field: 'device_id' }, { kind: 'field', field: 'metric' }],
      qos: 1,
      clean: true,
    });
  });

  it('reads several topic filters, QoS 0 and a kept session', () => {
    const mqtt = load({ MQTT_URL: 'mqtts://broker:8883', MQTT_TOPICS: 'a/+/+, b/+/+', MQTT_QOS: '0', MQTT_CLIENT_ID: 'gw1', MQTT_CLEAN_SESSION: 'false' }).mqtt;
    expect(mqtt).toMatchObject({ topics: ['a/+/+', 'b/+/+'], qos: 0, clientId: 'gw1', clean: false });
  });

  it.each([
    [{ MQTT_URL: 'http://broker' }, 'MQTT_URL'],
    [{ MQTT_URL: 'mqtt://b', MQTT_QOS: '2' }, 'MQTT_QOS'],
    [{ MQTT_URL: 'mqtt://b', MQTT_TOPIC_TEMPLATE: 'sensors/{metric}' }, 'MQTT_TOPIC_TEMPLATE'],
    [{ MQTT_URL: 'mqtt://b', MQTT_CLEAN_SESSION: 'false' }, 'MQTT_CLIENT_ID'],
  ])('refuses %j naming %s', (env, field) => {
    const error = (() => {
      try {
        load(env);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
    expect((error as Error).message.startsWith(`${field}: `)).toBe(true);
  });

  it('accepts PUBLISH_INTERVAL_SECONDS=0 (heartbeat off) and refuses a negative one', () => {
    expect(load({ PUBLISH_INTERVAL_SECONDS: '0' }).publishIntervalSeconds).toBe(0);
    expect(() => load({ PUBLISH_INTERVAL_SECONDS: '-1' })).toThrow(/^PUBLISH_INTERVAL_SECONDS: .*0 turns the heartbeat off/);
  });
});
