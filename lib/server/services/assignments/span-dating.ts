import type { EntityManager } from '@mikro-orm/postgresql';
import { atCommitOrder, type TChange } from '@/lib/server/live/change-log';

/**
 * A customer's card spans dated in its carrier's commit order (`atCommitOrder`), as a
 * rate write dates its live-now revisions (rates/revisions.ts `settleDates`). The
 * `card_assignment` trigger stamps a span when the row is written (Migration20261217100000),
 * which for a replacement, a removal or a transfer is seconds before the commit. A rating
 * batch committing in between priced those seconds' calls on the card it could see — the
 * one the switch was also authorised against — which the spans would then say was no
 * longer held. Dated here, after every batch of the carrier that committed before and
 * before any that commits after (which checks its plan's spans in the same order:
 * usage/rate-batch.ts), the spans agree with what was rated. A transfer's `placed_at`, the
 * instant its customer's calls become the new parent's, is dated with them. Only a call
 * dated ahead of the database's clock (the switch's allowance, `USAGE_CLOCK_SKEW_MS`) and
 * rated before the change can fall after the date it is given, as for revisions.
 */
export function settleSpansAtCommit(
  record: (change: TChange) => void,
  carrierId: string,
  accountIds: readonly string[],
  options: { placedAt?: boolean } = {},
): void {
  atCommitOrder(record, carrierId, (tx) => settleSpans(tx, accountIds, options));
}

async function settleSpans(
  tx: EntityManager,
  accountIds: readonly string[],
  options: { placedAt?: boolean },
): Promise<void> {
  const ids = `{${accountIds.join(',')}}`;
  // One instant for the spans and the placing: a call is never before the one and after
  // the other.
  await tx.execute(
    `with t as materialized (select clock_timestamp() as at),
     spans as (
       update customer_card_span s
          -- Named once: a transaction id may come again (after a restore), a span's date not.
          set opened_by = null, closed_by = null,
              from_at = case when s.opened_by = txid_current() then t.at else s.from_at end,
              -- Never before its start, as the trigger keeps it (a clock stepped back).
              to_at = case when s.closed_by = txid_current()
                           then greatest(t.at, case when s.opened_by = txid_current() then t.at
                                                    else s.from_at end)
                           else s.to_at end
         from t
        where s.account_id = any(?::uuid[]) and txid_current() in (s.opened_by, s.closed_by))
     ${
       options.placedAt
         ? `update account a set placed_at = t.at from t where a.id = any(?::uuid[])`
         : 'select 1'
     }`,
    options.placedAt ? [ids, ids] : [ids],
  );
}
