import { describe, expect, it } from 'vitest';
import type { TLogEntry } from '@/lib/server/authz/audience';
import { RecentLog } from '@/lib/server/live/recent-log';

const A = 'carrier-a';
const B = 'carrier-b';
const entry = (carrierId: string, seq: number) => ({ carrierId, seq }) as TLogEntry;
const seqs = (entries: TLogEntry[] | null) => entries?.map((e) => e.seq) ?? null;

describe('RecentLog', () => {
  it('holds its entries to a size as well as a count: a few huge ones push the oldest out', () => {
    // 10 places, so 10 × 5,000 bytes: usual entries fill the count, huge ones the bytes.
    const recent = new RecentLog(10);
    for (let seq = 1; seq <= 10; seq++) recent.remember({ ...entry(A, seq), bytes: 4_000 });
    expect(recent.size).toBe(10);
    // Two big entries (a card's with its rules): the oldest go until both fit.
    recent.remember({ ...entry(A, 11), bytes: 11_000 });
    recent.remember({ ...entry(A, 12), bytes: 11_000 });
    expect(recent.heldBytes).toBeLessThanOrEqual(50_000);
    expect(seqs(recent.after(A, 10, 12, 100))).toEqual([11, 12]);
    expect(recent.size).toBe(8);
    expect(seqs(recent.after(A, 4, 12, 100))).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    expect(recent.after(A, 3, 12, 100)).toBeNull();
    // One taking more than a quarter of the budget is not kept, and pushes nobody out:
    // catch-up reads it from the log, and the carrier's run starts again after it.
    recent.remember({ ...entry(B, 1), bytes: 1_000 });
    recent.remember({ ...entry(A, 13), bytes: 20_000 });
    expect(recent.size).toBe(8);
    expect(seqs(recent.after(B, 0, 1, 100))).toEqual([1]);
    expect(recent.after(A, 12, 13, 100)).toBeNull();
    recent.remember({ ...entry(A, 14), bytes: 1_000 });
    expect(recent.after(A, 12, 14, 100)).toBeNull();
    expect(seqs(recent.after(A, 13, 14, 100))).toEqual([14]);
  });

  it('answers the entries after a position up to a head, at most as many as asked', () => {
    const recent = new RecentLog(100);
    for (let seq = 5; seq <= 9; seq++) recent.remember(entry(A, seq));
    expect(seqs(recent.after(A, 4, 9, 100))).toEqual([5, 6, 7, 8, 9]);
    expect(seqs(recent.after(A, 6, 8, 100))).toEqual([7, 8]);
    expect(seqs(recent.after(A, 4, 9, 2))).toEqual([5, 6]);
    // The head is further than what was read: as far as is held.
    expect(seqs(recent.after(A, 7, 12, 100))).toEqual([8, 9]);
  });

  it('answers null where it holds nothing after the position', () => {
    const recent = new RecentLog(100);
    expect(recent.after(A, 0, 3, 100)).toBeNull();
    for (let seq = 5; seq <= 9; seq++) recent.remember(entry(A, seq));
    // Entry 4 is not held: a page from 3 must come from the log.
    expect(recent.after(A, 3, 9, 100)).toBeNull();
    expect(recent.after(A, 9, 12, 100)).toBeNull();
    expect(recent.after(B, 4, 9, 100)).toBeNull();
  });

  it('starts a carrier afresh at a gap, or when forgotten', () => {
    const recent = new RecentLog(100);
    for (const seq of [1, 2, 3, 7, 8]) recent.remember(entry(A, seq));
    expect(recent.after(A, 2, 8, 100)).toBeNull();
    expect(seqs(recent.after(A, 6, 8, 100))).toEqual([7, 8]);
    recent.remember(entry(B, 1));
    recent.forget(A);
    expect(recent.after(A, 6, 8, 100)).toBeNull();
    expect(seqs(recent.after(B, 0, 1, 100))).toEqual([1]);
    recent.remember(entry(A, 12));
    expect(seqs(recent.after(A, 11, 12, 100))).toEqual([12]);
  });

  it('drops the oldest read first, over all carriers, past its capacity', () => {
    const recent = new RecentLog(4);
    recent.remember(entry(A, 1));
    recent.remember(entry(B, 1));
    recent.remember(entry(A, 2));
    recent.remember(entry(B, 2));
    recent.remember(entry(A, 3));
    expect(recent.size).toBe(4);
    expect(recent.after(A, 0, 3, 100)).toBeNull();
    expect(seqs(recent.after(A, 1, 3, 100))).toEqual([2, 3]);
    expect(seqs(recent.after(B, 0, 2, 100))).toEqual([1, 2]);
    recent.remember(entry(A, 4));
    expect(recent.after(B, 0, 2, 100)).toBeNull();
    expect(seqs(recent.after(B, 1, 2, 100))).toEqual([2]);
    // Thousands later the bound holds, and the newest are still served in order.
    for (let seq = 5; seq < 5_000; seq++) recent.remember(entry(A, seq));
    expect(recent.size).toBe(4);
    expect(seqs(recent.after(A, 4_995, 4_999, 100))).toEqual([4_996, 4_997, 4_998, 4_999]);
    expect(recent.after(B, 1, 2, 100)).toBeNull();
  });

  it('holds nothing at capacity 0', () => {
    const recent = new RecentLog(0);
    recent.remember(entry(A, 1));
    expect(recent.size).toBe(0);
    expect(recent.after(A, 0, 1, 100)).toBeNull();
  });
});
