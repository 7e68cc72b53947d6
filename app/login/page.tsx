import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { LoginForm } from '@/components/auth/login-form';
import { BrandLogo } from '@/components/shell/brand-logo';
import { getPageActor } from '@/lib/server/auth/page-session';
import { getPageBrand } from '@/lib/server/auth/page-brand';
import { safeReturnPath } from '@/lib/shared/return-path';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Sign in' };

/**
 * Sign-in in the brand of the hostname it is reached on (issue 19): a reseller's portal
 * shows the reseller's name, colours and support contacts, and only its subtree signs in
 * there; the main URL shows the product's own.
 */
export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  // Where the visitor was going when sent here: a page of this panel only.
  const next = safeReturnPath((await searchParams).next) ?? '/';
  if (await getPageActor()) redirect(next);
  const brand = await getPageBrand();
  const help = brand.supportEmail || brand.supportUrl;
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
        {brand.logoUrl ? (
          <BrandLogo
            src={brand.logoUrl}
            className="mb-4 h-12 w-auto max-w-[12rem] object-contain"
          />
        ) : (
          <div aria-hidden="true" className="mb-4 h-1.5 w-12 rounded-full bg-brand-600" />
        )}
        <h1
          data-testid="brand-name"
          className="text-xl font-semibold tracking-tight text-brand-900"
        >
          {brand.displayName}
        </h1>
        <p className="mb-6 mt-1 text-sm text-slate-600">Sign in with your email and password.</p>
        <LoginForm portal={brand.portal} next={next} />
        {help ? (
          <p data-testid="brand-support" className="mt-6 text-sm text-slate-600">
            Need help?{' '}
            {brand.supportEmail ? (
              <a className="text-brand-700 underline" href={`mailto:${brand.supportEmail}`}>
                {brand.supportEmail}
              </a>
            ) : null}
            {brand.supportEmail && brand.supportUrl ? ' · ' : null}
            {brand.supportUrl ? (
              <a
                className="text-brand-700 underline"
                href={brand.supportUrl}
                rel="noopener noreferrer"
              >
                Support site
              </a>
            ) : null}
          </p>
        ) : null}
      </div>
    </main>
  );
}
