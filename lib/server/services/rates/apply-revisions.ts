import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Card } from '@/lib/server/entities';
import { mutate } from '@/lib/server/live/change-log';
import { getLogger } from '@/lib/server/observability/logger';
import { recordRevisionApplied } from './rate-sets';
import { goLive } from './revisions';

/**
 * Scheduled revisions going live (issue 16 §2): every revision whose date has come
 * becomes its card's live revision (the one the `rate` view reads), through `mutate`, so
 * panels get `cards.rates_changed` as for any write. Derived cards' revisions were
 * computed (and margin-checked) when they were scheduled; they go live in the same
 * transaction as their parents', parents first. Several processes may run this at once: the cards'
 * locks queue them, and the later one finds nothing left due.
 * Answers how many cards changed.
 */
export async function applyDueRevisions(em: EntityManager): Promise<number> {
  return mutate(em, null, async (tx, record) => {
    const candidates = await tx.execute<{ card_id: string }[]>(
      `select distinct card_id from rate_revision
        where applied_at is null and cancelled_at is null and live_at <= now()`,
    );
    if (!candidates.length) return 0;
    // Cards first, parents before children — the order every rate writer and a cancel
    // lock in (card, then its revisions), so this never waits on them in a cycle.
    const ordered = await tx.execute<{ id: string; owner_path: string }[]>(
      `with recursive up as (
         select id as start, id as node, 0 as depth from card where id = any(?::uuid[])
         union all
         select up.start, cp.parent_id, up.depth + 1
           from card_parent cp join up on cp.card_id = up.node)
       select c.id, o.path as owner_path
         from (select start, max(depth) as depth from up group by start) d
         join card c on c.id = d.start join account o on o.id = c.owner_id
        order by d.depth, c.id
          for no key update of c`,
      [`{${candidates.map((row) => row.card_id).join(',')}}`],
    );
    // Read again under the cards' locks: another process may have applied them, or a
    // cancel withdrawn one, while this waited.
    const due = await tx.execute<{ id: string; card_id: string; number: number }[]>(
      `select id, card_id, number from rate_revision
        where card_id = any(?::uuid[]) and applied_at is null and cancelled_at is null
          and live_at <= now()
        order by card_id, number`,
      [`{${ordered.map((row) => row.id).join(',')}}`],
    );
    let applied = 0;
    for (const { id, owner_path } of ordered) {
      const mine = due.filter((row) => row.card_id === id);
      if (!mine.length) continue;
      applied++;
      const number = Math.max(...mine.map((row) => row.number));
      await goLive(tx, id, number);
      await tx.execute('update rate_revision set applied_at = now() where id = any(?::bigint[])', [
        `{${mine.map((row) => row.id).join(',')}}`,
      ]);
      const card = await tx.findOneOrFail(Card, { id }, { populate: ['owner'] });
      await recordRevisionApplied(tx, card, owner_path, record);
    }
    return applied;
  });
}

/**
 * Wakes at the next revision's date (and at least every minute, for revisions another
 * process scheduled), and at start for any that came due while no process ran.
 */
export class RevisionTimer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly options: { maxWaitMs?: number } = {},
  ) {}

  /** Again after `stop()` too: a test holds the timer off to see a revision due, unapplied. */
  start(): void {
    this.stopped = false;
    revisionTimers().add(this);
    this.wake();
  }

  /** Look again now: a revision was scheduled or cancelled. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.tick().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    revisionTimers().delete(this);
    await this.running;
  }

  private async tick(): Promise<void> {
    const maxWait = this.options.maxWaitMs ?? 60_000;
    let wait = maxWait;
    try {
      const em = this.orm.em.fork();
      await applyDueRevisions(em);
      // How long until the next date by the database's clock, which decides "due"
      // (`live_at <= now()`): by this process's, a clock running ahead would find nothing
      // due yet and wake again every few milliseconds until the database's caught up.
      const [next] = await em.execute<{ wait_ms: number | null }[]>(
        `select (extract(epoch from min(live_at) - clock_timestamp()) * 1000)::float8 as wait_ms
           from rate_revision where applied_at is null and cancelled_at is null`,
      );
      if (next?.wait_ms != null) wait = Math.min(maxWait, Number(next.wait_ms) + 5);
    } catch (error) {
      if (this.stopped) return;
      getLogger().error({ err: error }, 'applying scheduled rate revisions failed');
      wait = 5_000;
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => this.wake(), Math.max(10, wait));
    this.timer.unref();
  }
}

/**
 * Shared through globalThis: the route handlers that schedule and the server that applies.
 * Every timer this process runs (the server's; a test starts one beside it to play a
 * process starting), so that stopping one leaves the others nudged.
 */
const TIMERS_KEY = Symbol.for('reseller-panel.revision-timers');
type TGlobalWithTimers = typeof globalThis & { [TIMERS_KEY]?: Set<RevisionTimer> };

function revisionTimers(): Set<RevisionTimer> {
  return ((globalThis as TGlobalWithTimers)[TIMERS_KEY] ??= new Set());
}

/** The revision timers running in this process. */
export function runningRevisionTimers(): RevisionTimer[] {
  return [...revisionTimers()];
}

/** After a commit that scheduled or cancelled a revision: re-arm for its date. */
export function nudgeRevisionTimer(): void {
  for (const timer of revisionTimers()) timer.wake();
}
