import { describe, expect, it } from 'vitest';
import { forwardedClient } from '@/lib/server/http/forwarded';

describe("the client's address and Host behind trusted proxies", () => {
  const peer = '10.0.0.2';

  it('uses the peer and the Host header when no proxy is trusted, whatever is forwarded', () => {
    expect(
      forwardedClient(
        { host: 'panel.example', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'x.test' },
        peer,
        0,
      ),
    ).toEqual({ ip: peer, host: 'panel.example' });
  });

  it('counts hops from the peer, so entries a client wrote itself are never taken', () => {
    const headers = {
      host: 'backend:3000',
      'x-forwarded-for': '198.51.100.1, 203.0.113.7, 10.0.0.1',
      'x-forwarded-host': 'spoof.test, portal.example, portal.example',
    };
    expect(forwardedClient(headers, peer, 1)).toEqual({ ip: '10.0.0.1', host: 'portal.example' });
    expect(forwardedClient(headers, peer, 2)).toEqual({
      ip: '203.0.113.7',
      host: 'portal.example',
    });
    // More hops trusted than entries: the leftmost, as far as the chain goes.
    expect(forwardedClient(headers, peer, 9).ip).toBe('198.51.100.1');
  });

  it('reads repeated headers as one list and keeps the Host when none is forwarded', () => {
    expect(
      forwardedClient(
        { host: 'panel.example', 'x-forwarded-for': ['203.0.113.7', ' 10.0.0.1 ,'] as never },
        peer,
        2,
      ),
    ).toEqual({ ip: '203.0.113.7', host: 'panel.example' });
    expect(forwardedClient({}, undefined, 1)).toEqual({ ip: 'unknown', host: undefined });
  });
});
