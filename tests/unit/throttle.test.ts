import { describe, expect, it } from 'vitest';
import { delayAfter } from '@/lib/server/auth/throttle';

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
