import { beforeEach, describe, expect, it } from 'vitest';

/**
 * Catch-up's shared pages (catch-up.ts readPage), with the database stood in for (a pure
 * unit of the cache's bookkeeping; no module mock: the unit tests share one module graph
 * per worker): a page dropped while its read was still under way (a bigger page came
 * meanwhile) was counted when it landed and never taken off, so the total stayed past the
 * 64 MB bound for good and every later read dropped every other page — a reconnect
 * storm's pages no longer shared.
 */
const calls: string[] = [];
const pending = new Map<string, (rows: unknown[]) => void>();
const BIG = 70 * 1024 * 1024;
// A carrier of this file's own: the page cache is the module's, shared in the worker.
const CARRIER = '00000000-0000-4000-8000-0000000c4c4e';

/** One log row as the read of a page gives it, `bytes` long as text. */
const row = (seq: number, bytes: number) => ({
  seq: String(seq),
  carrier_id: CARRIER,
  at: '2026-12-08T00:00:00.000Z',
  resource: 'customers',
  entity_id: '00000000-0000-4000-8000-000000000001',
  op: 'updated',
  before: null,
  after: { id: '00000000-0000-4000-8000-000000000001' },
  scope_before: `${CARRIER}/`,
  scope_after: `${CARRIER}/`,
  summary: null,
  audience: null,
  affects_access: false,
  actor_user_id: null,
  actor_name: null,
  actor_email: null,
  actor_user_path: null,
  actor_account_name: null,
  actor_account_path: null,
  bytes: String(bytes),
});

const actor = {
  userId: '00000000-0000-4000-8000-0000000000a1',
  account: { id: CARRIER, path: `${CARRIER}/`, kind: 'carrier', status: 'active' },
  group: { id: '00000000-0000-4000-8000-0000000000b1' },
  grants: [],
  impersonation: null,
  dormantImpersonation: null,
};
/** The log's state for any other read; a page's read (read-log.ts) by its `since`. */
const em = {
  execute: async (sql: string, params: unknown[] = []) => {
    if (!sql.includes('order by c.seq')) {
      return [{ head: '1000000', oldest: '1', changed: false, at: null }];
    }
    const since = Number(params[1]);
    calls.push(String(since));
    if (since === 10) return new Promise((resolve) => pending.set('P1', resolve));
    if (since === 20) return [row(21, BIG)];
    return [row(since + 1, 100)];
  },
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
    pending.get('P1')!([row(11, BIG)]);
    await p1; // lands: its 70 MB counted, never to be taken off
    // Two small pages, the first asked again: a shared page should answer it.
    await ask(30);
    await ask(40);
    calls.length = 0;
    await ask(30);
    expect(calls).toEqual([]);
  });
});
