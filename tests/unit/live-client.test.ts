import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { withinKey } from '@/lib/shared/live/within';
import { ApiClientError, type TApiFetch, type TPageOf } from '@/lib/client/api';
import { InfiniteQueryObserver, QueryClient, QueryObserver } from '@tanstack/react-query';
import {
  flattenPages,
  LiveCache,
  liveListQuery,
  NOTIFICATIONS_KEY,
  OWN_IDENTITY_KEY,
  patchItems,
  patchPages,
  RESCOPE_HOLD_MS,
} from '@/lib/client/live-cache';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import { heldRows, windowedListQuery, type TWindowData } from '@/lib/client/windowed-list';
import { LiveFeed } from '@/lib/client/live-feed';
import type { TPanelClientSocket } from '@/lib/client/socket';
import type { TChangeEnvelope } from '@/lib/shared/live/change';
import { PROTOCOL_VERSION, type THello } from '@/lib/shared/live/events';
import { accessOf } from '@/lib/shared/viewer-identity';

const change = (
  seq: number,
  type: TChangeEnvelope['type'],
  id: string,
  data: Record<string, unknown> = { id },
): TChangeEnvelope => ({
  seq,
  type,
  id,
  data,
  at: '2026-11-28T10:00:00.000Z',
  actor: { kind: 'account', name: 'Carrier' },
});

describe('patching a list by id and version', () => {
  const list = [
    { id: 'a', version: 2, name: 'A2' },
    { id: 'b', version: 1, name: 'B1' },
  ];

  it('replaces only with a newer version, so duplicates and stale copies change nothing', () => {
    expect(
      patchItems(
        list,
        change(5, 'customers.updated', 'a', { id: 'a', version: 2, name: 'dup' }),
        true,
      ),
    ).toBe(list);
    expect(
      patchItems(
        list,
        change(5, 'customers.updated', 'a', { id: 'a', version: 1, name: 'old' }),
        true,
      ),
    ).toBe(list);
    expect(
      patchItems(
        list,
        change(5, 'customers.updated', 'a', { id: 'a', version: 3, name: 'A3' }),
        true,
      )[0],
    ).toEqual({ id: 'a', version: 3, name: 'A3' });
  });

  it('drops removals, appends newcomers only where the list ends, and ignores bulk signals', () => {
    expect(patchItems(list, change(6, 'customers.removed', 'b'), true).map((x) => x.id)).toEqual([
      'a',
    ]);
    const added = change(7, 'customers.added', 'c', { id: 'c', version: 1 });
    expect(patchItems(list, added, true).map((x) => x.id)).toEqual(['a', 'b', 'c']);
    expect(patchItems(list, added, false)).toBe(list);
    expect(patchItems(list, change(8, 'customers.refetch', 'r'), true)).toBe(list);
  });

  it('patches paged data where the entity is, new ones on the last page, each id once when read', () => {
    const data = {
      pages: [
        { items: [{ id: 'a', version: 1 }], nextCursor: 'x' },
        { items: [{ id: 'b', version: 1 }], nextCursor: null },
      ],
      pageParams: ['', 'x'],
    };
    const updated = patchPages(data, change(9, 'customers.updated', 'a', { id: 'a', version: 2 }));
    expect(updated.pages[0]!.items).toEqual([{ id: 'a', version: 2 }]);
    expect(updated.pages[1]).toBe(data.pages[1]);
    const created = patchPages(data, change(10, 'customers.created', 'c', { id: 'c', version: 1 }));
    expect(created.pages[1]!.items.map((x) => x.id)).toEqual(['b', 'c']);
    expect(
      flattenPages([
        { items: [{ id: 'a', version: 1 }], nextCursor: 'x' },
        { items: [{ id: 'a', version: 2 }], nextCursor: null },
      ]),
    ).toEqual([{ id: 'a', version: 2 }]);
  });
});

/** A socket stand-in: the feed only listens (and disconnects); the test plays the server. */
function fakeSocket() {
  const emitter = new EventEmitter();
  const socket = Object.assign(emitter, {
    active: true,
    disconnect: () => socket,
    connect: () => socket,
  });
  return socket;
}

const hello = (seq: number, grants = ['customers:read']): THello => ({
  user: { id: 'u', email: 'u@x.test', name: 'U', mustChangePassword: false },
  account: { id: 'acc', name: 'Acc', kind: 'reseller', status: 'active' },
  group: { id: 'g', name: 'G' },
  grants,
  mfa: { enrolled: false, required: false },
  impersonation: null,
  seq,
  protocol: 1,
});

function feedWith(answers: ((since: number) => { items: TChangeEnvelope[]; seq: number })[]) {
  const socket = fakeSocket();
  const applied: [number, string][] = [];
  const resyncs: string[] = [];
  const asked: { since: number; limit: number }[] = [];
  // The server's side of `events:since`: a page, or a refusal with the API's code.
  Object.assign(socket, {
    timeout: () => ({
      emitWithAck: async (event: string, request: { since: number; limit: number }) => {
        expect(event).toBe('events:since');
        asked.push(request);
        const answer = answers.shift();
        try {
          return {
            ok: true,
            page: answer ? answer(request.since) : { items: [], seq: request.since },
          };
        } catch (error) {
          const { code, message } = error as ApiClientError;
          return { ok: false, error: { code, message } };
        }
      },
    }),
  });
  const feed = new LiveFeed(socket as unknown as TPanelClientSocket, {
    onChange: (envelope, source) => applied.push([envelope.seq, source]),
    onResync: (why) => resyncs.push(why),
  });
  return { socket, feed, applied, resyncs, asked };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('the live feed', () => {
  it('applies each seq once, in order, resuming after a reconnect from its last seq', async () => {
    const { socket, feed, applied, asked } = feedWith([
      () => ({
        items: [change(12, 'customers.created', 'k'), change(13, 'customers.updated', 'k')],
        seq: 14,
      }),
    ]);
    socket.emit('hello', hello(10));
    await feed.ready();
    socket.emit('change', change(11, 'customers.created', 'j'));
    socket.emit('change', change(11, 'customers.created', 'j')); // a duplicate frame
    socket.emit('disconnect', 'transport close');
    socket.emit('hello', hello(15));
    // Live frames during catch-up wait their turn; one already in catch-up is dropped.
    socket.emit('change', change(13, 'customers.updated', 'k'));
    socket.emit('change', change(16, 'customers.deleted', 'k'));
    await settle();
    expect(asked[0]).toEqual({ since: 11, limit: 1000 });
    expect(applied).toEqual([
      [11, 'live'],
      [12, 'catch-up'],
      [13, 'catch-up'],
      [16, 'live'],
    ]);
    expect(feed.seq).toBe(16);
    expect(feed.state).toBe('live');
  });

  it('keeps an access change seen by a failed catch-up for the hello that catches up', async () => {
    const { socket, feed, resyncs } = feedWith([
      () => {
        throw new ApiClientError(503, 'unavailable', 'The database is away.');
      },
    ]);
    socket.emit('hello', hello(10));
    await feed.ready();
    socket.emit('disconnect', 'transport close');
    const wider = ['customers:read', 'users:read'];
    socket.emit('hello', hello(12, wider));
    await settle();
    expect(resyncs).toEqual([]);
    socket.emit('hello', hello(12, wider));
    await settle();
    expect(resyncs).toEqual(['rescoped']);
  });

  it('ends the hold when access goes back to what the page shows before it renders', async () => {
    const socket = fakeSocket();
    const feed = new LiveFeed(
      socket as unknown as TPanelClientSocket,
      { onChange: () => {}, onResync: () => {} },
      accessOf(hello(1)),
    );
    socket.emit('hello', hello(5));
    await feed.ready();
    socket.emit('session.rescoped', hello(5, ['customers:read', 'users:read']));
    let read = false;
    const waiting = feed.ready().then(() => (read = true));
    await settle();
    expect(read).toBe(false);
    // Back to the access the page was rendered for: the page need not render again.
    socket.emit('session.rescoped', hello(5));
    await settle();
    expect(read).toBe(true);
    await waiting;
  });

  it('lets reads waiting on a catch-up go when it fails, as while disconnected', async () => {
    const { socket, feed } = feedWith([
      () => {
        throw new ApiClientError(503, 'unavailable', 'The database is away.');
      },
    ]);
    socket.emit('hello', hello(10));
    await feed.ready();
    socket.emit('disconnect', 'transport close');
    socket.emit('hello', hello(12));
    let read = false;
    const waiting = feed.ready().then(() => (read = true));
    expect(read).toBe(false);
    await waiting;
    expect(feed.state).toBe('reconnecting');
  });

  it('takes a first hello for other access than the page was rendered for as a rescope', async () => {
    const start = (rendered: string) => {
      const socket = fakeSocket();
      const resyncs: [string, string | undefined][] = [];
      const feed = new LiveFeed(
        socket as unknown as TPanelClientSocket,
        { onChange: () => {}, onResync: (why, access) => resyncs.push([why, access]) },
        rendered,
      );
      // What the page's waiting reads see when they go.
      const seenByReads = feed.ready().then(() => [...resyncs]);
      return { socket, feed, resyncs, seenByReads };
    };
    // Rendered with one group's grants; a user:read grant added before the socket joined.
    const changed = start(accessOf(hello(1)));
    const wider = hello(5, ['customers:read', 'users:read']);
    let read = false;
    void changed.seenByReads.then(() => (read = true));
    changed.socket.emit('hello', wider);
    expect(changed.resyncs).toEqual([['rescoped', accessOf(wider)]]);
    // Reads wait for the page to render for the new access, then go.
    await settle();
    expect(read).toBe(false);
    changed.feed.renderedFor(accessOf(wider));
    expect(await changed.seenByReads).toEqual([['rescoped', accessOf(wider)]]);
    // The same access: a start, nothing to fetch again.
    const same = start(accessOf(hello(1)));
    same.socket.emit('hello', hello(5));
    expect(await same.seenByReads).toEqual([]);
    expect(same.resyncs).toEqual([]);
  });

  it('applies a coalesced balance change behind its last seq, and resumes from where the server held one', async () => {
    const { socket, feed, applied, asked } = feedWith([
      () => ({
        items: [change(13, 'customers.updated', 'j'), change(15, 'customers.updated', 'x')],
        seq: 15,
      }),
    ]);
    socket.emit('hello', hello(10));
    await feed.ready();
    // The server holds k's balance at 11 and sends j's rename at 12, saying so.
    socket.emit('change', { ...change(12, 'customers.updated', 'j'), resumeAfter: 10 });
    socket.emit('change', change(12, 'customers.updated', 'j')); // a duplicate frame
    // k's latest balance (held, then let go): behind seq 12, applied all the same.
    socket.emit('change', { ...change(11, 'customers.updated', 'k'), coalesced: true as const });
    expect(applied).toEqual([
      [12, 'live'],
      [11, 'live'],
    ]);
    expect(feed.seq).toBe(12);
    // j's balance held at 13, x renamed at 14 and 15, and the connection drops: catch-up
    // starts at 12, not at 15, and what it replays up to 15 reaches the cache (which
    // patches by version).
    socket.emit('change', { ...change(14, 'customers.updated', 'x'), resumeAfter: 12 });
    socket.emit('change', { ...change(15, 'customers.updated', 'x'), resumeAfter: 12 });
    socket.emit('disconnect', 'transport close');
    socket.emit('hello', hello(15));
    await settle();
    expect(asked[0]).toEqual({ since: 12, limit: 1000 });
    // Behind the last seq (15): replays, which the cache patches without counting again.
    expect(applied.slice(4)).toEqual([
      [13, 'replay'],
      [15, 'replay'],
    ]);
    expect(feed.seq).toBe(15);
  });

  it('resumes from its last seq once nothing is held any more', async () => {
    const { socket, feed, asked } = feedWith([() => ({ items: [], seq: 12 })]);
    socket.emit('hello', hello(10));
    await feed.ready();
    socket.emit('change', { ...change(12, 'customers.updated', 'j'), resumeAfter: 10 });
    socket.emit('change', {
      ...change(11, 'customers.updated', 'k'),
      coalesced: true as const,
    });
    socket.emit('disconnect', 'transport close');
    socket.emit('hello', hello(13));
    await settle();
    expect(asked[0]).toEqual({ since: 12, limit: 1000 });
  });

  it('stops and offers a reload when the server speaks a newer protocol', async () => {
    const { socket, feed, applied } = feedWith([]);
    let disconnected = false;
    socket.disconnect = () => ((disconnected = true), socket);
    socket.emit('hello', { ...hello(10), protocol: PROTOCOL_VERSION + 1 });
    await feed.ready();
    socket.emit('change', change(11, 'customers.created', 'j'));
    expect(feed.state).toBe('outdated');
    expect(disconnected).toBe(true);
    expect(applied).toEqual([]);
    // The same protocol is read as before.
    const current = feedWith([]);
    current.socket.emit('hello', { ...hello(10), protocol: PROTOCOL_VERSION });
    await current.feed.ready();
    expect(current.feed.state).toBe('live');
  });

  it('refetches everything when the gap is too old or its access changed meanwhile', async () => {
    const gone = feedWith([
      () => {
        throw new ApiClientError(410, 'resync_required', 'too old');
      },
    ]);
    gone.socket.emit('hello', hello(10));
    gone.socket.emit('hello', hello(20));
    await settle();
    expect(gone.resyncs).toEqual(['resync_required']);
    expect(gone.feed.seq).toBe(20);

    const moved = feedWith([]);
    moved.socket.emit('hello', hello(10, ['customers:read']));
    moved.socket.emit('hello', hello(12, ['customers:read', 'resellers:read']));
    await settle();
    expect(moved.resyncs).toEqual(['rescoped']);
  });

  it('releases waiting pages when the handshake is refused for good, not while it retries', async () => {
    const { socket, feed } = feedWith([]);
    let loaded = false;
    void feed.ready().then(() => (loaded = true));
    socket.emit('connect_error', new Error('transport error'));
    await settle();
    expect(loaded).toBe(false);
    Object.assign(socket, { active: false });
    socket.emit('connect_error', new Error('unauthenticated'));
    await settle();
    expect(loaded).toBe(true);
    expect(feed.state).toBe('offline');
  });

  it('lets pages load without the socket after 3 s, and refetches them once it joins', async () => {
    vi.useFakeTimers();
    try {
      const { socket, feed, resyncs } = feedWith([]);
      let loaded = false;
      void feed.ready().then(() => (loaded = true));
      await vi.advanceTimersByTimeAsync(2_900);
      expect(loaded).toBe(false);
      await vi.advanceTimersByTimeAsync(200);
      expect(loaded).toBe(true);
      socket.emit('hello', hello(30));
      expect(resyncs).toEqual(['resync_required']);
      expect(feed.seq).toBe(30);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the live feed after a reconnect, under a carrier that keeps writing', () => {
  it('catches up to its hello and goes live, not only once the carrier is quiet', async () => {
    // Someone else in the carrier commits between every two round trips: the head the
    // server answers moves each time, with nothing in it for this viewer.
    let head = 12;
    const { socket, feed, asked } = feedWith(
      Array.from({ length: 50 }, () => (since: number) => ({
        items: [],
        seq: Math.max(since, ++head),
      })),
    );
    socket.emit('hello', hello(10));
    await feed.ready();
    socket.emit('disconnect', 'transport close');
    // Back: rooms joined, then hello at 12. Everything after 12 comes live.
    socket.emit('hello', hello(12));
    await feed.ready();
    await settle();
    expect(asked.map((request) => request.since)).toEqual([10]);
    expect(feed.state).toBe('live');
  });
});

/** A feed applying into `cache` as the page does, whose every catch-up answers `page`. */
function feedIntoCache(cache: LiveCache, page: { items: TChangeEnvelope[]; seq: number }) {
  const socket = fakeSocket();
  Object.assign(socket, {
    timeout: () => ({ emitWithAck: async () => ({ ok: true, page }) }),
  });
  const feed = new LiveFeed(socket as unknown as TPanelClientSocket, {
    onChange: (envelope, source) => cache.apply(envelope, source === 'replay'),
    onResync: (why, access) => cache.resync(why, access),
  });
  return { socket, feed };
}

describe('a catch-up replay behind the last seq', () => {
  it("does not count a removal from a page not loaded twice: '50 of 119', not 118", async () => {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    const key = queryKeys.list('customers');
    const loaded = Array.from({ length: 50 }, (_, index) => ({ id: `c${index}`, version: 1 }));
    queryClient.setQueryData(key, {
      pages: [{ items: loaded, nextCursor: 'p2', total: 120 }],
      pageParams: [''],
    });
    const total = () =>
      (queryClient.getQueryData(key) as { pages: TPageOf<{ id: string }>[] }).pages[0]!.total;
    // From the resume point (10): k's held balance, j renamed, x deleted.
    const { socket, feed } = feedIntoCache(cache, {
      items: [
        change(11, 'customers.updated', 'k', { id: 'k', version: 5 }),
        change(12, 'customers.updated', 'j', { id: 'j', version: 3 }),
        change(13, 'customers.deleted', 'x'),
      ],
      seq: 13,
    });
    socket.emit('hello', hello(10));
    await feed.ready();
    // The server holds k's balance change (11) and says so with each live change.
    socket.emit('change', {
      ...change(12, 'customers.updated', 'j', { id: 'j', version: 3 }),
      resumeAfter: 10,
    });
    socket.emit('change', { ...change(13, 'customers.deleted', 'x'), resumeAfter: 10 });
    expect(total()).toBe(119);
    // Dropped before k's balance went: catch-up resumes at 10 and replays 11..13.
    socket.emit('disconnect', 'transport close');
    socket.emit('hello', hello(14));
    await feed.ready();
    await settle();
    expect(total()).toBe(119);
    cache.close();
  });
});

describe('a reconnect to a process a moment behind', () => {
  it('still reads from the log what the server owed behind the last seq', async () => {
    // The server said (resumeAfter 10) it still owed 11, a held balance; the socket comes
    // back on a process that has delivered up to 10 only: hello 10.
    const { socket, feed, applied, asked } = feedWith([
      () => ({
        items: [
          change(11, 'customers.updated', 'k', { id: 'k', version: 5 }),
          change(12, 'customers.updated', 'j'),
          change(13, 'customers.updated', 'm'),
        ],
        seq: 13,
      }),
    ]);
    socket.emit('hello', hello(10));
    await feed.ready();
    socket.emit('change', { ...change(12, 'customers.updated', 'j'), resumeAfter: 10 });
    socket.emit('change', { ...change(13, 'customers.updated', 'm'), resumeAfter: 10 });
    socket.emit('disconnect', 'transport close');
    socket.emit('hello', hello(10));
    await feed.ready();
    await settle();
    expect(asked.map((request) => request.since)).toEqual([10]);
    expect(applied).toContainEqual([11, 'replay']);
  });
});

describe('a catch-up replay of a creation', () => {
  it("does not count a row the list read since already holds: '50 of 121', not 122", async () => {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    const key = queryKeys.list('customers');
    const { socket, feed } = feedIntoCache(cache, {
      items: [
        change(11, 'customers.updated', 'k', { id: 'k', version: 5 }),
        change(12, 'customers.created', 'y', { id: 'y', version: 1 }),
      ],
      seq: 13,
    });
    socket.emit('hello', hello(10));
    await feed.ready();
    // y created live while k's balance is held (resume point 10).
    socket.emit('change', {
      ...change(12, 'customers.created', 'y', { id: 'y', version: 1 }),
      resumeAfter: 10,
    });
    // The list is opened now: its first page, read after y (y counted, on a later page).
    const loaded = Array.from({ length: 50 }, (_, index) => ({ id: `c${index}`, version: 1 }));
    queryClient.setQueryData(key, {
      pages: [{ items: loaded, nextCursor: 'p2', total: 121 }],
      pageParams: [''],
    });
    const page = () =>
      (queryClient.getQueryData(key) as { pages: TPageOf<{ id: string }>[] }).pages[0]!;
    socket.emit('disconnect', 'transport close');
    socket.emit('hello', hello(13));
    await feed.ready();
    await settle();
    expect(page().total).toBe(121);
    expect(page().items.some((item) => item.id === 'y')).toBe(false);
    cache.close();
  });
});

describe('a creation arriving while a list with more pages is read again', () => {
  it('is counted when that read was before it: 121, as the server says', async () => {
    // Not a catch-up replay: the read may have reached the server before the creation.
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    const key = queryKeys.list('customers');
    const server = { total: 120 };
    let release: () => void = () => {};
    let entered: () => void = () => {};
    let slow = false;
    const observer = new InfiniteQueryObserver(queryClient, {
      queryKey: key,
      queryFn: async () => {
        const total = server.total;
        if (slow) {
          entered();
          await new Promise<void>((resolve) => (release = resolve));
        }
        return {
          items: Array.from({ length: 50 }, (_, index) => ({ id: `c${index}`, version: 1 })),
          nextCursor: 'p2',
          total,
        };
      },
      initialPageParam: '',
      getNextPageParam: (last: { nextCursor: string | null }) => last.nextCursor ?? undefined,
    });
    const unsubscribe = observer.subscribe(() => {});
    const totalNow = () =>
      (observer.getCurrentResult().data as { pages: TPageOf<{ id: string }>[] } | undefined)
        ?.pages[0]?.total;
    while (totalNow() !== 120) await settle();
    slow = true;
    const reading = new Promise<void>((resolve) => (entered = resolve));
    void observer.refetch();
    await reading;
    server.total = 121;
    cache.apply(change(7, 'customers.created', 'y', { id: 'y', version: 1 }));
    release();
    while (observer.getCurrentResult().isFetching) await settle();
    expect(totalNow()).toBe(121);
    unsubscribe();
    cache.close();
  });
});

describe('a socket the server closes', () => {
  it('is connected again when no revocation came first (a re-check or welcome failed)', async () => {
    vi.useFakeTimers();
    try {
      const { socket, feed } = feedWith([]);
      let connects = 0;
      socket.connect = () => ((connects += 1), socket);
      socket.emit('hello', hello(10));
      await vi.advanceTimersByTimeAsync(10);
      expect(feed.state).toBe('live');
      Object.assign(socket, { active: false });
      socket.emit('disconnect', 'io server disconnect');
      expect(feed.state).toBe('reconnecting');
      await vi.advanceTimersByTimeAsync(1_000);
      expect(connects).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stays closed after a revocation: signed out is final', async () => {
    vi.useFakeTimers();
    try {
      const { socket, feed } = feedWith([]);
      let connects = 0;
      socket.connect = () => ((connects += 1), socket);
      socket.emit('hello', hello(10));
      await vi.advanceTimersByTimeAsync(10);
      socket.emit('session.revoked', {
        reason: 'Your access changed; sign in again.',
        code: 'ended',
      });
      Object.assign(socket, { active: false });
      socket.emit('disconnect', 'io server disconnect');
      await vi.advanceTimersByTimeAsync(60_000);
      expect(connects).toBe(0);
      expect(feed.state).toBe('offline');
      expect(feed.reason).toBe('Your access changed; sign in again.');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("a card's rates in the cache", () => {
  it("are refetched when that card's rates change, not for other cards or a margin alert", async () => {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    // A windowless list under the card (the margin report is one).
    const key = (card: string) => queryKeys.under('cards', card, 'rates', { prefix: '44' });
    for (const card of ['a', 'b']) {
      queryClient.setQueryData(key(card), {
        pages: [{ items: [], nextCursor: null }],
        pageParams: [null],
      });
    }
    const stale = (card: string) => queryClient.getQueryState(key(card))!.isInvalidated;
    cache.apply(change(1, 'cards.margin_alert', 'a', { id: 'a', version: 2 }));
    cache.apply(change(2, 'cards.updated', 'b', { id: 'b', version: 2 }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect([stale('a'), stale('b')]).toEqual([false, true]);
    cache.apply(change(3, 'cards.rates_changed', 'a', { id: 'a', version: 3 }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(stale('a')).toBe(true);
  });

  it("refetches a card's margin report on its margin alert: a provider it is compared with moved", async () => {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    const margin = (card: string) => queryKeys.under('cards', card, 'margin');
    for (const card of ['a', 'b']) {
      queryClient.setQueryData(margin(card), {
        pages: [{ items: [], nextCursor: null }],
        pageParams: [null],
      });
    }
    cache.apply(change(1, 'cards.margin_alert', 'a', { id: 'a', version: 2 }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    const stale = (card: string) => queryClient.getQueryState(margin(card))!.isInvalidated;
    expect([stale('a'), stale('b')]).toEqual([true, false]);
  });

  it('refetches views over everything (counters, activity) after any change', async () => {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    const dashboard = queryKeys.anyChange('dashboard');
    const mfa = queryKeys.static('me', { sub: 'mfa' });
    queryClient.setQueryData(dashboard, { customers: 1 });
    queryClient.setQueryData(mfa, { enabled: false });
    cache.apply(change(1, 'customers.created', 'k', { id: 'k', version: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(queryClient.getQueryState(dashboard)!.isInvalidated).toBe(true);
    expect(queryClient.getQueryState(mfa)!.isInvalidated).toBe(false);
  });
});

describe('traffic views in the cache', () => {
  const usage = (seq: number, id: string, parentId: string, kind = 'usage') => ({
    ...change(seq, 'customers.updated', id, { id, parentId, version: seq }),
    summary: { reason: 'ledger', kind, amount: '-1.000000', currency: 'EUR', entryId: 'e' },
  });

  it('refetch at most once a second on usage below their account, and on nothing else', () => {
    vi.useFakeTimers();
    try {
      const queryClient = new QueryClient();
      const cache = new LiveCache(queryClient);
      const mine = queryKeys.traffic('usage', { sub: 'summary', filter: { parentId: 'r1' } });
      const other = queryKeys.traffic('usage', { sub: 'summary', filter: { parentId: 'r2' } });
      const calls = queryKeys.traffic('usage', { filter: { accountId: 'k1' } });
      for (const key of [mine, other, calls]) queryClient.setQueryData(key, { rows: [] });
      const asked = vi.spyOn(queryClient, 'invalidateQueries');
      const refetched = (key: readonly unknown[]) =>
        asked.mock.calls.filter(
          ([filters]) => JSON.stringify(filters?.queryKey) === JSON.stringify(key),
        ).length;
      // Twenty usage moves of r1's customer k1 within a second: at once, then once more.
      for (let i = 1; i <= 20; i++) {
        cache.apply(usage(i, 'k1', 'r1'));
        vi.advanceTimersByTime(40);
      }
      expect(refetched(mine)).toBe(1);
      expect(refetched(calls)).toBe(1);
      vi.advanceTimersByTime(1_000);
      expect(refetched(mine)).toBe(2);
      expect(refetched(calls)).toBe(2);
      // Not another account's traffic, not a payment, not a rename.
      expect(refetched(other)).toBe(0);
      vi.advanceTimersByTime(5_000);
      cache.apply(usage(30, 'k1', 'r1', 'payment'));
      cache.apply(change(31, 'customers.updated', 'k1', { id: 'k1', parentId: 'r1', version: 31 }));
      expect(refetched(mine)).toBe(2);
      // A quiet second later, the next usage move refetches at once.
      cache.apply(usage(32, 'k2', 'r1'));
      expect(refetched(mine)).toBe(3);
      // A customer's own people hear of their account's moves only as a signal naming
      // it (its DTO is its parent's view): their calls follow it too.
      vi.advanceTimersByTime(5_000);
      cache.apply({
        ...change(33, 'customers.refetch', 'k1', { id: 'k1' }),
        summary: { refetch: [], reason: 'own_account' },
      });
      expect(refetched(calls)).toBe(3);
      expect(refetched(other)).toBe(0);
      // Calls stored that moved no balance (all unrated, or free): followed alike.
      vi.advanceTimersByTime(5_000);
      cache.apply({
        ...change(34, 'customers.updated', 'k1', { id: 'k1', parentId: 'r1', version: 31 }),
        summary: { reason: 'calls', calls: 2, unrated: 2 },
      });
      expect(refetched(mine)).toBe(4);
      expect(refetched(calls)).toBe(4);
      expect(refetched(other)).toBe(0);
      // Such calls of a customer two levels below r2 (r2 → r3 → k9): nothing above k9
      // moved, so only the path the server names (`within`) tells r2's views they follow.
      vi.advanceTimersByTime(5_000);
      const deep = {
        ...change(35, 'customers.updated', 'k9', { id: 'k9', parentId: 'r3', version: 35 }),
        summary: { reason: 'calls', calls: 1, unrated: 1 },
      };
      cache.apply(deep);
      expect(refetched(other)).toBe(0);
      vi.advanceTimersByTime(5_000);
      cache.apply({ ...deep, seq: 36, within: [withinKey('r2'), withinKey('r3')] });
      expect(refetched(other)).toBe(1);
      expect(refetched(mine)).toBe(4);
      // A payment that stands for calls it replaced before they went out (`within`, none
      // named between): followed as those calls would have been.
      vi.advanceTimersByTime(5_000);
      cache.apply(usage(37, 'k1', 'r1', 'payment'));
      expect(refetched(mine)).toBe(4);
      cache.apply({ ...usage(38, 'k1', 'r1', 'payment'), within: [] });
      expect(refetched(mine)).toBe(5);
      expect(refetched(other)).toBe(1);
      cache.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('views over everything at call rate', () => {
  it('follow balance moves at most once a second, any other change at once', () => {
    vi.useFakeTimers();
    try {
      const queryClient = new QueryClient();
      const cache = new LiveCache(queryClient);
      const dashboard = queryKeys.anyChange('dashboard');
      queryClient.setQueryData(dashboard, { customers: 1 });
      const asked = vi.spyOn(queryClient, 'invalidateQueries');
      const moved = (seq: number) => ({
        ...change(seq, 'customers.updated', 'k', { id: 'k', version: seq }),
        summary: { reason: 'ledger', kind: 'payment', amount: '1', currency: 'EUR', entryId: 'e' },
      });
      for (let seq = 1; seq <= 10; seq++) cache.apply(moved(seq));
      expect(asked).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(1_000);
      expect(asked).toHaveBeenCalledTimes(2);
      cache.apply(change(20, 'customers.updated', 'k', { id: 'k', version: 20 }));
      expect(asked).toHaveBeenCalledTimes(3);
      cache.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('audit and brand signals in the cache', () => {
  it('refetch the views over every change: an audit signal, and one’s own account’s brand', async () => {
    vi.useFakeTimers();
    try {
      const queryClient = new QueryClient();
      const cache = new LiveCache(queryClient);
      queryClient.setQueryData(OWN_IDENTITY_KEY, { account: { id: 'r1' }, user: { id: 'me' } });
      const audit = queryKeys.anyChange('audit');
      queryClient.setQueryData(audit, { items: [] });
      const asked = vi.spyOn(queryClient, 'invalidateQueries');
      const refetched = () =>
        asked.mock.calls.filter(
          ([filters]) =>
            typeof filters?.predicate === 'function' ||
            JSON.stringify(filters?.queryKey) === JSON.stringify(audit),
        ).length;
      const brand = (seq: number, id: string) => ({
        ...change(seq, 'brands.refetch', id),
        summary: { refetch: [], reason: 'brand' },
      });
      // A brand of an account above (its own audit lists it, not this one's): nothing.
      cache.apply(brand(1, 'c'));
      expect(refetched()).toBe(0);
      cache.apply(brand(2, 'r1'));
      expect(refetched()).toBe(1);
      // An audit signal, at most once a second however many come.
      vi.advanceTimersByTime(5_000);
      const before = refetched();
      for (let seq = 3; seq < 13; seq++) cache.apply(change(seq, 'audit.refetch', 'r1'));
      expect(refetched() - before).toBe(1);
      vi.advanceTimersByTime(1_000);
      expect(refetched() - before).toBe(2);
      cache.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('sign-ins, which a script can send in a stream', () => {
  it('refetch the users views they name at most once a second, and nothing else', () => {
    vi.useFakeTimers();
    try {
      const queryClient = new QueryClient();
      const cache = new LiveCache(queryClient);
      const users = queryKeys.list('users');
      const customers = queryKeys.list('customers');
      const activity = queryKeys.anyChange('audit');
      for (const key of [users, customers, activity]) queryClient.setQueryData(key, { items: [] });
      const asked = vi.spyOn(queryClient, 'invalidateQueries');
      const refetched = (key: readonly unknown[]) =>
        asked.mock.calls.filter(([filters]) => {
          const { queryKey, predicate } = (filters ?? {}) as {
            queryKey?: readonly unknown[];
            predicate?: (query: { queryKey: readonly unknown[] }) => boolean;
          };
          return queryKey
            ? JSON.stringify(queryKey) === JSON.stringify(key)
            : Boolean(predicate?.({ queryKey: key }));
        }).length;
      const signedIn = (seq: number) => ({
        ...change(seq, 'users.refetch', 'r1', { id: 'r1' }),
        summary: { refetch: ['users' as const], reason: 'sign_in' },
      });
      for (let seq = 1; seq <= 10; seq++) cache.apply(signedIn(seq));
      expect(refetched(users)).toBe(1);
      expect(refetched(activity)).toBe(1);
      vi.advanceTimersByTime(1_000);
      expect(refetched(users)).toBe(2);
      expect(refetched(activity)).toBe(2);
      expect(refetched(customers)).toBe(0);
      cache.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a list whose fetch is cancelled', () => {
  it('forgets the changes kept for that fetch, so a later read does not bring them back', async () => {
    const queryClient = new QueryClient({
      defaultOptions: { queries: { staleTime: Infinity, retry: false } },
    });
    const cache = new LiveCache(queryClient);
    let rows: { id: string; version: number }[] = [];
    let hang = true;
    // The server: the first read never answers, and ends only when its signal aborts.
    const fetchApi = (async (_path: string, init?: { signal?: AbortSignal }) => {
      if (hang) {
        await new Promise((_resolve, reject) =>
          init?.signal?.addEventListener('abort', () =>
            reject(new DOMException('aborted', 'AbortError')),
          ),
        );
      }
      return { items: rows.map((row) => ({ ...row })), nextCursor: null };
    }) as TApiFetch;
    const observer = new InfiniteQueryObserver(
      queryClient,
      liveListQuery({
        feed: { ready: async () => {} },
        fetchApi,
        queryKey: queryKeys.list('customers'),
        pageSize: 50,
      }),
    );
    const leave = observer.subscribe(() => {});
    await settle();
    // X is created while the list loads (kept to replay onto the read), then the list
    // leaves the screen: its read is aborted. X is deleted meanwhile.
    rows = [{ id: 'x', version: 1 }];
    cache.apply(change(1, 'customers.created', 'x', { id: 'x', version: 1 }));
    leave();
    await settle();
    rows = [];
    cache.apply(change(2, 'customers.deleted', 'x'));
    hang = false;
    // Back on screen: read afresh, and X stays gone.
    const back = observer.subscribe(() => {});
    await vi.waitFor(() => expect(observer.getCurrentResult().status).toBe('success'));
    expect(flattenPages(observer.getCurrentResult().data!.pages)).toEqual([]);
    back();
    cache.close();
  });
});

describe('refetches while changes keep coming', () => {
  /**
   * A query whose fetch takes 100 ms and reads the server's version as it starts, over
   * which changes arrive every 40 ms: faster than any fetch ends, as at call rate.
   */
  function slowServer(queryClient: QueryClient, queryKey: readonly unknown[]) {
    const server = { version: 0, started: 0, landed: 0 };
    const observer = new InfiniteQueryObserver(queryClient, {
      queryKey,
      queryFn: async () => {
        server.started += 1;
        const version = server.version;
        await new Promise((resolve) => setTimeout(resolve, 100));
        server.landed += 1;
        return { items: [{ id: 'a', version }], nextCursor: null };
      },
      initialPageParam: '',
      getNextPageParam: () => undefined,
    });
    const shown: number[] = [];
    const unsubscribe = observer.subscribe((result) => {
      const version = result.data?.pages[0]?.items[0]?.version;
      if (version !== undefined && shown.at(-1) !== version) shown.push(version);
    });
    return { server, shown, unsubscribe };
  }

  async function stream(
    cache: LiveCache,
    server: { version: number },
    count: number,
    envelope: (seq: number) => TChangeEnvelope,
  ) {
    for (let seq = 1; seq <= count; seq++) {
      server.version = seq;
      cache.apply(envelope(seq));
      await vi.advanceTimersByTimeAsync(40);
    }
  }

  it('show a sorted list moving while they come, each fetch landing, the last change once they stop', async () => {
    vi.useFakeTimers();
    try {
      const queryClient = new QueryClient();
      const cache = new LiveCache(queryClient);
      const list = slowServer(queryClient, queryKeys.list('customers', { sort: 'name' }));
      await vi.advanceTimersByTimeAsync(150);
      expect(list.shown).toEqual([0]);
      // Two seconds of renames (50 changes), each arriving before the last fetch ends.
      await stream(cache, list.server, 50, (seq) =>
        change(seq, 'customers.updated', 'b', { id: 'b', version: seq }),
      );
      // Cancelling the fetch in flight at each change showed [0] all along, 50 fetches lost.
      expect(list.shown.length).toBeGreaterThanOrEqual(10);
      expect(list.server.started - list.server.landed).toBeLessThanOrEqual(1);
      await vi.advanceTimersByTimeAsync(500);
      expect(list.shown.at(-1)).toBe(50);
      expect(list.server.started).toBe(list.server.landed);
      list.unsubscribe();
      cache.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('follow balance moves at most once a second, and show the last one a second after', async () => {
    vi.useFakeTimers();
    try {
      const queryClient = new QueryClient();
      const cache = new LiveCache(queryClient);
      const list = slowServer(queryClient, queryKeys.list('customers', { sort: 'balance' }));
      await vi.advanceTimersByTimeAsync(150);
      const before = list.server.started;
      // 75 balance moves over three seconds.
      await stream(cache, list.server, 75, (seq) => ({
        ...change(seq, 'customers.updated', 'b', { id: 'b', version: seq }),
        summary: { reason: 'ledger', kind: 'usage', amount: '-1', currency: 'EUR', entryId: 'e' },
      }));
      expect(list.server.started - before).toBeLessThanOrEqual(4);
      expect(list.shown.length).toBeGreaterThanOrEqual(3);
      await vi.advanceTimersByTimeAsync(1_200);
      expect(list.shown.at(-1)).toBe(75);
      list.unsubscribe();
      cache.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('fetch a view over everything once more when a change arrives during its fetch', async () => {
    vi.useFakeTimers();
    try {
      const queryClient = new QueryClient();
      const cache = new LiveCache(queryClient);
      const key = queryKeys.anyChange('dashboard');
      const server = { customers: 0 };
      const observer = new QueryObserver(queryClient, {
        queryKey: key,
        queryFn: async () => {
          const customers = server.customers;
          await new Promise((resolve) => setTimeout(resolve, 100));
          return { customers };
        },
      });
      const unsubscribe = observer.subscribe(() => {});
      await vi.advanceTimersByTimeAsync(150);
      server.customers = 1;
      cache.apply(change(1, 'customers.created', 'k1', { id: 'k1', version: 1 }));
      await vi.advanceTimersByTimeAsync(50);
      // The second customer commits while the fetch the first began is reading.
      server.customers = 2;
      cache.apply(change(2, 'customers.created', 'k2', { id: 'k2', version: 1 }));
      await vi.advanceTimersByTimeAsync(400);
      // Reusing the fetch in flight left the count at 1 until some later change.
      expect(queryClient.getQueryData(key)).toEqual({ customers: 2 });
      unsubscribe();
      cache.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('structured query keys', () => {
  it('build the request path from the key, filters encoded, empty ones left out', () => {
    expect(pathOf(queryKeys.list('customers'))).toBe('/customers');
    expect(pathOf(queryKeys.list('customers', { q: 'a&b', parentId: '' }))).toBe(
      '/customers?q=a%26b',
    );
    expect(queryKeys.list('customers', { q: '' })).toEqual(queryKeys.list('customers'));
    expect(
      pathOf(queryKeys.under('cards', 'c1', 'rates', { prefix: '44' }), {
        limit: '500',
        cursor: undefined,
      }),
    ).toBe('/cards/c1/rates?prefix=44&limit=500');
    expect(pathOf(queryKeys.anyChange('users', { id: 'u1', sub: 'access' }))).toBe(
      '/users/u1/access',
    );
  });

  it('patch the plain list in place, refetch a filtered one, leave other resources alone', async () => {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    const page = {
      pages: [{ items: [{ id: 'a', version: 1 }], nextCursor: null }],
      pageParams: [''],
    };
    const plain = queryKeys.list('customers');
    const filtered = queryKeys.list('customers', { parentId: 'r1' });
    const other = queryKeys.list('resellers');
    for (const key of [plain, filtered, other]) queryClient.setQueryData(key, page);
    cache.apply(change(1, 'customers.updated', 'a', { id: 'a', version: 2 }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(queryClient.getQueryData<typeof page>(plain)!.pages[0]!.items).toEqual([
      { id: 'a', version: 2 },
    ]);
    expect(queryClient.getQueryState(plain)!.isInvalidated).toBe(false);
    expect(queryClient.getQueryState(filtered)!.isInvalidated).toBe(true);
    expect(queryClient.getQueryData(other)).toBe(page);
    expect(queryClient.getQueryState(other)!.isInvalidated).toBe(false);
  });

  it('patch a set named by id in place, for its own rows only, and never add to it', async () => {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    const named = queryKeys.list('resellers', { ids: 'a,b' });
    const items = [
      { id: 'a', version: 1, name: 'Alpha' },
      { id: 'b', version: 1, name: 'Beta' },
    ];
    queryClient.setQueryData(named, { pages: [{ items, nextCursor: null }], pageParams: [''] });
    const shown = () =>
      queryClient.getQueryData<{ pages: { items: unknown[] }[] }>(named)!.pages[0]!.items;
    // Another reseller, one created, a stale copy: nothing changes, nothing is read again.
    cache.apply(change(1, 'resellers.updated', 'c', { id: 'c', version: 2, name: 'Gamma' }));
    cache.apply(change(2, 'resellers.created', 'd', { id: 'd', version: 1, name: 'Delta' }));
    cache.apply(change(3, 'resellers.updated', 'a', { id: 'a', version: 1, name: 'Old' }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(shown()).toEqual(items);
    // Its own row renamed (or its balance moved by calls): patched, no request.
    cache.apply(change(4, 'resellers.updated', 'a', { id: 'a', version: 2, name: 'Alpha Two' }));
    cache.apply(change(5, 'resellers.deleted', 'b'));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(shown()).toEqual([{ id: 'a', version: 2, name: 'Alpha Two' }]);
    expect(queryClient.getQueryState(named)!.isInvalidated).toBe(false);
  });

  it('drop what the cache holds about the viewer when its access changes (rescoped)', () => {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    const page = { pages: [{ items: [], nextCursor: null }], pageParams: [''] };
    queryClient.setQueryData(queryKeys.list('customers'), page);
    queryClient.setQueryData(queryKeys.anyChange('dashboard'), { customers: 1 });
    queryClient.setQueryData(queryKeys.static('me', { sub: 'mfa' }), { enabled: true });
    queryClient.setQueryData(NOTIFICATIONS_KEY, { items: [{ id: 'n1' }] });
    const ledgerKey = queryKeys.static('accounts', { id: 'k1', sub: 'ledger' });
    queryClient.setQueryData(ledgerKey, { pages: [], pageParams: [] });
    cache.resync('rescoped');
    expect(queryClient.getQueryData(queryKeys.list('customers'))).toBeUndefined();
    // Not kept live, but read as the old access all the same.
    expect(queryClient.getQueryData(ledgerKey)).toBeUndefined();
    expect(queryClient.getQueryData(queryKeys.anyChange('dashboard'))).toBeUndefined();
    expect(queryClient.getQueryData(NOTIFICATIONS_KEY)).toBeUndefined();
    expect(queryClient.getQueryData(queryKeys.static('me', { sub: 'mfa' }))).toEqual({
      enabled: true,
    });
    cache.close();
  });

  /**
   * A query on screen, counting its fetches; each answers (with its number) only when
   * `release` is called, so a fetch can be in flight when the access changes.
   */
  function watched(queryClient: QueryClient) {
    const fetches: number[] = [];
    let release = () => {};
    const observer = new QueryObserver(queryClient, {
      queryKey: queryKeys.anyChange('dashboard'),
      queryFn: () => {
        const number = fetches.length + 1;
        fetches.push(number);
        return new Promise<{ fetch: number }>((resolve) => {
          release = () => resolve({ fetch: number });
        });
      },
      retry: false,
    });
    const unsubscribe = observer.subscribe(() => {});
    const data = () => observer.getCurrentResult().data;
    return { fetches, data, unsubscribe, release: () => release() };
  }

  it('keep the page as it is after an access change until it renders for it', async () => {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    cache.renderedFor('old');
    const screen = watched(queryClient);
    screen.release();
    await vi.waitFor(() => expect(screen.data()).toEqual({ fetch: 1 }));
    void queryClient.invalidateQueries({ queryKey: queryKeys.anyChange('dashboard') });
    expect(screen.fetches).toEqual([1, 2]);
    // The access changes while the second fetch is in flight: its answer (as the new
    // access) is dropped, and nothing is asked while the page renders the old access — a
    // live change, a retry, a gap and the old access rendered again meanwhile included.
    cache.resync('rescoped', 'new');
    screen.release();
    cache.apply(change(1, 'customers.created', 'k'));
    cache.retryFailed();
    cache.resync('resync_required');
    cache.renderedFor('old');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(screen.fetches).toEqual([1, 2]);
    expect(screen.data()).toEqual({ fetch: 1 });
    // Rendered for the new access: dropped, and fetched once.
    cache.renderedFor('new');
    expect(screen.data()).toBeUndefined();
    screen.release();
    await vi.waitFor(() => expect(screen.data()).toEqual({ fetch: 3 }));
    cache.renderedFor('new');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(screen.fetches).toEqual([1, 2, 3]);
    screen.unsubscribe();
    cache.close();
  });

  it('drop and fetch at once after an access change the page already renders', async () => {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    cache.renderedFor('new');
    const screen = watched(queryClient);
    screen.release();
    await vi.waitFor(() => expect(screen.data()).toEqual({ fetch: 1 }));
    cache.resync('rescoped', 'new');
    expect(screen.data()).toBeUndefined();
    expect(screen.fetches).toEqual([1, 2]);
    screen.unsubscribe();
    cache.close();
  });

  it('drop and fetch after an access change when the page never renders for it', async () => {
    vi.useFakeTimers();
    try {
      const queryClient = new QueryClient();
      const cache = new LiveCache(queryClient);
      cache.renderedFor('old');
      const screen = watched(queryClient);
      screen.release();
      await vi.advanceTimersByTimeAsync(0);
      cache.resync('rescoped', 'new');
      await vi.advanceTimersByTimeAsync(RESCOPE_HOLD_MS - 1);
      expect(screen.fetches).toEqual([1]);
      expect(screen.data()).toEqual({ fetch: 1 });
      await vi.advanceTimersByTimeAsync(1);
      expect(screen.data()).toBeUndefined();
      expect(screen.fetches).toEqual([1, 2]);
      screen.unsubscribe();
      cache.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("the viewer's own identity (/me) in the cache", () => {
  it('is read again when its own account changed, and not on any other change', async () => {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    queryClient.setQueryData(OWN_IDENTITY_KEY, {
      account: { name: 'Nimbus' },
      user: { id: 'me' },
      group: { id: 'ops' },
    });
    queryClient.setQueryData(queryKeys.static('me', { sub: 'mfa' }), { enabled: true });
    cache.apply(change(1, 'customers.updated', 'k', { id: 'k', version: 2 }));
    // Another user, another group: not who the viewer is.
    cache.apply(change(4, 'users.updated', 'someone', { id: 'someone', version: 2 }));
    cache.apply(change(5, 'groups.updated', 'others', { id: 'others', version: 2 }));
    cache.apply({
      ...change(2, 'users.refetch', 'r1'),
      summary: { refetch: [], reason: 'view_as' },
    });
    expect(queryClient.getQueryState(OWN_IDENTITY_KEY)!.isInvalidated).toBe(false);
    cache.apply({
      ...change(3, 'resellers.refetch', 'r1'),
      summary: { refetch: [], reason: 'own_account' },
    });
    expect(queryClient.getQueryState(OWN_IDENTITY_KEY)!.isInvalidated).toBe(true);
    expect(queryClient.getQueryState(queryKeys.static('me', { sub: 'mfa' }))!.isInvalidated).toBe(
      false,
    );
  });

  it('is read again when its own user or group changed: the change itself, or a signal of it', async () => {
    const cases = [
      change(1, 'users.updated', 'me', { id: 'me', version: 2 }),
      change(2, 'groups.updated', 'ops', { id: 'ops', version: 2 }),
      { ...change(3, 'users.refetch', 'me'), summary: { refetch: [], reason: 'own_identity' } },
      { ...change(4, 'groups.refetch', 'ops'), summary: { refetch: [], reason: 'own_identity' } },
    ] as TChangeEnvelope[];
    for (const envelope of cases) {
      const queryClient = new QueryClient();
      const cache = new LiveCache(queryClient);
      queryClient.setQueryData(OWN_IDENTITY_KEY, { user: { id: 'me' }, group: { id: 'ops' } });
      cache.apply(envelope);
      expect(queryClient.getQueryState(OWN_IDENTITY_KEY)!.isInvalidated, envelope.type).toBe(true);
    }
  });
});

describe("a card's rates seen through a window", () => {
  /** A card's rates on a stand-in server: rows by index, cursors are the next index. */
  function ratesServer(count: number) {
    const rows = Array.from({ length: count }, (_, index) => ({
      id: `r${index}`,
      rate: '0.0100',
    }));
    const asked: string[] = [];
    /** How long each answer takes, by the order of the requests (none: at once). */
    const delays: number[] = [];
    const fetchApi = async <T>(path: string): Promise<T> => {
      const delay = delays[asked.length] ?? 0;
      const url = new URL(path, 'http://x');
      const cursor = url.searchParams.get('cursor');
      asked.push(`${url.pathname}@${cursor ?? 0}`);
      const from = Number(cursor ?? 0);
      const limit = Number(url.searchParams.get('limit'));
      const page: TPageOf<(typeof rows)[number]> = {
        items: rows.slice(from, from + limit).map((row) => ({ ...row })),
        nextCursor: from + limit < rows.length ? String(from + limit) : null,
      };
      if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
      return page as T;
    };
    return { rows, asked, delays, fetchApi };
  }

  function windowedRates(card: string, server: ReturnType<typeof ratesServer>) {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    const queryKey = queryKeys.under('cards', card, 'rates');
    let visible = { from: 0, to: 1 };
    const observer = new InfiniteQueryObserver(
      queryClient,
      windowedListQuery<{ id: string; rate: string }>({
        feed: { ready: async () => {} },
        fetchApi: server.fetchApi,
        queryClient,
        queryKey,
        pageSize: 2,
        maxPages: 3,
        visible: () => visible,
      }),
    );
    const unsubscribe = observer.subscribe(() => {});
    const data = () =>
      queryClient.getQueryData<TWindowData<{ id: string; rate: string }>>(queryKey);
    return {
      cache,
      observer,
      data,
      held: () => heldRows(data()),
      show: (range: { from: number; to: number }) => (visible = range),
      close: unsubscribe,
    };
  }

  it('holds at most maxPages pages, and fetches dropped ones again on the way back', async () => {
    const server = ratesServer(10);
    const table = windowedRates('c1', server);
    await vi.waitFor(() => expect(table.data()?.pages.length).toBe(1));
    for (let page = 0; page < 3; page++) await table.observer.fetchNextPage();
    // Pages 1..3 (rows 2..7) held; page 0 was dropped.
    expect([table.held().first, table.held().end]).toEqual([2, 8]);
    expect(table.held().at(2)?.id).toBe('r2');
    expect(table.held().at(0)).toBeUndefined();
    await table.observer.fetchPreviousPage();
    expect([table.held().first, table.held().end]).toEqual([0, 6]);
    expect(table.held().at(5)?.id).toBe('r5');
    table.close();
  });

  it("refetches only the pages on screen when the card's rates change", async () => {
    const server = ratesServer(10);
    const table = windowedRates('c1', server);
    await vi.waitFor(() => expect(table.data()?.pages.length).toBe(1));
    for (let page = 0; page < 2; page++) await table.observer.fetchNextPage();
    expect(server.asked).toEqual(['/cards/c1/rates@0', '/cards/c1/rates@2', '/cards/c1/rates@4']);
    server.asked.length = 0;

    // Other cards' changes and margin alerts do not touch it.
    table.cache.apply(change(1, 'cards.rates_changed', 'c2', { id: 'c2', version: 2 }));
    table.cache.apply(change(2, 'cards.margin_alert', 'c1', { id: 'c1', version: 2 }));
    // Rows 3..4 on screen: pages 1 (rows 2-3) and 2 (rows 4-5).
    table.show({ from: 3, to: 4 });
    server.rows[3]!.rate = '0.0300';
    server.rows[0]!.rate = '0.0900';
    table.cache.apply(change(3, 'cards.rates_changed', 'c1', { id: 'c1', version: 3 }));
    await vi.waitFor(() => expect(table.held().at(3)?.rate).toBe('0.0300'));
    expect(server.asked).toEqual(['/cards/c1/rates@2', '/cards/c1/rates@4']);
    // The page off screen is dropped rather than kept stale: it is fetched anew on the way up.
    expect([table.held().first, table.held().end]).toEqual([2, 6]);
    await table.observer.fetchPreviousPage();
    expect(table.held().at(0)?.rate).toBe('0.0900');
    table.close();
  });

  it('loads the first page afresh when the card changes while it is still loading', async () => {
    const server = ratesServer(4);
    // The first page takes a while: the change arrives before it answers.
    server.delays[0] = 100;
    const table = windowedRates('c1', server);
    await vi.waitFor(() => expect(server.asked.length).toBe(1));
    server.rows[0]!.rate = '0.0200';
    table.cache.apply(change(1, 'cards.rates_changed', 'c1', { id: 'c1', version: 2 }));
    // Not "nothing here": the list is read again, after the change.
    await vi.waitFor(() => expect(table.held().at(0)?.rate).toBe('0.0200'));
    expect(table.data()?.pages[0]?.items.map((row) => row.id)).toEqual(['r0', 'r1']);
    table.close();
  });

  it('keeps the later of two refetches when the earlier one answers last', async () => {
    const server = ratesServer(4);
    const table = windowedRates('c1', server);
    await vi.waitFor(() => expect(table.data()?.pages.length).toBe(1));
    // The first refetch reads the rate at 0.02 and answers after the second, which reads 0.03.
    server.delays[1] = 100;
    server.rows[0]!.rate = '0.0200';
    table.cache.apply(change(1, 'cards.rates_changed', 'c1', { id: 'c1', version: 2 }));
    await vi.waitFor(() => expect(server.asked.length).toBe(2));
    server.rows[0]!.rate = '0.0300';
    table.cache.apply(change(2, 'cards.rates_changed', 'c1', { id: 'c1', version: 3 }));
    await vi.waitFor(() => expect(table.held().at(0)?.rate).toBe('0.0300'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(table.held().at(0)?.rate).toBe('0.0300');
    table.close();
  });
  it('drops a window refetch under way when the access changes', async () => {
    const server = ratesServer(4);
    const table = windowedRates('c1', server);
    await vi.waitFor(() => expect(table.data()?.pages.length).toBe(1));
    // A rate change: the window is read again, slowly, as the old access.
    server.delays[1] = 150;
    server.rows[0]!.rate = '0.0200';
    table.cache.apply(change(1, 'cards.rates_changed', 'c1', { id: 'c1', version: 2 }));
    await vi.waitFor(() => expect(server.asked.length).toBe(2));
    // The access changes meanwhile: the list is dropped and read as the new one.
    server.rows[0]!.rate = '0.0300';
    table.cache.resync('rescoped');
    await vi.waitFor(() => expect(table.held().at(0)?.rate).toBe('0.0300'));
    // The old read lands later, and nowhere.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(table.held().at(0)?.rate).toBe('0.0300');
    table.close();
  });
});

describe('the API fetcher', () => {
  it('treats a success cut off mid-body as a failure, never as an empty result', async () => {
    const { createApiFetch } = await import('@/lib/client/api');
    const realFetch = globalThis.fetch;
    globalThis.fetch = vi.fn(async () => new Response('{"items":[', { status: 200 }));
    try {
      await expect(createApiFetch('http://x')('/customers')).rejects.toThrow(/incomplete answer/);
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
