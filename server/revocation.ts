import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { TLogEntry } from '@/lib/server/authz/audience';
import { roomsOf } from '@/lib/server/authz/audience';
import { resolveActorWithView, type TActor } from '@/lib/server/authz/actor';
import { applyImpersonation } from '@/lib/server/authz/impersonation';
import { toMeDto } from '@/lib/server/services/me/me-dto';
import type { TPanelServer, TPanelSocket } from './socket';
import { leaveAllPresence } from './presence';

/**
 * Rooms that find the sockets a permission change touches: every tab of a user (the
 * person signed in and, while viewing as someone, that user too), every user of a
 * group (the viewed user's, and the person's own: losing `impersonation:start` there
 * ends the view), every user at or below an account.
 */
export function controlRoomsOf(
  socketActor: Pick<TActor, 'userId' | 'group' | 'account' | 'dormantImpersonation'>,
  real: { userId: string; groupId: string },
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

function affectedRoom(entry: TLogEntry): string | null {
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
 * A view-as ends by itself when its time is up, with no change written: the socket is
 * re-checked at that moment (and falls back to the support user's own view).
 */
export function scheduleExpiry(orm: MikroORM, socket: TPanelSocket, actor: TActor): void {
  clearTimeout(expiryTimers.get(socket));
  if (!actor.impersonation) return;
  const delay = Math.max(0, actor.impersonation.expiresAt.getTime() - Date.now()) + 50;
  // Timers above ~24.8 days overflow; impersonation lasts minutes.
  const timer = setTimeout(
    () => void recheck(orm, socket).catch(() => {}),
    Math.min(delay, 2 ** 31 - 1),
  );
  timer.unref();
  expiryTimers.set(socket, timer);
  socket.once('disconnect', () => clearTimeout(timer));
}

/**
 * The socket's actors as the database says now: the real person behind it with the
 * session version it connected with, and the view it is in (if any, else the same) —
 * exactly the handshake's decision, taken again. Null when the session may no longer act.
 */
export async function socketActorNow(
  em: EntityManager,
  socket: TPanelSocket,
): Promise<{ real: TActor; actor: TActor } | null> {
  const resolved = await resolveActorWithView(em, socket.data.real);
  if (!resolved) return null;
  return {
    real: resolved.actor,
    actor: await applyImpersonation(em, resolved.actor, resolved.openView),
  };
}

export async function recheck(orm: MikroORM, socket: TPanelSocket): Promise<void> {
  const current = socket.data.actor;
  const now = await socketActorNow(orm.em.fork(), socket);
  if (!now) {
    socket.emit('session.revoked', { reason: 'Your access changed; sign in again.' });
    socket.disconnect(true);
    return;
  }
  const next = now.actor;
  const realBefore = socket.data.real;
  const realAfter = { ...realBefore, groupId: now.real.group.id };
  socket.data.real = realAfter;
  const before = new Set([...roomsOf(current), ...controlRoomsOf(current, realBefore)]);
  const after = new Set([...roomsOf(next), ...controlRoomsOf(next, realAfter)]);
  scheduleExpiry(orm, socket, next);
  if (sameSet(before, after) && sameSet(new Set(current.grants), new Set(next.grants))) return;
  for (const room of before) if (!after.has(room)) void socket.leave(room);
  void socket.join([...after]);
  socket.data.actor = next;
  // Presence was checked under the old view: drop it; the client joins again.
  await leaveAllPresence(socket);
  socket.emit('session.rescoped', toMeDto(next));
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((item) => b.has(item));
}
