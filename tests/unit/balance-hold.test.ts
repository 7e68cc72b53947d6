import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TLogEntry } from '@/lib/server/authz/audience';
import { BalanceHold } from '@/server/balance-hold';

/** An account's log entry at `seq` (only what the hold reads). */
const entry = (seq: number, id: string, carrierId = 'c1'): TLogEntry => ({
  seq,
  carrierId,
  at: new Date(),
  resource: 'customers',
  entityId: id,
  op: 'updated',
  before: null,
  after: null,
  scopeBefore: null,
  scopeAfter: null,
  actor: {
    userId: null,
    name: null,
    email: null,
    userPath: null,
    accountName: null,
    accountPath: null,
  },
});

describe('the balance hold', () => {
  let released: TLogEntry[];
  let coalesced: number;
  let hold: BalanceHold;
  beforeEach(() => {
    vi.useFakeTimers();
    released = [];
    coalesced = 0;
    hold = new BalanceHold(
      (held) => released.push(held),
      () => coalesced++,
    );
  });
  afterEach(() => {
    hold.stop();
    vi.useRealTimers();
  });

  /** What the fan-out does with a balance-only entry: hold it, or send it now. */
  const balance = (held: TLogEntry) => {
    if (hold.hold(held)) return 'held';
    hold.sending(held);
    return 'sent';
  };

  it('sends an account’s first move at once, holds the rest of its second, then the latest', () => {
    expect(balance(entry(1, 'a'))).toBe('sent');
    vi.advanceTimersByTime(100);
    expect(balance(entry(2, 'a'))).toBe('held');
    expect(balance(entry(3, 'a'))).toBe('held');
    expect(balance(entry(4, 'b'))).toBe('sent');
    vi.advanceTimersByTime(899);
    expect(released).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(released.map((e) => e.seq)).toEqual([3]);
    expect(coalesced).toBe(1);
    // Its second starts again from that delivery.
    expect(balance(entry(5, 'a'))).toBe('held');
    vi.advanceTimersByTime(1_000);
    expect(released.map((e) => e.seq)).toEqual([3, 5]);
    vi.advanceTimersByTime(1_000);
    expect(balance(entry(6, 'a'))).toBe('sent');
  });

  it('names the position before the first held entry of each carrier, until none is held', () => {
    balance(entry(1, 'a'));
    balance(entry(2, 'b'));
    balance(entry(3, 'k', 'c2'));
    expect(hold.floorOf('c1')).toBeUndefined();
    expect(balance(entry(4, 'a'))).toBe('held');
    expect(balance(entry(5, 'b'))).toBe('held');
    expect(balance(entry(6, 'a'))).toBe('held');
    // a's first held move (4) still bounds the gap, though 6 replaced it.
    expect(hold.floorOf('c1')).toBe(3);
    expect(hold.floorOf('c2')).toBeUndefined();
    // A rename of a goes out now and drops its held move: b's is the first held now.
    hold.sending(entry(7, 'a'));
    expect(hold.floorOf('c1')).toBe(4);
    vi.advanceTimersByTime(1_000);
    expect(released.map((e) => e.seq)).toEqual([5]);
    expect(hold.floorOf('c1')).toBeUndefined();
    expect(hold.size).toBe(0);
  });
});
