'use client';

import { activitySentence, changedFields } from '@/lib/shared/activity-sentence';
import type { TAuditEntryDto } from '@/lib/shared/schemas/audit';
import { useViewerLocale } from '@/lib/client/use-viewer-locale';

/**
 * One change-log entry as a sentence naming the things involved (lib/shared/activity-sentence.ts),
 * its amounts in the viewer's locale (the request's language in the server's HTML).
 */
export function ActivitySentence({ entry }: { entry: TAuditEntryDto }) {
  const locale = useViewerLocale();
  return <span data-testid="activity-sentence">{activitySentence(entry, locale)}</span>;
}

function shown(value: unknown): string {
  if (value === null || value === undefined || value === '') return '(none)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * An update's before/after as a diff: only the fields that changed, the old value struck
 * through, the new one highlighted. Nothing for a create, a delete or withheld details.
 */
export function AuditDiff({ entry }: { entry: TAuditEntryDto }) {
  const changes = changedFields(entry.before, entry.after);
  if (!changes.length) return null;
  return (
    <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs" aria-label="Changed fields">
      {changes.map((change) => (
        <div key={change.field} className="contents">
          <dt className="font-medium text-slate-600">{change.field}</dt>
          <dd className="break-all">
            <del
              className="text-red-800 decoration-red-700"
              aria-label={`was ${shown(change.before)}`}
            >
              {shown(change.before)}
            </del>{' '}
            <span aria-hidden>→</span>{' '}
            <ins
              className="rounded bg-emerald-50 px-1 text-emerald-900 no-underline"
              aria-label={`now ${shown(change.after)}`}
            >
              {shown(change.after)}
            </ins>
          </dd>
        </div>
      ))}
    </dl>
  );
}
