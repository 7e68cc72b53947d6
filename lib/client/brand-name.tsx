'use client';

import { createContext, useContext, type ReactNode } from 'react';
import { DEFAULT_BRAND_NAME } from '@/lib/shared/schemas/brands';

const BrandName = createContext<string>(DEFAULT_BRAND_NAME);

/** The name of the brand the page shows (the server decided it: lib/server/auth/page-brand.ts). */
export function BrandNameProvider({ name, children }: { name: string; children: ReactNode }) {
  return <BrandName.Provider value={name}>{children}</BrandName.Provider>;
}

/** For what the browser writes itself, such as a record's live tab title. */
export function useBrandName(): string {
  return useContext(BrandName);
}
