import type { TChangeEnvelope, TLiveResource } from '@/lib/shared/live/change';
import { LIVE_RESOURCES } from '@/lib/shared/live/change';
import { withinKey } from '@/lib/shared/live/within';
import { isCallsChange } from '@/lib/shared/live/change-summary';
import type { TActor } from './actor';
import { can } from './can';
import { projectActor, type TActorRecord } from './actor-name';
import { ancestorPrefixes, isWithin } from './scope';
import type { TAudienceHints } from '@/lib/server/live/change-log';
import { mayAssignGroups } from './group-relation';
import { ALL_GRANTS, type TGrant } from '@/lib/shared/permissions';
import { useOnlyView } from '@/lib/shared/schemas/groups';
import { assignedView, type TCardOwnerDto } from '@/lib/shared/schemas/cards';

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

/**
 * An account reader without `ledger:read` sees an account's balance (it is on the
 * account) but not the ledger entry that moved it — its kind, amount, entry id, a usage
 * batch's call count. Such a socket also joins this room beside `roomFor`'s, and a
 * ledger movement reaches it here without those details (`decideAudience`, `withoutLedger`).
 */
export function ledgerBlindRoom(
  accountId: string,
  resource: TLiveResource,
  readsPeople: boolean,
): string {
  return `${roomFor(accountId, resource, readsPeople)}:noledger`;
}

/** The account resources whose entries a ledger movement writes (`reason: 'ledger'`). */
const LEDGER_MOVED: readonly TLiveResource[] = ['resellers', 'customers'];

/**
 * Use-only groups (an ancestor's group the actor may assign: lib/server/authz/
 * group-relation.ts) are seen by whoever below the owner holds every grant of the group.
 * Rooms cannot intersect, but they can exclude: a socket that may assign groups joins
 * `use:<ancestor>` for each account above its own and `lacks:<ancestor>:<grant>` for each
 * grant it does not hold; "holds all of S" is then `use:A` except `lacks:A:g` for g in S.
 */
export function useRoom(ownerId: string): string {
  return `use:${ownerId}`;
}
export function lacksRoom(ownerId: string, grant: string): string {
  return `lacks:${ownerId}:${grant}`;
}

/**
 * Every socket of an account's own people, whatever its grants: what happens to the
 * account itself (its rename, its status) is theirs to see — the same facts `GET /me`
 * answers — though the account is never in their lists (its scope is its parent's).
 */
export function ownAccountRoom(accountId: string): string {
  return `own:${accountId}`;
}

/**
 * Every socket whose account lies strictly below this one, whatever its grants: what an
 * account above does to the effective status of everything below it (suspended, blocked
 * for credit, or back) is news about each of their own accounts.
 */
export function belowRoom(accountId: string): string {
  return `below:${accountId}`;
}

/**
 * Every socket whose actor is this user: its notices (lib/server/services/notifications)
 * are its own and nobody else's. While support views as a user, the socket's actor is
 * that user, so the view shows the user's notices (read-only) and not the agent's.
 */
export function inboxRoom(userId: string): string {
  return `inbox:${userId}`;
}

/**
 * Every socket whose actor is in this group: a rename of the group changes who they are
 * shown to be ("signed in … with the group …"), whether or not they may read groups.
 */
export function memberRoom(groupId: string): string {
  return `member:${groupId}`;
}

/**
 * Every socket holding `audit:read` at this account: the audit shows every change in the
 * account's subtree — as a bare line when the viewer may not read what changed — so an
 * entry nothing else tells such a socket of reaches it here (`auditDeliveries`).
 */
export function auditRoom(accountId: string): string {
  return `audit:${accountId}`;
}

/**
 * Every socket holding `usage:read` at this account: its traffic views and Calls page
 * follow the calls below it, read or not the accounts they are of (`usageDeliveries`).
 */
export function usageRoom(accountId: string): string {
  return `usage:${accountId}`;
}

/** The rooms a socket of this actor joins, computed once at connect. */
export function roomsOf(actor: TActor): string[] {
  const readsPeople = can(actor, 'users:read');
  const readable = LIVE_RESOURCES.filter((resource) => can(actor, `${resource}:read`));
  const rooms = readable.map((resource) => roomFor(actor.account.id, resource, readsPeople));
  if (!can(actor, 'ledger:read')) {
    for (const resource of readable.filter((one) => LEDGER_MOVED.includes(one))) {
      rooms.push(ledgerBlindRoom(actor.account.id, resource, readsPeople));
    }
  }
  rooms.push(ownAccountRoom(actor.account.id), inboxRoom(actor.userId), memberRoom(actor.group.id));
  if (can(actor, 'audit:read')) rooms.push(auditRoom(actor.account.id));
  if (can(actor, 'usage:read')) rooms.push(usageRoom(actor.account.id));
  for (const [ancestorId] of ancestorPrefixes(actor.account.path).slice(0, -1)) {
    rooms.push(belowRoom(ancestorId));
  }
  if (mayAssignGroups(actor)) {
    const lacking = ALL_GRANTS.filter((grant) => !can(actor, grant));
    for (const [ancestorId] of ancestorPrefixes(actor.account.path).slice(0, -1)) {
      rooms.push(useRoom(ancestorId), ...lacking.map((grant) => lacksRoom(ancestorId, grant)));
    }
  }
  return rooms;
}

export interface TLogEntry {
  /** The entry's position in its carrier's commit order: what clients resume from. */
  seq: number;
  carrierId: string;
  at: Date;
  resource: string;
  entityId: string;
  op: 'created' | 'updated' | 'deleted';
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  scopeBefore: string | null;
  scopeAfter: string | null;
  /** The public summary (lib/shared/live/change-summary.ts): shown as stored. */
  summary?: Record<string, unknown> | null;
  /** Server-only routing hints (who holds a card): never delivered. */
  audience?: TAudienceHints | null;
  /** The entry changed someone's access (lib/server/live/affects-access.ts). */
  affectsAccess?: boolean;
  /** Its size as text, when read by the fan-out (recent-log.ts's budget). */
  bytes?: number;
  actor: TActorRecord;
}

/** An envelope for the sockets in any of `rooms` and in none of `except`. */
export interface TDelivery {
  rooms: string[];
  except?: string[];
  envelope: TChangeEnvelope;
}

/**
 * The deliveries of one log entry: per account on its old and new scope paths, the kind
 * of change that account sees (stays in view, enters, leaves), and the actor named or
 * not. A removal goes only to accounts that saw the entity before. Pure: the same
 * function decides the live fan-out and (through `envelopeFor`) catch-up. Kept per entry
 * object: catch-up shares one read page between the sockets that ask for it
 * (lib/server/services/events/catch-up.ts), so a reconnect storm decides each entry's
 * audience once instead of once per socket. The result is shared: never mutate it.
 */
export function audienceOf(entry: TLogEntry): readonly TDelivery[] {
  let deliveries = decided.get(entry);
  if (!deliveries) {
    deliveries = decideAudience(entry);
    decided.set(entry, deliveries);
  }
  return deliveries;
}
const decided = new WeakMap<TLogEntry, TDelivery[]>();

function decideAudience(entry: TLogEntry): TDelivery[] {
  const deliveries = resourceDeliveries(entry);
  const told = [...deliveries, ...usageDeliveries(entry, deliveries)];
  return [...told, ...auditDeliveries(entry, told)];
}

/**
 * Calls rated or stored below an account (`isCallsChange`) reach its readers of usage who
 * hear of them nowhere else — one who may read calls but not the accounts they are of (a
 * traffic analyst's group): per account on the path, a bare `<resource>.refetch` naming
 * that account (their own), `reason: 'usage'`, with the accounts from it down to the one
 * whose calls they are as digests (`within`), so the views over any of them follow, and
 * nothing of the change. Balance moves come at call rate; their entries are held per
 * account (server/balance-hold.ts) before any of this is sent.
 */
function usageDeliveries(entry: TLogEntry, others: readonly TDelivery[]): TDelivery[] {
  if (!isCallsChange(entry.summary)) return [];
  if (entry.resource !== 'customers' && entry.resource !== 'resellers') return [];
  const resource = entry.resource;
  const accounts = ancestorPrefixes(entry.scopeAfter);
  if (!accounts.length) return [];
  const except = [...new Set(others.flatMap((delivery) => delivery.rooms))];
  return accounts.map(([accountId, path]) =>
    lazyDelivery(
      [usageRoom(accountId)],
      () => {
        const within = withinOf(entry, path).within ?? [];
        const own = withinKey(entry.entityId);
        return {
          ...signal(entry, resource, accountId, 'usage', path),
          within: within.includes(own) ? within : [...within, own],
        };
      },
      except,
    ),
  );
}

/**
 * The audit lists every change whose entity was in the viewer's subtree before or after
 * it (lib/server/services/audit/list-audit.ts), whatever else the viewer may read: one
 * who holds `audit:read` and not the resource — an auditor, or a user or a session's
 * entry to one without `users:read` — hears of the entry nowhere else, and their audit
 * (a view over every change) would stand still. To them, per account on those paths, a
 * bare `audit.refetch` naming the account (their own: nothing of the entry, not even the
 * entity's id). Those the entry's other deliveries reach follow it from those. A
 * person's notices are no one's audit. Balance moves come at call rate, but their
 * entries are held per account (server/balance-hold.ts) before any of this is sent.
 */
function auditDeliveries(entry: TLogEntry, others: readonly TDelivery[]): TDelivery[] {
  if (entry.resource === 'notifications') return [];
  const paths = new Map([
    ...ancestorPrefixes(entry.scopeBefore),
    ...ancestorPrefixes(entry.scopeAfter),
  ]);
  if (!paths.size) return [];
  const except = [...new Set(others.flatMap((delivery) => delivery.rooms))];
  return [...paths].map(([accountId, path]) =>
    lazyDelivery(
      [auditRoom(accountId)],
      () => ({
        seq: entry.seq,
        type: 'audit.refetch',
        id: accountId,
        data: { id: accountId },
        at: entry.at.toISOString(),
        actor: projectActor(entry.actor, false, path),
      }),
      except,
    ),
  );
}

function resourceDeliveries(entry: TLogEntry): TDelivery[] {
  if (entry.resource === 'impersonation') return viewAsDeliveries(entry);
  if (entry.resource === 'notifications') return inboxDeliveries(entry);
  if (entry.resource === 'brands') return brandDeliveries(entry);
  // A session opened or a token issued: each is a password accepted, a sign-in.
  if (entry.resource === 'sessions' || entry.resource === 'tokens') return signInDeliveries(entry);
  if (!isLiveResource(entry.resource)) return [];
  const resource = entry.resource as TLiveResource;
  const before = new Map(ancestorPrefixes(entry.scopeBefore));
  const after = new Map(ancestorPrefixes(entry.scopeAfter));
  const deliveries: TDelivery[] = [];
  // Calls stored that moved no balance (`calls`) count calls as a usage movement does:
  // told to a reader without ledger:read the same way, without the figures.
  const reason = entry.summary?.reason;
  const ledger = (reason === 'ledger' || reason === 'calls') && LEDGER_MOVED.includes(resource);
  for (const [accountId, path] of new Map([...before, ...after])) {
    const kind =
      namedEvent(entry) ?? changeKind(entry.op, before.has(accountId), after.has(accountId));
    for (const readsPeople of [true, false]) {
      const named =
        readsPeople && isWithin(path, entry.actor.userPath) && Boolean(entry.actor.userId);
      const room = roomFor(accountId, resource, readsPeople);
      if (!ledger) {
        deliveries.push(lazyDelivery([room], () => envelope(entry, resource, kind, named, path)));
        continue;
      }
      const blind = ledgerBlindRoom(accountId, resource, readsPeople);
      deliveries.push(
        lazyDelivery([room], () => envelope(entry, resource, kind, named, path), [blind]),
        lazyDelivery([blind], () => ({
          ...envelope(
            { ...entry, summary: withoutLedger(entry.summary) },
            resource,
            kind,
            named,
            path,
          ),
          // The path below is the account's, not the ledger's: told alike.
          ...withinOf(entry, path),
        })),
      );
    }
  }
  if (resource === 'groups') deliveries.push(...useOnlyDeliveries(entry));
  if (resource === 'cards') deliveries.push(...cardHolderDeliveries(entry));
  if (resource === 'assignments') deliveries.push(...assignmentHolderDeliveries(entry));
  deliveries.push(...refetchDeliveries(entry, resource));
  deliveries.push(...ownAccountDeliveries(entry, resource));
  deliveries.push(...cascadeBelowDeliveries(entry, resource));
  deliveries.push(...ownIdentityDeliveries(entry, resource, deliveries));
  return deliveries;
}

/**
 * Who the viewer is shown to be (`/me`: the header's name, "signed in … with the group
 * …") moves with an edit of their own user or a rename of their group — which they may
 * not read (no `users:read`; a group from above). To those who hear nothing else of the
 * entry, a bare signal naming that user or group: their views of themselves follow
 * (lib/client/live-cache.ts). Those who do hear of it (every room of the entry's other
 * deliveries) take it from that envelope, as a socket takes one envelope per position.
 * An entry that changes access gets the signal too: the re-check it starts
 * (server/revocation.ts) rescopes a socket only when its rooms or grants moved, and a
 * group's name or its MFA rule edited with its grants moves neither, yet moves `/me`.
 */
function ownIdentityDeliveries(
  entry: TLogEntry,
  resource: TLiveResource,
  others: readonly TDelivery[],
): TDelivery[] {
  if (entry.op !== 'updated') return [];
  const room =
    resource === 'users'
      ? inboxRoom(entry.entityId)
      : resource === 'groups'
        ? memberRoom(entry.entityId)
        : null;
  if (!room) return [];
  return [
    {
      rooms: [room],
      except: [...new Set(others.flatMap((delivery) => delivery.rooms))],
      envelope: signal(entry, resource, entry.entityId, 'own_identity', null),
    },
  ];
}

/**
 * A ledger movement's summary as an account reader without `ledger:read` gets it
 * (`reason: 'balance'`): that the balance moved, whether by rated calls (traffic views
 * follow those), and for a reseller blocked or unblocked for credit the lists that
 * change below it — nothing of the entry that did it.
 */
function withoutLedger(summary: TLogEntry['summary']): TLogEntry['summary'] {
  const refetch = summary?.refetch;
  return {
    reason: 'balance',
    ...(isCallsChange(summary) ? { usage: true } : {}),
    ...(Array.isArray(refetch) ? { refetch } : {}),
  };
}

/**
 * A reseller whose effective status moved (suspended or resumed, blocked or unblocked
 * for credit) moved it for every account below it: their people — who keep their access
 * when it is credit — see their own account and their sub-accounts blocked "above" or no
 * longer. To them a bare signal naming the reseller (an account on their own path) with
 * the lists to read again; the reseller's own people have theirs (`own_account`).
 */
function cascadeBelowDeliveries(entry: TLogEntry, resource: TLiveResource): TDelivery[] {
  if (resource !== 'resellers' || entry.op !== 'updated' || !cascadesBelow(entry)) return [];
  return [
    {
      rooms: [belowRoom(entry.entityId)],
      envelope: signal(entry, resource, entry.entityId, 'above', null, ['resellers', 'customers']),
    },
  ];
}

/** Whether a reseller's entry moved the effective status of what lies below it. */
export function cascadesBelow(entry: Pick<TLogEntry, 'summary'>): boolean {
  const reason = entry.summary?.reason;
  if (reason === 'status_cascade' || reason === 'credit_cascade') return true;
  // A ledger movement that blocked or unblocked a reseller names the lists it stales.
  return reason === 'ledger' && Array.isArray(entry.summary?.refetch);
}

/**
 * An account's own people learn that their account changed (renamed, suspended or
 * resumed) — to them a signal, `<resource>.refetch` naming the account: their views of
 * themselves (`/me`, the overview) follow, and the lists the change makes stale (users
 * carrying its name, sub-accounts its name and status): the account is not in any list
 * of theirs, and the change's body is the parent's view of it.
 */
function ownAccountDeliveries(entry: TLogEntry, resource: TLiveResource): TDelivery[] {
  if ((resource !== 'resellers' && resource !== 'customers') || entry.op !== 'updated') return [];
  return [
    {
      rooms: [ownAccountRoom(entry.entityId)],
      envelope: signal(
        entry,
        resource,
        entry.entityId,
        'own_account',
        childPath(entry, entry.entityId),
        knockOnLists(entry),
      ),
    },
  ];
}

/**
 * A notice, or notices marked read, for the one person they belong to — its inbox room
 * alone, whatever its grants (who may read the subject was decided when the notice was
 * written: lib/server/authz/recipients.ts). The actor is never named: the notice says
 * what happened in its own words.
 */
function inboxDeliveries(entry: TLogEntry): TDelivery[] {
  const recipient = hintsOf(entry).recipient;
  if (!recipient) return [];
  const gone = entry.op === 'deleted' || !entry.after;
  return [
    {
      rooms: [inboxRoom(recipient)],
      envelope: {
        seq: entry.seq,
        type: `notifications.${entry.op}`,
        id: entry.entityId,
        data: gone ? { id: entry.entityId } : entry.after!,
        at: entry.at.toISOString(),
        // A notice's scope is its recipient's account path.
        actor: projectActor(entry.actor, false, entry.scopeAfter ?? entry.scopeBefore),
        ...(entry.summary ? { summary: entry.summary } : {}),
      },
    },
  ];
}

/**
 * A brand set, changed or removed changes what every page of the branded account and of
 * the accounts below it looks like (their effective brand is it, or a nearer one below:
 * lib/server/services/brands). To their people, whatever their grants — the brand is on
 * every page they see — a bare `brands.refetch` naming the branded account (an account on
 * their own path): their pages render again with the brand as it now is. Nothing of the
 * brand travels in it, and no sibling or account above hears of it.
 */
function brandDeliveries(entry: TLogEntry): TDelivery[] {
  // A brand's scope is its account's own path; below it, a room of every depth.
  const refetch = (viewerPath: string | null): TChangeEnvelope => ({
    seq: entry.seq,
    type: 'brands.refetch',
    id: entry.entityId,
    data: { id: entry.entityId },
    at: entry.at.toISOString(),
    actor: projectActor(entry.actor, false, viewerPath),
    summary: { refetch: [], reason: 'brand' },
  });
  return [
    {
      rooms: [ownAccountRoom(entry.entityId)],
      envelope: refetch(entry.scopeAfter ?? entry.scopeBefore),
    },
    { rooms: [belowRoom(entry.entityId)], envelope: refetch(null) },
  ];
}

/**
 * A view-as started or ended on a user (DESIGN §1: "start and stop are visible to the
 * impersonated account") reaches, live, those who may read it in the audit — people
 * readers (`users:read`) of the target's account and of the accounts above it — as a
 * `users.refetch` signal naming the target's account: their activity feeds refetch;
 * nothing about the view-as travels in it (the reason stays in the audit).
 */
function viewAsDeliveries(entry: TLogEntry): TDelivery[] {
  const accounts = ancestorPrefixes(entry.scopeAfter ?? entry.scopeBefore);
  const targetAccount = accounts.at(-1)?.[0];
  if (!targetAccount) return [];
  return accounts.map(([accountId, path]) =>
    lazyDelivery([roomFor(accountId, 'users', true)], () =>
      signal(entry, 'users', targetAccount, 'view_as', path),
    ),
  );
}

/**
 * A person signed in (a session opened: lib/server/auth/sessions.ts; a token issued for
 * their password: services/tokens/issue-token.ts): their last sign-in moved. To the
 * people readers (`users:read`) of their account and of the accounts above it — those
 * who may read them, as for a view-as — a `users.refetch` signal naming their account,
 * their lists of users to read again. Nothing of the sign-in travels (its hostname and
 * address stay in the audit). A session's end or a token's revocation moves nothing
 * shown: those travel to no one (revocation closes their sockets: server/revocation.ts).
 */
function signInDeliveries(entry: TLogEntry): TDelivery[] {
  if (entry.op !== 'created') return [];
  const accounts = ancestorPrefixes(entry.scopeAfter);
  const ownAccount = accounts.at(-1)?.[0];
  if (!ownAccount) return [];
  return accounts.map(([accountId, path]) =>
    lazyDelivery([roomFor(accountId, 'users', true)], () =>
      signal(entry, 'users', ownAccount, 'sign_in', path, ['users']),
    ),
  );
}

/**
 * A `refetch` that names an account (`own_identity`: a user or a group) and asks for no
 * list: views of everything follow it.
 */
function signal(
  entry: TLogEntry,
  resource: TLiveResource,
  accountId: string,
  reason: 'own_account' | 'view_as' | 'above' | 'own_identity' | 'sign_in' | 'usage',
  viewerPath: string | null,
  refetch: TLiveResource[] = [],
): TChangeEnvelope {
  return {
    seq: entry.seq,
    type: `${resource}.refetch`,
    id: accountId,
    data: { id: accountId },
    at: entry.at.toISOString(),
    actor: projectActor(entry.actor, false, viewerPath),
    summary: { refetch, reason },
  };
}

/**
 * The lists an account's change makes stale (its summary's `refetch`): its own people
 * read them too — its users carry its name, its sub-accounts its name and status.
 */
function knockOnLists(entry: TLogEntry): TLiveResource[] {
  const refetch = entry.summary?.refetch;
  return Array.isArray(refetch) ? refetch.filter(isLiveResource) : [];
}

/**
 * A bulk change that makes other lists stale (summary `refetch`) reaches those who read
 * them but not this resource — a customers-only reader learns that customers under a
 * suspended reseller changed — as `<resource>.refetch`, to the same accounts.
 */
function refetchDeliveries(entry: TLogEntry, resource: TLiveResource): TDelivery[] {
  const refetch = entry.summary?.refetch;
  if (!Array.isArray(refetch)) return [];
  const accounts = ancestorPrefixes(entry.scopeAfter ?? entry.scopeBefore);
  const others = refetch.filter(
    (other): other is TLiveResource => other !== resource && isLiveResource(other),
  );
  return others.flatMap((other) =>
    accounts.map(([accountId, path]) => ({
      rooms: [roomFor(accountId, other, true), roomFor(accountId, other, false)],
      except: [roomFor(accountId, resource, true), roomFor(accountId, resource, false)],
      envelope: {
        seq: entry.seq,
        type: `${other}.refetch` as const,
        id: entry.entityId,
        data: { id: entry.entityId },
        at: entry.at.toISOString(),
        actor: projectActor(entry.actor, false, path),
        // Every list the change makes stale, not only this room's: a client takes one
        // envelope per position, so a reader of two of them hears of it once.
        summary: { refetch: others, reason: entry.summary?.reason },
      },
    })),
  );
}

/** A card's named events (`cards.rates_changed`, `cards.margin_alert`, revisions) instead of `updated`. */
const NAMED_CARD_EVENTS = new Set([
  'rates_changed',
  'margin_alert',
  'revision_scheduled',
  'revision_cancelled',
]);
function namedEvent(entry: TLogEntry): string | null {
  const event = entry.summary?.event;
  return entry.op === 'updated' && typeof event === 'string' && NAMED_CARD_EVENTS.has(event)
    ? event
    : null;
}

function hintsOf(entry: TLogEntry): TAudienceHints {
  return entry.audience ?? {};
}

/**
 * A card's change for the accounts holding it by assignment (DESIGN §1): its assignee
 * view — name, currency, precision, counts — never the parent, markup, margin or other
 * holders; rate changes as `rates_changed` with the row count only; margin alerts never.
 * Holders are direct children of the owner, so never on the owner's path: the rooms
 * do not overlap with the owner-view deliveries.
 */
function cardHolderDeliveries(entry: TLogEntry): TDelivery[] {
  const event = namedEvent(entry);
  if (event === 'margin_alert') return [];
  const holders = hintsOf(entry).holders ?? [];
  const data = entry.after ? assignedView(entry.after as unknown as TCardOwnerDto) : null;
  // A holder is told what changes in its buy price and when, never the margin.
  const summary =
    event === 'rates_changed'
      ? {
          event,
          rows: entry.summary?.rows,
          // What changed in what the holder reads (a markup-only change: nothing).
          ...(entry.summary?.counts
            ? { counts: hintsOf(entry).holderCounts ?? entry.summary.counts }
            : {}),
        }
      : event === 'revision_scheduled'
        ? {
            event,
            number: entry.summary?.number,
            liveAt: entry.summary?.liveAt,
            rows: entry.summary?.rows,
            // What changes in what the holder reads (an entry from before: the whole).
            counts: hintsOf(entry).holderCounts ?? entry.summary?.counts,
          }
        : event === 'revision_cancelled'
          ? { event, number: entry.summary?.number, liveAt: entry.summary?.liveAt }
          : undefined;
  // Built only for a holder someone hears of it in: a card may have thousands of
  // holders, and a decided entry is kept while the fan-out holds it for catch-up.
  return holders.map((holder) =>
    lazyDelivery([roomFor(holder, 'cards', true), roomFor(holder, 'cards', false)], () => ({
      seq: entry.seq,
      type: `cards.${event ?? entry.op}` as TChangeEnvelope['type'],
      id: entry.entityId,
      data: data && entry.op !== 'deleted' ? { ...data } : { id: entry.entityId },
      at: entry.at.toISOString(),
      actor: projectActor(entry.actor, false, childPath(entry, holder)),
      ...(summary ? { summary } : {}),
    })),
  );
}

/**
 * An assignment is seen by the card owner's side as `assignments.*`; to the account it
 * is made to, the card enters (`cards.added`, assignee view) or leaves (`cards.removed`)
 * its provider cards.
 */
function assignmentHolderDeliveries(entry: TLogEntry): TDelivery[] {
  const { holder, card } = hintsOf(entry);
  // An update (its card renamed) changes nothing the holder holds: the card's own
  // change tells it the new name.
  if (!holder || !card || entry.op === 'updated') return [];
  const added = entry.op === 'created';
  return [
    {
      rooms: [roomFor(holder, 'cards', true), roomFor(holder, 'cards', false)],
      envelope: {
        seq: entry.seq,
        type: added ? 'cards.added' : 'cards.removed',
        id: card.id,
        // Stored as the assignee view already; projected again so a stored extra field
        // (an older row) never reaches the holder.
        data: added ? { ...assignedView(card as unknown as TCardOwnerDto) } : { id: card.id },
        at: entry.at.toISOString(),
        actor: projectActor(entry.actor, false, childPath(entry, holder)),
      },
    },
  ];
}

/**
 * The path of an account directly under the entry's scope: an account entry's own (its
 * scope is its parent's), or a card holder's (a card and its assignments are scoped by
 * the owner's path, and a holder is a direct child of the owner).
 */
function childPath(entry: TLogEntry, accountId: string): string | null {
  const scope = entry.scopeAfter ?? entry.scopeBefore;
  return scope === null ? null : `${scope}${accountId}/`;
}

function isLiveResource(value: unknown): value is TLiveResource {
  return (LIVE_RESOURCES as readonly unknown[]).includes(value);
}

/**
 * A group change for those below its owner who see it use-only: created / updated /
 * deleted while it stays usable to them, added / removed when its grants make it
 * (un)usable — by holding every grant before (Sb) and after (Sa), as rooms.
 */
function useOnlyDeliveries(entry: TLogEntry): TDelivery[] {
  const ownerId = ancestorPrefixes(entry.scopeAfter ?? entry.scopeBefore).at(-1)?.[0];
  if (!ownerId) return [];
  const lacks = (grants: string[]) => grants.map((grant) => lacksRoom(ownerId, grant));
  const grantsOf = (dto: Record<string, unknown> | null) =>
    Array.isArray(dto?.grants) ? (dto.grants as string[]) : null;
  const before = entry.op === 'created' ? null : grantsOf(entry.before);
  const after = entry.op === 'deleted' ? null : grantsOf(entry.after);
  const data = entry.after ? useOnlyView(entry.after as Parameters<typeof useOnlyView>[0]) : null;
  const make = (kind: string, body: Record<string, unknown> | null) =>
    // Heard at every depth below the owner.
    envelope({ ...entry, after: body }, 'groups', kind, false, null);
  if (!before && after) {
    return [{ rooms: [useRoom(ownerId)], except: lacks(after), envelope: make('created', data) }];
  }
  if (before && !after) {
    return [{ rooms: [useRoom(ownerId)], except: lacks(before), envelope: make('deleted', null) }];
  }
  if (!before || !after) return [];
  const gained = after.filter((grant) => !before.includes(grant));
  const dropped = before.filter((grant) => !after.includes(grant));
  const deliveries: TDelivery[] = [
    {
      rooms: [useRoom(ownerId)],
      except: lacks([...new Set([...before, ...after])]),
      envelope: make('updated', data),
    },
  ];
  // Held all of Sb, lacks something new in Sa: it leaves their view.
  if (gained.length) {
    deliveries.push({
      rooms: lacks(gained),
      except: lacks(before),
      envelope: make('removed', null),
    });
  }
  // Lacked something of Sb that is gone, holds all of Sa: it enters their view.
  if (dropped.length) {
    deliveries.push({ rooms: lacks(dropped), except: lacks(after), envelope: make('added', data) });
  }
  return deliveries;
}

/** The one envelope a given viewer gets for an entry, or null: catch-up's rule. */
export function envelopeFor(
  viewer: TActor,
  entry: TLogEntry,
  /** The viewer's rooms, when the caller asks for many entries (catch-up): computed once. */
  rooms: ReadonlySet<string> = new Set(roomsOf(viewer)),
): TChangeEnvelope | null {
  return (
    audienceOf(entry).find(
      (delivery) =>
        delivery.rooms.some((room) => rooms.has(room)) &&
        !delivery.except?.some((room) => rooms.has(room)),
    )?.envelope ?? null
  );
}

/** What a viewer may see of one logged change in the audit. */
export interface TAuditView {
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  summary: Record<string, unknown> | null;
  /** `withheld`: the viewer sees that the change happened (id, op, time, actor), no more. */
  detail: 'shown' | 'withheld';
}

/**
 * Logged resources that never travel live, and the grant that reads what their entries
 * hold: a token, a session and a view-as belong to a person (the target's email, a
 * token's name); a carrier is an account like a reseller; a brand is read with
 * `brand:read`, on the branded account's own path (its side and above, never a sibling).
 */
const OFFLINE_READ: Record<string, TGrant> = {
  tokens: 'users:read',
  sessions: 'users:read',
  impersonation: 'users:read',
  carriers: 'resellers:read',
  brands: 'brand:read',
};

const WITHHELD: TAuditView = { before: null, after: null, summary: null, detail: 'withheld' };

/**
 * The audit's projection of an entry (DESIGN §1 "Audit", §2 "Same rules everywhere"):
 * what the live fan-out gives this viewer. The entry's details are shown only when the
 * fan-out would deliver the entry itself to the viewer as this resource (so `cards:read`
 * for a card, `users:read` for a user; never a margin alert to a card's holder), with the
 * summary that delivery carries (none for a removal); each side, before and after, is what
 * the fan-out would deliver had the entity just been created with that body at that
 * side's scope path: the owner's full view, an assignee's or use-only view, or nothing.
 * Otherwise the viewer learns that the entity changed, when and by whom, and no more: an
 * `audit:read` holder without `cards:read` never sees a card's markup or parent, without
 * `users:read` never a user's email or group.
 */
export function auditViewOf(
  viewer: TActor,
  entry: TLogEntry,
  rooms: ReadonlySet<string> = new Set(roomsOf(viewer)),
): TAuditView {
  let summary: Record<string, unknown> | null;
  if (isLiveResource(entry.resource)) {
    const delivered = envelopeFor(viewer, entry, rooms);
    // An assignment reaches its holder as a card, a bulk change others as a refetch.
    if (!delivered?.type.startsWith(`${entry.resource}.`)) return WITHHELD;
    summary = delivered.summary ?? null;
  } else {
    summary = entry.summary ?? null;
  }
  const before = sideView(viewer, entry, entry.before, entry.scopeBefore, rooms);
  const after = sideView(viewer, entry, entry.after, entry.scopeAfter, rooms);
  if (!before && !after) return WITHHELD;
  return {
    before: before?.body ?? null,
    after: after?.body ?? null,
    summary,
    detail: 'shown',
  };
}

/** One side as the viewer may see it (`body` null: nothing stored), or null: not in view. */
function sideView(
  viewer: TActor,
  entry: TLogEntry,
  body: Record<string, unknown> | null,
  scopePath: string | null,
  rooms: ReadonlySet<string>,
): { body: Record<string, unknown> | null } | null {
  if (!scopePath) return null;
  if (!isLiveResource(entry.resource)) {
    const grant = OFFLINE_READ[entry.resource];
    return grant && can(viewer, grant) && isWithin(viewer.account.path, scopePath)
      ? { body }
      : null;
  }
  // A side with no body (a password change logs none) is asked as a bodiless update.
  const delivered = envelopeFor(
    viewer,
    {
      ...entry,
      op: body ? 'created' : 'updated',
      before: body,
      after: body,
      scopeBefore: scopePath,
      scopeAfter: scopePath,
      // The hints only: the relation decides, not what the change was (rates, a refetch).
      summary: null,
    },
    rooms,
  );
  // Only the resource's own delivery: an assignment reaches its holder as a card.
  const kind = body ? 'created' : 'updated';
  if (delivered?.type !== `${entry.resource}.${kind}`) return null;
  return { body: body ? delivered.data : null };
}

/**
 * A delivery whose envelope is built when first read: the fan-out reads every one, but
 * catch-up (`envelopeFor`) wants one of the two per account on the paths.
 */
function lazyDelivery(rooms: string[], make: () => TChangeEnvelope, except?: string[]): TDelivery {
  let built: TChangeEnvelope | undefined;
  return {
    rooms,
    ...(except ? { except } : {}),
    get envelope() {
      return (built ??= make());
    },
  };
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
  viewerPath: string | null,
): TChangeEnvelope {
  const gone = kind === 'removed' || kind === 'deleted';
  return {
    seq: entry.seq,
    type: `${resource}.${kind}` as TChangeEnvelope['type'],
    id: entry.entityId,
    data: gone || !entry.after ? { id: entry.entityId } : entry.after,
    at: entry.at.toISOString(),
    actor: projectActor(entry.actor, named, viewerPath),
    // A removal tells its viewer the id and nothing else (not where the entity went).
    ...(entry.summary && kind !== 'removed'
      ? { summary: entry.summary as TChangeEnvelope['summary'] }
      : {}),
    ...withinOf(entry, viewerPath),
  };
}

/**
 * An account's deliveries that must also tell that calls moved it: held calls the entry
 * replaced before they went out (server/balance-hold.ts keeps one event per account a
 * second). Each of the account's envelopes carries `within` — the calls' own where they
 * had one for that room (calls that moved no balance), else none named (`[]`: the
 * account itself and its parent follow, as for calls that moved its balance) — which is
 * what the traffic views follow (lib/client/live-cache.ts). Other envelopes are as they
 * were.
 */
export function withCallsOf(deliveries: readonly TDelivery[], calls: TLogEntry): TDelivery[] {
  const withinOfRoom = new Map<string, string[]>();
  for (const delivery of audienceOf(calls)) {
    const within = delivery.envelope.within;
    if (within) for (const room of delivery.rooms) withinOfRoom.set(room, within);
  }
  // The account as it stays in view: not a signal, not a removal (which tells the id alone).
  const updated = `${calls.resource}.updated`;
  return deliveries.map((delivery) => {
    const envelope = delivery.envelope;
    if (envelope.id !== calls.entityId || envelope.type !== updated) return delivery;
    return {
      rooms: delivery.rooms,
      ...(delivery.except ? { except: delivery.except } : {}),
      envelope: { ...envelope, within: withinOfRoom.get(delivery.rooms[0]!) ?? [] },
    };
  });
}

/**
 * A change of calls (`isCallsChange`) tells the traffic views over the accounts above the
 * one it names that the calls are theirs. Calls that moved no balance (`reason: 'calls'`)
 * tell only the customer's own entry, and a rated batch's entries reach a reader of
 * customers who may not read resellers only as the customer's: a reseller's Calls tab for
 * a customer two levels below it, or a carrier's traffic dashboard for such a reader,
 * cannot tell from the parent id alone. The path from the viewer's account (the room's,
 * so never one above the viewer) down to the account's parent says it, each account as a
 * digest (`withinKey`): the room holds readers who may not read the resellers between.
 */
function withinOf(entry: TLogEntry, viewerPath: string | null): { within?: string[] } {
  const scope = entry.scopeAfter;
  if (!isCallsChange(entry.summary) || !viewerPath || !isWithin(viewerPath, scope)) return {};
  const ids = scope!.split('/').filter(Boolean);
  const own = viewerPath.split('/').filter(Boolean).length - 1;
  return { within: ids.slice(own).map(withinKey) };
}
