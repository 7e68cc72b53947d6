import { randomBytes } from 'node:crypto';

/**
 * Socket.IO session ids that name the cluster worker holding the session (`WORKERS` > 1).
 *
 * @socket.io/sticky learns which worker holds a session from an IPC message the worker
 * sends when the session opens, while the handshake's answer goes straight back to the
 * client. A polling client's next request can reach the primary before that message
 * does; the primary then routes it by turn, and the other worker answers "Session ID
 * unknown" (the client drops and reconnects). With the worker in the id itself, the
 * primary routes such a request right without waiting for the message (server/cluster.ts).
 *
 * The shape stays the one sticky reads (`sid=` and 20 of `[\w-]`): `w`, the worker's
 * cluster id in base 36 on 3 digits, then 16 random base64url characters (96 bits).
 */
const TAG_DIGITS = 3;
const MAX_TAGGED_WORKER = 36 ** TAG_DIGITS - 1;
const TAGGED = /^w([0-9a-z]{3})[\w-]{16}$/;
/** What @socket.io/sticky reads a request's session id with. */
const SID_IN_REQUEST = /sid=([\w-]{20})/;

/** A new session id naming `workerId`; undefined past the ids 3 digits can name. */
export function taggedSessionId(workerId: number): string | undefined {
  if (!Number.isInteger(workerId) || workerId < 0 || workerId > MAX_TAGGED_WORKER) return undefined;
  const tag = workerId.toString(36).padStart(TAG_DIGITS, '0');
  return `w${tag}${randomBytes(12).toString('base64url')}`;
}

/** The worker a session id names, or null (an id of another shape). */
export function workerOfSessionId(sid: string): number | null {
  const match = TAGGED.exec(sid);
  return match ? parseInt(match[1]!, 36) : null;
}

/** The session id a request's first bytes carry (in its head), as sticky reads it. */
export function sessionIdInRequest(data: unknown): string | null {
  if (!Buffer.isBuffer(data) && typeof data !== 'string') return null;
  const text = Buffer.isBuffer(data) ? data.toString('latin1') : data;
  const end = text.indexOf('\r\n\r\n');
  return SID_IN_REQUEST.exec(end === -1 ? text : text.slice(0, end))?.[1] ?? null;
}
