import { QueryClient } from '@tanstack/react-query';
import { liveListRetry } from './live-cache';

/**
 * The TanStack Query client. Live events keep the cache fresh (the live-sync work), so
 * data does not go stale on a timer and a focus change does not refetch. Every query
 * retries as the live lists do: a lost answer twice within a second, a refusal never,
 * so an error (with its Retry) shows fast.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: Infinity, refetchOnWindowFocus: false, ...liveListRetry },
    },
  });
}
