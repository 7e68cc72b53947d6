'use client';

// First: the modules below build zod schemas as they load.
import '@/lib/client/zod-jitless';
import { QueryClientProvider } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
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
  return (
    <RenderMomentProvider locale={locale} now={now}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </RenderMomentProvider>
  );
}
