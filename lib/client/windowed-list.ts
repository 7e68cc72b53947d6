import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import type { TApiFetch, TPageOf } from './api';
import { liveListRetry, type TLiveItem, type TWindowedMeta } from './live-cache';
import { pathOf, type TQueryKey } from './query-keys';

/**
 * Where a page of a windowed list starts: its cursor, the index of its first row in the
 * whole list, and the page before it. The API pages forward only (keyset cursors); the
 * chain lets a list that dropped its first pages (`maxPages`) fetch them again when the
 * person scrolls back up.
 */
export interface TWindowParam {
  cursor: string;
  start: number;
  prev: TWindowParam | null;
}

export type TWindowData<T> = InfiniteData<TPageOf<T>, TWindowParam>;

/** Rows `from`..`to` (inclusive, indexes in the whole list) are on screen. */
export interface TRowRange {
  from: number;
  to: number;
}

const FIRST_PAGE: TWindowParam = { cursor: '', start: 0, prev: null };

/**
 * The TanStack options of a long live list shown through a window (a card's rates): big
 * pages, at most `maxPages` of them held (earlier or later ones are dropped and fetched
 * again on the way back), and after a change only the pages on screen are fetched again
 * (`meta.refetchWindow`, called by LiveCache) instead of every page held.
 */
export function windowedListQuery<T extends TLiveItem>(deps: {
  feed: { ready(): Promise<void> };
  fetchApi: TApiFetch;
  queryClient: QueryClient;
  queryKey: TQueryKey;
  pageSize: number;
  maxPages: number;
  /** The rows on screen now (read when a change arrives). */
  visible: () => TRowRange;
}) {
  const { feed, fetchApi, queryClient, queryKey, pageSize, maxPages, visible } = deps;
  const fetchPage = async (param: TWindowParam, signal?: AbortSignal) => {
    // After the socket has joined its rooms: live changes only move this forward. Not at
    // all if cancelled meanwhile (see liveListQuery).
    await feed.ready();
    signal?.throwIfAborted();
    return fetchApi<TPageOf<T>>(
      pathOf(queryKey, { limit: String(pageSize), cursor: param.cursor || undefined }),
      { signal },
    );
  };
  const meta: TWindowedMeta = {
    refetchWindow: () => refetchWindow<T>(queryClient, queryKey, fetchPage, visible()),
    forget: () => forgetWindowRefetch(queryClient, queryKey),
  };
  return {
    queryKey,
    queryFn: ({ pageParam, signal }: { pageParam: TWindowParam; signal?: AbortSignal }) =>
      fetchPage(pageParam, signal),
    initialPageParam: FIRST_PAGE,
    getNextPageParam: (last: TPageOf<T>, _pages: unknown, lastParam: TWindowParam) =>
      last.nextCursor
        ? { cursor: last.nextCursor, start: lastParam.start + last.items.length, prev: lastParam }
        : undefined,
    getPreviousPageParam: (_first: TPageOf<T>, _pages: unknown, firstParam: TWindowParam) =>
      firstParam.prev ?? undefined,
    maxPages,
    meta,
    ...liveListRetry,
  };
}

/** The indexes (in `data.pages`) of the pages holding any row of `range`. */
export function pagesInRange<T>(data: TWindowData<T>, range: TRowRange): number[] {
  const indexes: number[] = [];
  data.pages.forEach((page, index) => {
    const start = data.pageParams[index]!.start;
    const end = start + Math.max(page.items.length, 1) - 1;
    if (start <= range.to && end >= range.from) indexes.push(index);
  });
  return indexes;
}

/**
 * A change reached a windowed list: the pages on screen are fetched again and every
 * other page is dropped (held pages are then all current; the dropped ones are fetched
 * when scrolled to). With nothing on screen held (scrolled past what is loaded), the
 * list is simply dropped to be fetched from its first page.
 */
export async function refetchWindow<T>(
  queryClient: QueryClient,
  queryKey: TQueryKey,
  fetchPage: (param: TWindowParam) => Promise<TPageOf<T>>,
  range: TRowRange,
): Promise<void> {
  const runs = windowRuns.get(queryClient) ?? new Map<string, number>();
  windowRuns.set(queryClient, runs);
  const id = JSON.stringify(queryKey);
  const run = (runs.get(id) ?? 0) + 1;
  runs.set(id, run);
  // A fetch in flight may have read the server before the change.
  await queryClient.cancelQueries({ queryKey, exact: true });
  if (runs.get(id) !== run) return;
  const data = queryClient.getQueryData<TWindowData<T>>(queryKey);
  // No data: the first page was still loading, and the cancel dropped it. Loaded afresh
  // (it reads the server after the change), not left at "nothing here".
  const indexes = data ? pagesInRange(data, range) : [];
  if (!data || indexes.length === 0) {
    await queryClient.resetQueries({ queryKey, exact: true });
    return;
  }
  const params = indexes.map((index) => data.pageParams[index]!);
  let pages: TPageOf<T>[];
  try {
    pages = await Promise.all(params.map((param) => fetchPage(param)));
  } catch {
    // No answer (the server away): the whole list is read again, retried as any read is,
    // rather than left showing rows from before the change.
    if (runs.get(id) === run) await queryClient.invalidateQueries({ queryKey, exact: true });
    return;
  }
  // A later change started its own refetch meanwhile, or the list was reset (forget): this
  // one may have read the server before that and, landing after it, would put older rows
  // (or the old access's) back on screen.
  if (runs.get(id) !== run) return;
  queryClient.setQueryData<TWindowData<T>>(queryKey, (current) =>
    current ? { pages, pageParams: params } : current,
  );
}

/** Per query client and list, the number of the latest window refetch begun. */
const windowRuns = new WeakMap<QueryClient, Map<string, number>>();

/** Whatever window refetch of the list is under way lands nowhere. */
function forgetWindowRefetch(queryClient: QueryClient, queryKey: TQueryKey): void {
  const runs = windowRuns.get(queryClient);
  const id = JSON.stringify(queryKey);
  if (runs?.has(id)) runs.set(id, runs.get(id)! + 1);
}

/**
 * The rows a windowed list holds, by their index in the whole list: `first`..`end - 1`
 * are held (earlier rows were dropped and come back on the way up).
 */
export function heldRows<T>(data: TWindowData<T> | undefined): {
  first: number;
  end: number;
  at: (index: number) => T | undefined;
} {
  if (!data?.pages.length) return { first: 0, end: 0, at: () => undefined };
  const first = data.pageParams[0]!.start;
  const last = data.pages.length - 1;
  const end = data.pageParams[last]!.start + data.pages[last]!.items.length;
  return {
    first,
    end,
    at: (index) => {
      for (let page = last; page >= 0; page--) {
        const start = data.pageParams[page]!.start;
        if (index >= start) return data.pages[page]!.items[index - start];
      }
      return undefined;
    },
  };
}
