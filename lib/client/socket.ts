import { io, type Socket } from 'socket.io-client';
import type { TClientToServerEvents, TServerToClientEvents } from '@/lib/shared/live/events';

export type TPanelClientSocket = Socket<TServerToClientEvents, TClientToServerEvents>;

/**
 * The tab's socket to the panel, on the page's own origin; the browser sends the session
 * cookie with the handshake. Reconnects with jittered exponential backoff.
 */
export function connectPanelSocket(): TPanelClientSocket {
  return io({
    withCredentials: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 10_000,
    randomizationFactor: 0.5,
  });
}
