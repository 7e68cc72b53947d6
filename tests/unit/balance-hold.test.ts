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

  it('never lets a move that is not of calls replace or drop one that is', () => {
    const calls = (seq: number) => ({
      ...entry(seq, 'k'),
      summary: { reason: 'calls', calls: 2, unrated: 2 },
    });
    const usage = (seq: number) => ({
      ...entry(seq, 'k'),
      summary: { reason: 'ledger', kind: 'usage', amount: '-1', currency: 'EUR', entryId: 'e' },
    });
    const payment = (seq: number) => ({
      ...entry(seq, 'k'),
      summary: { reason: 'ledger', kind: 'payment', amount: '5', currency: 'EUR', entryId: 'p' },
    });
    expect(balance(usage(1))).toBe('sent');
    expect(balance(calls(2))).toBe('held');
    // Calls replace calls (the latest stands for both)…
    expect(balance(usage(3))).toBe('held');
    expect(coalesced).toBe(1);
    // …but a payment does not: the calls go out now, the payment waits its second.
    vi.advanceTimersByTime(300);
    expect(balance(payment(4))).toBe('held');
    expect(released.map((e) => e.seq)).toEqual([3]);
    vi.advanceTimersByTime(999);
    expect(released.map((e) => e.seq)).toEqual([3]);
    vi.advanceTimersByTime(1);
    expect(released.map((e) => e.seq)).toEqual([3, 4]);
    // A rename after held calls: the calls go out first instead of being dropped.
    expect(balance(calls(5))).toBe('held');
    hold.sending(entry(6, 'k'));
    expect(released.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(hold.size).toBe(0);
    expect(coalesced).toBe(1);
  });
});
