'use client';

import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { apiFetch } from './api';
import { flattenPages, liveListQuery, type TLiveItem } from './live-cache';
import { useLive } from './live-provider';

/**
 * A paged list from /api/v1 as one TanStack query (key: `['list', path]`), with "load
 * more", kept live: each page is fetched after the tab's socket has joined its rooms,
 * with the changes that arrive during the fetch replayed onto it, and afterwards the
 * live cache patches it in place (lib/client/live-cache.ts).
 */
export function usePagedList<T extends TLiveItem>(path: string) {
  const { feed, cache } = useLive();
  return useInfiniteQuery({
    ...liveListQuery<T>({ feed: feed!, fetchApi: apiFetch, path, pageSize: 50 }),
    enabled: Boolean(feed && cache),
    select: (data) => flattenPages(data.pages),
  });
}

/**
 * A write through the API. Its effect reaches this tab the way it reaches every other
 * one, as a live event; lists in `invalidates` are refetched too for a tab whose socket
 * is down at that moment.
 */
export function useApiMutation<TBody, TResult>(
  method: 'POST' | 'PATCH' | 'DELETE',
  path: string,
  invalidates: string[] = [],
) {
  const queryClient = useQueryClient();
  const { state } = useLive();
  return useMutation({
    mutationFn: (body: TBody) => apiFetch<TResult>(path, { method, body }),
    onSuccess: async () => {
      if (state === 'live') return;
      await Promise.all(
        invalidates.map((list) => queryClient.invalidateQueries({ queryKey: ['list', list] })),
      );
    },
  });
}
