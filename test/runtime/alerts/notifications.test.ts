import { describe, expect, it } from 'vitest';
import { firedNotifications, resolvedNotifications } from '../../../src/runtime/alerts/notifications.ts';
import { rule } from '../../actors/alert.fixtures.ts';

const event = { id: 'e1', alert_id: 'r1', device_id: '7', metric: 'temperature', operator: '>' as const, severity: 'error' as const, threshold_value: 82, current_value: 90, triggered_at: '2030-01-01T00:00:00.000Z' };
const channelsOf = (rows: { channel: string }[]) => rows.map((row) => row.channel);

describe('alert notifications: channels', () => {
  it('a rule without channels is routed by severity among the enabled channels, as plugin health is', () => {
    const available = new Set(['console', 'email']);
    expect(channelsOf(firedNotifications(rule({ channels: [], severity: 'error' }), event, available))).toEqual(['console', 'email']);
    expect(channelsOf(firedNotifications(rule({ channels: [], severity: 'info' }), { ...event, severity: 'info' }, available))).toEqual(['console']);
    const resolved = resolvedNotifications(rule({ channels: [], severity: 'critical' }), { ...event, severity: 'critical', resolved_at: event.triggered_at, resolution_value: 10 }, new Set(['console', 'webhook']));
    expect(channelsOf(resolved)).toEqual(['console', 'webhook']);
  });

  it('named channels win, enabled or not (the notifier falls back to the console for those that are not)', () => {
    expect(channelsOf(firedNotifications(rule({ channels: ['slack'], severity: 'error' }), event, new Set(['console', 'email'])))).toEqual(['slack']);
  });
});
