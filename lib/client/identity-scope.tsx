'use client';

import { QueryClientProvider } from '@tanstack/react-query';
import { Fragment, useState, type ReactNode } from 'react';
import { createQueryClient } from './query-client';

/**
 * One query cache per identity (issue 15, "Identity-safe cache"): `identity` names who
 * the panel shows — the signed-in user, or the user a support person views as. When it
 * changes (view-as started or stopped in another tab, a view-as running out), the pages
 * below get a new, empty cache and remount, live connection included, so nothing the
 * previous identity fetched can paint, however late the socket's `session.rescoped`
 * arrives. Rescoping within one identity (new grants) keeps the cache and lets the live
 * cache refetch what it holds (lib/client/live-cache.ts `resync`).
 */
export function IdentityScope({ identity, children }: { identity: string; children: ReactNode }) {
  const [scope, setScope] = useState(() => ({ identity, client: createQueryClient() }));
  if (scope.identity !== identity) {
    // Replaced during render, so no child ever renders with the old identity's cache.
    setScope({ identity, client: createQueryClient() });
  }
  // The old cache is not cleared by hand: the remount below unsubscribes everything
  // that read it, and nothing holds it any more (clearing it from an effect would also
  // empty the live one under React's development double-mount).
  return (
    <QueryClientProvider client={scope.client}>
      <Fragment key={scope.identity}>{children}</Fragment>
    </QueryClientProvider>
  );
}
