'use client';

import { QueryClientProvider } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { z } from 'zod';
import { createQueryClient } from '@/lib/client/query-client';

// zod compiles parsers with `new Function` when it may; its probe for that is reported
// as a CSP violation (the policy forbids eval), so the browser parses without it.
z.config({ jitless: true });

export function Providers({ children }: { children: ReactNode }) {
  // One client per browser tab, created once (not per render).
  const [queryClient] = useState(createQueryClient);
  return <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
}
