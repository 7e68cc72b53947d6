'use client';

import { useEffect, useState } from 'react';
import type { THello } from '@/lib/shared/live/events';
import { connectPanelSocket } from './socket';

export type TConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline';

/**
 * Opens the tab's live connection and reports its state and the server's `hello`.
 * 'offline' means the server refused the session: reconnecting would not help.
 */
export function useLiveConnection(): {
  state: TConnectionState;
  hello: THello | null;
  reason: string | null;
} {
  const [state, setState] = useState<TConnectionState>('connecting');
  const [hello, setHello] = useState<THello | null>(null);
  const [reason, setReason] = useState<string | null>(null);

  useEffect(() => {
    const socket = connectPanelSocket();
    socket.on('hello', (payload) => {
      setHello(payload);
      setReason(null);
      setState('live');
    });
    socket.on('disconnect', () => setState('reconnecting'));
    socket.on('connect_error', (error) => {
      setReason(error.message);
      // A refused handshake is final; a transport error is retried by the client.
      setState(socket.active ? 'reconnecting' : 'offline');
    });
    return () => {
      socket.disconnect();
    };
  }, []);

  return { state, hello, reason };
}
