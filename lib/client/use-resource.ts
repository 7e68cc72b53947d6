'use client';

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { apiFetch, type TPageOf } from './api';
import { flattenPages, liveListQuery, type TLiveItem } from './live-cache';
import { useLive } from './live-provider';
import { pathOf, queryKeys, type TQueryKey } from './query-keys';
import type { TLiveResource } from '@/lib/shared/live/change';
import {
  windowedListQuery,
  type TRowRange,
  type TWindowData,
  type TWindowParam,
} from './windowed-list';

/**
 * A paged list from /api/v1 as one TanStack query (a `list` key of query-keys.ts), with
 * "load more", kept live: each page is fetched after the tab's socket has joined its rooms,
 * with the changes that arrive during the fetch replayed onto it, and afterwards the
 * live cache patches it in place (lib/client/live-cache.ts).
 */
export function usePagedList<T extends TLiveItem>(queryKey: TQueryKey) {
  const { feed, cache } = useLive();
  return useInfiniteQuery({
    ...liveListQuery<T>({ feed: feed!, fetchApi: apiFetch, queryKey, pageSize: 50 }),
    enabled: Boolean(feed && cache),
    select: (data) => flattenPages(data.pages),
  });
}

/**
 * One record (a `one` key), starting from what the page was rendered with: the live
 * cache patches it by version and refetches it when it leaves the viewer's view — then
 * `error` is the 404 that says it is gone.
 */
export function useLiveRecord<T extends TLiveItem>(
  resource: TLiveResource,
  initial: T,
): { data: T; error: Error | null } {
  const queryKey = queryKeys.one(resource, initial.id);
  const record = useQuery({
    queryKey,
    queryFn: () => apiFetch<T>(pathOf(queryKey)),
    initialData: initial,
  });
  return { data: record.data ?? initial, error: record.error };
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
