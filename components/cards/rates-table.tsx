'use client';

import { useEffect, useState } from 'react';
import { usePagedList } from '@/lib/client/use-resource';
import type { TCardDto } from '@/lib/shared/schemas/cards';
import type { TRateDto } from '@/lib/shared/schemas/rates';
import { ListState } from '@/components/ui/field';

const ROW_HEIGHT = 36;
const VIEW_ROWS = 12;
const OVERSCAN = 8;

/**
 * A card's rates, windowed: only the rows in view (plus a margin) are in the DOM, and
 * pages load as the scroll nears the end, so a 100k-row card scrolls like a short one.
 * Prefix search narrows on the server. Live: the cache refetches this list when the
 * card's rates change.
 */
export function RatesTable({
  card,
  showMargin,
  onLoaded,
}: {
  card: TCardDto;
  showMargin: boolean;
  onLoaded?: (rows: TRateDto[]) => void;
}) {
  const [prefix, setPrefix] = useState('');
  const [scrollTop, setScrollTop] = useState(0);
  const search = /^\d{1,20}$/.test(prefix) ? `?prefix=${prefix}` : '';
  const list = usePagedList<TRateDto & { version?: number }>(`/cards/${card.id}/rates${search}`);
  const rows = list.data ?? [];
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, first + VIEW_ROWS + 2 * OVERSCAN);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;

  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && last >= rows.length - OVERSCAN) void fetchNextPage();
  }, [last, rows.length, hasNextPage, isFetchingNextPage, fetchNextPage]);
  useEffect(() => {
    if (rows.length) onLoaded?.(rows.slice(0, 5));
    // Only the first rows matter to the preview; a new page need not re-render it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rows[0]?.id, rows.length > 0]);

  const headers = ['Prefix', 'Destination', 'Rate/min', 'Fee', 'Billing', 'Grace', 'From', ''];
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
              setScrollTop(0);
            }}
            className="mt-1 w-40 rounded-md border border-slate-300 px-3 py-1.5 text-sm focus:outline-none focus:ring-2 focus:ring-brand-500"
            placeholder="e.g. 44"
          />
        </div>
        <p className="text-xs text-slate-500" aria-live="polite">
          {rows.length} of {search ? 'the matching' : card.rateCount} rates loaded
        </p>
      </div>
      <ListState isLoading={list.isLoading} error={list.error} empty={rows.length === 0}>
        <div
          className="overflow-auto rounded-md border border-slate-200"
          style={{ height: ROW_HEIGHT * (VIEW_ROWS + 1) }}
          onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
          tabIndex={0}
          aria-label="Rates, scrollable"
        >
          <table
            className="min-w-full text-left text-sm"
            aria-label="Rates"
            aria-rowcount={rows.length + 1}
          >
            <thead className="sticky top-0 bg-white text-xs uppercase tracking-wide text-slate-500 shadow-sm">
              <tr style={{ height: ROW_HEIGHT }}>
                {headers.map((header) => (
                  <th key={header} scope="col" className="px-2 font-medium">
                    {header}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              <tr style={{ height: first * ROW_HEIGHT }} aria-hidden="true" />
              {rows.slice(first, last).map((row, index) => (
                <tr
                  key={`${row.prefix}@${row.effectiveFrom ?? ''}`}
                  aria-rowindex={first + index + 2}
                  style={{ height: ROW_HEIGHT }}
                  className={row.losing ? 'bg-red-50' : ''}
                >
                  <td className="px-2 font-mono">{row.prefix}</td>
                  <td className="px-2">{row.destination}</td>
                  <td className="px-2 font-mono">{row.rate}</td>
                  <td className="px-2 font-mono">{row.connectionFee}</td>
                  <td className="px-2">
                    {row.initialIncrement}/{row.increment}
                  </td>
                  <td className="px-2">{row.graceSeconds ? `${row.graceSeconds} s` : '—'}</td>
                  <td className="px-2">
                    {row.effectiveFrom ? row.effectiveFrom.slice(0, 10) : 'always'}
                  </td>
                  <td className="px-2 text-xs">
                    {row.blocked ? 'blocked ' : ''}
                    {showMargin && row.losing ? (
                      <span className="font-semibold text-red-700">loses money</span>
                    ) : null}
                    {showMargin && row.overridden ? ' override' : ''}
                  </td>
                </tr>
              ))}
              <tr
                style={{ height: Math.max(0, rows.length - last) * ROW_HEIGHT }}
                aria-hidden="true"
              />
            </tbody>
          </table>
        </div>
      </ListState>
    </div>
  );
}
