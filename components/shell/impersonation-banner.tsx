'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { apiFetch } from '@/lib/client/api';
import { DateTime } from '@/components/ui/date-time';
import { takeViewAsStart } from '@/lib/client/view-as-return';
import { serverNow } from '@/lib/client/server-clock';

/**
 * Always on screen while viewing as someone else: who, why, the time left (ticking), and
 * a way out. When the time is up the server has already ended the view; the page is
 * refreshed so the person is back in their own panel without doing anything.
 */
export function ImpersonationBanner({
  userEmail,
  reason,
  expiresAt,
}: {
  userEmail: string;
  reason: string;
  expiresAt: string;
}) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const left = useSecondsLeft(expiresAt);
  // At 0:00 ask the server again every few seconds until it ends the view (the
  // browser's clock may run ahead of the server's).
  useEffect(() => {
    if (left !== 0) return;
    router.refresh();
    const retry = setInterval(() => router.refresh(), 5000);
    return () => clearInterval(retry);
  }, [left, router]);
  return (
    <div
      // A region, not a live one: the ticking clock must not be read out every second.
      role="region"
      aria-label="Viewing as another user"
      // Sticky: the person must see whose panel this is however far they scroll.
      className="sticky top-0 z-40 bg-amber-100 px-4 py-2 text-sm text-amber-900"
      data-testid="impersonation-banner"
    >
      Viewing as <strong>{userEmail}</strong> (read-only) — {reason} —{' '}
      <span data-testid="impersonation-time-left">
        {left === null ? '…' : formatLeft(left)} left
      </span>{' '}
      (until <DateTime at={expiresAt} show="time" />
      ).{' '}
      <button
        type="button"
        disabled={pending}
        className="ml-2 rounded border border-amber-700 px-2 py-0.5 font-medium hover:bg-amber-200"
        onClick={async () => {
          setPending(true);
          await apiFetch('/impersonation', { method: 'DELETE' }).catch(() => {});
          // Back as oneself on a whole new page — the one the view was started from, or
          // this one: nothing of the viewed identity's cache or live connection may paint
          // under one's own (lib/client/identity-scope.tsx).
          const back = takeViewAsStart();
          if (back) window.location.assign(back);
          else window.location.reload();
        }}
      >
        Stop viewing
      </button>
    </div>
  );
}

/** Seconds until `until`, updated every second; null before the first tick (no SSR clock). */
function useSecondsLeft(until: string): number | null {
  const [left, setLeft] = useState<number | null>(null);
  useEffect(() => {
    const tick = () =>
      setLeft(Math.max(0, Math.ceil((new Date(until).getTime() - serverNow()) / 1000)));
    tick();
    const timer = setInterval(tick, 1000);
    return () => clearInterval(timer);
  }, [until]);
  return left;
}

/** 29:59, or 1:02:03 past an hour. */
export function formatLeft(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
