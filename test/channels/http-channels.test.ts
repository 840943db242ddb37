import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Outgoing } from '../../src/channels/channel.ts';
import { postJson } from '../../src/channels/http-post.ts';
import { createSlackChannel } from '../../src/channels/slack.ts';
import { formatSlack } from '../../src/channels/slack-format.ts';
import { createWebhookChannel } from '../../src/channels/webhook.ts';
import { DeliveryError } from '../../src/errors.ts';
import { startHttpPeer, type HttpPeer } from '../support/peers.ts';

const note: Outgoing = {
  id: 'n1',
  severity: 'warning',
  title: 'Disk filling',
  message: 'disk at 91 %',
  metadata: { device_id: 'edge-2', value: 91 },
  alert_id: 'rule-2',
  created_at: '2026-01-01T00:00:10.000Z',
};

let peer: HttpPeer;
beforeEach(async () => {
  peer = await startHttpPeer();
});
afterEach(() => peer.close());

describe('formatSlack', () => {
  it('is one attachment coloured by severity, with title, text, short metadata fields and a footer', () => {
    const message = formatSlack(note);
    expect(message.text).toBe('[WARNING] Disk filling');
    expect(message.attachments).toEqual([
      {
        color: '#daa038',
        callback_id: 'n1',
        title: 'Disk filling',
        text: 'disk at 91 %',
        fields: [
          { title: 'severity', value: 'warning', short: true },
          { title: 'device_id', value: 'edge-2', short: true },
          { title: 'value', value: '91', short: true },
        ],
        footer: 'Vigil',
        ts: 1767225610,
      },
    ]);
    expect(formatSlack({ ...note, severity: 'critical' }).attachments[0]!.color).not.toBe(message.attachments[0]!.color);
  });
});

describe('slack and webhook channels (real HTTP peer)', () => {
  it('slack POSTs the attachment to the incoming webhook', async () => {
    await createSlackChannel({ webhookUrl: `${peer.url}/hook` }).send(note);
    expect(peer.requests).toMatchObject([{ method: 'POST', path: '/hook', body: formatSlack(note) }]);
  });

  it('the webhook POSTs the notification as JSON', async () => {
    await createWebhookChannel({ url: `${peer.url}/events` }).send(note);
    expect(peer.requests[0]!.body).toEqual({
      id: 'n1',
      severity: 'warning',
      title: 'Disk filling',
      message: 'disk at 91 %',
      metadata: { device_id: 'edge-2', value: 91 },
      alert_id: 'rule-2',
      created_at: '2026-01-01T00:00:10.000Z',
    });
  });

  it('both carry the notification id as Idempotency-Key, the same on a redelivery, and in the body', async () => {
    const slack = createSlackChannel({ webhookUrl: `${peer.url}/hook` });
    const webhook = createWebhookChannel({ url: `${peer.url}/events` });
    await slack.send(note);
    await slack.send(note);
    await webhook.send(note);
    await webhook.send({ ...note, id: 'n2' });
    expect(peer.requests.map((r) => r.headers['idempotency-key'])).toEqual(['n1', 'n1', 'n1', 'n2']);
    expect(peer.requests.map((r) => (r.body as { id?: string; attachments?: { callback_id: string }[] }).id ?? (r.body as { attachments: { callback_id: string }[] }).attachments[0]!.callback_id)).toEqual(['n1', 'n1', 'n1', 'n2']);
  });

  it.each([
    [503, true],
    [429, true],
    [400, false],
  ] as const)('an answer %s is a DeliveryError, retriable: %s', async (status, retriable) => {
    peer.mode = status;
    const error = await createWebhookChannel({ url: peer.url }).send(note).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ status, retriable });
  });

  it('a peer that hangs times out, retriably', async () => {
    peer.mode = 'hang';
    const started = Date.now();
    const error = await createSlackChannel({ webhookUrl: peer.url, timeoutMs: 200 }).send(note).catch((e: unknown) => e);
    expect(error).toMatchObject({ retriable: true, code: 'NETWORK' });
    expect((error as Error).message).toContain('timed out');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a dropped connection is retriable; an aborted request is not', async () => {
    peer.mode = 'drop';
    expect(await postJson(peer.url, {}).catch((e: unknown) => e)).toMatchObject({ retriable: true });
    peer.mode = 'hang';
    const controller = new AbortController();
    const pending = postJson(peer.url, {}, { signal: controller.signal }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 20);
    expect(await pending).toMatchObject({ retriable: false });
  });
});
