import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTopicTemplate } from '../../src/config/mqtt.ts';
import { ConfigError } from '../../src/errors.ts';
import { messageReading, topicFields } from '../../src/sources/mqtt-message.ts';

const template = parseTopicTemplate('sensors/{device_id}/{metric}');
const level = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
const bytes = (text: string) => new TextEncoder().encode(text);

describe('MQTT topic template', () => {
  it('reads device_id and metric from the levels of any topic that fits', () => {
    fc.assert(
      fc.property(level, level, (device, metric) => {
        expect(topicFields(template, `sensors/${device}/${metric}`)).toEqual({ device_id: device, metric });
      }),
    );
  });

  it('refuses any topic with another first level, another depth or an empty level', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }).filter((s) => !s.includes('/')), { maxLength: 5 }), (levels) => {
        const topic = levels.join('/');
        const fits = levels.length === 3 && levels[0] === 'sensors' && levels[1] !== '' && levels[2] !== '';
        expect(topicFields(template, topic) !== null).toBe(fits);
      }),
    );
  });

  it('takes + as a level read as nothing, and a template without {metric}', () => {
    const site = parseTopicTemplate('site/+/{device_id}');
    expect(topicFields(site, 'site/north/pump-1')).toEqual({ device_id: 'pump-1' });
  });

  it.each(['sensors/{metric}', 'sensors/#/{device_id}', 'a/{device_id}/{device_id}', 'a/{dev}/x'])('refuses the template %s naming MQTT_TOPIC_TEMPLATE', (text) => {
    expect(() => parseTopicTemplate(text)).toThrow(ConfigError);
    expect(() => parseTopicTemplate(text)).toThrow(/^MQTT_TOPIC_TEMPLATE: /);
  });
});

describe('MQTT payloads', () => {
  it('reads any finite number as the value', () => {
    fc.assert(
      // -0 is written as 0 in JSON, so it reads back as 0.
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) => !Object.is(v, -0)), (value) => {
        expect(messageReading(template, 'sensors/d/t', bytes(JSON.stringify(value)))).toEqual({ reading: { device_id: 'd', metric: 't', value } });
      }),
    );
  });

  it("reads a reading's JSON, its own fields winning over the topic's", () => {
    const read = messageReading(template, 'sensors/d/t', bytes('{"value": 3, "metric": "hum", "ts": 5}'));
    expect(read).toEqual({ reading: { device_id: 'd', metric: 'hum', value: 3, ts: 5 } });
  });

  it('never throws: any payload is a reading or an issue naming payload or topic', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.string({ maxLength: 20 }), (payload, topic) => {
        const read = messageReading(template, topic, payload);
        if ('issue' in read) expect(['payload', 'topic']).toContain(read.issue.path);
      }),
    );
  });

  it.each(['', 'hot', '[1,2]', 'null', '"21.5"'])('refuses the payload %j naming payload', (text) => {
    expect(messageReading(template, 'sensors/d/t', bytes(text))).toMatchObject({ issue: { path: 'payload' } });
  });
});
