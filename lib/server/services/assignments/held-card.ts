/**
 * Which card a customer's call is priced at: the card the customer held when the call
 * started (`customer_card_span`, kept by a trigger on `card_assignment`:
 * Migration20261217100000), so a call posted late, or re-rated, after its customer was
 * given another card is charged as it was when it was made. A call from when the
 * customer held no card — before its first one, or between a card taken away and the next
 * — takes the next card it was given: that assignment is how an operator fixes calls left
 * unrated `no_card`, and re-rating them then prices them. No card then or since: none.
 *
 * One rule in two dialects, kept together: SQL for the price trace and the switch's
 * authorization at an instant (`heldCardAtSql`), TypeScript for rating a batch, which
 * reads each customer's spans once (`cardHeldAt`). tests/unit/held-card.test.ts states the
 * rule; tests/integration/usage-rules.test.ts ("a customer given another card") prices
 * calls on either side of a replacement and a removal both ways, and the rating property
 * test (usage-rating.test.ts) compares rating with the trace at every call's start.
 */

/** One exclusive assignment's life, in epoch milliseconds (`to` null: still held). */
export interface TCardSpan {
  card: string;
  from: number;
  to: number | null;
}

/**
 * The card held at `at` (ms), else the first given after it (the lower card id on a tie);
 * null when neither. A span of no length (given and taken in one instant) was never held.
 */
export function cardHeldAt(spans: readonly TCardSpan[], at: number): string | null {
  let next: TCardSpan | null = null;
  for (const span of spans) {
    if (span.to !== null && (span.to <= at || span.to <= span.from)) continue;
    if (span.from <= at) return span.card;
    if (!next || span.from < next.from || (span.from === next.from && span.card < next.card)) {
      next = span;
    }
  }
  return next?.card ?? null;
}

/**
 * The spans that count: those of a card its current parent owns (a customer's card is
 * always its parent's: create-assignment.ts). A customer transferred keeps its old spans
 * in the table, but its new parent, who now manages its people, must never price,
 * authorize or show a call on the old parent's card — whether the old parent left its
 * path (a move sideways) or is still above it (a move down to a reseller of its own):
 * before the move its calls are unrated `moved`, and at an instant before it the next
 * card given — the new parent's — is the one.
 */
function countingSpanSql(): { join: string; where: string } {
  return {
    join: `join card held_card on held_card.id = s.card_id join account holder on holder.id = s.account_id`,
    where: 'held_card.owner_id = holder.parent_id',
  };
}

/**
 * `cardHeldAt` as a scalar subquery: the card `account` (an SQL expression) held at
 * `instant` (a timestamptz expression, written once: it may be a parameter), else the
 * first given after it; null when neither.
 */
export function heldCardAtSql(account: string, instant: string): string {
  const counting = countingSpanSql();
  return `(select s.card_id from customer_card_span s ${counting.join},
                  (select ${instant} as t) i
            where s.account_id = ${account} and ${counting.where}
              and (s.to_at is null or (s.to_at > i.t and s.to_at > s.from_at))
            order by s.from_at <= i.t desc, s.from_at, s.card_id::text collate "C" limit 1)`;
}

/**
 * Each customer's spans that had not ended by `since` (ms), as one JSON array per
 * account (`TCardSpan[]`, oldest first): the subquery rating's plan reads per customer.
 * `account` is an SQL expression; the one parameter is `since`.
 */
export function spansSinceSql(account: string): string {
  const counting = countingSpanSql();
  return `coalesce((select json_agg(json_build_object(
              'card', s.card_id,
              'from', extract(epoch from s.from_at) * 1000,
              'to', extract(epoch from s.to_at) * 1000) order by s.from_at, s.card_id, s.to_at)
             from customer_card_span s ${counting.join}
            where s.account_id = ${account} and ${counting.where}
              and (s.to_at is null or s.to_at > to_timestamp(?::float8 / 1000))), '[]')`;
}
