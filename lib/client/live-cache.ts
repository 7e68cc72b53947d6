import type { InfiniteData, QueryClient, QueryFilters } from '@tanstack/react-query';
import type { TChangeEnvelope, TEnvelopeResource } from '@/lib/shared/live/change';
import { withinKey } from '@/lib/shared/live/within';
import { isCallsChange } from '@/lib/shared/live/change-summary';
import type { TMeDto } from '@/lib/shared/schemas/me';
import { ApiClientError, type TApiFetch, type TPageOf } from './api';
import { isLiveKey, pathOf, queryKeys, readKey, type TQueryKey } from './query-keys';

/**
 * `GET /me` (lib/client/use-me.ts): not a view over everything — it changes only when the
 * viewer's own account does (an `own_account` signal) or its access does (a resync).
 */
export const OWN_IDENTITY_KEY = queryKeys.static('me');

/**
 * The viewer's notification centre (`GET /notifications`): its own, so no list of any
 * live resource; read again whenever a `notifications.*` envelope arrives (only the
 * viewer's own reach it) and when the viewer's access changes (a view-as started shows
 * another person's).
 */
export const NOTIFICATIONS_KEY = queryKeys.static('notifications');

/** A view is fetched again at most this often while calls move balances. */
export const TRAFFIC_REFETCH_MS = 1_000;

/** The longest an access change waits for the page to render for it (resync). */
export const RESCOPE_HOLD_MS = 5_000;

/**
 * What the cache holds about the viewer's world, which an access change makes stale:
 * live lists and entities, the views over everything (counts and traffic are filtered
 * by the same access), the notification centre (a view-as shows another person's) and
 * what the cache does not keep live but was read as that access (a ledger).
 */
function shapedByAccess(query: { queryKey: readonly unknown[] }): boolean {
  const key = readKey(query.queryKey);
  // Everything read from the API was read as the old access, a ledger (a key the cache
  // does not keep live) too; one's own (`/me`, its MFA status) is read again in place.
  return Boolean(key && !(key[1].view === 'static' && key[0] === OWN_IDENTITY_KEY[0]));
}

/** What every live entity carries; use-only groups have no timestamps but a version. */
export interface TLiveItem {
  id: string;
  version?: number;
}

type TKind = TChangeEnvelope['type'] extends `${string}.${infer K}` ? K : never;

export function envelopeParts(envelope: TChangeEnvelope): {
  resource: TEnvelopeResource;
  kind: TKind;
} {
  const [resource, kind] = envelope.type.split('.') as [TEnvelopeResource, TKind];
  return { resource, kind };
}

/**
 * A list too long to refetch whole (a card's rates) brings itself up to date: its query
 * `meta.refetchWindow` fetches again only the pages on screen (windowed-list.ts).
 */
export interface TWindowedMeta extends Record<string, unknown> {
  refetchWindow: () => Promise<void>;
  /** A window refetch under way is dropped: the list was reset (an access change). */
  forget: () => void;
}

function windowOf(meta: Record<string, unknown> | undefined): TWindowedMeta | null {
  return typeof meta?.refetchWindow === 'function' ? (meta as TWindowedMeta) : null;
}

export function isNewer(incoming: TLiveItem, held: TLiveItem | undefined): boolean {
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

/**
 * A paged list's pages patched: updates where the entity is, new ones on the last page,
 * and the list's `total` moved by one when an entity enters (one not held yet) or leaves
 * — an unfiltered list holds every entity of its resource the viewer sees. One that
 * leaves from a page not loaded yet was counted all the same (one that entered since
 * was appended, so held): "50 of 120" becomes "50 of 119", not "119 of 120" at the end.
 */
export function patchPages<T extends TLiveItem>(
  data: InfiniteData<TPageOf<T>>,
  envelope: TChangeEnvelope,
  /**
   * Kept while the list was being read, replayed onto what was read: the server may
   * have read after the change, and a row it no longer had is not in its total either.
   */
  replay = false,
  /**
   * Applied here before (a catch-up from behind the last seq): a list read since holds
   * it, counted, on a page not loaded — neither a removal nor a creation counts again.
   * Not so for `replay`: that read may have been before the change.
   */
  applied = false,
): InfiniteData<TPageOf<T>> {
  const present = data.pages.some((page) => page.items.some((item) => item.id === envelope.id));
  const last = data.pages.length - 1;
  const morePages = data.pages[last]?.nextCursor != null;
  const { kind } = envelopeParts(envelope);
  const entering = kind === 'created' || kind === 'added';
  const delta =
    entering && !present && !(applied && morePages)
      ? 1
      : (kind === 'deleted' || kind === 'removed') &&
          (present || (morePages && !replay && !applied))
        ? -1
        : 0;
  const pages = data.pages.map((page, index) => {
    const items = patchItems(
      page.items,
      envelope,
      !present && index === last && !(applied && entering && morePages),
    );
    const total = typeof page.total === 'number' && delta ? page.total + delta : page.total;
    return items === page.items && total === page.total ? page : { ...page, items, total };
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
 * Feeds live changes into the TanStack Query cache (DESIGN §2 "Client"), by the
 * structured keys of query-keys.ts:
 * - a list `[resource, { view: 'list' }]` is patched in place by id and version;
 * - a filtered list (`filter: { parentId }`) cannot judge membership, so it is
 *   invalidated, but a set named by id (`filter: { ids }`) is patched in place and never
 *   gains a row; a list under one entity (`id`, `sub`: a card's rates) is refetched on
 *   that entity's changes; one entity `[resource, { view: 'one', id }]` is patched or
 *   invalidated; views over everything (`view: 'any-change'`) follow every change;
 * - a summary naming lists to refetch (a bulk change) invalidates them;
 * - a query that is fetching when a change arrives may have read the server before it
 *   (a paged list reads page after page): a patched list keeps the change and replays
 *   it onto the fetch's result the moment it lands, any other query is fetched once
 *   more after it, so no fetch ever overwrites a newer change.
 */
export class LiveCache {
  /** Changes that arrived while a query was fetching, by query hash. */
  private readonly whileFetching = new Map<string, TChangeEnvelope[]>();
  /** Views refetched at call rate: when each last was, and its trailing refetch. */
  private readonly throttled = new Map<
    string,
    { last: number; timer?: ReturnType<typeof setTimeout> }
  >();
  private readonly unsubscribe: () => void;

  /**
   * Queries whose fetch was in flight when a change they cannot patch arrived: that fetch
   * may have read the server before the change, so each is fetched once more when it ends.
   */
  private readonly again = new Set<string>();

  /** The access the page on screen was last rendered for (renderedFor). */
  private renderedAccess: string | null = null;

  /**
   * After an access change, until the page is rendered for `access` (at most
   * RESCOPE_HOLD_MS): meanwhile the cache stays as it is (see resync).
   */
  private rescopeHold: { access: string; timer: ReturnType<typeof setTimeout> } | null = null;

  constructor(private readonly queryClient: QueryClient) {
    this.unsubscribe = queryClient.getQueryCache().subscribe((event) => {
      if (event.type === 'removed') {
        this.again.delete(event.query.queryHash);
        this.whileFetching.delete(event.query.queryHash);
        // A view refetched at most once a second is forgotten with its query (sign-ins
        // throttle every users list a long-lived tab has searched).
        clearTimeout(this.throttled.get(event.query.queryHash)?.timer);
        this.throttled.delete(event.query.queryHash);
        return;
      }
      if (event.type !== 'updated') return;
      const hash = event.query.queryHash;
      if (this.again.has(hash) && event.query.state.fetchStatus !== 'fetching') {
        this.again.delete(hash);
        this.refetchSettled({ queryKey: event.query.queryKey, exact: true });
      }
      const buffered = this.whileFetching.get(hash);
      if (!buffered) return;
      if (event.action.type === 'success' && !event.action.manual) {
        this.whileFetching.delete(hash);
        const key = readKey(event.query.queryKey);
        // Replayed onto what the server read: a removal it already counted is not again.
        if (key) for (const envelope of buffered) this.patch(key, envelope, true);
      } else if (event.action.type === 'error') {
        this.whileFetching.delete(hash);
      } else if (event.action.type === 'setState' && event.query.state.fetchStatus === 'idle') {
        // The fetch was cancelled (its page left the screen, an access change): the query
        // went back to its data from before it, without the changes patched meanwhile, and
        // what was kept for it must not be replayed onto a later fetch (a row created then
        // and deleted since would come back). Read afresh when next shown.
        this.whileFetching.delete(hash);
        void this.queryClient.invalidateQueries({ queryKey: event.query.queryKey, exact: true });
      }
    });
  }

  /**
   * `applied`: the change was applied here before (a catch-up from behind the last seq):
   * a list read since holds it, so neither a removal nor a creation counts again.
   */
  apply(envelope: TChangeEnvelope, applied = false): void {
    // The page waits to render for a new access: everything live is fetched afresh then.
    if (this.rescopeHold) return;
    const { resource } = envelopeParts(envelope);
    // One's own notices: the centre alone follows them, nothing over everything does.
    if (resource === 'notifications') {
      this.refetchSettled({ queryKey: NOTIFICATIONS_KEY });
      return;
    }
    // A brand on one's path changed (the pages render again: live-provider.tsx). Only the
    // branded account's own audit lists it — those above hear of it as `audit.refetch`,
    // those below have nothing to read again.
    if (resource === 'brands') {
      const me = this.queryClient.getQueryData<TMeDto>(OWN_IDENTITY_KEY);
      if (me?.account.id !== envelope.id) return;
    }
    for (const query of this.queryClient.getQueryCache().findAll()) {
      const key = readKey(query.queryKey);
      if (!key || !isLiveKey(key) || key[0] !== resource) continue;
      if (query.state.fetchStatus === 'fetching') {
        const buffered = this.whileFetching.get(query.queryHash) ?? [];
        buffered.push(envelope);
        this.whileFetching.set(query.queryHash, buffered);
      }
      this.patch(key, envelope, false, applied);
    }
    // Views over everything (dashboard counts, the activity feed) follow any change; a
    // burst of changes costs at most two fetches (refetchSettled). A balance moved by the
    // ledger comes at call rate: those views follow it at most once a second.
    // An audit signal (`audit.refetch`: a change nothing else told this viewer of) may
    // stand for a balance moved by calls as well: followed alike.
    const often = atCallRate(envelope) || isSignIn(envelope) || resource === 'audit';
    if (often) {
      for (const query of this.queryClient.getQueryCache().findAll()) {
        const key = readKey(query.queryKey);
        if (key?.[1].view === 'any-change') this.refetchThrottled(key, query.queryHash);
      }
    } else {
      this.refetchSettled({
        predicate: (query) => readKey(query.queryKey)?.[1].view === 'any-change',
      });
    }
    // Calls moved an account's balance: the traffic views over it or its parent follow —
    // or over any account above it, for calls that moved none (`within`) — at most once a
    // second each (at call rate a refetch per change would never rest).
    const moved = usageMovement(envelope);
    if (moved) {
      for (const query of this.queryClient.getQueryCache().findAll()) {
        const key = readKey(query.queryKey);
        if (key?.[1].view !== 'traffic') continue;
        const root = key[1].filter?.parentId ?? key[1].filter?.accountId;
        if (
          !root ||
          root === moved.id ||
          root === moved.parentId ||
          moved.within?.includes(withinKey(root))
        ) {
          this.refetchThrottled(key, query.queryHash);
        }
      }
    }
    // The viewer's own account changed (renamed by the carrier, suspended, resumed), or
    // one above it moved its effective status (`above`: blocked for credit, or back), or
    // their own user or group did (`own_identity`, or the change itself to one who reads
    // users or groups): who the viewer is (`/me`: the header, the overview) is read again.
    if (this.concernsOwnIdentity(envelope)) {
      void this.queryClient.invalidateQueries({ queryKey: OWN_IDENTITY_KEY, exact: true });
    }
    // A bulk change: the lists it names are fetched again — at most once a second each
    // for sign-ins, which a script issuing tokens can send in a stream.
    for (const bulk of envelope.summary?.refetch ?? []) {
      const named = (key: TQueryKey | null): key is TQueryKey =>
        Boolean(key && isLiveKey(key) && key[0] === bulk);
      if (!often) {
        this.refetchSettled({ predicate: (query) => named(readKey(query.queryKey)) });
        continue;
      }
      for (const query of this.queryClient.getQueryCache().findAll()) {
        const key = readKey(query.queryKey);
        if (named(key)) this.refetchThrottled(key, query.queryHash);
      }
    }
  }

  private concernsOwnIdentity(envelope: TChangeEnvelope): boolean {
    const reason = envelope.summary?.reason;
    if (reason === 'own_account' || reason === 'above' || reason === 'own_identity') return true;
    const { resource } = envelopeParts(envelope);
    if (resource !== 'users' && resource !== 'groups') return false;
    const me = this.queryClient.getQueryData<TMeDto>(OWN_IDENTITY_KEY);
    return Boolean(me && envelope.id === (resource === 'users' ? me.user.id : me.group.id));
  }

  /** At once when the view's last refetch is a second old, else once when it is. */
  private refetchThrottled(queryKey: TQueryKey, hash: string): void {
    const state = this.throttled.get(hash) ?? { last: Number.NEGATIVE_INFINITY };
    this.throttled.set(hash, state);
    if (state.timer) return;
    const run = () => {
      state.timer = undefined;
      state.last = Date.now();
      this.refetchSettled({ queryKey, exact: true });
    };
    const wait = state.last + TRAFFIC_REFETCH_MS - Date.now();
    if (wait <= 0) run();
    else state.timer = setTimeout(run, wait);
  }

  /**
   * Fetches the queries again so that what they show follows the change. A query whose
   * fetch is in flight keeps it (cancelling would starve it: at call rate the next change
   * comes before any fetch ends, and the list would show its old data for as long as the
   * traffic runs) and is fetched once more when that fetch ends, since it may have read
   * the server before the change. So a burst costs at most two fetches, and each lands.
   */
  private refetchSettled(filters: QueryFilters): void {
    for (const query of this.queryClient.getQueryCache().findAll(filters)) {
      if (query.state.fetchStatus === 'fetching') this.again.add(query.queryHash);
      else void this.queryClient.invalidateQueries({ queryKey: query.queryKey, exact: true });
    }
  }

  /** One change onto one cached query: patched in place, or refetched when it cannot be. */
  private patch(
    queryKey: TQueryKey,
    envelope: TChangeEnvelope,
    replay = false,
    applied = false,
  ): void {
    const { kind } = envelopeParts(envelope);
    if (kind === 'refetch') return;
    const { view, id, sub, filter } = queryKey[1];
    if (view === 'list' && sub !== undefined) {
      // A list under one entity (a card's rates): only that entity's changes touch it. A
      // margin alert (rows of the card newly losing, against a provider that moved) leaves
      // its rates as they were, but not its margin report.
      if (id !== envelope.id || (kind === 'margin_alert' && sub !== 'margin')) return;
      const windowed = windowOf(
        this.queryClient.getQueryCache().find({ queryKey, exact: true })?.meta,
      );
      if (windowed) void windowed.refetchWindow();
      else this.refetchSettled({ queryKey, exact: true });
    } else if (view === 'list' && isNamedSet(filter)) {
      // A fixed set of entities named by id (`?ids=`: the owners a list names): only its
      // own rows' changes touch it, patched in place by version as one entity is (a
      // balance moved by calls costs no request); it never gains a row, and a deleted one
      // leaves.
      if (kind === 'created' || kind === 'added') return;
      if (!filter.ids.split(',').includes(envelope.id)) return;
      this.queryClient.setQueryData<InfiniteData<TPageOf<TLiveItem>>>(queryKey, (data) =>
        data ? patchPages(data, envelope, replay, applied) : data,
      );
    } else if (view === 'list' && filter === undefined) {
      this.queryClient.setQueryData<InfiniteData<TPageOf<TLiveItem>>>(queryKey, (data) =>
        data ? patchPages(data, envelope, replay, applied) : data,
      );
    } else if (view === 'list') {
      // A filtered or sorted list cannot place the change itself: fetched again, and
      // while calls move balances at most once a second, like the views over everything.
      const query = this.queryClient.getQueryCache().find({ queryKey, exact: true });
      if (query && atCallRate(envelope)) this.refetchThrottled(queryKey, query.queryHash);
      else this.refetchSettled({ queryKey, exact: true });
    } else if (id === envelope.id) {
      if (kind === 'deleted' || kind === 'removed') {
        this.refetchSettled({ queryKey, exact: true });
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
   * Everything live is fetched again. After a gap too old to patch, the old data stays on
   * screen meanwhile. After an access change to `access` it is dropped and fetched as the
   * new access, but only once the page is rendered for that access (renderedFor): until
   * then the page renders for the old access, and sections it has that the new access
   * lacks would ask for what it may not read and show the refusal (a view-as ended in
   * another tab answered 26 requests 403 within half a second). So the page stays as it
   * was for that round trip: what it shows, it showed a moment ago; nothing new enters.
   */
  resync(why: 'resync_required' | 'rescoped', access?: string): void {
    // What was kept for fetches in flight belongs to the old view: the refetch has it all.
    this.whileFetching.clear();
    if (why === 'resync_required') {
      // While an access change waits for the page, its end fetches everything anyway.
      if (this.rescopeHold) return;
      this.refetchSettled({ predicate: shapedByAccess });
      void this.queryClient.invalidateQueries({ queryKey: OWN_IDENTITY_KEY, exact: true });
      return;
    }
    this.again.clear();
    for (const state of this.throttled.values()) clearTimeout(state.timer);
    this.throttled.clear();
    // A window refetch read as the old access: landing after the reset, it would put the
    // old access's pages back.
    for (const query of this.queryClient.getQueryCache().findAll({ predicate: shapedByAccess })) {
      windowOf(query.meta)?.forget();
    }
    if (this.rescopeHold) clearTimeout(this.rescopeHold.timer);
    this.rescopeHold = null;
    if (access === undefined || access === this.renderedAccess) {
      this.dropAndRefetch();
      return;
    }
    // A fetch in flight is answered as the new access: its answer would not fit the page.
    void this.queryClient.cancelQueries({ predicate: shapedByAccess });
    // Bounded: a page that never renders again must not keep the old data.
    const timer = setTimeout(() => this.endRescope(), RESCOPE_HOLD_MS);
    this.rescopeHold = { access, timer };
  }

  /**
   * The server-rendered page now shows `access` (the provider calls this with the layout's
   * value after each render that changed it): when an access change waited for it, what
   * it held is dropped and what the page still shows fetched.
   */
  renderedFor(access: string): void {
    this.renderedAccess = access;
    if (this.rescopeHold?.access === access) this.endRescope();
  }

  private endRescope(): void {
    if (this.rescopeHold) clearTimeout(this.rescopeHold.timer);
    this.rescopeHold = null;
    this.dropAndRefetch();
  }

  /** Dropped (it may hold what this person may no longer see), and fetched if on screen. */
  private dropAndRefetch(): void {
    void this.queryClient.resetQueries({ predicate: shapedByAccess });
    // A new group or account: who the viewer is (/me: the header, the overview).
    void this.queryClient.invalidateQueries({ queryKey: OWN_IDENTITY_KEY, exact: true });
  }

  /** Fetches that failed while the server was away (a dying process) are tried again. */
  retryFailed(): void {
    if (this.rescopeHold) return;
    void this.queryClient.refetchQueries({
      predicate: (query) => {
        const key = readKey(query.queryKey);
        return query.state.status === 'error' && Boolean(key && isLiveKey(key));
      },
    });
  }

  close(): void {
    this.unsubscribe();
    if (this.rescopeHold) clearTimeout(this.rescopeHold.timer);
    for (const state of this.throttled.values()) clearTimeout(state.timer);
    this.throttled.clear();
  }
}

/** A list filtered by nothing but the ids it names (`?ids=a,b`). */
function isNamedSet(filter: Record<string, string> | undefined): filter is { ids: string } {
  return filter !== undefined && Object.keys(filter).length === 1 && filter.ids !== undefined;
}

/**
 * Someone signed in (a session, a token: its person's last sign-in moved): a script may
 * issue tokens in a stream, so the views that follow it do so at most once a second.
 */
function isSignIn(envelope: TChangeEnvelope): boolean {
  return envelope.summary?.reason === 'sign_in';
}

/** A balance moved by the ledger: such changes come at call rate, not at human speed. */
function atCallRate(envelope: TChangeEnvelope): boolean {
  const reason = envelope.summary?.reason;
  // 'balance': the same movement told without the ledger's details (no `ledger:read`).
  // 'calls': calls stored that moved no balance (all unrated, or free).
  return (
    (reason === 'ledger' || reason === 'balance' || reason === 'calls') &&
    !envelope.summary!.refetch
  );
}

/**
 * An account's balance moved by rated calls (issue 18): the account, and its parent —
 * every level of a call's chain is charged in the same batch, so the traffic below an
 * account moves exactly when one of its direct children's balance does.
 */
function usageMovement(
  envelope: TChangeEnvelope,
): { id: string; parentId?: string; within?: string[] } | null {
  const { resource, kind } = envelopeParts(envelope);
  if (resource !== 'resellers' && resource !== 'customers') return null;
  // An account's own people hear of its balance moving only as a signal naming it (its
  // DTO is its parent's view, lib/server/authz/audience.ts): their views of its own
  // calls follow that too, throttled like the rest.
  if (kind === 'refetch' && envelope.summary?.reason === 'own_account') return { id: envelope.id };
  // A reader of calls who may not read the accounts they are of hears of them as a signal
  // naming its own account, with the accounts down to the caller's as digests (`within`).
  if (kind === 'refetch' && envelope.summary?.reason === 'usage') {
    return { id: envelope.id, ...(envelope.within ? { within: envelope.within } : {}) };
  }
  if (kind !== 'updated') return null;
  const summary = envelope.summary;
  const byCalls =
    isCallsChange(summary) ||
    (summary?.reason === 'balance' && summary.usage === true) ||
    // A later change that stands for calls it replaced before they went out (the
    // server's one balance event per account a second: server/balance-hold.ts).
    envelope.within !== undefined;
  if (!byCalls) return null;
  const parentId = envelope.data.parentId;
  return {
    id: envelope.id,
    ...(typeof parentId === 'string' ? { parentId } : {}),
    // Calls that moved no balance: every account between the viewer's and the customer,
    // as digests (lib/shared/live/within.ts).
    ...(envelope.within ? { within: envelope.within } : {}),
  };
}

/**
 * The TanStack options of a live paged list (a `list` key): pages are fetched once the
 * feed has joined its rooms; LiveCache keeps them current. The React hook
 * (use-resource.ts) and the Node model test use this same definition.
 */
export function liveListQuery<T extends TLiveItem>(deps: {
  feed: { ready(): Promise<void> };
  fetchApi: TApiFetch;
  queryKey: TQueryKey;
  pageSize: number;
}) {
  const { feed, fetchApi, queryKey, pageSize } = deps;
  return {
    queryKey,
    queryFn: async ({ pageParam, signal }: { pageParam: string; signal?: AbortSignal }) => {
      // After the socket has joined its rooms: live changes only move this forward. Not at
      // all if cancelled meanwhile (an access change: asked as the new access, it would be
      // the old page's read).
      await feed.ready();
      signal?.throwIfAborted();
      return fetchApi<TPageOf<T>>(
        pathOf(queryKey, { limit: String(pageSize), cursor: pageParam || undefined }),
        { signal },
      );
    },
    initialPageParam: '',
    getNextPageParam: (last: TPageOf<T>) => last.nextCursor ?? undefined,
    ...liveListRetry,
  };
}

/**
 * A fetch cut off by a dying process (or a balancer still sending to it) is tried again
 * twice, quickly (0.25 s, then 0.75 s); an answer the server gave (4xx) is final. So a
 * failing list shows its error, with a Retry (components/ui/field.tsx ListState), within
 * about a second instead of spinning for many. The feed's resume retries whatever failed
 * before it (LiveCache.retryFailed), this whatever fails after.
 */
export const liveListRetry = {
  retry: (failures: number, error: unknown) => failures < 2 && isTransient(error),
  retryDelay: (attempt: number) => 250 * 3 ** attempt,
};

/** No answer from the server, or a 5xx/503 while it starts: worth another try. */
function isTransient(error: unknown): boolean {
  return !(error instanceof ApiClientError) || error.status >= 500;
}
