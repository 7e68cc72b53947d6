'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { apiFetch } from '@/lib/client/api';

/** Always on screen while viewing as someone else: who, why, until when, and a way out. */
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
  return (
    <div
      role="status"
      className="bg-amber-100 px-4 py-2 text-sm text-amber-900"
      data-testid="impersonation-banner"
    >
      Viewing as <strong>{userEmail}</strong> (read-only) — {reason} — until{' '}
      {new Date(expiresAt).toLocaleTimeString()}.{' '}
      <button
        type="button"
        disabled={pending}
        className="ml-2 rounded border border-amber-700 px-2 py-0.5 font-medium hover:bg-amber-200"
        onClick={async () => {
          setPending(true);
          await apiFetch('/impersonation', { method: 'DELETE' }).catch(() => {});
          router.refresh();
          setPending(false);
        }}
      >
        Stop viewing
      </button>
    </div>
  );
}
