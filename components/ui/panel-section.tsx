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

export function DataTable({
  headers,
  rows,
  label,
}: {
  headers: string[];
  rows: ReactNode[][];
  label: string;
}) {
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-left text-sm" aria-label={label}>
        <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
          <tr>
            {headers.map((header, index) => (
              <th key={index} scope="col" className="px-2 py-2 font-medium">
                {/* A column of row actions has no visible title; it still has a name. */}
                {header || <span className="sr-only">Actions</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((cells, index) => (
            <tr key={index}>
              {cells.map((cell, cellIndex) => (
                <td key={cellIndex} className="px-2 py-2 text-slate-800">
                  {cell}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
