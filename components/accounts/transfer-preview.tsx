'use client';

import type { TTransferPreview } from '@/lib/shared/schemas/cards';
import { Money } from '@/components/ui/money';
import { formatPriceChange } from '@/lib/shared/format';

/**
 * The transfer's dry run in the wizard's summary (issue 17): the customer's card now and
 * the one it would get, side by side for a sample of destinations, what happens to its
 * currency, balance and credit limit, and the new card's scheduled rate changes.
 */
export function TransferPreview({ preview }: { preview: TTransferPreview }) {
  const { currency, balance, creditLimit } = preview;
  const oldCard = preview.from.card;
  const newCard = preview.to.card;
  // What the old parent earns on the customer now, where the caller may see its buy card.
  // Unless the customer moves below its old parent: that one then stays above it in the
  // chain, selling to the new parent, and loses nothing it can be shown losing here.
  const kept = preview.to.belowOldParent;
  const lost = !kept && preview.samples.some((sample) => sample.old?.margin60 != null);
  // What the customer pays after against now, for a 60 s call (converted when its currency
  // is): none where the move is refused, as no price then applies.
  const rate =
    currency.outcome === 'converted' ? currency.rate : currency.outcome === 'kept' ? '1' : null;
  const change = (sample: TTransferPreview['samples'][number]) =>
    rate !== null && sample.old && sample.new
      ? formatPriceChange(sample.old.price60, sample.new.price60, rate)
      : null;
  return (
    <section
      aria-label="What the transfer changes"
      className="space-y-3 rounded-md border border-slate-200 bg-slate-50 p-3 text-sm"
      data-testid="transfer-preview"
    >
      {currency.outcome === 'refused' ? (
        <p role="alert" className="font-medium text-red-700">
          Refused: the customer is kept in {currency.from} and {preview.to.parentName} in{' '}
          {currency.to}. Name a conversion rate to move it.
        </p>
      ) : (
        <ul className="space-y-1">
          <li>
            Currency:{' '}
            {currency.outcome === 'kept'
              ? `${currency.from}, kept`
              : `${currency.from} → ${currency.to} at ${currency.rate}`}
          </li>
          <li>
            Balance: <Money amount={balance.from} currency={currency.from} /> →{' '}
            <Money amount={balance.to} currency={currency.to} />
            {balance.outcome === 'settled' ? ` (settled with ${preview.from.parentName})` : ''}
          </li>
          <li>
            Credit limit:{' '}
            {creditLimit.from === null ? (
              'none (kept)'
            ) : (
              <>
                <Money amount={creditLimit.from} currency={currency.from} /> →{' '}
                <Money amount={creditLimit.to} currency={currency.to} />
              </>
            )}
          </li>
        </ul>
      )}
      {preview.unratedCalls ? (
        <p role="alert" className="font-medium text-red-700" data-testid="transfer-unrated">
          {preview.unratedCalls} unrated call{preview.unratedCalls === 1 ? '' : 's'} of this
          customer wait{preview.unratedCalls === 1 ? 's' : ''} for a fix: after the move{' '}
          {preview.unratedCalls === 1 ? 'it is' : 'they are'} of its time under{' '}
          {preview.from.parentName} and never charged. Re-rate them first.
        </p>
      ) : null}
      {preview.ratesWithheld ? (
        <p className="text-slate-600">
          Rates are not compared here: your group does not hold rates:read.
        </p>
      ) : null}
      {preview.samples.length ? (
        <div className="overflow-x-auto">
          <table className="w-full" aria-label="Old and new card compared">
            <caption className="mb-1 text-left font-medium text-slate-700">
              {oldCard ? oldCard.name : 'No card now'} → {newCard.name}: rate and a 60 s call
            </caption>
            <thead>
              <tr className="text-left text-slate-600">
                <th scope="col" className="py-1 pr-3 font-medium">
                  Destination
                </th>
                <th scope="col" className="py-1 pr-3 text-right font-medium">
                  Now
                </th>
                <th scope="col" className="py-1 pr-3 text-right font-medium">
                  After
                </th>
                <th scope="col" className="py-1 pr-3 text-right font-medium">
                  Change (60{'\u00a0'}s)
                </th>
                {lost ? (
                  <th scope="col" className="py-1 pr-3 text-right font-medium">
                    {preview.from.parentName} loses (60{'\u00a0'}s)
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {preview.samples.map((sample) => (
                <tr key={sample.prefix} className="border-t border-slate-200">
                  <td className="py-1 pr-3">
                    {sample.destination} <span className="text-slate-500">({sample.prefix})</span>
                  </td>
                  <td className="py-1 pr-3 text-right tabular-nums">
                    <Side side={sample.old} currency={oldCard?.currency ?? null} />
                  </td>
                  <td className="py-1 pr-3 text-right tabular-nums">
                    <Side side={sample.new} currency={newCard.currency} />
                  </td>
                  <td className="whitespace-nowrap py-1 pr-3 text-right tabular-nums">
                    {change(sample) ?? <span className="text-slate-500">—</span>}
                  </td>
                  {lost ? (
                    <td className="py-1 pr-3 text-right tabular-nums">
                      {sample.old?.margin60 != null ? (
                        <Money
                          amount={sample.old.margin60}
                          currency={oldCard?.currency ?? null}
                          keepDecimals
                        />
                      ) : (
                        <span className="text-slate-500">—</span>
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {kept && preview.samples.length ? (
        <p>
          {preview.from.parentName} stays above {preview.to.parentName} in the chain: it goes on
          earning on these calls at the prices it sells to {preview.to.parentName}.
        </p>
      ) : null}
      {preview.scheduledRevisions.length ? (
        <p>
          Scheduled on {newCard.name}:{' '}
          {preview.scheduledRevisions
            .map(
              (revision) =>
                `revision ${revision.number} from ${new Date(revision.liveAt).toLocaleString()} (${revision.increased} up, ${revision.decreased} down)`,
            )
            .join('; ')}
          .
        </p>
      ) : null}
    </section>
  );
}

function Side({
  side,
  currency,
}: {
  side: TTransferPreview['samples'][number]['old'];
  currency: string | null;
}) {
  if (!side) return <span className="text-slate-500">not reached</span>;
  return (
    // Wrapped between its parts only, never inside one ("60 / s: €0.0180" at 768 px).
    <span>
      <span className="whitespace-nowrap">
        <Money amount={side.rate} currency={currency} keepDecimals />
        /min,
      </span>{' '}
      <span className="whitespace-nowrap">{side.billing};</span>{' '}
      <span className="whitespace-nowrap">
        60 s: <Money amount={side.price60} currency={currency} keepDecimals />
      </span>
    </span>
  );
}
