import type { EntityManager } from '@mikro-orm/postgresql';
import { CardAssignment } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { can } from '@/lib/server/authz/can';
import { isBelow, parentPathOf } from '@/lib/server/authz/scope';
import { directQuery } from '@/lib/server/db/direct-query';
import { DomainError } from '@/lib/server/errors/domain-error';
import { callPrice } from '@/lib/shared/pricing/billing';
import { money, type TCardRounding } from '@/lib/shared/pricing/money';
import type { TTransfer, TTransferPreview } from '@/lib/shared/schemas/cards';
import { findVisibleCard } from '@/lib/server/services/cards/card-store';
import { currencyMismatch } from '@/lib/server/services/assignments/create-assignment';
import { fixableSql } from '@/lib/server/services/usage/unrated-reason';
import { atScale } from './account-dto';
import {
  assertCanTransfer,
  checkTransfer,
  converted,
  currencyConversion,
} from './transfer-customer';

/** How many destinations the comparison shows. */
const SAMPLE_SIZE = 10;
/** The call the comparison prices. */
const CALL_SECONDS = 60;

interface TMatchRow {
  sample: string;
  prefix: string;
  rate: string;
  connection_fee: string;
  initial_increment: number;
  increment: number;
  grace_seconds: number;
  minimum_seconds: number;
}

/**
 * `POST /customers/{id}/transfer?dryRun=true` (issue 17): the transfer's own checks, in
 * the caller's scope, then what the move would change — old card against new for a
 * sample of destinations (the rate and a 60 s call), the currency rule's outcome (a
 * refusal is reported, not thrown), balance and credit limit after, and the revisions
 * scheduled on the new card (those two only with `rates:read`). Reads only: nothing is
 * locked, written or logged.
 */
export async function previewTransfer(
  em: EntityManager,
  actor: TActor,
  unverifiedId: string,
  input: TTransfer,
): Promise<TTransferPreview> {
  assertCanTransfer(actor, input);
  const { customer, parentName, target, card } = await checkTransfer(
    em,
    actor,
    unverifiedId,
    input,
    { lock: false },
  );
  const refused = target.currency !== customer.currency && input.rate === undefined;
  if (refused && card.currency !== target.currency) throw currencyMismatch(card.currency, target);
  const conversion = refused ? null : currencyConversion(customer, target, card, input.rate);

  // The rates compared and the revisions scheduled are what `GET /cards/{id}/rates` and
  // `/margin` show (buy and sell prices): only with `rates:read`, as there.
  const showsRates = can(actor, 'rates:read');
  const held = await em.findOne(CardAssignment, { account: customer.id });
  // The old card is read through authz like any other (the caller is above its owner).
  const oldCard = held ? (await findVisibleCard(em, actor, held.card.id)).card : null;
  // The cards above them (what their owners pay), each only if the caller may see it.
  const [oldBuy, newBuy] = await Promise.all([
    visibleParent(em, actor, oldCard),
    visibleParent(em, actor, card),
  ]);
  const samples = showsRates ? await sampleDestinations(em, oldCard?.id ?? card.id) : [];
  const none = new Map<string, TMatchRow>();
  const [before, after, beforeBuy, afterBuy] = await Promise.all([
    oldCard ? matches(em, oldCard.id, samples) : none,
    matches(em, card.id, samples),
    oldBuy ? matches(em, oldBuy.id, samples) : none,
    newBuy ? matches(em, newBuy.id, samples) : none,
  ]);
  const revisions = !showsRates
    ? []
    : await directQuery<{
        number: number;
        live_at: string;
        increased: number;
        decreased: number;
        added: number;
        removed: number;
      }>(
        em,
        `select number, live_at, increased, decreased, added, removed from rate_revision
      where card_id = ? and applied_at is null and cancelled_at is null
      order by live_at, number`,
        [card.id],
      );

  // Its calls still waiting for a fix (what a re-rate would take, filed under it now):
  // after the move they are of its old time, `moved`, never charged (rate-batch.ts).
  const [waiting] = can(actor, 'usage:read')
    ? await directQuery<{ n: string }>(
        em,
        `select count(*)::text as n from usage_record r
          where r.account_id = ? and r.path = ? and ${fixableSql('r')}`,
        [customer.id, customer.path],
      )
    : [];

  const limit = customer.creditLimit ?? null;
  const outcome = refused ? 'refused' : conversion ? 'converted' : 'kept';
  const settle = input.balance === 'settle';
  const convert = (amount: string, field: string) =>
    conversion ? converted(amount, conversion.rate, field) : atScale(amount);
  return {
    dryRun: true,
    customerId: customer.id,
    from: {
      parentId: customer.parent!.id,
      parentName,
      card: oldCard ? { id: oldCard.id, name: oldCard.name, currency: oldCard.currency } : null,
    },
    to: {
      parentId: target.id,
      parentName: target.name,
      card: { id: card.id, name: card.name, currency: card.currency },
      belowOldParent: isBelow(parentPathOf(customer), target.path),
    },
    currency: {
      outcome,
      from: customer.currency,
      to: target.currency,
      rate: input.rate ?? null,
    },
    balance: {
      outcome: settle ? 'settled' : conversion ? 'converted' : 'kept',
      from: atScale(customer.balance),
      to: refused ? null : settle ? atScale('0') : convert(customer.balance, 'balance'),
    },
    creditLimit: {
      from: limit === null ? null : atScale(limit),
      to: refused || limit === null ? null : convert(limit, 'creditLimit'),
    },
    ratesWithheld: !showsRates,
    samples: samples.map(({ prefix, destination }) => ({
      prefix,
      destination,
      old: oldCard
        ? side(before.get(prefix), oldCard, oldBuy && { card: oldBuy, row: beforeBuy.get(prefix) })
        : null,
      new: side(after.get(prefix), card, newBuy && { card: newBuy, row: afterBuy.get(prefix) }),
    })),
    scheduledRevisions: revisions.map((row) => ({
      number: row.number,
      liveAt: new Date(row.live_at).toISOString(),
      increased: row.increased,
      decreased: row.decreased,
      added: row.added,
      removed: row.removed,
    })),
    unratedCalls: waiting ? Number(waiting.n) : null,
  };
}

/**
 * One card's row for a destination: its rate, billing, a 60 s call's price, and the
 * owner's margin on that call over the card above (`buy`: that card and its row, when
 * the caller may see it).
 */
function side(
  row: TMatchRow | undefined,
  card: TCardRounding,
  buy: { card: TCardRounding; row: TMatchRow | undefined } | null | undefined,
) {
  if (!row) return null;
  const price60 = price(row, card);
  const cost60 = buy?.row ? price(buy.row, buy.card) : null;
  return {
    prefix: row.prefix,
    rate: money(row.rate).toFixed(card.decimals),
    price60,
    // At the finer of the two precisions: the exact difference of two billed prices.
    margin60:
      cost60 === null
        ? null
        : money(price60).minus(cost60).toFixed(Math.max(card.decimals, buy!.card.decimals)),
    billing: `${row.initial_increment}/${row.increment}`,
  };
}

/** A 60 s call's price on a row, at its card's precision and rounding. */
function price(row: TMatchRow, card: TCardRounding): string {
  const terms = {
    rate: row.rate,
    connectionFee: row.connection_fee,
    initialIncrement: row.initial_increment,
    increment: row.increment,
    graceSeconds: row.grace_seconds,
    minimumSeconds: row.minimum_seconds,
  };
  return callPrice(terms, CALL_SECONDS, card);
}

/** The card a derived card is priced from, when the caller may see it (else null). */
async function visibleParent(
  em: EntityManager,
  actor: TActor,
  card: { parent?: { id: string } | null } | null,
): Promise<(TCardRounding & { id: string }) | null> {
  const parentId = card?.parent?.id;
  if (!parentId) return null;
  try {
    return (await findVisibleCard(em, actor, parentId)).card;
  } catch (error) {
    if (error instanceof DomainError && error.kind === 'not_found') return null;
    throw error;
  }
}

/** Destinations to compare on: the first few of the customer's card (each once). */
async function sampleDestinations(em: EntityManager, cardId: string) {
  return directQuery<{ prefix: string; destination: string }>(
    em,
    `select prefix, destination from (
       select distinct on (destination) prefix, destination from rate
        where card_id = ? and not blocked and (effective_from is null or effective_from <= now())
        order by destination, length(prefix), prefix) d
      order by destination limit ?`,
    [cardId, SAMPLE_SIZE],
  );
}

/** The longest prefix of the card in effect now for each sample, one probe per sample. */
async function matches(
  em: EntityManager,
  cardId: string,
  samples: { prefix: string }[],
): Promise<Map<string, TMatchRow>> {
  if (!samples.length) return new Map();
  const rows = await directQuery<TMatchRow>(
    em,
    `select s.prefix as sample, m.* from unnest(?::text[]) as s(prefix)
      cross join lateral (
        select prefix, rate::text as rate, connection_fee::text as connection_fee,
               initial_increment, increment, grace_seconds, minimum_seconds
          from rate
         where card_id = ? and not blocked
           and prefix = any(array(select left(s.prefix, n) from generate_series(1, length(s.prefix)) n))
           and (effective_from is null or effective_from <= now())
         order by length(prefix) desc, effective_from desc nulls last
         limit 1) m`,
    [`{${samples.map((sample) => sample.prefix).join(',')}}`, cardId],
  );
  return new Map(rows.map((row) => [row.sample, row]));
}
