import { io, type Socket } from 'socket.io-client';
import type { TClientToServerEvents, TServerToClientEvents } from '@/lib/shared/live/events';

export type TPanelClientSocket = Socket<TServerToClientEvents, TClientToServerEvents>;

/**
 * A socket to the panel. In the browser: the page's own origin, and the handshake
 * carries the session cookie. A script passes the server's URL and an API token.
 * Reconnects with jittered exponential backoff (0.5 s doubling to 10 s, ±50 %), so a
 * restarted server is not hit by every tab at the same instant.
 */
export function connectPanelSocket(
  options: {
    url?: string;
    token?: string;
    transports?: ('websocket' | 'polling')[];
    autoConnect?: boolean;
  } = {},
): TPanelClientSocket {
  const settings = {
    withCredentials: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 10_000,
    randomizationFactor: 0.5,
    autoConnect: options.autoConnect ?? true,
    ...(options.token ? { auth: { token: options.token } } : {}),
    ...(options.transports ? { transports: options.transports } : {}),
  };
  return options.url ? io(options.url, settings) : io(settings);
}
