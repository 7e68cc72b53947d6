import type { MikroORM } from '@mikro-orm/postgresql';
import { conflict, notFound } from '@/lib/server/errors/domain-error';
import { nameActor, type TActorRecord } from '@/lib/server/authz/actor-name';
import { presenceRoomFor } from '@/lib/server/services/presence/topic-access';
import {
  MAX_PRESENCE_TOPICS,
  ZPresenceRequest,
  type TPresence,
  type TPresenceTopic,
} from '@/lib/shared/live/presence';
import type { TPanelServer, TPanelSocket } from './socket';
import { getLogger } from '@/lib/server/observability/logger';
import { onClientMessage } from './client-message';

/** One socket's presence: the rooms it is in, and the joins still being checked. */
interface TPresenceState {
  io: TPanelServer;
  /** Room → topic. */
  rooms: Map<string, TPresenceTopic>;
  /** Joins waiting for their check; `dropped` when the record left the view meanwhile. */
  joining: Set<{ topic: TPresenceTopic; dropped: boolean }>;
}

const states = new WeakMap<TPanelSocket, TPresenceState>();

/**
 * This process's sockets by the topics they are in or joining: who must leave when a
 * record leaves a view (`dropPresence`), found without a query and without a loop over
 * every socket.
 */
const holders = new Map<string, Set<TPanelSocket>>();

/** The sockets of this process in (or joining) a topic's presence — `customers:<id>`. */
export function presenceHolders(topic: string): ReadonlySet<TPanelSocket> {
  return holders.get(topic) ?? NONE;
}
const NONE: ReadonlySet<TPanelSocket> = new Set();

/** Per socket: leave every topic (re-scoping: the client joins again under its new view). */
export async function leaveAllPresence(socket: TPanelSocket): Promise<void> {
  const state = states.get(socket);
  if (!state) return;
  // A join checked under the old view is refused too.
  for (const pending of state.joining) pending.dropped = true;
  for (const room of [...state.rooms.keys()]) await leave(socket, state, room);
}

/**
 * The record of `topic` left this socket's view (it was told `<resource>.removed` or
 * `.deleted`: transferred away, unassigned, its group no longer usable): the socket leaves
 * the record's presence and the others there are told who is left — a reader the record
 * left must neither linger in the list nor hear who comes next (where the record went).
 * A join of it still being checked is refused: its check may have read the record before
 * it moved. The socket's own view is what decided the removal, so nothing is read here.
 */
export async function dropPresence(socket: TPanelSocket, topic: string): Promise<void> {
  const state = states.get(socket);
  if (!state) return;
  for (const pending of state.joining) if (pending.topic === topic) pending.dropped = true;
  for (const [room, held] of [...state.rooms]) {
    if (held === topic) await leave(socket, state, room);
  }
}

/**
 * Presence (DESIGN §2 "Collaboration"): a socket joins the room of a topic after the same
 * check as reading that record; on every join and leave, everyone in the room — on every
 * process, through the Redis adapter's `fetchSockets` — gets the list of who is there,
 * each person named or shown as their account per viewer. Presence changes are rare and
 * rooms small, so the per-member projection here is fine (the change fan-out stays
 * per-room). Access to a record can end without the socket's own rooms changing (the
 * record moved, not the viewer): the fan-out then calls `dropPresence`.
 */
export function attachPresence(io: TPanelServer, orm: MikroORM, socket: TPanelSocket): void {
  const state: TPresenceState = { io, rooms: new Map(), joining: new Set() };
  states.set(socket, state);

  onClientMessage(orm, socket, 'presence:join', ZPresenceRequest, async ({ topic }, actor) => {
    // Joins still being checked count too: many sent at once would all pass otherwise.
    if (state.rooms.size + state.joining.size >= MAX_PRESENCE_TOPICS) {
      throw conflict('too_many_topics', `At most ${MAX_PRESENCE_TOPICS} topics per tab.`);
    }
    const pending = { topic, dropped: false };
    state.joining.add(pending);
    index(socket, topic);
    let room: string;
    try {
      room = await presenceRoomFor(orm.em.fork(), actor, topic);
    } finally {
      state.joining.delete(pending);
      unindexUnheld(socket, state, topic);
    }
    if (pending.dropped) throw notFound('record');
    if (!socket.connected) return {};
    state.rooms.set(room, topic);
    index(socket, topic);
    socket.data.presenceSince ??= {};
    socket.data.presenceSince[room] ??= new Date().toISOString();
    await socket.join(room);
    // Told to the room after the ack's turn: the joiner learns it is in before the list.
    setImmediate(() => tell(io, room, topic));
    return {};
  });

  onClientMessage(orm, socket, 'presence:leave', ZPresenceRequest, async ({ topic }) => {
    for (const [room, held] of [...state.rooms]) {
      if (held === topic) await leave(socket, state, room);
    }
    return {};
  });

  socket.on('disconnect', () => {
    for (const [room, topic] of state.rooms) tell(io, room, topic);
    const topics = new Set([...state.rooms.values(), ...[...state.joining].map((p) => p.topic)]);
    state.rooms.clear();
    state.joining.clear();
    for (const topic of topics) unindexUnheld(socket, state, topic);
  });
}

function index(socket: TPanelSocket, topic: string): void {
  let sockets = holders.get(topic);
  if (!sockets) holders.set(topic, (sockets = new Set()));
  sockets.add(socket);
}

/** Out of the index once the socket neither is in the topic nor is joining it. */
function unindexUnheld(socket: TPanelSocket, state: TPresenceState, topic: string): void {
  for (const held of state.rooms.values()) if (held === topic) return;
  for (const pending of state.joining) if (pending.topic === topic) return;
  const sockets = holders.get(topic);
  sockets?.delete(socket);
  if (sockets?.size === 0) holders.delete(topic);
}

/** Leaves one room (synchronously out of the local room), then tells who is left. */
async function leave(socket: TPanelSocket, state: TPresenceState, room: string): Promise<void> {
  const topic = state.rooms.get(room);
  if (!topic) return;
  state.rooms.delete(room);
  unindexUnheld(socket, state, topic);
  if (socket.data.presenceSince) delete socket.data.presenceSince[room];
  await socket.leave(room);
  tell(state.io, room, topic);
}

/**
 * A room's list is sent at most once per `PRESENCE_SPACING_MS`: the first change of a
 * quiet room at once, the rest of a busy spell once at its end (the list is read when it
 * is sent, so the last one is always told). Every join and leave was sent to everyone in
 * the room: one person's sockets toggling a record's presence sent the carrier's staff
 * there two thousand lists in four seconds, each socket within its message budget.
 */
const PRESENCE_SPACING_MS = 250;
const spells = new Map<string, { timer?: NodeJS.Timeout; topic: TPresenceTopic }>();

function tell(io: TPanelServer, room: string, topic: TPresenceTopic): void {
  const spell = spells.get(room);
  if (spell) {
    // Within a spell: one list at its end.
    spell.timer ??= setTimeout(() => {
      spells.delete(room);
      tell(io, room, spell.topic);
    }, PRESENCE_SPACING_MS).unref();
    return;
  }
  const opened: { timer?: NodeJS.Timeout; topic: TPresenceTopic } = { topic };
  spells.set(room, opened);
  // A spell with nothing more to tell ends quietly.
  setTimeout(() => {
    if (spells.get(room) === opened && !opened.timer) spells.delete(room);
  }, PRESENCE_SPACING_MS).unref();
  void broadcast(io, room, topic);
}
/** Tells everyone in `room` (all processes) who is there now, as each may know them. */
async function broadcast(io: TPanelServer, room: string, topic: TPresenceTopic): Promise<void> {
  try {
    const sockets = await io.in(room).fetchSockets();
    const people = new Map<string, { person: TActorRecord; since: string }>();
    for (const member of sockets) {
      const since = member.data.presenceSince?.[room] ?? new Date().toISOString();
      const held = people.get(member.data.person.userId!);
      if (!held || since < held.since) {
        people.set(member.data.person.userId!, { person: member.data.person, since });
      }
    }
    for (const viewer of sockets) {
      const payload: TPresence = {
        topic,
        members: [...people.values()].map(({ person, since }) => ({
          actor: nameActor(viewer.data.actor, person),
          you: person.userId === viewer.data.person.userId,
          since,
        })),
      };
      viewer.emit('presence', payload);
    }
  } catch (error) {
    // Another process did not answer (Redis down): presence degrades, delivery goes on.
    getLogger().warn({ err: error, room }, 'presence: could not list the room');
  }
}
