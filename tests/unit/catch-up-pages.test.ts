import { beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * Catch-up's shared pages (catch-up.ts readPage), with the log's reads stood in for: a
 * page dropped while its read was still under way (a bigger page came meanwhile) was
 * counted when it landed and never taken off, so the total stayed past the 64 MB bound
 * for good and every later read dropped every other page — a reconnect storm's pages no
 * longer shared. The reads are a stand-in here (a pure unit of the cache's bookkeeping).
 */
const calls: string[] = [];
const pending = new Map<string, (entries: unknown[]) => void>();
const BIG = 70 * 1024 * 1024;
vi.mock('@/lib/server/live/read-log', () => ({
  readLogAfter: (_em: unknown, _carrier: string, since: number) => {
    calls.push(String(since));
    const entry = (bytes: number) => ({ seq: since + 1, bytes, carrierId: 'c1' });
    if (since === 10) return new Promise((resolve) => pending.set('P1', resolve));
    if (since === 20) return Promise.resolve([entry(BIG)]);
    return Promise.resolve([entry(100)]);
  },
}));

const CARRIER = '00000000-0000-4000-8000-0000000000c1';
const actor = {
  userId: '00000000-0000-4000-8000-0000000000a1',
  account: { id: CARRIER, path: `${CARRIER}/`, kind: 'carrier', status: 'active' },
  group: { id: '00000000-0000-4000-8000-0000000000b1' },
  grants: [],
  impersonation: null,
  dormantImpersonation: null,
};
const em = {
  execute: async () => [{ head: '1000000', oldest: '1', changed: false }],
};

describe('catch-up pages after one is dropped while it is read', () => {
  beforeEach(() => void (calls.length = 0));
  it('still shares a page asked twice in a row', async () => {
    const { catchUp } = await import('@/lib/server/services/events/catch-up');
    const ask = (since: number) =>
      catchUp(em as never, actor as never, { since, limit: 100 }, { retentionDays: 30 });
    const p1 = ask(10); // in flight
    // Until its read is under way (the state of the log is read first).
    while (!pending.has('P1')) await new Promise((resolve) => setTimeout(resolve, 1));
    await ask(20); // 70 MB: evicts the oldest page — P1, still in flight
    pending.get('P1')!([{ seq: 11, bytes: BIG, carrierId: 'c1' }]);
    await p1; // lands: its 70 MB counted, never to be taken off
    // Two small pages, the first asked again: a shared page should answer it.
    await ask(30);
    await ask(40);
    calls.length = 0;
    await ask(30);
    expect(calls).toEqual([]);
  });
});
