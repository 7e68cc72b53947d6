'use client';

import { useEffect, useRef, type ReactNode } from 'react';

/**
 * A titled card: the list of a page, or its create form. `reveal`: a detail opened from
 * a list — on a narrow screen it lands below the fold, so it scrolls itself into view
 * and takes the focus (keyboard and screen-reader users land on what they opened).
 */
export function PanelSection({
  title,
  children,
  actions,
  reveal = false,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
  reveal?: boolean;
}) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (!reveal || !ref.current) return;
    ref.current.scrollIntoView?.({ block: 'start' });
    ref.current.focus({ preventScroll: true });
  }, [reveal]);
  return (
    <section
      ref={ref}
      aria-label={title}
      tabIndex={reveal ? -1 : undefined}
      className="scroll-mt-4 rounded-lg border border-slate-200 bg-white p-4 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
    >
      <div className="mb-3 flex items-center justify-between gap-3">
        <h2 className="text-sm font-semibold text-slate-700">{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function FormMessage({ message }: { message: string | null }) {
  return message ? (
    <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
      {message}
    </p>
  ) : null;
}

/** A column: its header text, and the `sort` key its header button orders by, if any. */
export type TColumn = string | { label: string; sort?: string };

/**
 * A table. With `sort`, columns that name a sort key get a header button (`aria-sort`
 * on the header cell): a first press sorts ascending, the next one descending. With
 * `selection`, each row gets a checkbox named after the row (`rowLabels`) and the header
 * one that selects every row shown.
 */
export function DataTable({
  headers,
  rows,
  label,
  sort,
  selection,
}: {
  headers: TColumn[];
  rows: ReactNode[][];
  label: string;
  /** The current sort (`name`, `-name`, or none) and what a header press asks for. */
  sort?: { value: string | undefined; onChange: (next: string) => void };
  selection?: {
    rowIds: string[];
    rowLabels: string[];
    selected: ReadonlySet<string>;
    onChange: (next: Set<string>) => void;
  };
}) {
  const columns = headers.map((header) =>
    typeof header === 'string' ? { label: header } : header,
  );
  const allSelected =
    selection !== undefined &&
    selection.rowIds.length > 0 &&
    selection.rowIds.every((id) => selection.selected.has(id));
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-left text-sm" aria-label={label}>
        <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
          <tr>
            {selection ? (
              <th scope="col" className="w-8 px-2 py-2">
                <input
                  type="checkbox"
                  aria-label={`Select every row shown of ${label}`}
                  checked={allSelected}
                  onChange={() =>
                    selection.onChange(allSelected ? new Set() : new Set(selection.rowIds))
                  }
                />
              </th>
            ) : null}
            {columns.map((column, index) => {
              const key = column.sort;
              const state =
                !sort || !key
                  ? undefined
                  : sort.value === key
                    ? 'ascending'
                    : sort.value === `-${key}`
                      ? 'descending'
                      : 'none';
              return (
                <th
                  key={`${column.label}-${index}`}
                  scope="col"
                  aria-sort={state}
                  className="px-2 py-2 font-medium"
                >
                  {sort && key ? (
                    <button
                      type="button"
                      className="inline-flex items-center gap-1 uppercase hover:text-slate-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
                      onClick={() => sort.onChange(state === 'ascending' ? `-${key}` : key)}
                    >
                      {column.label}
                      <span aria-hidden="true">
                        {state === 'ascending' ? '▲' : state === 'descending' ? '▼' : '↕'}
                      </span>
                    </button>
                  ) : column.label ? (
                    column.label
                  ) : (
                    <span className="sr-only">Actions</span>
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((cells, index) => {
            const id = selection?.rowIds[index];
            return (
              <tr key={id ?? index}>
                {selection && id ? (
                  <td className="px-2 py-2">
                    <input
                      type="checkbox"
                      aria-label={`Select ${selection.rowLabels[index] ?? id}`}
                      checked={selection.selected.has(id)}
                      onChange={() => {
                        const next = new Set(selection.selected);
                        if (next.has(id)) next.delete(id);
                        else next.add(id);
                        selection.onChange(next);
                      }}
                    />
                  </td>
                ) : null}
                {cells.map((cell, cellIndex) => (
                  <td key={cellIndex} className="px-2 py-2 text-slate-800">
                    {cell}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** "12 of 130": how much of a list is loaded, and whether a new search is on its way. */
export function ListCount({
  shown,
  total,
  updating = false,
}: {
  shown: number;
  total: number | undefined;
  updating?: boolean;
}) {
  return (
    <p className="mb-2 text-xs text-slate-500" aria-live="polite">
      {total === undefined ? `${shown} shown` : `${shown} of ${total}`}
      {updating ? <span className="ml-2">Updating…</span> : null}
    </p>
  );
}
