import type { Metadata } from 'next';
import { PanelLink } from '@/components/ui/panel-link';
import { AccountSecurity } from '@/components/account/account-security';
import { SignOutButton } from '@/components/auth/sign-out-button';
import { SkipLink } from '@/components/shell/skip-link';
import { requireGatePage } from '@/lib/server/auth/page-session';
import { getPageBrand } from '@/lib/server/auth/page-brand';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Account security' };

/**
 * Outside the panel layout on purpose: a user whose group requires MFA and who has not
 * enrolled yet must reach this page and nothing else.
 */
export default async function AccountSecurityPage() {
  // The door holds such a person here; the password change (if due) comes first.
  const { actor, held, viewingAs } = await requireGatePage('mfa_enrolment_required');
  const mayUsePanel = !held;
  const brand = await getPageBrand();
  return (
    <div className="min-h-screen">
      <SkipLink />
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-3xl items-center justify-between gap-3 px-4 py-3">
          <span className="text-base font-semibold tracking-tight text-brand-900">
            {brand.displayName}
          </span>
          <div className="flex items-center gap-4">
            <span className="text-sm text-slate-600">{actor.email}</span>
            <SignOutButton />
          </div>
        </div>
      </header>
      <main
        id="content"
        tabIndex={-1}
        className="mx-auto max-w-3xl space-y-4 px-4 py-6 focus:outline-none"
      >
        <div className="flex items-center justify-between">
          <h1 className="text-xl font-semibold tracking-tight text-brand-900">Account security</h1>
          {mayUsePanel ? (
            <PanelLink href="/" className="text-sm text-brand-700 underline">
              Back to the panel
            </PanelLink>
          ) : null}
        </div>
        <AccountSecurity viewingAs={viewingAs} email={actor.email} />
      </main>
    </div>
  );
}
