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

  it('hands calls a later move replaced or drops on to the entry that goes out instead', () => {
    const told: (number | undefined)[] = [];
    hold.stop();
    hold = new BalanceHold(
      (held, calls) => {
        released.push(held);
        told.push(calls?.seq);
      },
      () => coalesced++,
    );
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
    // Calls, then payments, then calls and payments taking turns every 10 ms: still one
    // event a second, the latest, telling of the last calls a payment replaced.
    expect(balance(calls(2))).toBe('held');
    expect(balance(payment(3))).toBe('held');
    expect(balance(payment(4))).toBe('held');
    vi.advanceTimersByTime(1_000);
    expect(released.map((e) => e.seq)).toEqual([4]);
    expect(told).toEqual([2]);
    for (let seq = 5; seq <= 102; seq++) {
      vi.advanceTimersByTime(10);
      balance(seq % 2 ? calls(seq) : payment(seq));
    }
    expect(released.map((e) => e.seq)).toEqual([4]);
    vi.advanceTimersByTime(20);
    expect(released.map((e) => e.seq)).toEqual([4, 102]);
    expect(told).toEqual([2, 101]);
    // A later move of calls tells of them itself.
    expect(balance(calls(103))).toBe('held');
    expect(balance(payment(104))).toBe('held');
    expect(balance(calls(105))).toBe('held');
    vi.advanceTimersByTime(1_000);
    expect(released.map((e) => e.seq)).toEqual([4, 102, 105]);
    expect(told).toEqual([2, 101, undefined]);
    // A rename drops what is held and is told the calls to tell of; a move of calls, not.
    expect(balance(calls(106))).toBe('held');
    expect(hold.sending(entry(107, 'k'))?.seq).toBe(106);
    expect(balance(calls(108))).toBe('held');
    expect(hold.sending(usage(109))).toBeUndefined();
    expect(hold.size).toBe(0);
  });
});
