'use client';

import { useLive } from '@/lib/client/live-provider';

/**
 * Says so while the live socket is down: what is shown may be out of date and changes
 * are paused (the submit buttons and the mutation hooks read useWritesEnabled). It
 * leaves by itself when the socket is back, by which time the feed has caught up.
 */
export function OfflineBanner() {
  const { state } = useLive();
  if (state !== 'reconnecting' && state !== 'offline') return null;
  return (
    <div
      role="status"
      aria-live="polite"
      data-testid="offline-banner"
      className="border-b border-amber-300 bg-amber-50 px-4 py-2 text-center text-sm text-amber-900"
    >
      <strong className="font-semibold">The panel is offline.</strong> Changes are paused and what
      you see may be out of date;{' '}
      {state === 'reconnecting' ? 'reconnecting…' : 'reload the page to try again.'}
    </div>
  );
}
