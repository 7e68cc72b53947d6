'use client';

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { ApiClientError, apiFetch, type TApiFetch, type TPageOf } from './api';
import { flattenPages, isNewer, liveListQuery, type TLiveItem } from './live-cache';
import { useLive } from './live-provider';
import { pathOf, queryKeys, sameListBesidesSearch, type TQueryKey } from './query-keys';
import type { TLiveResource } from '@/lib/shared/live/change';
import { useToast, type TToast } from '@/components/ui/toast';
import { useWritesEnabled, WRITES_PAUSED_MESSAGE } from './writes-enabled';
import {
  windowedListQuery,
  type TRowRange,
  type TWindowData,
  type TWindowParam,
} from './windowed-list';

/** The loaded rows of a paged list, with the server's count of all that match (if given). */
export type TPagedItems<T> = T[] & { total?: number };

/**
 * A paged list from /api/v1 as one TanStack query (a `list` key of query-keys.ts), with
 * "load more", kept live: each page is fetched after the tab's socket has joined its rooms,
 * with the changes that arrive during the fetch replayed onto it, and afterwards the
 * live cache patches it in place (lib/client/live-cache.ts). A new key (another search
 * or sort) keeps the previous rows on screen until its first page lands
 * (`isPlaceholderData` meanwhile): the table never blanks while typing.
 */
export function usePagedList<T extends TLiveItem>(
  queryKey: TQueryKey,
  options: { pageSize?: number; enabled?: boolean } = {},
) {
  const { feed, cache } = useLive();
  const keyHash = JSON.stringify(queryKey);
  // Only the same list under another search or sort: never another list's rows (another
  // card's assignments), nor — should keys carry the viewer — another identity's. Stable
  // per key: TanStack reuses the placeholder it made only while this function is the same
  // one (a new function each render made a new placeholder each render: an update loop).
  const placeholderData = useCallback(
    <D>(previous: D | undefined, previousQuery?: { queryKey: readonly unknown[] }) =>
      previousQuery && sameListBesidesSearch(previousQuery.queryKey, JSON.parse(keyHash))
        ? previous
        : undefined,
    [keyHash],
  );
  return useInfiniteQuery({
    ...liveListQuery<T>({
      feed: feed!,
      fetchApi: apiFetch,
      queryKey,
      pageSize: options.pageSize ?? 50,
    }),
    enabled: Boolean(feed && cache) && options.enabled !== false,
    placeholderData,
    select: (data): TPagedItems<T> =>
      Object.assign(flattenPages(data.pages), { total: data.pages[0]?.total }),
  });
}

/**
 * `apiFetch` for a view the live cache keeps current (counts, the activity feed, exposure,
 * a user's access, notifications, a record shown by id…): it reads the server only once
 * the tab's socket has joined its rooms, as lists and records do. Such a view is
 * refetched when a change arrives; a change committed after an earlier read but before
 * the join reaches no room of this tab, and the view would show the state before it
 * until some later change came (a customer out of credit missing from the overview).
 * Pass the query's `signal`: a read cancelled while it waits is never sent.
 */
export function useJoinedFetch(): TApiFetch {
  const { feed } = useLive();
  return useCallback<TApiFetch>(
    async (path, init) => {
      await feed?.ready();
      // Cancelled while it waited (an access change drops what the old page asked for):
      // asked as the new access, it would only be refused or land on the wrong page.
      init?.signal?.throwIfAborted();
      return apiFetch(path, init);
    },
    [feed],
  );
}

/**
 * One record (a `one` key), starting from what the page was rendered with: the live
 * cache patches it by version and refetches it when it leaves the viewer's view — then
 * `error` is the 404 that says it is gone.
 *
 * Read once more on every mount, after the socket has joined its rooms: what the server
 * rendered is a snapshot taken before that (a change in between reached no room of this
 * tab), and a copy kept in the cache from an earlier visit may be older than the one
 * rendered now (an access change resets queries to what they started from). The page
 * shows what it has meanwhile; a live change that lands during the read is newer and
 * is kept.
 */
export function useLiveRecord<T extends TLiveItem>(
  resource: TLiveResource,
  initial: T,
  /** false: the viewer's page of something the API does not give it (one's own user page without `users:read`). */
  options: { readable?: boolean } = {},
): { data: T; error: Error | null; gone: boolean } {
  const { feed } = useLive();
  const queryClient = useQueryClient();
  const queryKey = queryKeys.one(resource, initial.id);
  const record = useQuery({
    queryKey,
    queryFn: async ({ signal }) => {
      await feed?.ready();
      signal.throwIfAborted();
      const fetched = await apiFetch<T>(pathOf(queryKey), { signal });
      const held = queryClient.getQueryData<T>(queryKey);
      return held && isNewer(held, fetched) ? held : fetched;
    },
    initialData: initial,
    refetchOnMount: 'always',
    // Never asked of the API when it would refuse (an access change refetches every
    // record in view): the page keeps what it rendered, moved on by live events.
    enabled: options.readable !== false,
  });
  // Gone: the API says it is not there for this viewer (deleted, moved out of view) — not
  // a restart, a dropped connection or a 500, which a later read gets past.
  const gone =
    record.error instanceof ApiClientError &&
    (record.error.status === 404 || record.error.status === 403);
  return { data: record.data ?? initial, error: record.error, gone };
}

/**
 * What a successful write says (a toast): a fixed text, or one made from the answer
 * (`{ message, href }` links to the record); null says nothing.
 */
export type TSuccessToast<TResult, TBody> =
  string | TToast | ((result: TResult, body: TBody) => TToast | string | null);

/** The toast for one success, if the call site asked for one. */
export function successToast<TResult, TBody>(
  success: TSuccessToast<TResult, TBody> | undefined,
  result: TResult,
  body: TBody,
): TToast | null {
  const made = typeof success === 'function' ? success(result, body) : success;
  if (!made) return null;
  return typeof made === 'string' ? { message: made } : made;
}

/**
 * A write through the API. Its effect reaches this tab the way it reaches every other
 * one, as a live event; the queries in `invalidates` (matched in part:
 * `queryKeys.list('groups')` covers every groups list) are refetched too for a tab
 * whose socket is down at that moment. `success` is the toast it shows when it worked;
 * while the socket is down (useWritesEnabled) nothing is sent.
 */
export function useApiMutation<TBody, TResult>(
  method: 'POST' | 'PATCH' | 'DELETE',
  /** The path, or one made from the variables (a DELETE of a row: `(row) => …/${row.id}`). */
  path: string | ((variables: TBody) => string),
  invalidates: readonly TQueryKey[] = [],
  options: {
    success?: TSuccessToast<TResult, TBody>;
    /** What is sent, when the variables also name the target (`{number, liveAt}` → `{liveAt}`). */
    body?: (variables: TBody) => unknown;
  } = {},
) {
  const queryClient = useQueryClient();
  const { state } = useLive();
  const writes = useWritesEnabled();
  const toast = useToast();
  return useMutation({
    mutationFn: (body: TBody) => {
      if (!writes) return Promise.reject(new Error(WRITES_PAUSED_MESSAGE));
      const to = typeof path === 'function' ? path(body) : path;
      // A DELETE names its target in the path; its variables are only for the toast.
      const sent = options.body ? options.body(body) : body;
      return apiFetch<TResult>(to, { method, body: method === 'DELETE' ? undefined : sent });
    },
    onSuccess: async (result, body) => {
      const shown = successToast(options.success, result, body);
      if (shown) toast(shown);
      if (state === 'live') return;
      await Promise.all(invalidates.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
    },
  });
}

/**
 * A long live list seen through a window (windowed-list.ts): pages of `pageSize`, at
 * most `maxPages` held, and a change refetches only the pages holding `visible()` rows.
 */
export function useWindowedList<T extends TLiveItem>(
  queryKey: TQueryKey,
  window: { pageSize: number; maxPages: number; visible: () => TRowRange },
) {
  const { feed, cache } = useLive();
  const queryClient = useQueryClient();
  return useInfiniteQuery<TPageOf<T>, Error, TWindowData<T>, TQueryKey, TWindowParam>({
    ...windowedListQuery<T>({ feed: feed!, fetchApi: apiFetch, queryClient, queryKey, ...window }),
    enabled: Boolean(feed && cache),
  });
}
