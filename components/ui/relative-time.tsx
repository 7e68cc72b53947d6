'use client';

import { formatAbsoluteTime, formatRelativeTime } from '@/lib/shared/format';
import {
  SERVER_TIME_ZONE,
  useNow,
  useViewerLocale,
  useViewerTimeZone,
} from '@/lib/client/use-viewer-locale';

/**
 * "3 min ago", with the absolute time on hover (title) and in `dateTime` for machines;
 * it moves on by itself. The server renders it against the moment of its render, so its
 * HTML already reads "3 min ago" (the hover names UTC until the browser's zone is known).
 */
export function RelativeTime({ at }: { at: string }) {
  const locale = useViewerLocale();
  const timeZone = useViewerTimeZone();
  const now = useNow();
  return (
    <time
      dateTime={at}
      title={formatAbsoluteTime(at, locale, { timeZone, zoneName: timeZone === SERVER_TIME_ZONE })}
    >
      {formatRelativeTime(at, now, locale)}
    </time>
  );
}
