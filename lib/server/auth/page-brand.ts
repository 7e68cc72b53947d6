import { cache } from 'react';
import { headers } from 'next/headers';
import { findRuntime } from '@/lib/server/runtime';
import { requestHostname } from '@/lib/server/http/request-host';
import { shownBrand, type TShownBrand } from '@/lib/server/services/brands/shown-brand';
import { DEFAULT_BRAND_LOOK } from '@/lib/shared/schemas/brands';
import { getPageActor } from './page-session';

/**
 * The brand of the page being rendered (`shownBrand`: the request's hostname, else the
 * signed-in person's own), read once per request however many layouts and metadata ask.
 */
export const getPageBrand = cache(async (): Promise<TShownBrand> => {
  const runtime = findRuntime();
  if (!runtime) return { ...DEFAULT_BRAND_LOOK, portal: false };
  const [requestHeaders, actor] = await Promise.all([headers(), getPageActor()]);
  return shownBrand(runtime.orm.em.fork(), requestHostname(requestHeaders.get('host')), actor);
});
