import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import { LIVE_RESOURCES, type TChangeEnvelope, type TLiveResource } from '@/lib/shared/live/change';
import type { TApiFetch, TPageOf } from './api';

/** What every live entity carries; use-only groups have no timestamps but a version. */
export interface TLiveItem {
  id: string;
  version?: number;
}

type TKind = 'created' | 'updated' | 'deleted' | 'added' | 'removed';

export function envelopeParts(envelope: TChangeEnvelope): {
  resource: TLiveResource;
  kind: TKind;
} {
  const [resource, kind] = envelope.type.split('.') as [TLiveResource, TKind];
  return { resource, kind };
}

/** The live resource a list or detail path is about (`/customers?x=1` → customers). */
export function resourceOfPath(path: string): TLiveResource | null {
  const head = path.split(/[/?]/)[1];
  return (LIVE_RESOURCES as readonly string[]).includes(head ?? '')
    ? (head as TLiveResource)
    : null;
}

function isNewer(incoming: TLiveItem, held: TLiveItem | undefined): boolean {
  return !held || (incoming.version ?? 0) > (held.version ?? 0);
}

/**
 * One change applied to a list, by id and version: an older or equal version is a
 * duplicate (catch-up and live overlap, a snapshot already holding it) and changes
 * nothing; a removal drops the id; an entity new to the list is appended only when
 * `appendNew` (the list's last page: lists are in creation order).
 */
export function patchItems<T extends TLiveItem>(
  items: T[],
  envelope: TChangeEnvelope,
  appendNew: boolean,
): T[] {
  const { kind } = envelopeParts(envelope);
  if (kind === 'deleted' || kind === 'removed') {
    return items.some((item) => item.id === envelope.id)
      ? items.filter((item) => item.id !== envelope.id)
      : items;
  }
  const incoming = envelope.data as unknown as T;
  const index = items.findIndex((item) => item.id === envelope.id);
  if (index === -1) return appendNew ? [...items, incoming] : items;
  if (!isNewer(incoming, items[index])) return items;
  const next = items.slice();
  next[index] = incoming;
  return next;
}

/** A paged list's pages patched: updates where the entity is, new ones on the last page. */
export function patchPages<T extends TLiveItem>(
  data: InfiniteData<TPageOf<T>>,
  envelope: TChangeEnvelope,
): InfiniteData<TPageOf<T>> {
  const present = data.pages.some((page) => page.items.some((item) => item.id === envelope.id));
  const last = data.pages.length - 1;
  const pages = data.pages.map((page, index) => {
    const items = patchItems(page.items, envelope, !present && index === last);
    return items === page.items ? page : { ...page, items };
  });
  return pages.every((page, index) => page === data.pages[index]) ? data : { ...data, pages };
}

/** The items of every loaded page, each id once at its newest version. */
export function flattenPages<T extends TLiveItem>(pages: TPageOf<T>[]): T[] {
  const byId = new Map<string, T>();
  for (const page of pages) {
    for (const item of page.items) {
      if (isNewer(item, byId.get(item.id))) byId.set(item.id, item);
    }
  }
  return [...byId.values()];
}

/**
 * Feeds live changes into the TanStack Query cache (DESIGN §2 "Client"):
 * - lists keyed `['list', '/<resource>']` are patched in place by id and version;
 * - a filtered list (`/customers?parentId=…`) cannot judge membership, so it is
 *   invalidated; a detail `['one', '/<resource>/<id>']` is patched or invalidated;
 * - a snapshot in flight (`snapshot`) buffers the changes that arrive meanwhile and
 *   applies them to its result, so a fetch that started before a change never
 *   overwrites it.
 */
export class LiveCache {
  private readonly inFlight = new Map<TLiveResource, Set<TChangeEnvelope[]>>();

  constructor(private readonly queryClient: QueryClient) {}

  apply(envelope: TChangeEnvelope): void {
    const { resource, kind } = envelopeParts(envelope);
    for (const buffer of this.inFlight.get(resource) ?? []) buffer.push(envelope);
    for (const query of this.queryClient.getQueryCache().findAll({ queryKey: ['list'] })) {
      const path = query.queryKey[1];
      if (typeof path !== 'string' || resourceOfPath(path) !== resource) continue;
      if (path === `/${resource}`) {
        this.queryClient.setQueryData<InfiniteData<TPageOf<TLiveItem>>>(query.queryKey, (data) =>
          data ? patchPages(data, envelope) : data,
        );
      } else {
        void this.queryClient.invalidateQueries({ queryKey: query.queryKey, exact: true });
      }
    }
    const detailKey = ['one', `/${resource}/${envelope.id}`];
    if (kind === 'deleted' || kind === 'removed') {
      void this.queryClient.invalidateQueries({ queryKey: detailKey, exact: true });
    } else {
      this.queryClient.setQueryData<TLiveItem>(detailKey, (held) =>
        held && isNewer(envelope.data as unknown as TLiveItem, held)
          ? (envelope.data as unknown as TLiveItem)
          : held,
      );
    }
  }

  /**
   * Everything live is fetched again. After a gap too old to patch the old data may stay
   * on screen meanwhile; after an access change it is dropped at once (it may hold what
   * this person may no longer see).
   */
  resync(why: 'resync_required' | 'rescoped'): void {
    for (const queryKey of [['list'], ['one']]) {
      if (why === 'rescoped') void this.queryClient.resetQueries({ queryKey });
      else void this.queryClient.invalidateQueries({ queryKey });
    }
  }

  /**
   * Runs a fetch of `resource` data and replays onto its result every change that
   * arrived while it ran. Call it after the feed is ready (rooms joined).
   */
  async snapshot<T>(
    resource: TLiveResource | null,
    fetch: () => Promise<T>,
    patch: (data: T, envelope: TChangeEnvelope) => T,
  ): Promise<T> {
    if (!resource) return fetch();
    const buffer: TChangeEnvelope[] = [];
    const buffers = this.inFlight.get(resource) ?? new Set();
    this.inFlight.set(resource, buffers);
    buffers.add(buffer);
    try {
      let data: T = await fetch();
      for (const envelope of buffer) data = patch(data, envelope);
      return data;
    } finally {
      buffers.delete(buffer);
    }
  }
}

/**
 * The TanStack options of a live paged list (`['list', path]`): each page is fetched
 * once the feed has joined its rooms, as a snapshot with the changes that arrive meanwhile
 * replayed onto it. The React hook (use-resource.ts) and the Node model test use this
 * same definition.
 */
export function liveListQuery<T extends TLiveItem>(deps: {
  feed: { ready(): Promise<void> };
  cache: LiveCache;
  fetchApi: TApiFetch;
  path: string;
  pageSize: number;
}) {
  const { feed, cache, fetchApi, path, pageSize } = deps;
  return {
    queryKey: ['list', path],
    queryFn: async ({ pageParam }: { pageParam: string }) => {
      await feed.ready();
      return cache.snapshot(
        resourceOfPath(path),
        () =>
          fetchApi<TPageOf<T>>(
            `${path}${path.includes('?') ? '&' : '?'}limit=${pageSize}${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ''}`,
          ),
        (page, envelope) => ({
          ...page,
          items: patchItems(page.items, envelope, page.nextCursor === null),
        }),
      );
    },
    initialPageParam: '',
    getNextPageParam: (last: TPageOf<T>) => last.nextCursor ?? undefined,
  };
}
