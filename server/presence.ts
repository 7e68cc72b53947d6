import type { MikroORM } from '@mikro-orm/postgresql';
import { conflict } from '@/lib/server/errors/domain-error';
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

/** Per socket: leave every topic (re-scoping: the client joins again under its new view). */
const leaveAll = new WeakMap<TPanelSocket, () => Promise<void>>();

export async function leaveAllPresence(socket: TPanelSocket): Promise<void> {
  await leaveAll.get(socket)?.();
}

/**
 * Presence (DESIGN §2 "Collaboration"): a socket joins the room of a topic after the same
 * check as reading that record; on every join and leave, everyone in the room — on every
 * process, through the Redis adapter's `fetchSockets` — gets the list of who is there,
 * each person named or shown as their account per viewer. Presence changes are rare and
 * rooms small, so the per-member projection here is fine (the change fan-out stays
 * per-room).
 */
export function attachPresence(io: TPanelServer, orm: MikroORM, socket: TPanelSocket): void {
  const topics = new Map<string, TPresenceTopic>(); // room → topic, for this socket

  onClientMessage(orm, socket, 'presence:join', ZPresenceRequest, async ({ topic }, actor) => {
    if (topics.size >= MAX_PRESENCE_TOPICS) {
      throw conflict('too_many_topics', `At most ${MAX_PRESENCE_TOPICS} topics per tab.`);
    }
    const room = await presenceRoomFor(orm.em.fork(), actor, topic);
    if (!socket.connected) return {};
    topics.set(room, topic);
    socket.data.presenceSince ??= {};
    socket.data.presenceSince[room] ??= new Date().toISOString();
    await socket.join(room);
    // Told to the room after the ack's turn: the joiner learns it is in before the list.
    setImmediate(() => void broadcast(io, room, topic));
    return {};
  });

  onClientMessage(orm, socket, 'presence:leave', ZPresenceRequest, async ({ topic }) => {
    for (const [room, held] of topics) {
      if (held === topic) await leave(io, socket, topics, room);
    }
    return {};
  });

  socket.on('disconnect', () => {
    for (const [room, topic] of topics) void broadcast(io, room, topic);
    topics.clear();
  });

  leaveAll.set(socket, async () => {
    for (const room of [...topics.keys()]) await leave(io, socket, topics, room);
  });
}

async function leave(
  io: TPanelServer,
  socket: TPanelSocket,
  topics: Map<string, TPresenceTopic>,
  room: string,
): Promise<void> {
  const topic = topics.get(room)!;
  topics.delete(room);
  if (socket.data.presenceSince) delete socket.data.presenceSince[room];
  await socket.leave(room);
  await broadcast(io, room, topic);
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
