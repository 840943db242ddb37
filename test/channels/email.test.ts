import { afterEach, describe, expect, it } from 'vitest';
import { createEmailChannel } from '../../src/channels/email.ts';
import { formatEmail } from '../../src/channels/email-format.ts';
import type { Outgoing } from '../../src/channels/channel.ts';
import { DeliveryError } from '../../src/errors.ts';
import { freePort, smtpPeer, type SmtpPeer } from '../support/peers.ts';

const note: Outgoing = {
  id: 'n1',
  severity: 'critical',
  title: 'CPU high on edge-1',
  message: 'cpu at 97.5 (> 90)',
  metadata: { device_id: 'edge-1', value: 97.5, tags: ['a'] },
  alert_id: 'rule-1',
  created_at: '2026-01-01T00:00:00.000Z',
};

const peers: SmtpPeer[] = [];
const channels: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of channels.splice(0)) await c.close();
  for (const p of peers.splice(0)) await p.close();
});

async function started(): Promise<SmtpPeer> {
  const peer = smtpPeer();
  peers.push(peer);
  await peer.listen();
  return peer;
}

const channelTo = (port: number) => {
  const channel = createEmailChannel({ host: '127.0.0.1', port, from: 'vigil@test', to: ['ops@test', 'oncall@test'], timeoutMs: 2_000 });
  channels.push(channel);
  return channel;
};

describe('formatEmail', () => {
  it('has a [SEVERITY] Title subject and the same content in text and HTML, HTML escaped', () => {
    const email = formatEmail({ ...note, title: 'a <b> & c' });
    expect(email.subject).toBe('[CRITICAL] a <b> & c');
    expect(email.text).toContain('Severity: CRITICAL');
    expect(email.text).toContain('cpu at 97.5 (> 90)');
    expect(email.text).toContain('  device_id: edge-1');
    expect(email.text).toContain('  tags: ["a"]');
    expect(email.text).toContain('Sent by Vigil');
    expect(email.html).toContain('<h2>a &lt;b&gt; &amp; c</h2>');
    expect(email.html).toContain('<th align="left">value</th><td>97.5</td>');
    expect(email.html).toContain('Sent by Vigil');
  });

  it('leaves the details section out when there is no metadata', () => {
    expect(formatEmail({ ...note, metadata: {} }).text).not.toContain('Details:');
  });
});

describe('email channel (real SMTP server)', () => {
  it('delivers a multipart email to every recipient', async () => {
    const peer = await started();
    await channelTo(peer.port).send(note);
    expect(peer.mails).toHaveLength(1);
    const [mail] = peer.mails;
    expect(mail!.from).toBe('vigil@test');
    expect(mail!.to).toEqual(['ops@test', 'oncall@test']);
    expect(mail!.raw).toContain('Subject: [CRITICAL] CPU high on edge-1');
    // The dedup key: the notification id, the same on every redelivery.
    expect(mail!.raw).toMatch(/^Message-ID: <n1@vigil>\r?$/im);
    expect(mail!.raw).toContain('multipart/alternative');
    expect(mail!.raw).toContain('text/plain');
    expect(mail!.raw).toContain('text/html');
  });

  it('a temporary refusal (451) is retriable, a permanent one (550) is not', async () => {
    const peer = await started();
    const channel = channelTo(peer.port);
    peer.refuse = 451;
    const temporary = await channel.send(note).catch((e: unknown) => e);
    expect(temporary).toBeInstanceOf(DeliveryError);
    expect(temporary).toMatchObject({ retriable: true, status: 451 });
    peer.refuse = 550;
    expect(await channel.send(note).catch((e: unknown) => e)).toMatchObject({ retriable: false, status: 550 });
    peer.refuse = null;
    await channel.send(note);
    expect(peer.mails).toHaveLength(1);
  });

  it('a server that is down is a retriable error; once up, the same channel delivers', async () => {
    const port = await freePort();
    const channel = channelTo(port);
    expect(await channel.send(note).catch((e: unknown) => e)).toMatchObject({ retriable: true });
    const peer = smtpPeer(port);
    peers.push(peer);
    await peer.listen();
    await channel.send(note);
    expect(peer.mails).toHaveLength(1);
  });
});
