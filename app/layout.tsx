import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { connection } from 'next/server';
import { headers } from 'next/headers';
import { THEME_BOOT_SCRIPT } from '@/lib/client/theme';
import { Providers } from './providers';
import './globals.css';

export const metadata: Metadata = {
  title: 'Reseller Panel',
  description: 'Live reseller control panel for VoIP carriers',
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page's scripts carry its response's CSP nonce, which only a render per request
  // can stamp; this keeps Next from prerendering any page, its built-in 404 included.
  await connection();
  // The server put this response's policy on the request (lib/server/http/security-headers.ts);
  // the theme script runs under the same nonce as Next's own, so the policy stays strict.
  const policy = (await headers()).get('content-security-policy') ?? '';
  const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
  return (
    // The boot script sets the `dark` class before React hydrates: not a mismatch.
    <html lang="en" suppressHydrationWarning>
      <head>
        <script
          nonce={nonce}
          suppressHydrationWarning
          dangerouslySetInnerHTML={{ __html: THEME_BOOT_SCRIPT }}
        />
      </head>
      <body className="min-h-screen">
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
