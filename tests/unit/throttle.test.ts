import { describe, expect, it } from 'vitest';
import { delayAfter, throttleAddress } from '@/lib/server/auth/throttle';

const policy = { freeFailures: 3, lockFailures: 10, baseDelayMs: 1000, lockSeconds: 900 };

describe('login throttle curve', () => {
  it('lets the first failures through, then doubles, then locks', () => {
    expect([0, 1, 2].map((n) => delayAfter(n, policy))).toEqual([0, 0, 0]);
    expect([3, 4, 5, 6].map((n) => delayAfter(n, policy))).toEqual([1000, 2000, 4000, 8000]);
    expect(delayAfter(10, policy)).toBe(900_000);
    expect(delayAfter(50, policy)).toBe(900_000);
  });

  it('never waits longer than the lock', () => {
    expect(delayAfter(9, { ...policy, baseDelayMs: 600_000 })).toBe(900_000);
  });
});

describe('the address the sign-in throttle keys on', () => {
  it('is an IPv6 address’s /64, an IPv4 client’s IPv4 address in any spelling', () => {
    const keyed = {
      '2001:db8:1:2:3:4:5:6': '2001:db8:1:2::/64',
      '2001:db8:1:2::1': '2001:db8:1:2::/64',
      '2001:DB8:0001:0002:ffff::': '2001:db8:1:2::/64',
      '[2001:db8:1:2::5]:443': '2001:db8:1:2::/64',
      '2001:db8::': '2001:db8:0:0::/64',
      '::1': '0:0:0:0::/64',
      'fe80::1%eth0': 'fe80:0:0:0::/64',
      // IPv4 clients seen through IPv6: each its own key, never one shared /64.
      '::ffff:192.0.2.7': '192.0.2.7',
      '::ffff:c000:208': '192.0.2.8',
      '0:0:0:0:0:ffff:192.0.2.9': '192.0.2.9',
      '::192.0.2.10': '192.0.2.10',
      '64:ff9b::192.0.2.11': '192.0.2.11',
      '192.0.2.7': '192.0.2.7',
      '192.0.2.7:443': '192.0.2.7',
      unknown: 'unknown',
    };
    expect(Object.fromEntries(Object.keys(keyed).map((ip) => [ip, throttleAddress(ip)]))).toEqual(
      keyed,
    );
  });
});
