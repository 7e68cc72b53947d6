import { sharedInFlight } from '@/lib/server/db/in-flight';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { envelopeFor, roomsOf } from '@/lib/server/authz/audience';
import { DomainError } from '@/lib/server/errors/domain-error';
import { carrierIdOf, onPathSql } from '@/lib/server/authz/scope';
import { readLogAfter } from '@/lib/server/live/read-log';
import type { RecentLog } from '@/lib/server/live/recent-log';
import { getMetrics } from '@/lib/server/observability/metrics';
import { getLogger } from '@/lib/server/observability/logger';
import type { TLogEntry } from '@/lib/server/authz/audience';
import type { TChangeEnvelope } from '@/lib/shared/live/change';

/**
 * `GET /events?since=`: the changes after `since` that the caller would have received
 * live, decided by the same audience function as the fan-out, in order, up to `limit`;
 * `seq` is the position to resume from. Positions are the caller's carrier's (the only
 * carrier whose entries it can see). Older than the window: 410. A page the fan-out
 * has just passed (`recent`) comes from its memory, every other from the log.
 */
export async function catchUp(
  em: EntityManager,
  actor: TActor,
  query: { since: number; limit: number },
  options: { retentionDays: number; recent?: RecentLog },
): Promise<{ items: TChangeEnvelope[]; seq: number }> {
  const carrierId = carrierIdOf(actor.account.path);
  // 0 is "I hold nothing": there is no state of another access or identity to make stale,
  // so a person who came later is answered from its own arrival in the log (what it would
  // have received live since), not sent to fetch afresh as a cursor from before it would be.
  const since = query.since === 0 ? await arrivalOf(em, actor, carrierId) : query.since;
  const { head, oldest, accessChanged } = await catchUpState(
    em,
    actor,
    carrierId,
    since,
    options.retentionDays,
  );
  if (since > head) {
    // Positions this carrier's log never reached: a cursor from another installation or
    // from before a restore. Answering "nothing yet" would skip every entry up to it.
    throw new DomainError(
      'gone',
      'resync_required',
      'That point is past the end of the log (is it from another database?); fetch afresh.',
    );
  }
  if (since < head) {
    if (oldest === null || since < oldest - 1) {
      throw new DomainError(
        'gone',
        'resync_required',
        'That point is older than the kept log; fetch afresh.',
      );
    }
    if (accessChanged) {
      throw new DomainError(
        'gone',
        'resync_required',
        'Your access changed since then; fetch afresh.',
      );
    }
  }
  // Nothing after the head: the page is empty, and the log need not be asked.
  if (since >= head) return { items: [], seq: head };
  const rooms = new Set(roomsOf(actor));
  const recent = options.recent?.after(carrierId, since, head, query.limit * RECENT_SCAN_PER_ITEM);
  if (recent) {
    getMetrics().liveCatchUpPages.inc({ source: 'memory' });
    return pageOfRecent(actor, rooms, recent, { since, limit: query.limit });
  }
  getMetrics().liveCatchUpPages.inc({ source: 'log' });
  // A window of the log, not all of it after `since`: a viewer who sees one entry in a
  // thousand made each page walk the carrier's whole log (a sibling reseller's pages of
  // one took 0.2 s over 200k entries, and a burst of them stalled everyone's reads).
  const upTo = Math.min(head, since + Math.max(query.limit, LOG_WINDOW_MIN) * LOG_SCAN_PER_ITEM);
  const entries = await readPage(em, {
    carrierId,
    accountPath: actor.account.path,
    since,
    limit: query.limit,
    head: upTo,
  });
  const items = entries.flatMap((entry) => envelopeOrSkip(actor, entry, rooms) ?? []);
  // A full page means more may follow: resume after its last entry; else after the
  // window (the head, or a later page's start).
  const seq = entries.length === query.limit ? entries[entries.length - 1]!.seq : upTo;
  return { items, seq };
}

/**
 * The viewer's envelope of an entry, or null — also when its audience throws (a row no
 * service would write): the fan-out skipped it after its retries (server/fan-out.ts), so
 * no one received it live, and catch-up answers what arrived live. The audience is a
 * pure function of the entry, so it would throw on every try; one bad row must not fail
 * every page that holds it.
 */
function envelopeOrSkip(
  actor: TActor,
  entry: TLogEntry,
  rooms: ReadonlySet<string>,
): TChangeEnvelope | null {
  try {
    return envelopeFor(actor, entry, rooms);
  } catch (error) {
    // Once per entry and process, not once per viewer and page (a storm asks thousands).
    const key = `${entry.carrierId}:${entry.seq}`;
    if (!reportedSkips.has(key)) {
      if (reportedSkips.size >= 1_000) reportedSkips.clear();
      reportedSkips.add(key);
      getLogger().warn(
        { err: error, carrier: entry.carrierId, seq: entry.seq },
        'catch-up: entry skipped',
      );
    }
    return null;
  }
}
const reportedSkips = new Set<string>();

/**
 * Entries looked at per item asked for, at most, in a page served from what the fan-out
 * holds: those are not narrowed to the viewer's account by a query first, and a viewer
 * who sees one change in a hundred must not make one page decide the whole of them.
 */
const RECENT_SCAN_PER_ITEM = 10;

/**
 * A page read from the log looks at most this many positions per item asked for (and at
 * least `LOG_WINDOW_MIN` items' worth): narrowed by SQL first, so a wider window than
 * the memory's, but a bounded one. The caller follows `seq` until it stops moving.
 */
const LOG_SCAN_PER_ITEM = 20;
const LOG_WINDOW_MIN = 100;

/**
 * A page from the entries the fan-out has just passed (lib/server/live/recent-log.ts),
 * each decided by the same audience function: up to `limit` items, and the position of
 * the last entry looked at to resume from.
 */
function pageOfRecent(
  actor: TActor,
  rooms: ReadonlySet<string>,
  entries: readonly TLogEntry[],
  query: { since: number; limit: number },
): { items: TChangeEnvelope[]; seq: number } {
  const items: TChangeEnvelope[] = [];
  let seq = query.since;
  for (const entry of entries) {
    const envelope = envelopeOrSkip(actor, entry, rooms);
    if (envelope) items.push(envelope);
    seq = entry.seq;
    if (items.length === query.limit) break;
  }
  return { items, seq };
}

/**
 * The log entries of a catch-up page: the carrier's entries after `since` up to its
 * `head`, narrowed to the viewer's account (lib/server/live/read-log.ts). Entries up to
 * a committed head never change (append-only, in commit order per carrier), so a page
 * is shared by every caller asking the same question at the same head — a reconnect
 * storm brings thousands of sockets of a few hundred accounts back to the same point.
 * Entries a read finds past the head (committed meanwhile) are left for the next page,
 * so what is kept depends on the key alone. Per process, the least recently used pages
 * dropped past a bound on the entries held.
 */
async function readPage(
  em: EntityManager,
  key: { carrierId: string; accountPath: string; since: number; limit: number; head: number },
): Promise<TLogEntry[]> {
  const id = `${key.carrierId}|${key.accountPath}|${key.since}|${key.limit}|${key.head}`;
  const cached = pages.get(id);
  if (cached) {
    // Most recently used last.
    pages.delete(id);
    pages.set(id, cached);
    return cached;
  }
  const read = readLogAfter(em, key.carrierId, key.since, key.limit, {
    accountPath: key.accountPath,
    upTo: key.head,
  });
  // The promise is kept, so callers arriving while it is read share the one read.
  pages.set(id, read);
  try {
    const entries = await read;
    // Dropped while it was read (a bigger page came meanwhile): held by no one, counted
    // nowhere — counted, it would stay in the total for good and starve every other page.
    if (pages.get(id) !== read) return entries;
    const size = { entries: entries.length, bytes: bytesOf(entries) };
    held.entries += size.entries;
    held.bytes += size.bytes;
    sizes.set(id, size);
    while ((held.entries > MAX_HELD_ENTRIES || held.bytes > MAX_HELD_BYTES) && pages.size > 1) {
      const oldest = pages.keys().next().value!;
      pages.delete(oldest);
      const gone = sizes.get(oldest);
      held.entries -= gone?.entries ?? 0;
      held.bytes -= gone?.bytes ?? 0;
      sizes.delete(oldest);
    }
    return entries;
  } catch (error) {
    pages.delete(id);
    throw error;
  }
}
const pages = new Map<string, Promise<TLogEntry[]> | TLogEntry[]>();
const sizes = new Map<string, { entries: number; bytes: number }>();
const held = { entries: 0, bytes: 0 };
/** Entries held at most, with their decided audiences: some tens of MB. */
const MAX_HELD_ENTRIES = 10_000;
/**
 * And bytes (as text, each entry's fields and a fixed share for the rest): ten thousand
 * card entries can be gigabytes (rules, holders), a count alone no bound at all.
 */
const MAX_HELD_BYTES = 64 * 1024 * 1024;
const bytesOf = (entries: TLogEntry[]) =>
  entries.reduce((sum, entry) => sum + (entry.bytes ?? 0) + 500, 0);

/**
 * Where the caller came into its carrier's log: the position of its own user's creation
 * (and, viewing as someone, of that user's), 0 when the log holds none (a user older than
 * the log's start).
 */
async function arrivalOf(em: EntityManager, actor: TActor, carrierId: string): Promise<number> {
  const person = actor.impersonation?.impersonator.id ?? actor.userId;
  const [row] = await em.execute<{ at: string | null }[]>(
    `select max(carrier_seq) as at from change_log
      where carrier_id = ? and resource = 'users' and op = 'created' and entity_id in (?, ?)`,
    [carrierId, actor.userId, person],
  );
  return Number(row?.at ?? 0);
}

type TStateRow = { head: string | null; oldest: string | null; changed: boolean };
/** Log-state reads under way, per door answer (see `catchUpState`). */
const statesInFlight = new WeakMap<TActor, ReturnType<typeof sharedInFlight<TStateRow[]>>>();

/**
 * Where the caller's carrier's log stands — its newest committed position (0 for none
 * yet) and its oldest still inside the catch-up window (null when none is) — and whether
 * what the caller may see changed after `since` — or it did not exist yet: its user
 * (group, status), its group (grants), a view-as started, ended or expired for the
 * person at the keyboard, that person's own user or group while viewing as someone
 * (losing or regaining `impersonation:start` switches the view), the target of a
 * dormant view-as coming back,
 * or its own account or one above it suspended or reactivated (everything it sees takes
 * its effective status from there, and those changes are not in its view). The events
 * it missed were chosen and shaped for the access of their time, so replaying them
 * would leave stale data or name what it never saw: it fetches afresh instead.
 *
 * One round trip for all three: a reconnect storm asks this of every socket coming back
 * (issue 14; it was two, the bounds and the access check).
 */
async function catchUpState(
  em: EntityManager,
  actor: TActor,
  carrierId: string,
  since: number,
  retentionDays: number,
): Promise<{ head: number; oldest: number | null; accessChanged: boolean }> {
  // Its own account or one above it: the effective status comes from there. Viewing as
  // someone the door keeps out for now (dormant), that user's too, and its group: the
  // cursor may have been read in the view, which went when either changed.
  const dormant = actor.dormantImpersonation;
  const aboveOrSelf = onPathSql('entity_id', actor.account.path);
  const aboveTarget = dormant ? onPathSql('entity_id', dormant.targetPath) : null;
  // The person at the keyboard: the support user while viewing as someone.
  const person = actor.impersonation?.impersonator.id ?? actor.userId;
  const users = [actor.userId, person, actor.dormantImpersonation?.targetUserId ?? person];
  // Callers holding the very same door answer (sockets of one credential, whose check
  // they shared: server/revocation.ts) and asking the same at once share one read; the
  // rest of what it reads comes from that actor. Never across answers: every caller's
  // door check then came before the read it joins, as its own would have.
  let shared = statesInFlight.get(actor);
  if (!shared) statesInFlight.set(actor, (shared = sharedInFlight<TStateRow[]>()));
  const rows = await shared(JSON.stringify([carrierId, since, retentionDays]), () =>
    em.execute<TStateRow[]>(
      // Only entries that changed someone's access (its partial index): a rename never
      // sends a client back to a full fetch.
      `with since_at as (
         select coalesce(
                  (select at from change_log where carrier_id = ? and carrier_seq = ?),
                  (select min(at) from change_log where carrier_id = ?)) as at)
       select (select seq from carrier_log_head where carrier_id = ?) as head,
            (select min(carrier_seq) from change_log
              where carrier_id = ? and at > now() - (? * interval '1 day')) as oldest,
            exists (
              select 1 from change_log
               where carrier_id = ? and carrier_seq > ? and affects_access
                 and ((resource = 'users' and entity_id in (?, ?, ?))
                   or (resource = 'groups'
                       and entity_id in (?, ?, (select group_id from app_user where id = ?)))
                   or (resource = 'impersonation' and actor_user_id = ?)
                   or (resource in ('resellers', 'customers')
                       and (${aboveOrSelf.sql}${aboveTarget ? ` or ${aboveTarget.sql}` : ''}))))
            -- A cursor from before the person (or the user it views as) existed: the
            -- entries back then were never theirs to receive (another user's, since
            -- deleted, of the same account; what was deleted before they came).
            -- By its own entry's position (an entry's time is its transaction's start).
            or exists (
              select 1 from change_log
               where entity_id in (?, ?) and resource = 'users' and op = 'created'
                 and carrier_id = ? and carrier_seq > ?)
            -- A view-as that ran out in between switched the view without a log entry.
            or exists (
              select 1 from impersonation i
               where i.impersonator_user_id = ?
                 and i.expires_at <= now()
                 and (i.ended_at is null or i.ended_at > i.expires_at)
                 and i.expires_at > (select at from since_at))
            -- A view-as open back then that this credential does not hold now (another
            -- session's or token's, or this one's before it was replaced): the cursor may
            -- have been read under that view, by another credential of the same person.
            or exists (
              select 1 from impersonation i
               where i.impersonator_user_id = ?
                 and i.id is distinct from ?::uuid
                 and i.started_at <= (select at from since_at)
                 and least(coalesce(i.ended_at, 'infinity'), i.expires_at)
                       > (select at from since_at)) as changed`,
      [
        carrierId,
        since,
        carrierId,
        carrierId,
        carrierId,
        retentionDays,
        carrierId,
        since,
        ...users,
        actor.group.id,
        dormant?.targetGroupId ?? actor.group.id,
        person,
        person,
        ...aboveOrSelf.params,
        ...(aboveTarget?.params ?? []),
        actor.userId,
        person,
        carrierId,
        since,
        person,
        person,
        actor.impersonation?.id ?? actor.dormantImpersonation?.id ?? null,
      ],
    ),
  );
  const row = rows[0];
  return {
    head: Number(row?.head ?? 0),
    oldest: row?.oldest ? Number(row.oldest) : null,
    accessChanged: row?.changed === true,
  };
}
