import { describe, expect, it } from 'vitest';
import { withBrokerTime } from '../../src/runtime/wire-alerts.ts';

describe('readings from the broker', () => {
  const at = '2026-01-01T00:00:00.000Z';

  it('take the time the broker accepted them when they carry no ts, so a redelivery keeps its original time', () => {
    expect(withBrokerTime({ device_id: '1', value: 5 }, at)).toEqual({ device_id: '1', value: 5, ts: at });
  });

  it('keep their own ts, and leave what is not a reading object to validation', () => {
    expect(withBrokerTime({ device_id: '1', value: 5, ts: 7 }, at)).toEqual({ device_id: '1', value: 5, ts: 7 });
    expect(withBrokerTime('nonsense', at)).toBe('nonsense');
    expect(withBrokerTime([1, 2], at)).toEqual([1, 2]);
    expect(withBrokerTime(null, at)).toBeNull();
  });
});
