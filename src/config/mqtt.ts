import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import type { rawSchema } from './settings.ts';

/** One level of a topic template: a fixed word, a field it names, or a level that may hold anything. */
export type TemplateLevel = { kind: 'literal'; text: string } | { kind: 'field'; field: 'device_id' | 'metric' } | { kind: 'any' };

/** Where the MQTT reading source connects and how it reads topics (set when MQTT_URL is). */
export interface MqttConfig {
  url: string;
  /** Topic filters subscribed to, e.g. `sensors/+/+`. */
  topics: string[];
  /** The template's levels: `sensors/{device_id}/{metric}` → literal, device_id, metric. */
  template: TemplateLevel[];
  /** 1: each message is acknowledged once its readings are stored; 0: no acknowledgement. */
  qos: 0 | 1;
  clientId?: string;
  /** false keeps the session (and the broker's queue of QoS 1 messages) across reconnects; needs a fixed MQTT_CLIENT_ID. */
  clean: boolean;
  username?: string;
  password?: string;
}

/** Parses a topic template such as `sensors/{device_id}/{metric}`; `+` is a level read as nothing. */
export function parseTopicTemplate(template: string): TemplateLevel[] {
  const levels = template.split('/').map((text): TemplateLevel => {
    if (text === '{device_id}' || text === '{metric}') return { kind: 'field', field: text.slice(1, -1) as 'device_id' | 'metric' };
    if (text === '+') return { kind: 'any' };
    if (/[{}#+]/.test(text)) throw new ConfigError(`MQTT_TOPIC_TEMPLATE: level "${text}" is neither a word, +, {device_id} nor {metric}; e.g. sensors/{device_id}/{metric}`, 'MQTT_TOPIC_TEMPLATE');
    return { kind: 'literal', text };
  });
  const fields = levels.flatMap((level) => (level.kind === 'field' ? [level.field] : []));
  if (!fields.includes('device_id')) {
    throw new ConfigError('MQTT_TOPIC_TEMPLATE: must name {device_id} in one level, e.g. sensors/{device_id}/{metric}', 'MQTT_TOPIC_TEMPLATE');
  }
  if (new Set(fields).size !== fields.length) throw new ConfigError('MQTT_TOPIC_TEMPLATE: names a field twice', 'MQTT_TOPIC_TEMPLATE');
  return levels;
}

/** The MQTT settings, or null when MQTT_URL is unset. */
export function toMqttConfig(raw: z.output<typeof rawSchema>): MqttConfig | null {
  if (!raw.MQTT_URL) return null;
  if (raw.MQTT_CLEAN_SESSION === false && !raw.MQTT_CLIENT_ID) {
    throw new ConfigError('MQTT_CLIENT_ID: required when MQTT_CLEAN_SESSION is false (the broker keeps the session by client id); set a fixed id, e.g. vigil-gw1', 'MQTT_CLIENT_ID');
  }
  return {
    url: raw.MQTT_URL,
    topics: raw.MQTT_TOPICS.split(',').map((t) => t.trim()).filter(Boolean),
    template: parseTopicTemplate(raw.MQTT_TOPIC_TEMPLATE),
    qos: raw.MQTT_QOS as 0 | 1,
    ...(raw.MQTT_CLIENT_ID ? { clientId: raw.MQTT_CLIENT_ID } : {}),
    clean: raw.MQTT_CLEAN_SESSION,
    ...(raw.MQTT_USERNAME ? { username: raw.MQTT_USERNAME } : {}),
    ...(raw.MQTT_PASSWORD ? { password: raw.MQTT_PASSWORD } : {}),
  };
}
