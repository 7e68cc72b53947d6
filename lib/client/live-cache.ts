import type { InfiniteData, InvalidateQueryFilters, QueryClient } from '@tanstack/react-query';
import { LIVE_RESOURCES, type TChangeEnvelope, type TLiveResource } from '@/lib/shared/live/change';
import { ApiClientError, type TApiFetch, type TPageOf } from './api';

/** What every live entity carries; use-only groups have no timestamps but a version. */
export interface TLiveItem {
  id: string;
  version?: number;
}

type TKind = TChangeEnvelope['type'] extends `${string}.${infer K}` ? K : never;

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

/** The first key of a query to refetch after every change this viewer receives. */
export const ANY_CHANGE = 'any-change';

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
  // A bulk signal has no entity: the lists it names are refetched (LiveCache.apply).
  if (kind === 'refetch') return items;
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
 * - a summary naming lists to refetch (a bulk change) invalidates them;
 * - a query that is fetching when a change arrives may have read the server before it
 *   (a paged list reads page after page): the change is kept and replayed onto the
 *   fetch's result the moment it lands, so no fetch ever overwrites a newer change.
 */
export class LiveCache {
  /** Changes that arrived while a query was fetching, by query hash. */
  private readonly whileFetching = new Map<string, TChangeEnvelope[]>();
  private readonly unsubscribe: () => void;

  constructor(private readonly queryClient: QueryClient) {
    this.unsubscribe = queryClient.getQueryCache().subscribe((event) => {
      if (event.type !== 'updated') return;
      const buffered = this.whileFetching.get(event.query.queryHash);
      if (!buffered) return;
      if (event.action.type === 'success' && !event.action.manual) {
        this.whileFetching.delete(event.query.queryHash);
        for (const envelope of buffered) this.patch(event.query.queryKey, envelope);
      } else if (event.action.type === 'error') {
        this.whileFetching.delete(event.query.queryHash);
      }
    });
  }

  apply(envelope: TChangeEnvelope): void {
    const { resource } = envelopeParts(envelope);
    for (const query of this.queryClient.getQueryCache().findAll()) {
      const [scope, path] = query.queryKey;
      if ((scope !== 'list' && scope !== 'one') || typeof path !== 'string') continue;
      if (resourceOfPath(path) !== resource) continue;
      if (query.state.fetchStatus === 'fetching') {
        const buffered = this.whileFetching.get(query.queryHash) ?? [];
        buffered.push(envelope);
        this.whileFetching.set(query.queryHash, buffered);
      }
      this.patch(query.queryKey, envelope);
    }
    // Views over everything (dashboard counts, the activity feed) follow any change; a
    // fetch already running is reused, so a burst of changes costs one refetch.
    void this.queryClient.invalidateQueries({ queryKey: [ANY_CHANGE] }, { cancelRefetch: false });
    // A bulk change: the lists it names are fetched again.
    for (const bulk of envelope.summary?.refetch ?? []) {
      this.refetchFresh({
        predicate: (query) =>
          (query.queryKey[0] === 'list' || query.queryKey[0] === 'one') &&
          typeof query.queryKey[1] === 'string' &&
          resourceOfPath(query.queryKey[1]) === bulk,
      });
    }
  }

  /**
   * Refetch that never reuses a fetch already in flight (it may have read the server
   * before the change): cancel those first. TanStack would otherwise hand back the
   * running fetch of a query that has no data yet.
   */
  private refetchFresh(filters: InvalidateQueryFilters): void {
    void this.queryClient
      .cancelQueries(filters)
      .then(() => this.queryClient.invalidateQueries(filters));
  }

  /** One change onto one cached query: patched in place, or refetched when it cannot be. */
  private patch(queryKey: readonly unknown[], envelope: TChangeEnvelope): void {
    const { resource, kind } = envelopeParts(envelope);
    if (kind === 'refetch') return;
    const [scope, path] = queryKey as [string, string];
    if (scope === 'list' && path === `/${resource}`) {
      this.queryClient.setQueryData<InfiniteData<TPageOf<TLiveItem>>>(queryKey, (data) =>
        data ? patchPages(data, envelope) : data,
      );
    } else if (scope === 'list' && path.startsWith(`/${resource}/`)) {
      // A list under one entity (a card's rates): only that entity's changes touch it.
      if (path.startsWith(`/${resource}/${envelope.id}/`) && kind !== 'margin_alert') {
        this.refetchFresh({ queryKey, exact: true });
      }
    } else if (scope === 'list') {
      this.refetchFresh({ queryKey, exact: true });
    } else if (path === `/${resource}/${envelope.id}`) {
      if (kind === 'deleted' || kind === 'removed') {
        this.refetchFresh({ queryKey, exact: true });
      } else {
        this.queryClient.setQueryData<TLiveItem>(queryKey, (held) =>
          held && isNewer(envelope.data as unknown as TLiveItem, held)
            ? (envelope.data as unknown as TLiveItem)
            : held,
        );
      }
    }
  }

  /**
   * Everything live is fetched again. After a gap too old to patch the old data may stay
   * on screen meanwhile; after an access change it is dropped at once (it may hold what
   * this person may no longer see).
   */
  resync(why: 'resync_required' | 'rescoped'): void {
    // What was kept for fetches in flight belongs to the old view: the refetch has it all.
    this.whileFetching.clear();
    for (const queryKey of [['list'], ['one']]) {
      if (why === 'rescoped') void this.queryClient.resetQueries({ queryKey });
      else this.refetchFresh({ queryKey });
    }
  }

  /** Fetches that failed while the server was away (a dying process) are tried again. */
  retryFailed(): void {
    void this.queryClient.refetchQueries({
      predicate: (query) =>
        query.state.status === 'error' &&
        (query.queryKey[0] === 'list' || query.queryKey[0] === 'one'),
    });
  }

  close(): void {
    this.unsubscribe();
  }
}

/**
 * The TanStack options of a live paged list (`['list', path]`): pages are fetched once
 * the feed has joined its rooms; LiveCache keeps them current. The React hook
 * (use-resource.ts) and the Node model test use this same definition.
 */
export function liveListQuery<T extends TLiveItem>(deps: {
  feed: { ready(): Promise<void> };
  fetchApi: TApiFetch;
  path: string;
  pageSize: number;
}) {
  const { feed, fetchApi, path, pageSize } = deps;
  return {
    queryKey: ['list', path],
    queryFn: async ({ pageParam }: { pageParam: string }) => {
      // After the socket has joined its rooms: live changes only move this forward.
      await feed.ready();
      return fetchApi<TPageOf<T>>(
        `${path}${path.includes('?') ? '&' : '?'}limit=${pageSize}${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ''}`,
      );
    },
    initialPageParam: '',
    getNextPageParam: (last: TPageOf<T>) => last.nextCursor ?? undefined,
    // A fetch cut off by a dying process (or a balancer still sending to it) is tried
    // again a few times with backoff; an answer the server gave (4xx) is final. The
    // feed's resume retries whatever failed before it, this whatever fails after.
    retry: (failures: number, error: unknown) => failures < 5 && isTransient(error),
    retryDelay: (attempt: number) => Math.min(250 * 2 ** attempt, 4_000),
  };
}

/** No answer from the server, or a 5xx/503 while it starts: worth another try. */
function isTransient(error: unknown): boolean {
  return !(error instanceof ApiClientError) || error.status >= 500;
}
