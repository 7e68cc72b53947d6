'use client';

import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import type { THello } from '@/lib/shared/live/events';
import { envelopeParts, LiveCache } from './live-cache';
import { LiveFeed, type TConnectionState } from './live-feed';
import { connectPanelSocket, type TPanelClientSocket } from './socket';

interface TLive {
  feed: LiveFeed | null;
  cache: LiveCache | null;
  socket: TPanelClientSocket | null;
  state: TConnectionState;
  reason: string | null;
  hello: THello | null;
}

const LiveContext = createContext<TLive>({
  feed: null,
  cache: null,
  socket: null,
  state: 'connecting',
  reason: null,
  hello: null,
});

/**
 * One live connection per tab for the signed-in panel: the socket, the feed (catch-up,
 * order, duplicates) and the cache feeder, shared by every page through context.
 * Access changed → the server-rendered shell (navigation by grants) is refreshed too
 * (`access`: what the layout rendered it for, accessOf);
 * access ended → back to the sign-in page.
 */
export function LiveProvider({ access, children }: { access: string; children: ReactNode }) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const [status, setStatus] = useState<Pick<TLive, 'state' | 'reason' | 'hello'>>({
    state: 'connecting',
    reason: null,
    hello: null,
  });
  const [rescopedAt, setRescopedAt] = useState(0);
  const [rebrandedAt, setRebrandedAt] = useState(0);
  // Built once per tab; nothing connects until the effect below runs.
  const [connection] = useState(() => {
    const socket = connectPanelSocket({ autoConnect: false });
    const cache = new LiveCache(queryClient);
    const feed = new LiveFeed(
      socket,
      {
        onChange: (envelope, source) => {
          // A brand on this person's path changed: the server renders the brand (colours,
          // name, logo) into every page, so the pages render again; no list holds it, but
          // the branded account's views over every change (its audit, activity) list it.
          if (envelopeParts(envelope).resource === 'brands') setRebrandedAt(Date.now());
          cache.apply(envelope, source === 'replay');
        },
        onResync: (why, nextAccess) => {
          cache.resync(why, nextAccess);
          if (why === 'rescoped') setRescopedAt(Date.now());
        },
        onHello: (hello) => setStatus((current) => ({ ...current, hello })),
        onResumed: () => cache.retryFailed(),
        onState: (state, reason) => setStatus((current) => ({ ...current, state, reason })),
        onRevoked: (_reason, code) => {
          // Signed out: to the sign-in page. Held (a forced password change, MFA to enrol):
          // still signed in, so this page loaded again, which the server sends on to the
          // step to take — not a sign-in asked for nothing.
          window.setTimeout(
            () => (code === 'held' ? window.location.reload() : window.location.assign('/login')),
            1500,
          );
        },
      },
      access,
    );
    return { socket, cache, feed };
  });

  // New grants can open or close whole sections: re-render the server-side shell.
  useEffect(() => {
    if (rescopedAt || rebrandedAt) router.refresh();
  }, [rescopedAt, rebrandedAt, router]);
  // After an access change, what the page still shows is fetched only once it renders
  // for the new access: the sections the old access had would ask for what it may not.
  useEffect(() => {
    connection.cache.renderedFor(access);
    connection.feed.renderedFor(access);
  }, [access, connection]);

  useEffect(() => {
    connection.socket.connect();
    return () => {
      connection.socket.disconnect();
    };
  }, [connection]);

  return (
    <LiveContext.Provider value={{ ...connection, ...status }}>{children}</LiveContext.Provider>
  );
}

export function useLive(): TLive {
  return useContext(LiveContext);
}
