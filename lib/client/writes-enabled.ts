'use client';

import { useLive } from './live-provider';

/** Why a write control is disabled while the socket is down (the offline banner says it too). */
export const WRITES_PAUSED_MESSAGE =
  'The panel is offline: changes are paused until it reconnects.';

/**
 * Whether this tab may write now: not while its live socket is down (reconnecting or
 * offline), when the panel cannot show what a write did nor what others changed
 * meanwhile. Read in one place each — the submit Button and the mutation hooks — so no
 * form repeats it. Outside the panel (sign-in pages) there is no socket: always true.
 */
export function useWritesEnabled(): boolean {
  const { state } = useLive();
  return state !== 'reconnecting' && state !== 'offline';
}
