'use client';

import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { apiFetch, type TPageOf } from './api';

/**
 * A paged list from /api/v1 as one TanStack query (key: the path), with "load more".
 * The live-sync work will patch these caches from socket events; for now a successful
 * write invalidates the lists it touches.
 */
export function usePagedList<T>(path: string) {
  return useInfiniteQuery({
    queryKey: ['list', path],
    queryFn: ({ pageParam }) =>
      apiFetch<TPageOf<T>>(
        `${path}${path.includes('?') ? '&' : '?'}limit=50${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ''}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    select: (data) => data.pages.flatMap((page) => page.items),
  });
}

/** A write that refreshes the named lists once it succeeds. */
export function useApiMutation<TBody, TResult>(
  method: 'POST' | 'PATCH' | 'DELETE',
  path: string,
  invalidates: string[],
) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: TBody) => apiFetch<TResult>(path, { method, body }),
    onSuccess: async () => {
      await Promise.all(
        invalidates.map((list) => queryClient.invalidateQueries({ queryKey: ['list', list] })),
      );
    },
  });
}
