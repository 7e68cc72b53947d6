'use client';

import { dayWindow } from '@/lib/client/day-window';
import { TextField } from '@/components/ui/field';

/** Days picked in a filter form: `YYYY-MM-DD` each, '' for no bound. */
export interface TDayRange {
  fromDay: string;
  toDay: string;
}

/**
 * The days as the API's `from`/`to` in the viewer's time zone, and the error the second
 * field shows when it is before the first (no window is sent then).
 */
export function dayRangeOf(days: TDayRange): {
  window: { from?: string; to?: string };
  error?: string;
} {
  const error =
    days.fromDay && days.toDay && days.fromDay > days.toDay
      ? 'must not be before the first day'
      : undefined;
  return { window: error ? {} : dayWindow(days.fromDay, days.toDay), error };
}

/** A list's "From day" and "To day (included)" fields. */
export function DayRangeFields({
  days,
  error,
  onChange,
}: {
  days: TDayRange;
  error?: string;
  onChange: (days: TDayRange) => void;
}) {
  return (
    <>
      <TextField
        label="From day"
        name="fromDay"
        type="date"
        value={days.fromDay}
        onChange={(event) => onChange({ ...days, fromDay: event.target.value })}
      />
      <TextField
        label="To day (included)"
        name="toDay"
        type="date"
        value={days.toDay}
        error={error}
        onChange={(event) => onChange({ ...days, toDay: event.target.value })}
      />
    </>
  );
}

/**
 * A filter form's last line: clear every filter, and download the same selection. With a
 * filter in error (`exportHref` null) there is no selection to download: dropping the bad
 * filter would export more than the form says — everything, at worst.
 */
export function FilterActions({
  onClear,
  exportHref,
}: {
  onClear: () => void;
  exportHref: string | null;
}) {
  return (
    <div className="flex items-center gap-3">
      <button type="button" className="text-sm text-slate-600 underline" onClick={onClear}>
        Clear filters
      </button>
      {exportHref ? (
        <a className="text-sm text-brand-700 underline" href={exportHref} download>
          Export CSV
        </a>
      ) : (
        <span className="text-sm text-slate-500">Export CSV: fix the filter first</span>
      )}
    </div>
  );
}

/** What a list shows while a filter of its form is in error: nothing, and why. */
export function FilterInError() {
  return (
    <p className="text-sm text-slate-600" role="status">
      A filter above is not valid: fix it to see the list.
    </p>
  );
}
