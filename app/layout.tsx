import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { connection } from 'next/server';
import { headers } from 'next/headers';
import { THEME_BOOT_SCRIPT } from '@/lib/client/theme';
import { getPageBrand } from '@/lib/server/auth/page-brand';
import { brandStyle } from '@/lib/shared/brand-css';
import { renderMoment } from '@/lib/server/http/render-moment';
import { Providers } from './providers';
import './globals.css';

/**
 * The tab names the brand the page shows (the portal's, or the signed-in person's own);
 * pages give their own part ("Overview · Nimbus Voice").
 */
export async function generateMetadata(): Promise<Metadata> {
  await connection();
  const brand = await getPageBrand();
  return {
    title: { default: brand.displayName, template: `%s · ${brand.displayName}` },
    description: `${brand.displayName}: live reseller control panel`,
  };
}

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page's scripts carry its response's CSP nonce, which only a render per request
  // can stamp; this keeps Next from prerendering any page, its built-in 404 included.
  await connection();
  // The server put this response's policy on the request (lib/server/http/security-headers.ts);
  // the theme script runs under the same nonce as Next's own, so the policy stays strict.
  const policy = (await headers()).get('content-security-policy') ?? '';
  const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
  // The brand's colours as variables on <html> (lib/shared/brand-css.ts): app/globals.css
  // derives the palette from them.
  const style = brandStyle(await getPageBrand());
  // Amounts and times in the server's HTML: the request's language, this moment.
  const moment = await renderMoment();
  return (
    // The boot script sets the `dark` class before React hydrates: not a mismatch.
    <html
      lang="en"
      suppressHydrationWarning
      data-brand={style ? '' : undefined}
      style={style ?? undefined}
    >
      <head>
        <script
          nonce={nonce}
          suppressHydrationWarning
          dangerouslySetInnerHTML={{ __html: THEME_BOOT_SCRIPT }}
        />
      </head>
      <body className="min-h-screen">
        <Providers locale={moment.locale} now={moment.now}>
          {children}
        </Providers>
      </body>
    </html>
  );
}
