'use client';

// First: the modules below build zod schemas as they load.
import '@/lib/client/zod-jitless';
import { QueryClientProvider } from '@tanstack/react-query';
import { useLayoutEffect, useState, type ReactNode } from 'react';
import { applyStoredTheme, THEME_STORAGE_KEY } from '@/lib/client/theme';
import { createQueryClient } from '@/lib/client/query-client';
import { RenderMomentProvider } from '@/lib/client/use-viewer-locale';

export function Providers({
  locale,
  now,
  children,
}: {
  /** What the server renders with (use-viewer-locale.ts). */
  locale: string;
  now: number;
  children: ReactNode;
}) {
  // One client per browser tab, created once (not per render).
  const [queryClient] = useState(createQueryClient);
  // The boot script in <head> set the theme before the first paint — except on a page
  // Next renders in its own error shell (every 404: vercel/next.js#62228), where that
  // script never runs and the page came up light whatever was chosen. Once more here.
  useLayoutEffect(() => applyStoredTheme(THEME_STORAGE_KEY), []);
  return (
    <RenderMomentProvider locale={locale} now={now}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </RenderMomentProvider>
  );
}
