'use client';

import { useLive } from '@/lib/client/live-provider';
import type { TConnectionState } from '@/lib/client/live-feed';

const LOOK: Record<TConnectionState, { label: string; dot: string }> = {
  connecting: { label: 'Connecting…', dot: 'bg-slate-400' },
  live: { label: 'Live', dot: 'bg-emerald-500' },
  reconnecting: { label: 'Reconnecting…', dot: 'bg-amber-500' },
  offline: { label: 'Offline', dot: 'bg-red-600' },
  outdated: { label: 'Panel updated', dot: 'bg-amber-500' },
};

/** Shows whether this tab receives live updates. */
export function ConnectionIndicator() {
  const { state, reason } = useLive();
  const look = LOOK[state];
  return (
    <span
      role="status"
      aria-live="polite"
      data-state={state}
      data-testid="connection-indicator"
      title={reason ?? undefined}
      className="inline-flex items-center gap-2 rounded-full border border-slate-200 bg-white px-3 py-1 text-xs font-medium text-slate-700"
    >
      <span aria-hidden className={`h-2 w-2 rounded-full ${look.dot}`} />
      {look.label}
      {state === 'outdated' ? (
        <button
          type="button"
          onClick={() => window.location.reload()}
          className="rounded border border-slate-300 px-2 py-0.5 text-xs font-medium text-slate-800 hover:bg-slate-50"
        >
          Reload
        </button>
      ) : null}
    </span>
  );
}
