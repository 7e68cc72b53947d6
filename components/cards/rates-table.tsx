'use client';

import { ruleFor } from '@/lib/shared/pricing/markup';
import { useEffect, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { queryKeys } from '@/lib/client/query-keys';
import { useWindowedList } from '@/lib/client/use-resource';
import { heldRows, type TRowRange } from '@/lib/client/windowed-list';
import type { TCardDto } from '@/lib/shared/schemas/cards';
import type { TRateDto } from '@/lib/shared/schemas/rates';
import { ListState } from '@/components/ui/field';
import { DateTime } from '@/components/ui/date-time';
import { Money } from '@/components/ui/money';

const ROW_HEIGHT = 36;
const VIEW_ROWS = 12;
const OVERSCAN = 8;
/** The API's largest page: a 100k-row card is 200 requests to scroll end to end. */
const PAGE_SIZE = 500;
/** Rows held at most (4 × 500): scrolling further drops pages at the other end. */
const MAX_PAGES = 4;

const HEADERS = ['Prefix', 'Destination', 'Rate/min', 'Fee', 'Billing', 'Grace', 'From', ''];

/**
 * A card's rates, windowed: only the rows in view (plus a margin) are in the DOM
 * (@tanstack/react-virtual), pages of 500 load as the scroll nears either end of what
 * is held, and at most four pages are held. Prefix search narrows on the server. Live:
 * a change of the card's rates refetches only the pages on screen.
 */
export function RatesTable({
  card,
  showMargin,
  onLoaded,
  parentNames,
  onEdit,
}: {
  card: TCardDto;
  showMargin: boolean;
  onLoaded?: (rows: TRateDto[]) => void;
  /** The owner of a card that is not derived: each row offers Edit, which hands it here. */
  onEdit?: (row: TRateDto) => void;
  /** A card following several parents: their names, by id, for the row's pricing parent. */
  parentNames?: Record<string, string>;
}) {
  const [prefix, setPrefix] = useState('');
  // Which markup rule priced a derived row: the same longest-prefix pick as the server's.
  const rules = (card.relation === 'owner' && card.markup?.rules) || [];
  const search = /^\d{1,20}$/.test(prefix) ? prefix : undefined;
  const scroller = useRef<HTMLDivElement>(null);
  const onScreen = useRef<TRowRange>({ from: 0, to: VIEW_ROWS });
  const list = useWindowedList<TRateDto & { version?: number }>(
    queryKeys.under('cards', card.id, 'rates', { prefix: search }),
    { pageSize: PAGE_SIZE, maxPages: MAX_PAGES, visible: () => onScreen.current },
  );
  const held = heldRows(list.data);
  // The panel does not use the React Compiler; the virtualizer re-renders on scroll itself.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    // One row past what is held while the server has more: scrolling onto it loads it.
    count: held.end + (list.hasNextPage ? 1 : 0),
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: OVERSCAN,
    // The sticky header row sits above the first row inside the scroller.
    paddingStart: ROW_HEIGHT,
  });
  const items = virtualizer.getVirtualItems();
  const from = items[0]?.index ?? 0;
  const to = items.at(-1)?.index ?? 0;
  const { hasNextPage, hasPreviousPage, isFetching, fetchNextPage, fetchPreviousPage } = list;

  useEffect(() => {
    onScreen.current = { from, to };
    if (isFetching) return;
    if (hasNextPage && to >= held.end - OVERSCAN) void fetchNextPage();
    else if (hasPreviousPage && from < held.first + OVERSCAN) void fetchPreviousPage();
  }, [
    from,
    to,
    held.first,
    held.end,
    hasNextPage,
    hasPreviousPage,
    isFetching,
    fetchNextPage,
    fetchPreviousPage,
  ]);
  const firstRow = held.first === 0 ? held.at(0) : undefined;
  useEffect(() => {
    if (list.data && held.first === 0) onLoaded?.(list.data.pages[0]!.items.slice(0, 5));
    // Only the first rows matter to the preview; a new page need not re-render it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [firstRow]);

  const top = (items[0]?.start ?? ROW_HEIGHT) - ROW_HEIGHT;
  const bottom = items.length ? virtualizer.getTotalSize() - items.at(-1)!.end : 0;
  return (
    <div>
      <div className="mb-2 flex items-end justify-between gap-3">
        <div>
          <label htmlFor="rates-prefix" className="block text-sm font-medium text-slate-700">
            Search by prefix
          </label>
          <input
            id="rates-prefix"
            inputMode="numeric"
            value={prefix}
            onChange={(event) => {
              setPrefix(event.target.value.replace(/\D/g, '').slice(0, 20));
              scroller.current?.scrollTo({ top: 0 });
            }}
            className="mt-1 w-40 rounded-md border border-slate-300 px-3 py-1.5 text-sm focus:outline-none focus:ring-2 focus:ring-brand-500"
            placeholder="e.g. 44"
          />
        </div>
        <p className="text-xs text-slate-500" aria-live="polite">
          {held.end > held.first
            ? `Rows ${held.first + 1}–${held.end} held of ${search ? 'the matching' : card.rateCount} rates`
            : `0 of ${search ? 'the matching' : card.rateCount} rates loaded`}
        </p>
      </div>
      <ListState isLoading={list.isLoading} error={list.error} empty={held.end === 0}>
        <div
          ref={scroller}
          className="overflow-auto rounded-md border border-slate-200"
          style={{ height: ROW_HEIGHT * (VIEW_ROWS + 1) }}
          tabIndex={0}
          aria-label="Rates, scrollable"
        >
          <table
            className="min-w-full text-left text-sm"
            aria-label="Rates"
            aria-rowcount={hasNextPage ? -1 : held.end + 1}
          >
            <thead className="sticky top-0 bg-white text-xs uppercase tracking-wide text-slate-500 shadow-sm">
              <tr style={{ height: ROW_HEIGHT }}>
                {HEADERS.map((header) => (
                  <th key={header} scope="col" className="px-2 font-medium">
                    {header}
                  </th>
                ))}
                {onEdit ? (
                  <th scope="col" className="px-2 font-medium">
                    <span className="sr-only">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              <tr style={{ height: top }} aria-hidden="true" />
              {items.map((item) => {
                const row = held.at(item.index);
                return row ? (
                  <tr
                    key={`${row.prefix}@${row.effectiveFrom ?? ''}`}
                    aria-rowindex={item.index + 2}
                    style={{ height: ROW_HEIGHT }}
                    className={row.losing ? 'bg-red-50' : ''}
                  >
                    <td className="px-2 font-mono">{row.prefix}</td>
                    <td className="px-2">{row.destination}</td>
                    <td className="px-2 font-mono">
                      <Money
                        amount={row.rate}
                        currency={card.currency}
                        minDecimals={card.decimals}
                      />
                    </td>
                    <td className="px-2 font-mono">
                      <Money
                        amount={row.connectionFee}
                        currency={card.currency}
                        minDecimals={card.decimals}
                      />
                    </td>
                    <td className="px-2">
                      {row.initialIncrement}/{row.increment}
                    </td>
                    <td className="px-2">{row.graceSeconds ? `${row.graceSeconds} s` : '—'}</td>
                    <td className="whitespace-nowrap px-2">
                      {/* The whole moment, in the viewer's zone: a row may take effect at
                          any hour, and its UTC date alone can be another day there. */}
                      {row.effectiveFrom ? <DateTime at={row.effectiveFrom} /> : 'always'}
                    </td>
                    <td className="px-2 text-xs">
                      {row.blocked ? 'blocked ' : ''}
                      {showMargin && row.losing ? (
                        <span className="font-semibold text-red-700">loses money</span>
                      ) : null}
                      {showMargin && row.overridden ? ' override' : ''}
                      {row.pricedBy ? ` from ${parentNames?.[row.pricedBy] ?? 'parent'}` : ''}
                      {row.minimumSeconds ? ` min ${row.minimumSeconds} s` : ''}
                      {showMargin && !row.overridden && rules.length
                        ? ((rule) => (rule ? ` rule ${rule.prefix}` : ''))(
                            ruleFor(row.prefix, rules),
                          )
                        : ''}
                    </td>
                    {onEdit ? (
                      <td className="px-2">
                        <button
                          type="button"
                          className="text-sm text-brand-700 underline focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
                          aria-label={`Edit ${row.prefix} ${row.destination}`}
                          onClick={() => onEdit(row)}
                        >
                          Edit
                        </button>
                      </td>
                    ) : null}
                  </tr>
                ) : (
                  // Dropped (above) or not fetched yet (below): loading as it comes into view.
                  <tr key={`pending-${item.index}`} style={{ height: ROW_HEIGHT }}>
                    <td
                      colSpan={HEADERS.length + (onEdit ? 1 : 0)}
                      className="px-2 text-xs text-slate-400"
                    >
                      Loading…
                    </td>
                  </tr>
                );
              })}
              <tr style={{ height: bottom }} aria-hidden="true" />
            </tbody>
          </table>
        </div>
      </ListState>
    </div>
  );
}
