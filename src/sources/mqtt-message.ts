import type { TemplateLevel } from '../config/mqtt.ts';
import type { Issue } from '../errors.ts';

/** A raw reading (checked later, as any reading is), or why the message holds none. */
export type MessageReading = { reading: Record<string, unknown> } | { issue: Issue };

/** The fields a topic names through the template (`sensors/dev-1/temp` → device_id dev-1, metric temp), or null when it does not fit. */
export function topicFields(template: readonly TemplateLevel[], topic: string): { device_id: string; metric?: string } | null {
  const levels = topic.split('/');
  if (levels.length !== template.length) return null;
  const fields: { device_id?: string; metric?: string } = {};
  for (let i = 0; i < template.length; i++) {
    const level = template[i]!;
    const text = levels[i]!;
    if (level.kind === 'literal' && level.text !== text) return null;
    if (level.kind === 'field') {
      if (text === '') return null;
      fields[level.field] = text;
    }
  }
  return fields.device_id === undefined ? null : (fields as { device_id: string; metric?: string });
}

/**
 * One MQTT message as a raw reading: the topic gives `device_id` and `metric`; the payload is a
 * number (`21.5`) or a reading's JSON (its own `device_id`/`metric` win over the topic's).
 */
export function messageReading(template: readonly TemplateLevel[], topic: string, payload: Uint8Array): MessageReading {
  const fields = topicFields(template, topic);
  if (!fields) return { issue: { path: 'topic', message: `"${topic}" does not fit MQTT_TOPIC_TEMPLATE` } };
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8').trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { issue: { path: 'payload', message: 'must be a number or a reading as JSON, e.g. 21.5 or {"value": 21.5}' } };
  }
  if (typeof parsed === 'number') return { reading: { ...fields, value: parsed } };
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { issue: { path: 'payload', message: 'must be a number or a reading as JSON object, e.g. {"value": 21.5}' } };
  }
  return { reading: { ...fields, ...(parsed as Record<string, unknown>) } };
}
