import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { configuredChannels } from '../../src/channels/open-channels.ts';
import { channelFor, DEFAULT_ROUTES, route } from '../../src/channels/routing.ts';
import { alertFired, alertResolved, collectionFailure } from '../../src/channels/templates.ts';
import type { AlertEvent } from '../../src/domain/alert-event.ts';

const all = new Set(['console', 'email', 'slack', 'webhook']);
const draft = { severity: 'critical' as const, title: 't', message: 'm' };

describe('routing', () => {
  it('routes each severity to its channels, among those available', () => {
    expect(route(draft, all).map((n) => n.channel)).toEqual([...DEFAULT_ROUTES.critical]);
    expect(route({ ...draft, severity: 'info' }, all).map((n) => n.channel)).toEqual(['console']);
    expect(route({ ...draft, severity: 'error' }, new Set(['console', 'slack'])).map((n) => n.channel)).toEqual(['console', 'slack']);
    expect(route(draft, all, { exclude: 'slack' }).map((n) => n.channel)).not.toContain('slack');
  });

  it('falls back to the console when no routed channel is left', () => {
    expect(route({ ...draft, severity: 'warning' }, new Set(['console']), { table: { ...DEFAULT_ROUTES, warning: ['slack'] } })).toMatchObject([{ channel: 'console' }]);
    expect(channelFor('email', new Set(['console']))).toBe('console');
    expect(channelFor('email', all)).toBe('email');
  });

  it('only counts a channel as configured when it is enabled and complete', () => {
    const config = loadConfig({ env: { ENABLE_EMAIL_ALERTS: 'true', SMTP_HOST: 'mail', ENABLE_SLACK_ALERTS: 'true', ENABLE_WEBHOOK_ALERTS: 'true', WEBHOOK_URL: 'http://x/y' } });
    expect([...configuredChannels(config)].sort()).toEqual(['console', 'webhook']);
  });
});

describe('templates', () => {
  const event: AlertEvent = {
    id: 'e1',
    alert_id: 'r1',
    device_id: 'edge-1',
    metric: 'cpu',
    operator: '>',
    severity: 'error',
    threshold_value: 90,
    current_value: 97,
    triggered_at: '2026-01-01T00:00:00.000Z',
    is_resolved: true,
    resolved_at: '2026-01-01T00:05:00.000Z',
    resolution_value: 40,
    metadata: {},
  };

  it('alert fired and resolved carry the rule, and dedup keys that differ by transition', () => {
    expect(alertFired(event, 'cpu high')).toMatchObject({ severity: 'error', title: 'cpu high firing', alert_id: 'r1', dedup_key: 'alert:r1:firing' });
    expect(alertResolved(event, 'cpu high')).toMatchObject({ severity: 'info', title: 'cpu high resolved', dedup_key: 'alert:r1:resolved' });
  });

  it('a collection failure asks for manual intervention from 5 consecutive failures', () => {
    const health = { name: 'poller', status: 'unhealthy' as const, last_run_at: null, last_success_at: null, last_error: 'x', total_runs: 9, total_failures: 4, success_rate: 5 / 9 };
    expect(collectionFailure({ ...health, consecutive_failures: 4 })).toMatchObject({ severity: 'error', metadata: { manual_intervention: false } });
    expect(collectionFailure({ ...health, consecutive_failures: 5 })).toMatchObject({ severity: 'critical', metadata: { manual_intervention: true } });
  });
});
