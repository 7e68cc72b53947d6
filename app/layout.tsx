import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { connection } from 'next/server';
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
  return (
    <html lang="en">
      <body className="min-h-screen">
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
