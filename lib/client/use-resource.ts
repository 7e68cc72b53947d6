'use client';

import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { apiFetch, type TPageOf } from './api';
import { flattenPages, liveListQuery, type TLiveItem } from './live-cache';
import { useLive } from './live-provider';
import { sameListBesidesSearch, type TQueryKey } from './query-keys';
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
 * A write through the API. Its effect reaches this tab the way it reaches every other
 * one, as a live event; the queries in `invalidates` (matched in part:
 * `queryKeys.list('groups')` covers every groups list) are refetched too for a tab
 * whose socket is down at that moment.
 */
export function useApiMutation<TBody, TResult>(
  method: 'POST' | 'PATCH' | 'DELETE',
  path: string,
  invalidates: readonly TQueryKey[] = [],
) {
  const queryClient = useQueryClient();
  const { state } = useLive();
  return useMutation({
    mutationFn: (body: TBody) => apiFetch<TResult>(path, { method, body }),
    onSuccess: async () => {
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
