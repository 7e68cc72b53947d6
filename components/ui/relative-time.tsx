'use client';

import { formatAbsoluteTime, formatRelativeTime } from '@/lib/shared/format';
import { useNow, useViewerLocale } from '@/lib/client/use-viewer-locale';

/**
 * "3 min ago", with the absolute time on hover (title) and in `dateTime` for machines;
 * it moves on by itself. Rendered on the client (the server's HTML shows the ISO time).
 */
export function RelativeTime({ at }: { at: string }) {
  const locale = useViewerLocale();
  const now = useNow();
  if (locale === null || now === null) return <time dateTime={at}>{at}</time>;
  return (
    <time dateTime={at} title={formatAbsoluteTime(at, locale)}>
      {formatRelativeTime(at, now, locale)}
    </time>
  );
}
