'use client';

import { useState, type Dispatch, type SetStateAction } from 'react';
import { useSearchParams } from 'next/navigation';

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
  return [state, setState];
}
