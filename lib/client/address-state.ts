'use client';

import { useEffect, useState, type Dispatch, type SetStateAction } from 'react';
import { useSearchParams } from 'next/navigation';
import { addressSearch } from '@/lib/shared/schemas/common';
import { searchOf } from '@/lib/client/query-keys';

/**
 * A list panel's filters that start from the page's address and are kept there
 * (`window.history.replaceState`). `rendered` is new each time the server renders the
 * page (lib/server/pages/address-filters.ts `renderKey`): when a render asks for another
 * address than the one the filters make — the nav's link to the bare page, a link with
 * other filters — they start again from `initial`; a render of their own address (a
 * refresh after a rebrand or an access change) keeps them, and with them whatever else
 * the panel holds (a form half filled in). Next keeps a page's state across a navigation
 * that only changes the search, so neither a key of the filters (the same for two bare
 * addresses) nor a new key per render (a refresh too) does this.
 *
 * The address follows the state (a reload or a shared link opens the same selection), in
 * the page's own panel only (`rendered` given; a record's tab leaves the address to its
 * tabs). It is written only when it differs from the location: written with state null,
 * it moves Next's router too, and a write of the same address right after the panel
 * mounted could land on a navigation the person had just started (a click on a row's
 * link) and send the router back to this page.
 */
export function useAddressState<T>(
  initial: T,
  rendered: string | undefined,
  addressOf: (state: T) => string,
): [T, Dispatch<SetStateAction<T>>] {
  const [state, setState] = useState(initial);
  const [seen, setSeen] = useState(rendered);
  // Where the router says the page is: a navigation to the page's address as the server
  // last rendered it may be served without rendering it again (the nav's link to the
  // bare page, opened bare and filtered since), and only the router's address moves.
  const routed = useSearchParams()?.toString() ?? '';
  const [seenRouted, setSeenRouted] = useState(routed);
  // React's pattern for state that follows a prop: set during render, no effect.
  if (rendered !== seen) {
    setSeen(rendered);
    if (addressOf(initial) !== addressOf(state)) setState(initial);
  } else if (rendered !== undefined && routed !== seenRouted) {
    setSeenRouted(routed);
    if (routed !== addressOf(state) && routed === addressOf(initial)) setState(initial);
  }
  const address = addressOf(state);
  const writes = rendered !== undefined;
  useEffect(() => {
    const search = address ? `?${address}` : '';
    if (!writes || window.location.search === search) return;
    window.history.replaceState(null, '', `${window.location.pathname}${search}`);
  }, [address, writes]);
  return [state, setState];
}

/** A list's search and sort as its address keeps them (`?q=…&sort=-name`). */
export interface TListView {
  q: string;
  sort?: string;
}

const NO_LIST_VIEW: TListView = { q: '' };

/**
 * A list page's search and sort kept in its address (`useAddressState`): Back from a
 * row's page, a reload or a shared link shows the same selection, as the Calls and Audit
 * pages' filters do. Read from the address on the server's render and the browser's
 * alike — Back may show the page as first rendered, with its props from before the
 * search, while the address, which the search wrote, says what was left.
 */
export function useListAddress(
  rendered: string | undefined,
  sortKeys: readonly string[],
): [TListView, (q: string) => void, (sort: string | undefined) => void] {
  const [view, setView] = useAddressState(
    useAddressView(NO_LIST_VIEW, sortKeys),
    rendered,
    (state) => searchOf({ q: state.q || undefined, sort: state.sort }),
  );
  return [
    view,
    (q) => setView((held) => ({ ...held, q })),
    (sort) => setView((held) => ({ ...held, sort })),
  ];
}

/**
 * The list view the address holds now, where it holds one — a search the API takes, a
 * sort by one of `sortKeys`, anything else ignored; else `initial`.
 */
export function useAddressView(initial: TListView, sortKeys: readonly string[]): TListView {
  const params = useSearchParams();
  if (!params || (!params.has('q') && !params.has('sort'))) return initial;
  const sort = params.get('sort') ?? '';
  return {
    q: addressSearch(params.get('q') ?? ''),
    ...(sortKeys.includes(sort.replace(/^-/, '')) ? { sort } : {}),
  };
}
