import { sharedInFlight } from '@/lib/server/db/in-flight';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { TLogEntry } from '@/lib/server/authz/audience';
import { roomsOf } from '@/lib/server/authz/audience';
import type { TActor } from '@/lib/server/authz/actor';
import { enter, resumeMany, type TCredentialRef, type TDoorResult } from '@/lib/server/auth/door';
import { toMeDto } from '@/lib/server/services/me/me-dto';
import type { TPanelServer, TPanelSocket } from './socket';
import { leaveAllPresence } from './presence';
import { getLogger } from '@/lib/server/observability/logger';
import { carrierIdOf } from '@/lib/server/authz/scope';
import type { TSessionEnvelope } from '@/lib/shared/live/change';

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
      // Its group too: grants given back to it let the target in again.
      ...(dormant
        ? [
            `user:${dormant.targetUserId}`,
            `group:${dormant.targetGroupId}`,
            ...treeOf(dormant.targetPath),
          ]
        : []),
    ]),
  ];
}

/**
 * Live revocation (DESIGN §2 "Permission changes take effect live"): the sockets of this
 * process an entry touches when it changed access (`affectsAccess`, decided when it was
 * written: lib/server/live/affects-access.ts) — a user disabled, deleted, reset or moved
 * to another group, a group's new grants, a suspension, a credential ended, a view-as
 * started or ended. A rename touches none. Read from the local rooms, synchronously, so
 * the fan-out can hold exactly these sockets before it delivers the entry.
 */
export function affectedSockets(io: TPanelServer, entry: TLogEntry): TPanelSocket[] {
  if (!entry.affectsAccess) return [];
  const room = affectedRoom(entry);
  const ids = room ? io.of('/').adapter.rooms.get(room) : undefined;
  return [...(ids ?? [])].flatMap((id) => io.sockets.sockets.get(id) ?? []);
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

/** Waits before asking the database again when an expiry re-check failed (it is down). */
const EXPIRY_RETRY_MS = [1_000, 5_000, 30_000];

/**
 * Things that end by themselves, with no change written — a view-as whose time is up,
 * the session or token the socket was opened with expiring: the socket is re-checked at
 * the first such moment (and falls back to the support user's own view, or closes). A
 * re-check that fails (the database away) is tried again, with growing waits, until
 * one answers: a view-as must not outlive its time because of one failed read.
 */
export function scheduleExpiry(orm: MikroORM, socket: TPanelSocket): void {
  const ends = [socket.data.real.expiresAt.getTime()];
  const view = socket.data.actor.impersonation;
  if (view) ends.push(view.expiresAt.getTime());
  armExpiry(orm, socket, Math.max(0, Math.min(...ends) - Date.now()) + 50, 0);
}

function armExpiry(orm: MikroORM, socket: TPanelSocket, delay: number, failures: number): void {
  // One listener per socket, however often it is re-armed (every re-check re-arms it).
  if (!expiryTimers.has(socket)) {
    socket.once('disconnect', () => clearTimeout(expiryTimers.get(socket)));
  }
  clearTimeout(expiryTimers.get(socket));
  // Timers above ~24.8 days overflow; sessions last hours and a token at most a year.
  const timer = setTimeout(
    () => {
      recheck(orm, socket).catch((error: unknown) => {
        if (socket.disconnected) return;
        getLogger().warn({ err: error, socket: socket.id }, 'live: expiry re-check failed');
        const wait = EXPIRY_RETRY_MS[Math.min(failures, EXPIRY_RETRY_MS.length - 1)]!;
        armExpiry(orm, socket, wait, failures + 1);
      });
    },
    Math.min(delay, 2 ** 31 - 1),
  );
  timer.unref();
  expiryTimers.set(socket, timer);
}

/**
 * The socket's credential through the door again, as the database says now: the real
 * person behind it and the view it is in (if any, else the same) — exactly the
 * handshake's decision, taken again.
 *
 * Sockets sharing a credential (a person's tabs, an integration's connections) that ask
 * while its check is in flight share that check's answer, as if they had asked when it
 * started: after a reconnect storm every socket asks for its catch-up at once (issue 14),
 * and each credential is read once, not once per socket. Only while the fan-out has
 * passed no entry since that check began (`passed`, its count of entries gone by): an
 * entry that changed this credential's access is passed before the socket is re-scoped
 * and hears of it, so a socket that already did never joins a check older than that
 * change. The answer is read-only to its callers.
 */
export function socketActorNow(
  em: EntityManager,
  socket: TPanelSocket,
  passed: number,
): Promise<TDoorResult> {
  const ref = socket.data.real.ref;
  const credential =
    ref.kind === 'token'
      ? `token:${ref.tokenId}`
      : `session:${ref.sessionId}:${ref.userId}:${ref.sessionVersion}`;
  return resuming(`${credential}@${passed}`, () => enter(em, { kind: 'resume', ref }, {}));
}
const resuming = sharedInFlight<TDoorResult>();

const rechecks = new WeakMap<TPanelSocket, Promise<void>>();

/**
 * Takes the socket's credential through the door again and applies the answer: closed,
 * re-scoped, or left as it is. One at a time per socket (an expiry timer and the fan-out
 * may ask together): a re-check that read the database earlier must never land last.
 */
export function recheck(orm: MikroORM, socket: TPanelSocket): Promise<void> {
  return recheckTogether(orm, [socket]);
}

/**
 * Re-checks many sockets for one entry in one read: every credential they were opened
 * with through the door together (lib/server/auth/door.ts `resumeMany`), the sockets
 * sharing a credential (a person's tabs) sharing its answer.
 */
export function recheckTogether(
  orm: MikroORM,
  sockets: TPanelSocket[],
  /**
   * The position the sockets have been given everything up to (the fan-out: the entry
   * before the one that changed their access, which they receive after this). Unset, the
   * fan-out's head as delivered now.
   */
  givenUpTo?: number,
): Promise<void> {
  const prior = sockets.map((socket) =>
    (rechecks.get(socket) ?? Promise.resolve()).catch(() => {}),
  );
  const next = Promise.all(prior).then(() => recheckNow(orm, sockets, givenUpTo));
  for (const socket of sockets) rechecks.set(socket, next);
  return next;
}

async function recheckNow(
  orm: MikroORM,
  sockets: TPanelSocket[],
  givenUpTo: number | undefined,
): Promise<void> {
  const open = sockets.filter((socket) => socket.connected);
  if (!open.length) return;
  const byCredential = new Map<string, TPanelSocket[]>();
  for (const socket of open) {
    const key = credentialRoom(socket.data.real.ref);
    byCredential.set(key, [...(byCredential.get(key) ?? []), socket]);
  }
  const groups = [...byCredential.values()];
  const answers = await resumeMany(
    orm.em.fork(),
    groups.map((group) => group[0]!.data.real.ref),
  );
  for (const [index, group] of groups.entries()) {
    for (const socket of group) await applyAnswer(orm, socket, answers[index]!, givenUpTo);
  }
}

async function applyAnswer(
  orm: MikroORM,
  socket: TPanelSocket,
  now: TDoorResult,
  givenUpTo: number | undefined,
): Promise<void> {
  if (socket.disconnected) return;
  const current = socket.data.actor;
  const seq =
    givenUpTo ?? headReaders.get(socket.nsp.server)?.(carrierIdOf(current.account.path)) ?? 0;
  if (!now.ok) {
    const ended = now.refusal.code === 'unauthenticated';
    const revoked = {
      reason: ended
        ? 'Your access changed; sign in again.'
        : 'Your access is held until you act on it; reload the page.',
      code: ended ? ('ended' as const) : ('held' as const),
    };
    socket.emit('change', sessionEnvelope(socket, 'session.revoked', seq, revoked));
    socket.emit('session.revoked', revoked);
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
  const me = toMeDto(next);
  socket.emit('change', sessionEnvelope(socket, 'session.rescoped', seq, me));
  socket.emit('session.rescoped', me);
}

/**
 * Each socket server's reader of a carrier's position its fan-out has delivered up to
 * (`createSocketServer`): a session envelope's `seq` when no entry gives it.
 */
const headReaders = new WeakMap<TPanelServer, (carrierId: string) => number>();
export function readHeadsWith(io: TPanelServer, head: (carrierId: string) => number): void {
  headReaders.set(io, head);
}

/** DESIGN §3's `session.*` types as a `change` envelope (lib/shared/live/change.ts). */
function sessionEnvelope(
  socket: TPanelSocket,
  type: TSessionEnvelope['type'],
  seq: number,
  data: object,
): TSessionEnvelope {
  return {
    seq,
    type,
    id: socket.data.real.userId,
    data: { ...data },
    at: new Date().toISOString(),
  };
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((item) => b.has(item));
}
