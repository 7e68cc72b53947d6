import { QueryClient } from '@tanstack/react-query';

/**
 * The TanStack Query client. Live events keep the cache fresh (the live-sync work), so
 * data does not go stale on a timer and a focus change does not refetch.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: Infinity, refetchOnWindowFocus: false, retry: 1 },
    },
  });
}
