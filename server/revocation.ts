import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { TLogEntry } from '@/lib/server/authz/audience';
import { roomsOf } from '@/lib/server/authz/audience';
import type { TActor } from '@/lib/server/authz/actor';
import { enter, type TCredentialRef, type TDoorResult } from '@/lib/server/auth/door';
import { toMeDto } from '@/lib/server/services/me/me-dto';
import type { TPanelServer, TPanelSocket } from './socket';
import { leaveAllPresence } from './presence';

/**
 * Rooms that find the sockets a permission change touches: every tab of a user (the
 * person signed in and, while viewing as someone, that user too), every user of a
 * group (the viewed user's, and the person's own: losing `impersonation:start` there
 * ends the view), every user at or below an account, and every socket opened with one
 * credential (a session signed out, a token revoked).
 */
export function controlRoomsOf(
  socketActor: Pick<TActor, 'userId' | 'group' | 'account' | 'dormantImpersonation'>,
  real: { userId: string; groupId: string; ref: TCredentialRef },
) {
  const treeOf = (path: string) =>
    path
      .split('/')
      .filter(Boolean)
      .map((id) => `tree:${id}`);
  const dormant = socketActor.dormantImpersonation;
  return [
    ...new Set([
      `user:${real.userId}`,
      `user:${socketActor.userId}`,
      credentialRoom(real.ref),
      `group:${real.groupId}`,
      `group:${socketActor.group.id}`,
      ...treeOf(socketActor.account.path),
      // A view-as waiting for its target to be allowed in again.
      ...(dormant ? [`user:${dormant.targetUserId}`, ...treeOf(dormant.targetPath)] : []),
    ]),
  ];
}

/**
 * Live revocation (DESIGN §2 "Permission changes take effect live"), run by the fan-out
 * for each entry on this process's own sockets: a user disabled, deleted, reset or moved
 * to another group is told and disconnected; a group's new grants and a suspension
 * re-check every socket they touch, which is then re-scoped (rooms left and joined,
 * `session.rescoped`) or disconnected (`session.revoked`). These are rare events, so
 * re-reading the actor per affected socket here is fine; the fan-out path stays
 * per-room.
 */
export async function applyRevocation(
  io: TPanelServer,
  orm: MikroORM,
  entry: TLogEntry,
): Promise<void> {
  const room = affectedRoom(entry);
  if (!room) return;
  const sockets = await io.local.in(room).fetchSockets();
  await Promise.all(
    sockets.map(async (remote) => {
      const socket = io.sockets.sockets.get(remote.id);
      if (socket) await recheck(orm, socket);
    }),
  );
}

/** The room of every socket opened with one credential. */
export function credentialRoom(ref: TCredentialRef): string {
  return ref.kind === 'session' ? `session:${ref.sessionId}` : `token:${ref.tokenId}`;
}

function affectedRoom(entry: TLogEntry): string | null {
  // A token revoked, a session signed out: the sockets opened with it close.
  if (entry.resource === 'tokens' && entry.op === 'deleted') return `token:${entry.entityId}`;
  if (entry.resource === 'sessions' && entry.op === 'deleted') return `session:${entry.entityId}`;
  // Starting or ending a view-as switches every socket of the support user.
  if (entry.resource === 'impersonation' && entry.actor.userId) return `user:${entry.actor.userId}`;
  if (entry.resource === 'users' && (entry.op === 'deleted' || entry.op === 'updated'))
    return `user:${entry.entityId}`;
  if (entry.resource === 'groups' && entry.op === 'updated') return `group:${entry.entityId}`;
  if (
    (entry.resource === 'resellers' || entry.resource === 'customers') &&
    entry.op === 'updated'
  ) {
    return `tree:${entry.entityId}`;
  }
  return null;
}

const expiryTimers = new WeakMap<TPanelSocket, NodeJS.Timeout>();

/**
 * Things that end by themselves, with no change written — a view-as whose time is up,
 * the session or token the socket was opened with expiring: the socket is re-checked at
 * the first such moment (and falls back to the support user's own view, or closes).
 */
export function scheduleExpiry(orm: MikroORM, socket: TPanelSocket): void {
  clearTimeout(expiryTimers.get(socket));
  const ends = [socket.data.real.expiresAt.getTime()];
  const view = socket.data.actor.impersonation;
  if (view) ends.push(view.expiresAt.getTime());
  const delay = Math.max(0, Math.min(...ends) - Date.now()) + 50;
  // Timers above ~24.8 days overflow; sessions last hours and a token at most a year.
  const timer = setTimeout(
    () => void recheck(orm, socket).catch(() => {}),
    Math.min(delay, 2 ** 31 - 1),
  );
  timer.unref();
  expiryTimers.set(socket, timer);
  socket.once('disconnect', () => clearTimeout(timer));
}

/**
 * The socket's credential through the door again, as the database says now: the real
 * person behind it and the view it is in (if any, else the same) — exactly the
 * handshake's decision, taken again.
 */
export async function socketActorNow(
  em: EntityManager,
  socket: TPanelSocket,
): Promise<TDoorResult> {
  return enter(em, { kind: 'resume', ref: socket.data.real.ref }, {});
}

const rechecks = new WeakMap<TPanelSocket, Promise<void>>();

/**
 * Takes the socket's credential through the door again and applies the answer: closed,
 * re-scoped, or left as it is. One at a time per socket (an expiry timer and the fan-out
 * may ask together): a re-check that read the database earlier must never land last.
 */
export function recheck(orm: MikroORM, socket: TPanelSocket): Promise<void> {
  const next = (rechecks.get(socket) ?? Promise.resolve())
    .catch(() => {})
    .then(() => recheckNow(orm, socket));
  rechecks.set(socket, next);
  return next;
}

async function recheckNow(orm: MikroORM, socket: TPanelSocket): Promise<void> {
  if (socket.disconnected) return;
  const current = socket.data.actor;
  const now = await socketActorNow(orm.em.fork(), socket);
  if (!now.ok) {
    socket.emit('session.revoked', {
      reason:
        now.refusal.code === 'unauthenticated'
          ? 'Your access changed; sign in again.'
          : 'Your access is held until you act on it; reload the page.',
    });
    socket.disconnect(true);
    return;
  }
  const next = now.entry.actor;
  const realBefore = socket.data.real;
  const realAfter = { ...realBefore, groupId: now.entry.real.group.id };
  socket.data.real = realAfter;
  const before = new Set([...roomsOf(current), ...controlRoomsOf(current, realBefore)]);
  const after = new Set([...roomsOf(next), ...controlRoomsOf(next, realAfter)]);
  socket.data.actor = next;
  scheduleExpiry(orm, socket);
  if (sameSet(before, after) && sameSet(new Set(current.grants), new Set(next.grants))) return;
  for (const room of before) if (!after.has(room)) void socket.leave(room);
  void socket.join([...after]);
  // Presence was checked under the old view: drop it; the client joins again.
  await leaveAllPresence(socket);
  socket.emit('session.rescoped', toMeDto(next));
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((item) => b.has(item));
}
