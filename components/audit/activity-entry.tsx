'use client';

import {
  activitySentence,
  changedFields,
  fieldValueText,
  isMoneyField,
  listChange,
} from '@/lib/shared/activity-sentence';
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

/**
 * An update's before/after as a diff: only the fields that changed, a list's items added
 * and removed, any other value struck through with the new one set off (in neither red nor green: a new value is not good news
 * because it is new — a balance going down is a debit). Money in its currency.
 */
export function AuditDiff({ entry }: { entry: TAuditEntryDto }) {
  const locale = useViewerLocale();
  const changes = changedFields(entry.before, entry.after);
  if (!changes.length) return null;
  const body = { before: entry.before, after: entry.after };
  return (
    <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs" aria-label="Changed fields">
      {changes.map((change) => {
        const list = listChange(change);
        if (list && (list.added.length || list.removed.length)) {
          return (
            <div key={change.field} className="contents">
              <dt className="font-medium text-slate-600">{change.field}</dt>
              <dd className="break-all">
                {list.added.length ? (
                  <ins
                    className="mr-2 rounded bg-slate-100 px-1 font-medium text-slate-900 no-underline"
                    aria-label={`added ${list.added.join(', ')}`}
                  >
                    + {list.added.join(', ')}
                  </ins>
                ) : null}
                {list.removed.length ? (
                  <del className="text-slate-600" aria-label={`removed ${list.removed.join(', ')}`}>
                    − {list.removed.join(', ')}
                  </del>
                ) : null}
              </dd>
            </div>
          );
        }
        const was = fieldValueText(change, 'before', body, locale);
        const now = fieldValueText(change, 'after', body, locale);
        // An amount stays whole; anything else (a list of grants) wraps anywhere.
        const whole = isMoneyField(change.field) ? 'whitespace-nowrap ' : '';
        return (
          <div key={change.field} className="contents">
            <dt className="font-medium text-slate-600">{change.field}</dt>
            <dd className="break-all">
              <del className={`${whole}text-slate-600`} aria-label={`was ${was}`}>
                {was}
              </del>{' '}
              <span aria-hidden>→</span>{' '}
              <ins
                className={`${whole}rounded bg-slate-100 px-1 font-medium text-slate-900 no-underline`}
                aria-label={`now ${now}`}
              >
                {now}
              </ins>
            </dd>
          </div>
        );
      })}
    </dl>
  );
}
