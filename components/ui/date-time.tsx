'use client';

import { formatAbsoluteTime } from '@/lib/shared/format';
import { useHydrated, useViewerLocale, useViewerTimeZone } from '@/lib/client/use-viewer-locale';

/**
 * A moment as the viewer reads it: their locale and time zone. The server's HTML (and
 * the first client render) has it in UTC and names that zone, since the server cannot
 * know the viewer's; the browser's own zone, unnamed, follows once the page is hydrated.
 * Never `toLocaleString()` in a render: the server's zone and language would differ from
 * the browser's, and React would throw the server's HTML away over the mismatch.
 */
export function useAbsoluteTime(at: string, show: 'datetime' | 'date' | 'time' = 'datetime') {
  const locale = useViewerLocale();
  const timeZone = useViewerTimeZone();
  const hydrated = useHydrated();
  return formatAbsoluteTime(at, locale, { timeZone, zoneName: !hydrated, show });
}

/** A moment in the viewer's locale and time zone (`useAbsoluteTime`). */
export function DateTime({
  at,
  show = 'datetime',
}: {
  at: string;
  show?: 'datetime' | 'date' | 'time';
}) {
  return <time dateTime={at}>{useAbsoluteTime(at, show)}</time>;
}
