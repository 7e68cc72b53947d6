'use client';

import { formatAbsoluteTime } from '@/lib/shared/format';
import {
  SERVER_TIME_ZONE,
  useViewerLocale,
  useViewerTimeZone,
} from '@/lib/client/use-viewer-locale';

/**
 * A moment in the viewer's locale and time zone. The server's HTML (and the first
 * client render) shows it in UTC and says so; the browser's own zone follows at once.
 * Never `toLocaleString()` in a render: the server's zone and language would differ from
 * the browser's, and React would throw the server's HTML away over the mismatch.
 */
export function DateTime({
  at,
  show = 'datetime',
}: {
  at: string;
  show?: 'datetime' | 'date' | 'time';
}) {
  const locale = useViewerLocale();
  const timeZone = useViewerTimeZone();
  return (
    <time dateTime={at}>
      {formatAbsoluteTime(at, locale, {
        timeZone,
        zoneName: timeZone === SERVER_TIME_ZONE,
        show,
      })}
    </time>
  );
}
