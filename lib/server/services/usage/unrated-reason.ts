import type { TUnratedReason } from '@/lib/shared/schemas/usage';

/**
 * Reasons that say what a card holds (none for the call's account, another currency than
 * its payer's, the number's prefix blocked). They arise at one level of the chain: the
 * card the account paying there holds (`usage_record.reason_depth`, that account's depth).
 */
const CARD_TROUBLE = ['no_card', 'currency_mismatch', 'blocked_prefix'] as const;

/**
 * Reasons a fix of a card clears: its card's trouble, or a missing route. A re-rate prices
 * a call unrated for one of them by the cards as they stand then (rerate-usage.ts).
 */
export const FIXED_BY_CARDS: readonly TUnratedReason[] = [...CARD_TROUBLE, 'no_route'];

/**
 * An unrated call's reason as a viewer at `viewerDepth` (a carrier 0) may read it: a card's
 * trouble at a level above the viewer reads `no_route` — it learns that something above
 * refuses, never what its parent's or the carrier's cards hold — as `POST /authorize`
 * answers a refusal above the caller (calls/authorize-call.ts, `ABOVE_REASON`). A record
 * with no depth (rated before it was kept) counts as trouble at the top.
 */
export function reasonFor(
  reason: TUnratedReason | null,
  reasonDepth: number | null,
  viewerDepth: number,
): TUnratedReason | null {
  const card = (CARD_TROUBLE as readonly string[]).includes(reason ?? '');
  return card && (reasonDepth ?? 0) < viewerDepth ? 'no_route' : reason;
}

/**
 * Of `usage_record` `alias`: unrated for a reason a fix may clear. Two never clear: a call
 * from before its customer's transfer (`moved`), and one made while an account on its
 * path was suspended — judged at its start, so lifting the suspension changes nothing.
 * That is asked of the suspensions themselves (`account_suspension`), not of the reason
 * alone: a record stored `account_suspended` before suspensions were dated (judged by the
 * status at its posting) may be of a call made before its suspension, which a re-rate
 * now charges.
 */
export function fixableSql(alias: string): string {
  return `${alias}.status = 'unrated' and coalesce(${alias}.reason, '') <> 'moved'
    and not (${alias}.reason = 'account_suspended'
             and exists (select 1 from account_suspension s
                          where s.account_id = any(string_to_array(rtrim(${alias}.path, '/'), '/')::uuid[])
                            and s.from_at <= ${alias}.started_at
                            and (s.to_at is null or s.to_at > ${alias}.started_at)))`;
}

/** `reasonFor` of the record aliased `alias`, in SQL; its one parameter is the viewer's depth. */
export function reasonSql(alias: string): string {
  const card = CARD_TROUBLE.map((reason) => `'${reason}'`).join(', ');
  return `(case when ${alias}.reason in (${card}) and coalesce(${alias}.reason_depth, 0) < ?
                then 'no_route' else ${alias}.reason end)`;
}
