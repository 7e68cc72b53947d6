import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import type { TLoggedResource } from '@/lib/shared/schemas/audit';
import type { TChangeSummaryOf } from '@/lib/shared/live/change-summary';
import type { TCardAssignedDto } from '@/lib/shared/schemas/cards';
import type { TRevisionCounts } from '@/lib/shared/schemas/revisions';
import { carrierIdOf } from '@/lib/server/authz/scope';
import { directQuery, pgArray } from '@/lib/server/db/direct-query';
import { affectsAccess } from './affects-access';
import { assertNotSuspendedSince, holdAuthor } from '@/lib/server/authz/actor-holds';

export type TChangeOp = 'created' | 'updated' | 'deleted';

/**
 * Who, beyond the scope paths, the audience function (lib/server/authz/audience.ts) must
 * reach: the accounts holding a card by assignment, the assignee of an assignment with
 * its view of the card. Stored in its own column, read by the server alone.
 */
export interface TAudienceHintsOf {
  /**
   * `holderCounts`: a scheduled revision's counts as the holders read them (a row whose
   * visible terms stayed is unchanged to them: revisions.ts `holderCounts`).
   */
  cards: { holders: string[]; holderCounts?: TRevisionCounts };
  assignments: { holder: string; card: TCardAssignedDto };
  /** A notice, or a change to one person's notices: that person alone receives it. */
  notifications: { recipient: string };
}
/** The hints of any entry, as the audience function reads them back. */
export type TAudienceHints = Partial<
  TAudienceHintsOf['cards'] & TAudienceHintsOf['assignments'] & TAudienceHintsOf['notifications']
>;

/**
 * What the log records: the audited resources, and a person's notices
 * (lib/server/services/notifications), which travel live and in catch-up to their
 * recipient alone and are never part of the audit trail.
 */
export type TRecordedResource = TLoggedResource | 'notifications';

interface TChangeBase<R extends TRecordedResource> {
  resource: R;
  entityId: string;
  op: TChangeOp;
  version: number | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  /** Scope paths (lib/server/authz/scope.ts): who could see it before, who can after. */
  scopeBefore: string | null;
  scopeAfter: string | null;
  /**
   * Recorded as the system's doing ("System"), not the author's: a consequence the author
   * brings on people outside its reach (a hostname claimed ends a sibling's or another
   * tenant's sessions opened there), whose audit must not name who caused it.
   */
  bySystem?: true;
}

/** One resource's change: its public summary (if it has any) and its audience hints. */
type TChangeOf<R extends TRecordedResource> = TChangeBase<R> &
  ([TChangeSummaryOf<R>] extends [never]
    ? { summary?: undefined }
    : { summary?: TChangeSummaryOf<R> }) &
  (R extends keyof TAudienceHintsOf ? { audience: TAudienceHintsOf[R] } : { audience?: undefined });

/** One mutation of one entity, as a service describes it: a union by resource. */
export type TChange = { [R in TRecordedResource]: TChangeOf<R> }[TRecordedResource];

/**
 * Runs a mutation in one transaction and writes its change-log rows as the very last
 * step (a deferred trigger refuses to commit a change to a logged table without its
 * row, however it was written). The rows take their positions from their carrier's row
 * in `carrier_log_head`, whose lock is then held until commit: one carrier's writers
 * pass through that lock between taking a position and committing, so a reader that
 * has seen a carrier's position N never later finds a committed row of that carrier
 * below N — while another carrier's writers never wait on them.
 * `record` collects the changes; a mutation that records nothing writes no log row.
 */
export async function mutate<T>(
  em: EntityManager,
  /** null for an operations command run from the shell (no signed-in person). */
  actor: TActor | null,
  work: (tx: EntityManager, record: (change: TChange) => void) => Promise<T>,
  options: {
    /**
     * Users or groups whose access this write may take away (a disable, a reset, new
     * grants): their author locks are taken exclusively first (authz/actor-holds.ts).
     */
    revokes?: readonly string[];
  } = {},
): Promise<T> {
  // Inside a caller's transaction this one is a savepoint: "done" is not committed yet.
  const outermost = !em.isInTransaction();
  // Within another mutate's work (a bulk edit through the single one), this one's changes
  // and hooks are that mutate's, written at its end: its log rows here would take the
  // carrier's head lock halfway through the bulk and hold it while the bulk goes on to
  // wait for other rows — every writer of the carrier queued behind it, a rating batch
  // holding one of those rows deadlocked with it.
  const enclosing = outermost ? undefined : COLLECTORS.get(em);
  let positions: Map<string, number> | undefined;
  return em
    .transactional(async (tx) => {
      // The author as the database says now, held to commit (actor-holds.ts): a write
      // waiting on a row never lands after its author was disabled or lost a grant. A
      // view-as writes nothing; a shell command has no author.
      if (outermost && actor && !actor.impersonatorUserId) {
        await holdAuthor(tx, actor, options.revokes);
      }
      const changes: TChange[] = [];
      const hooks: TCommitOrderHook[] = [];
      const sink: TSink = { changes };
      const record = (change: TChange) => void sinkOf(sink).changes.push(change);
      COMMIT_ORDER_HOOKS.set(record, hooks);
      COLLECTORS.set(tx, { changes, hooks, sink });
      let result: T;
      try {
        result = await work(tx, record);
      } finally {
        // Should `tx` be `em` itself (MikroORM forks a nested transaction's, but a config
        // that ignores nested transactions would not), later work records there again.
        if (enclosing) COLLECTORS.set(em, enclosing);
        else COLLECTORS.delete(tx);
      }
      await tx.flush();
      if (enclosing) {
        // Kept only once the savepoint holds: work that threw leaves nothing behind.
        enclosing.changes.push(...changes);
        enclosing.hooks.push(...hooks);
        // What its hooks record when they run, at the outermost mutate's end (a margin
        // alert), is that mutate's to write: recorded here, it was lost.
        sink.forward = enclosing.sink;
        return result;
      }
      if (hooks.length) {
        const ordered = mergeOnce(hooks);
        // What a hook reads beforehand, outside the lock (it checks under the lock that
        // nothing it read has moved): the lock is every writer of the carrier's wait.
        for (const hook of ordered) await hook.prepare?.(tx);
        await lockLogHeads(tx, [
          ...ordered.map((hook) => hook.carrierId),
          ...changes.map(carrierOfChange),
        ]);
        for (const hook of ordered) if (!hook.last) await hook.run(tx);
      }
      if (changes.length) {
        positions = await appendChanges(tx, actor, changes);
        // Past the carrier's head: a suspension above the author committed meanwhile.
        if (outermost && actor && !actor.impersonatorUserId) {
          await assertNotSuspendedSince(tx, actor);
        }
      }
      await runLast(tx, hooks);
      return result;
    })
    .then((result) => {
      // Committed: wake this process's fan-out now; NOTIFY (sent at commit) wakes the
      // others. The positions just committed go with it, only when they truly are.
      findLiveNudge()?.(outermost ? positions : undefined);
      return result;
    });
}

/**
 * Work that must happen in a carrier's commit order: run by `mutate` after the mutation's
 * own work, once it holds the carrier's `carrier_log_head` lock (which it then keeps to
 * commit), before its log rows are written. Whatever two such hooks of one carrier read
 * or write, one of them sees the other's transaction committed: a rate write dates its
 * live-now revisions there (rates/revisions.ts `settleDates`), a change of a customer's
 * card its card spans (assignments/span-dating.ts), and a rating batch checks there that
 * neither moved since it priced by them (usage/rate-batch.ts `assertPlanUnchanged`).
 */
interface TCommitOrderHook {
  carrierId: string;
  run: (tx: EntityManager) => Promise<void>;
  /** Run last, after the log rows, together with the others of its key (`atCommitLast`). */
  last?: { key: string; item: string; run: (tx: EntityManager, items: string[]) => Promise<void> };
  /** Run first, after the work and before the lock is taken (`atCommitOrder`'s `prepare`). */
  prepare?: (tx: EntityManager) => Promise<void>;
  /** One of the calls of `atCommitOrderOnce` merged at the outermost `mutate`. */
  once?: TOnce;
}

/** Where a `mutate`'s `record` puts a change: its own list, or once it has ended inside
 * another mutate, that one's (and so on outwards). */
type TSink = { changes: TChange[]; forward?: TSink };
function sinkOf(sink: TSink): TSink {
  let at = sink;
  while (at.forward) at = at.forward;
  return at;
}

/** What a `mutate` writes at its end, by the transaction it handed its work. */
const COLLECTORS = new WeakMap<
  EntityManager,
  { changes: TChange[]; hooks: TCommitOrderHook[]; sink: TSink }
>();

/** Each `mutate`'s hooks, by the `record` it handed its work. */
const COMMIT_ORDER_HOOKS = new WeakMap<(change: TChange) => void, TCommitOrderHook[]>();

/**
 * Runs `run` in `carrierId`'s commit order (`TCommitOrderHook`), as part of the `mutate`
 * whose `record` this is. A `record` that is not a mutate's has no commit to order by.
 * `prepare` runs once the work is done, before the lock: a costly read that `run` need
 * only confirm (every writer of the carrier waits while `run` holds the lock).
 */
export function atCommitOrder(
  record: (change: TChange) => void,
  carrierId: string,
  run: (tx: EntityManager) => Promise<void>,
  prepare?: (tx: EntityManager) => Promise<void>,
): void {
  const hooks = COMMIT_ORDER_HOOKS.get(record);
  if (!hooks) throw new Error('atCommitOrder needs the record of a mutate');
  hooks.push({ carrierId, run, ...(prepare ? { prepare } : {}) });
}

/**
 * `atCommitOrder` once per `key` for the whole transaction (a bulk's single writes
 * included), with every call's `items`, at the place of the last call: work whose cost
 * does not grow with the items (a card's profit-assurance check, seconds over a big
 * provider card) is not paid once per item. `prepare`'s answer goes to `run`.
 */
export function atCommitOrderOnce<P>(
  record: (change: TChange) => void,
  carrierId: string,
  key: string,
  items: readonly string[],
  run: (tx: EntityManager, items: string[], prepared: P) => Promise<void>,
  prepare: (tx: EntityManager, items: string[]) => Promise<P>,
): void {
  const hooks = COMMIT_ORDER_HOOKS.get(record);
  if (!hooks) throw new Error('atCommitOrderOnce needs the record of a mutate');
  hooks.push({
    carrierId,
    run: async () => {},
    once: {
      key: `${carrierId}|${key}`,
      items: [...items],
      run: run as TOnce['run'],
      prepare: prepare as TOnce['prepare'],
    },
  });
}

type TOnce = {
  key: string;
  items: string[];
  run: (tx: EntityManager, items: string[], prepared: unknown) => Promise<void>;
  prepare: (tx: EntityManager, items: string[]) => Promise<unknown>;
};

/** The hooks with each `once` key's calls as one, at its last call's place. */
function mergeOnce(hooks: readonly TCommitOrderHook[]): TCommitOrderHook[] {
  const items = new Map<string, Set<string>>();
  const lastAt = new Map<string, number>();
  hooks.forEach((hook, index) => {
    if (!hook.once) return;
    const held = items.get(hook.once.key) ?? new Set<string>();
    for (const item of hook.once.items) held.add(item);
    items.set(hook.once.key, held);
    lastAt.set(hook.once.key, index);
  });
  if (!items.size) return [...hooks];
  return hooks.flatMap((hook, index) => {
    if (!hook.once) return [hook];
    if (lastAt.get(hook.once.key) !== index) return [];
    const { run, prepare } = hook.once;
    const all = [...items.get(hook.once.key)!];
    let prepared: unknown;
    return [
      {
        carrierId: hook.carrierId,
        prepare: async (tx: EntityManager) => {
          prepared = await prepare(tx, all);
        },
        run: (tx: EntityManager) => run(tx, all, prepared),
      },
    ];
  });
}

/**
 * Work for the very end of a `mutate`, in the carrier's commit order after its log rows
 * are written, as close to its commit as a statement can be: each call names an `item`,
 * and the calls of one `key` in the whole transaction (a bulk edit's single ones
 * included) run once, together. What a write dates "as it commits" (a suspension: the
 * switch is told the account is active until then) is dated here.
 */
export function atCommitLast(
  record: (change: TChange) => void,
  carrierId: string,
  key: string,
  item: string,
  run: (tx: EntityManager, items: string[]) => Promise<void>,
): void {
  const hooks = COMMIT_ORDER_HOOKS.get(record);
  if (!hooks) throw new Error('atCommitLast needs the record of a mutate');
  hooks.push({ carrierId, run: async () => {}, last: { key, item, run } });
}

async function runLast(tx: EntityManager, hooks: readonly TCommitOrderHook[]): Promise<void> {
  const batches = new Map<
    string,
    { items: string[]; run: NonNullable<TCommitOrderHook['last']>['run'] }
  >();
  for (const { last } of hooks) {
    if (!last) continue;
    const batch = batches.get(last.key) ?? { items: [], run: last.run };
    batch.items.push(last.item);
    batches.set(last.key, batch);
  }
  for (const batch of batches.values()) await batch.run(tx, batch.items);
}

/**
 * The carriers' `carrier_log_head` rows locked, in carrier order as `appendChanges` takes
 * them (its upsert then finds them held by this transaction already).
 */
async function lockLogHeads(tx: EntityManager, carrierIds: string[]): Promise<void> {
  const carriers = [...new Set(carrierIds)].sort();
  // Held without writing the busy row (appendChanges writes it once, after); a carrier
  // without a head yet gets one first.
  const held = await directQuery<{ carrier_id: string }>(
    tx,
    `select carrier_id from carrier_log_head where carrier_id = any(?::uuid[])
      order by carrier_id for no key update`,
    [pgArray(carriers)],
  );
  if (held.length === carriers.length) return;
  await directQuery(
    tx,
    `insert into carrier_log_head as h (carrier_id, seq)
     select id, 0 from unnest(?::uuid[]) with ordinality as c(id, n) order by n
     on conflict (carrier_id) do update set seq = h.seq`,
    [pgArray(carriers)],
  );
}

/**
 * The fan-out's wake-up, shared through globalThis like the other live singletons (the
 * route handlers that commit and the server that tails are two module graphs).
 */
const NUDGE_KEY = Symbol.for('reseller-panel.live-nudge');
/**
 * Wakes the fan-out; `committed` is each carrier's last position this commit wrote (so
 * every position up to it is committed: positions are commit order per carrier).
 */
export type TLiveNudge = (committed?: ReadonlyMap<string, number>) => void;
type TGlobalWithNudge = typeof globalThis & { [NUDGE_KEY]?: TLiveNudge };

export function setLiveNudge(nudge: TLiveNudge | undefined): void {
  (globalThis as TGlobalWithNudge)[NUDGE_KEY] = nudge;
}

function findLiveNudge(): TLiveNudge | undefined {
  return (globalThis as TGlobalWithNudge)[NUDGE_KEY];
}

/** The channel other processes LISTEN on. */
export const CHANGE_LOG_CHANNEL = 'change_log';

/**
 * A random tag naming this process in its NOTIFY payloads (no data, only who sent it):
 * the fan-out ignores its own process's notifications, which the nudge has handled
 * already, instead of reading the log once more per commit for nothing.
 */
const TAG_KEY = Symbol.for('reseller-panel.live-process-tag');
type TGlobalWithTag = typeof globalThis & { [TAG_KEY]?: string };

export function liveProcessTag(): string {
  const global = globalThis as TGlobalWithTag;
  return (global[TAG_KEY] ??= crypto.randomUUID());
}

/**
 * The carrier an entry belongs to: the root of its scope path, or the carrier itself for
 * a carrier's own entry. No write spans two carriers (a customer moves only within its
 * carrier); an entry with no carrier would have no place in any order.
 */
export function carrierOfChange(change: TChange): string {
  const path = change.scopeAfter ?? change.scopeBefore;
  if (path) return carrierIdOf(path);
  if (change.resource === 'carriers') return change.entityId;
  throw new Error(`A ${change.resource} change names no carrier.`);
}

/** Writes the rows; answers each carrier's last position written. */
async function appendChanges(
  tx: EntityManager,
  actor: TActor | null,
  changes: TChange[],
): Promise<Map<string, number>> {
  // Positions per carrier: this mutation's rows of a carrier are its next positions, in
  // the order recorded. Heads are bumped in carrier order, so two writers touching the
  // same carriers lock them in the same order.
  const counts = new Map<string, number>();
  const placed = changes.map((change) => {
    const carrierId = carrierOfChange(change);
    const index = counts.get(carrierId) ?? 0;
    counts.set(carrierId, index + 1);
    return { change, carrierId, index };
  });
  const carriers = [...counts.keys()].sort();
  const values: unknown[] = carriers.flatMap((carrierId) => [carrierId, counts.get(carrierId)]);
  values.push(liveProcessTag());
  // The rows as one JSON parameter, not sixteen bind values each: a write recording
  // 4,096 changes or more (a card renamed with that many holders) passed the protocol's
  // 65,535 parameters and failed whole. (A JSON null is an SQL null in the record set.)
  const rows = placed.map(({ change, carrierId, index }) => {
    const by = change.bySystem ? null : actor;
    return {
      carrier_id: carrierId,
      // How far below the bumped head this row sits: the last one recorded is the head.
      below: counts.get(carrierId)! - 1 - index,
      actor_user_id: by?.userId ?? null,
      actor_account_id: by?.account.id ?? null,
      impersonator_user_id: by?.impersonatorUserId ?? null,
      resource: change.resource,
      entity_id: change.entityId,
      op: change.op,
      version: change.version,
      before: change.before ?? null,
      after: change.after ?? null,
      scope_before: change.scopeBefore,
      scope_after: change.scopeAfter,
      summary: change.summary ?? null,
      audience: change.audience ?? null,
      affects_access: affectsAccess(change),
    };
  });
  values.push(JSON.stringify(rows));
  // One round trip: the carriers' heads bumped (their row locks held to commit), the
  // notification (sent at commit) that wakes the other processes, and the rows. A CTE
  // that writes runs once, before the rows that join it are produced. `at` is when the
  // change is written, the last step before its commit — not the transaction's start
  // (`now()`), which a long transaction would date back. The commit guard knows the
  // transaction's rows by `txid` (its default).
  const heads = await directQuery<{ carrier_id: string; seq: string }>(
    tx,
    `with head as materialized (
       insert into carrier_log_head as h (carrier_id, seq)
       values ${carriers.map(() => '(?::uuid, ?::bigint)').join(', ')}
       on conflict (carrier_id) do update set seq = h.seq + excluded.seq
       returning carrier_id, seq),
     notified as materialized (select pg_notify('${CHANGE_LOG_CHANNEL}', ?))
     insert into change_log (at, carrier_id, carrier_seq, actor_user_id, actor_account_id,
       impersonator_user_id, resource, entity_id, op, version, before, after, scope_before,
       scope_after, summary, audience, affects_access)
     select clock_timestamp(), v.carrier_id, head.seq - v.below, v.actor_user_id,
            v.actor_account_id, v.impersonator_user_id, v.resource, v.entity_id, v.op,
            v.version, v.before, v.after, v.scope_before, v.scope_after, v.summary,
            v.audience, v.affects_access
       from notified
      cross join jsonb_to_recordset(?::jsonb) as v(carrier_id uuid, below int,
             actor_user_id uuid, actor_account_id uuid, impersonator_user_id uuid,
             resource text, entity_id uuid, op text, version int, before jsonb, after jsonb,
             scope_before text, scope_after text, summary jsonb, audience jsonb,
             affects_access boolean)
       join head on head.carrier_id = v.carrier_id
      order by v.carrier_id, v.below desc
      returning carrier_id, carrier_seq as seq`,
    values,
  );
  if (beforeCommitForTests) await beforeCommitForTests(tx);
  const last = new Map<string, number>();
  for (const row of heads) {
    last.set(row.carrier_id, Math.max(last.get(row.carrier_id) ?? 0, Number(row.seq)));
  }
  return last;
}

/**
 * Tests only (the commit-order tests): work run after the log rows are written and before
 * the commit, the window the carrier's lock exists for. Unset everywhere else.
 */
let beforeCommitForTests: ((tx: EntityManager) => Promise<void>) | undefined;

export function setBeforeCommitHookForTests(
  hook: ((tx: EntityManager) => Promise<void>) | undefined,
): void {
  beforeCommitForTests = hook;
}
