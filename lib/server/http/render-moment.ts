import { headers } from 'next/headers';
import { localeOfRequest } from '@/lib/shared/format';

/**
 * What a page is rendered with on the server: the request's language and this moment
 * (lib/client/use-viewer-locale.ts), so its HTML shows amounts and times formatted, not
 * the API's raw strings, and the client's first render matches it.
 */
export async function renderMoment(): Promise<{ locale: string; now: number }> {
  const requestHeaders = await headers();
  return { locale: localeOfRequest(requestHeaders.get('accept-language')), now: Date.now() };
}
