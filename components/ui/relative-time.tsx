'use client';

import { formatRelativeTime } from '@/lib/shared/format';
import { useNow, useViewerLocale } from '@/lib/client/use-viewer-locale';
import { useAbsoluteTime } from './date-time';

/**
 * "3 min ago", with the absolute time on hover (title) and in `dateTime` for machines;
 * it moves on by itself. The server renders it against the moment of its render, so its
 * HTML already reads "3 min ago" (the hover names UTC until the browser's zone is known).
 */
export function RelativeTime({ at }: { at: string }) {
  const locale = useViewerLocale();
  const now = useNow();
  return (
    <time dateTime={at} title={useAbsoluteTime(at)}>
      {formatRelativeTime(at, now, locale)}
    </time>
  );
}
