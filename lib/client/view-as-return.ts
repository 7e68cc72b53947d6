'use client';

/**
 * Where a view-as was started (a user's Manage tab): "Stop viewing" goes back there rather
 * than to whatever page the view ended on, so support carries on where it was. Kept for
 * the tab only (sessionStorage), and only ever a path of this panel.
 */
const KEY = 'panel.viewAsReturnTo';

/** Called as the view starts, from the page it starts on. */
export function rememberViewAsStart(): void {
  try {
    sessionStorage.setItem(KEY, `${location.pathname}${location.search}`);
  } catch {
    // Storage refused (a private window's quota): the view ends on its own page instead.
  }
}

/** The page to go back to once the view has ended (null: stay), and forgets it. */
export function takeViewAsStart(): string | null {
  let path: string | null;
  try {
    path = sessionStorage.getItem(KEY);
    sessionStorage.removeItem(KEY);
  } catch {
    return null;
  }
  // A path of this origin only: never a scheme-relative or absolute address.
  return path && path.startsWith('/') && !path.startsWith('//') ? path : null;
}
