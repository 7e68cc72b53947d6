import type { EntityManager } from '@mikro-orm/postgresql';
import { directQuery } from '@/lib/server/db/direct-query';
import { conflict } from '@/lib/server/errors/domain-error';
import { atScale } from '@/lib/server/services/accounts/account-dto';
import { Money } from '@/lib/shared/pricing/money';
import type { TStatementUsageLine } from '@/lib/shared/schemas/statements';
import type { TPeriod } from './statement-period';

/** What a statement says, every amount a decimal string signed as the ledger signs it. */
export interface TStatementFigures {
  currency: string;
  openingBalance: string;
  usageTotal: string;
  paymentsTotal: string;
  creditNotesTotal: string;
  adjustmentsTotal: string;
  closingBalance: string;
  usage: TStatementUsageLine[];
  /** The period's other movements, one by one (payments, credit notes, adjustments). */
  movements: { at: string; kind: string; reference: string | null; amount: string }[];
}

/** What the destinations cannot account for (a charge with no destination never exists). */
const OTHER_USAGE = 'Other usage';

/**
 * An account's figures for a period, from its ledger alone: the opening balance is the
 * balance after its last movement before the period (0 with none), each kind's movements
 * in the period are summed, and the closing balance must be both opening + movements and
 * the balance after the period's last movement — checked here, so a statement that does
 * not add up is never issued. Usage is broken down by destination from the charges the
 * period's usage entries carried (`usage_charge.ledger_entry_id`), so the breakdown sums
 * to the usage the ledger moved. The caller holds the account's row lock: no movement
 * lands while this reads. A period whose movements are in more than one currency (a
 * transfer converted the balance inside it) is refused: no single currency states it.
 */
export async function statementFigures(
  em: EntityManager,
  account: { id: string; currency: string },
  period: TPeriod,
): Promise<TStatementFigures> {
  const [row] = await directQuery<{
    opening: string | null;
    opening_currency: string | null;
    closing: string | null;
    totals: { kind: string; total: string }[] | null;
    currencies: string[] | null;
    movements: { at: string; kind: string; reference: string | null; amount: string }[] | null;
  }>(
    em,
    `with before as (
       select balance_after, currency from ledger_entry
        where account_id = ? and created_at < ? order by id desc limit 1),
     inside as (
       select * from ledger_entry where account_id = ? and created_at >= ? and created_at < ?)
     select (select balance_after::text from before) as opening,
            (select currency from before) as opening_currency,
            (select balance_after::text from inside order by id desc limit 1) as closing,
            (select json_agg(json_build_object('kind', kind, 'total', total::text))
               from (select kind, sum(amount) as total from inside group by kind) t) as totals,
            (select array_agg(distinct currency) from inside) as currencies,
            (select json_agg(json_build_object('at', created_at, 'kind', kind,
                      'reference', reference, 'amount', amount::text) order by id)
               from inside where kind <> 'usage') as movements`,
    [account.id, period.start, account.id, period.start, period.end],
  );
  // A balance of nothing is in no currency: after a transfer that settled the balance, or
  // converted it to nothing, the account opens in its new currency with no movement saying
  // so, and a later period opening at zero is stated in what moved inside it.
  const openingCounts = row?.opening_currency && !new Money(row.opening ?? '0').isZero();
  const currencies = new Set([
    ...(openingCounts ? [row.opening_currency!] : []),
    ...(row?.currencies ?? []),
  ]);
  if (currencies.size > 1) {
    throw conflict(
      'currency_changed',
      `The account's ledger changed currency in ${period.period} (a transfer converted its balance); no single currency states that month.`,
      { fields: { period: 'spans a currency conversion' } },
    );
  }
  // Nothing moved and it opened at zero: the account's currency now — not the one its
  // last entry was in, which a converting transfer of a zero balance left behind.
  const currency = [...currencies][0] ?? account.currency;
  const total = (kind: string) =>
    new Money(row?.totals?.find((entry) => entry.kind === kind)?.total ?? '0');
  const opening = new Money(row?.opening ?? '0');
  const usage = total('usage');
  const payments = total('payment');
  const creditNotes = total('credit_note');
  const adjustments = total('adjustment');
  const closing = opening.plus(usage).plus(payments).plus(creditNotes).plus(adjustments);
  // The ledger's own balance after the period's last movement: the statement must agree.
  const kept = new Money(row?.closing ?? row?.opening ?? '0');
  if (!closing.eq(kept)) {
    throw new Error(
      `statement of ${account.id} for ${period.period}: opening + movements ${closing.toFixed(6)} ≠ ledger balance ${kept.toFixed(6)}`,
    );
  }
  return {
    currency,
    openingBalance: opening.toFixed(6),
    usageTotal: usage.toFixed(6),
    paymentsTotal: payments.toFixed(6),
    creditNotesTotal: creditNotes.toFixed(6),
    adjustmentsTotal: adjustments.toFixed(6),
    closingBalance: closing.toFixed(6),
    usage: await usageByDestination(em, account.id, period, usage),
    movements: (row?.movements ?? []).map((movement) => ({
      at: new Date(movement.at).toISOString(),
      kind: movement.kind,
      reference: movement.reference,
      amount: atScale(movement.amount),
    })),
  };
}

/**
 * The period's usage charges to the account by destination: the calls that cost
 * something. A usage entry is one rated batch's charges to one payer, so its charges sum
 * to what it moved; should they not (an entry written otherwise), the rest is its own
 * line, and the lines still sum to the ledger's usage. A free call (within its grace, or
 * at a price of 0) is left out: a batch of nothing but free calls moves nothing, so no
 * entry carries them, and counting the free calls an entry happens to carry would make a
 * line depend on how the switch batched its calls. The usage list has every call.
 */
async function usageByDestination(
  em: EntityManager,
  accountId: string,
  period: TPeriod,
  usage: InstanceType<typeof Money>,
): Promise<TStatementUsageLine[]> {
  const rows = await directQuery<{
    destination: string;
    calls: string;
    seconds: string;
    amount: string;
  }>(
    em,
    `select c.destination, count(*)::text as calls, sum(c.billed_seconds)::text as seconds,
            sum(c.amount)::text as amount
       from ledger_entry e join usage_charge c on c.ledger_entry_id = e.id and c.payer_id = e.account_id
      where e.account_id = ? and e.kind = 'usage' and e.created_at >= ? and e.created_at < ?
        and c.amount > 0
      group by c.destination order by c.destination`,
    [accountId, period.start, period.end],
  );
  const lines: TStatementUsageLine[] = rows.map((row) => ({
    destination: row.destination,
    calls: Number(row.calls),
    billedSeconds: Number(row.seconds),
    amount: new Money(row.amount).toFixed(6),
  }));
  const charged = lines.reduce((sum, line) => sum.plus(line.amount), new Money(0));
  const rest = usage.negated().minus(charged);
  if (!rest.isZero()) {
    lines.push({ destination: OTHER_USAGE, calls: 0, billedSeconds: 0, amount: rest.toFixed(6) });
  }
  return lines;
}
