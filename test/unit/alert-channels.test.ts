import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { classifyAddress } from '../../src/mail/channels/address-policy.js';
import { retryAfter } from '../../src/mail/channels/channel-delivery.service.js';
import { ChannelRegistry } from '../../src/mail/channels/channel-registry.js';
import { CORE_CHANNELS } from '../../src/mail/channels/core-channels.js';
import { WebhookChannel } from '../../src/mail/channels/webhook.channel.js';

describe('alert channels (unit)', () => {
  it('classifies addresses: metadata and link-local forbidden, private ranges apart, the rest public', () => {
    const cases: Record<string, string> = {
      '169.254.169.254': 'forbidden',
      '::ffff:169.254.169.254': 'forbidden',
      'fd00:ec2::254': 'forbidden',
      'fe80::1': 'forbidden',
      '0.0.0.0': 'forbidden',
      '224.0.0.1': 'forbidden',
      '100.100.100.200': 'forbidden',
      '127.0.0.1': 'private',
      '::1': 'private',
      '10.20.30.40': 'private',
      '172.31.255.255': 'private',
      '192.168.1.1': 'private',
      'fd12:3456::1': 'private',
      '172.32.0.1': 'public',
      '93.184.216.34': 'public',
      '2606:4700::1111': 'public',
      'not-an-ip': 'forbidden',
      // NAT64 (RFC 6052) and 6to4 (RFC 3056) carry an IPv4 address: judged as that address.
      '64:ff9b::169.254.169.254': 'forbidden',
      '64:ff9b::a9fe:a9fe': 'forbidden',
      '64:ff9b::7f00:1': 'private',
      '64:ff9b::10.0.0.1': 'private',
      '64:ff9b::808:808': 'public',
      '2002:a9fe:a9fe::1': 'forbidden',
      '2002:7f00:1::': 'private',
      '2002:c0a8:101:1::5': 'private',
      '2002:5db8:d822::1': 'public',
      '::ffff:a9fe:a9fe': 'forbidden',
      '::ffff:7f00:1': 'private',
      // Local-use NAT64 (RFC 8215): the IPv4 address's place depends on the site, so it is refused.
      '64:ff9b:1::a9fe:a9fe': 'forbidden',
      '64:ff9b:1:ffff::808:808': 'forbidden',
    };
    for (const [address, verdict] of Object.entries(cases))
      assert.equal(classifyAddress(address), verdict, address);
  });

  it('reads Retry-After as seconds or an HTTP date, bounded', () => {
    const now = new Date('2025-05-01T09:00:00Z');
    assert.equal(retryAfter('120', now), 120);
    assert.equal(retryAfter('Thu, 01 May 2025 09:05:00 GMT', now), 300);
    assert.equal(retryAfter('0', now), 1);
    assert.equal(retryAfter('9999999', now), 6 * 3600);
    assert.equal(retryAfter('soon', now), undefined);
    assert.equal(retryAfter(undefined, now), undefined);
  });

  it('signs the webhook body with its timestamp, as the README tells receivers to verify', () => {
    const now = new Date('2025-05-01T09:00:00Z');
    const request = new WebhookChannel().request(
      {
        id: 'key-1',
        createdAt: now.toISOString(),
        subject: 'S',
        text: 'B',
        author: null,
        subtype: null,
        record: null,
        link: null,
        tracking: [],
        test: false,
      },
      { url: 'https://example.com/hook', secret: 'a-secret-of-16-chars' },
      now,
    );
    const t = Math.floor(now.getTime() / 1000);
    const expected = createHmac('sha256', 'a-secret-of-16-chars')
      .update(`${t}.${request.body}`)
      .digest('hex');
    assert.equal(request.headers['vigil-signature'], `t=${t},v1=${expected}`);
    assert.equal(request.headers['idempotency-key'], 'key-1');
  });

  it('refuses two channels of one kind, and the built-in kinds', () => {
    assert.throws(() => new ChannelRegistry([...CORE_CHANNELS, new WebhookChannel()]), /"webhook"/);
    assert.throws(
      () =>
        new ChannelRegistry([
          { kind: 'email', settings: [], request: () => ({ url: '', headers: {}, body: '' }) },
        ]),
      /"email"/,
    );
  });
});
