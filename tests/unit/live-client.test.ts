import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { ApiClientError } from '@/lib/client/api';
import { QueryClient } from '@tanstack/react-query';
import {
  ANY_CHANGE,
  flattenPages,
  LiveCache,
  patchItems,
  patchPages,
} from '@/lib/client/live-cache';
import { LiveFeed } from '@/lib/client/live-feed';
import type { TPanelClientSocket } from '@/lib/client/socket';
import type { TChangeEnvelope } from '@/lib/shared/live/change';
import { PROTOCOL_VERSION, type THello } from '@/lib/shared/live/events';

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
  account: { id: 'acc', name: 'Acc', kind: 'reseller' },
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

describe("a card's rates in the cache", () => {
  it("are refetched when that card's rates change, not for other cards or a margin alert", async () => {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    const key = (card: string) => ['list', `/cards/${card}/rates?prefix=44`];
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

  it('refetches views over everything (counters, activity) after any change', async () => {
    const queryClient = new QueryClient();
    const cache = new LiveCache(queryClient);
    queryClient.setQueryData([ANY_CHANGE, '/dashboard'], { customers: 1 });
    queryClient.setQueryData(['one', '/me'], { id: 'me' });
    cache.apply(change(1, 'customers.created', 'k', { id: 'k', version: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(queryClient.getQueryState([ANY_CHANGE, '/dashboard'])!.isInvalidated).toBe(true);
    expect(queryClient.getQueryState(['one', '/me'])!.isInvalidated).toBe(false);
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
