import type { TChangeEnvelope, TLiveResource } from '@/lib/shared/live/change';
import { LIVE_RESOURCES } from '@/lib/shared/live/change';
import type { TActor } from './actor';
import { can } from './can';
import { projectActor, type TActorRecord } from './actor-name';
import { ancestorPrefixes } from './scope';

/**
 * Who receives a change, as rooms (DESIGN §2 "Filtering by rooms, not loops"). A socket
 * of a user at account X joins, for each live resource it may read, the room
 * `live:X:<resource>:<n|a>` — `n` when it may also read people (users:read), so the
 * actor can be named to it, `a` otherwise. An entity whose scope path is P is seen by
 * exactly the accounts on P, so a change goes to those accounts' rooms: the cost grows
 * with the depth of P and the recipients, never with the number of sockets.
 */
export function roomFor(accountId: string, resource: TLiveResource, readsPeople: boolean): string {
  return `live:${accountId}:${resource}:${readsPeople ? 'n' : 'a'}`;
}

/** The rooms a socket of this actor joins, computed once at connect. */
export function roomsOf(actor: TActor): string[] {
  const readsPeople = can(actor, 'users:read');
  return LIVE_RESOURCES.filter((resource) => can(actor, `${resource}:read`)).map((resource) =>
    roomFor(actor.account.id, resource, readsPeople),
  );
}

export interface TLogEntry {
  seq: number;
  at: Date;
  resource: string;
  entityId: string;
  op: 'created' | 'updated' | 'deleted';
  after: Record<string, unknown> | null;
  scopeBefore: string | null;
  scopeAfter: string | null;
  actor: TActorRecord;
}

export interface TDelivery {
  rooms: string[];
  envelope: TChangeEnvelope;
}

/**
 * The deliveries of one log entry: per account on its old and new scope paths, the kind
 * of change that account sees (stays in view, enters, leaves), and the actor named or
 * not. A removal goes only to accounts that saw the entity before. Pure: the same
 * function decides the live fan-out and (through `envelopeFor`) catch-up.
 */
export function audienceOf(entry: TLogEntry): TDelivery[] {
  if (!(LIVE_RESOURCES as readonly string[]).includes(entry.resource)) return [];
  const resource = entry.resource as TLiveResource;
  const before = new Map(ancestorPrefixes(entry.scopeBefore));
  const after = new Map(ancestorPrefixes(entry.scopeAfter));
  const deliveries: TDelivery[] = [];
  for (const [accountId, path] of new Map([...before, ...after])) {
    const kind = changeKind(entry.op, before.has(accountId), after.has(accountId));
    for (const readsPeople of [true, false]) {
      const named =
        readsPeople &&
        Boolean(entry.actor.userPath?.startsWith(path)) &&
        Boolean(entry.actor.userId);
      deliveries.push({
        rooms: [roomFor(accountId, resource, readsPeople)],
        envelope: envelope(entry, resource, kind, named),
      });
    }
  }
  return deliveries;
}

/** The one envelope a given viewer gets for an entry, or null: catch-up's rule. */
export function envelopeFor(viewer: TActor, entry: TLogEntry): TChangeEnvelope | null {
  const rooms = new Set(roomsOf(viewer));
  return (
    audienceOf(entry).find((delivery) => delivery.rooms.some((room) => rooms.has(room)))
      ?.envelope ?? null
  );
}

/** Created and deleted speak for themselves; an update that moves scope adds or removes. */
function changeKind(op: TLogEntry['op'], sawBefore: boolean, seesAfter: boolean) {
  if (op !== 'updated' || (sawBefore && seesAfter)) return op;
  return seesAfter ? 'added' : 'removed';
}

function envelope(
  entry: TLogEntry,
  resource: TLiveResource,
  kind: string,
  named: boolean,
): TChangeEnvelope {
  const gone = kind === 'removed' || kind === 'deleted';
  return {
    seq: entry.seq,
    type: `${resource}.${kind}` as TChangeEnvelope['type'],
    id: entry.entityId,
    data: gone || !entry.after ? { id: entry.entityId } : entry.after,
    at: entry.at.toISOString(),
    actor: projectActor(entry.actor, named),
  };
}
