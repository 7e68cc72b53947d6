'use client';

import type { TConflict } from '@/lib/client/use-schema-form';
import { valueText } from '@/lib/shared/activity-sentence';
import { useViewerLocale } from '@/lib/client/use-viewer-locale';

/**
 * Someone else saved first: both versions side by side, and the choice is the
 * person's — take theirs (reload the form) or put mine on top of theirs.
 */
export function ConflictNotice<TBody extends Record<string, unknown>>({
  conflict,
  labels,
  onTakeTheirs,
  onOverwrite,
  pending,
  partial = false,
}: {
  conflict: TConflict<TBody>;
  labels: Record<string, string>;
  onTakeTheirs: (current: Record<string, unknown>) => void;
  onOverwrite: () => void;
  pending: boolean;
  /**
   * The form sends only the fields changed in it: a field missing from `mine` is not
   * changed, and "Save mine over it" leaves it as saved now.
   */
  partial?: boolean;
}) {
  const locale = useViewerLocale();
  // As the audit diff shows a field: an amount in the record's currency, so 500 as typed
  // and 500.000000 as the server writes it read alike and do not clash; other text as it
  // is. A list (a group's grants) in one order.
  const currency = typeof conflict.current.currency === 'string' ? conflict.current.currency : null;
  const show = (field: string, value: unknown) =>
    Array.isArray(value) ? [...value].sort().join(', ') : valueText(field, value, currency, locale);
  return (
    <div
      role="alertdialog"
      aria-labelledby="conflict-title"
      data-testid="conflict"
      className="space-y-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm"
    >
      <p id="conflict-title" className="font-medium text-amber-900">
        Someone else saved this record first. Nothing of yours was written.
      </p>
      <table className="w-full text-left">
        <thead>
          <tr className="text-amber-900">
            <th className="py-1 pr-2 font-medium">Field</th>
            <th className="py-1 pr-2 font-medium">Yours</th>
            <th className="py-1 font-medium">Saved now</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(labels).map(([field, label]) => {
            // A form that sends only what it changed leaves a field out: theirs stays.
            const untouched = conflict.mine[field] === undefined && partial;
            const clash =
              !untouched &&
              show(field, conflict.mine[field]) !== show(field, conflict.current[field]);
            return (
              <tr key={field} className={clash ? 'font-semibold' : ''}>
                <td className="py-1 pr-2">{label}</td>
                <td className="py-1 pr-2">
                  {untouched ? (
                    <span className="text-slate-600">not changed</span>
                  ) : (
                    show(field, conflict.mine[field])
                  )}
                </td>
                <td className="py-1">{show(field, conflict.current[field])}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="flex flex-wrap gap-2">
        <button
          type="button"
          className="rounded-md border border-slate-300 bg-white px-3 py-1.5 font-medium"
          onClick={() => onTakeTheirs(conflict.current)}
        >
          Use the saved version
        </button>
        <button
          type="button"
          disabled={pending}
          className="rounded-md bg-amber-700 px-3 py-1.5 font-medium text-white disabled:opacity-50"
          onClick={onOverwrite}
        >
          Save mine over it
        </button>
      </div>
    </div>
  );
}

/**
 * What an edit form shows about others' saves: while editing, a live note that a newer
 * version exists (with a way to load it); after a refused save, the conflict dialog.
 */
export function EditCollision<TBody extends Record<string, unknown>, TEntity>({
  openedVersion,
  changed = true,
  latest,
  form,
  labels,
  onLoad,
  partial = false,
}: {
  openedVersion: number;
  /**
   * Whether the newer copy changed anything the form edits (default: any newer version
   * counts): a balance moved by calls moves an account's version but not its form.
   */
  changed?: boolean;
  /** The live copy of the record. */
  latest: (TEntity & { version: number }) | undefined;
  form: { conflict: TConflict<TBody> | null; pending: boolean; overwrite: () => Promise<void> };
  labels: Record<string, string>;
  onLoad: (entity: TEntity) => void;
  /** The form sends only what changed in it (ConflictNotice's `partial`). */
  partial?: boolean;
}) {
  return (
    <>
      {latest && latest.version > openedVersion && changed && !form.conflict ? (
        <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
          Someone saved a newer version while you were editing.{' '}
          <button type="button" className="underline" onClick={() => onLoad(latest)}>
            Load it
          </button>
        </p>
      ) : null}
      {form.conflict ? (
        <ConflictNotice
          conflict={form.conflict}
          labels={labels}
          pending={form.pending}
          partial={partial}
          onTakeTheirs={(current) => onLoad(current as unknown as TEntity)}
          onOverwrite={() => void form.overwrite()}
        />
      ) : null}
    </>
  );
}
