import type { IncomingMessage } from 'node:http';
import { CLIENT_IP_HEADER } from '@/lib/server/auth/login';

/**
 * Who a request came from and which Host it asked for, behind `hops` reverse proxies
 * the operator runs (TRUST_PROXY_HOPS). Each proxy appends the address it received the
 * request from to `X-Forwarded-For`, so the client is the entry `hops` places left of
 * the connection's peer: entries further left are whatever the client wrote itself and
 * are never believed. The Host the client asked for is read from `X-Forwarded-Host` by
 * the same count (a proxy that overwrites it leaves one entry). With no proxy trusted
 * (0, the default) the peer and the Host header are used and forwarded headers ignored:
 * otherwise any client could name its own address and dodge the sign-in throttle.
 */
export function forwardedClient(
  headers: IncomingMessage['headers'],
  peer: string | undefined,
  hops: number,
): { ip: string; host: string | undefined } {
  const own = { ip: peer ?? 'unknown', host: headers.host };
  if (hops === 0) return own;
  const addresses = [...listOf(headers['x-forwarded-for']), ...(peer ? [peer] : [])];
  const hosts = listOf(headers['x-forwarded-host']);
  return {
    ip: addresses[Math.max(0, addresses.length - 1 - hops)] ?? own.ip,
    host: hosts.length ? hosts[Math.max(0, hosts.length - hops)] : own.host,
  };
}

/** A header's comma-separated entries (repeated headers joined), trimmed, empty ones out. */
function listOf(value: string | string[] | undefined): string[] {
  return (Array.isArray(value) ? value : value ? [value] : [])
    .flatMap((line) => line.split(','))
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * Sets what the rest of the panel reads — the Host header (portals, the host a session
 * is bound to) and the client's address for the sign-in throttle (`CLIENT_IP_HEADER`,
 * always overwritten, so no client can supply it) — before anything reads them.
 */
export function applyForwarded(req: IncomingMessage, hops: number): void {
  const { ip, host } = forwardedClient(req.headers, req.socket.remoteAddress, hops);
  req.headers[CLIENT_IP_HEADER] = ip;
  if (host !== undefined) req.headers.host = host;
}
