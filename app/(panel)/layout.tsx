import type { ReactNode } from 'react';
import { AppHeader } from '@/components/shell/app-header';
import { PanelNav, type TNavItem } from '@/components/shell/panel-nav';
import { ImpersonationBanner } from '@/components/shell/impersonation-banner';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { LiveProvider } from '@/lib/client/live-provider';

export const dynamic = 'force-dynamic';

/** Every signed-in page: one live connection, header, the sections the grants open, the view-as banner. */
export default async function PanelLayout({ children }: { children: ReactNode }) {
  const actor = await requirePageActor();
  const has = (grant: string) => actor.grants.some((held) => held === grant);
  const nav: TNavItem[] = [
    { href: '/', label: 'Overview' },
    ...(has('resellers:read') ? [{ href: '/resellers', label: 'Resellers' }] : []),
    ...(has('customers:read') ? [{ href: '/customers', label: 'Customers' }] : []),
    ...(has('users:read') ? [{ href: '/users', label: 'Users' }] : []),
    ...(has('groups:read') || has('groups:create') ? [{ href: '/groups', label: 'Groups' }] : []),
    ...(has('cards:read') ? [{ href: '/cards', label: 'Cards' }] : []),
    ...(has('rates:read') ? [{ href: '/trace', label: 'Price trace' }] : []),
    ...(has('audit:read') ? [{ href: '/audit', label: 'Audit log' }] : []),
  ];
  return (
    <LiveProvider>
      <div className="min-h-screen">
        {actor.impersonation ? (
          <ImpersonationBanner
            userEmail={actor.email}
            reason={actor.impersonation.reason}
            expiresAt={actor.impersonation.expiresAt.toISOString()}
          />
        ) : null}
        <AppHeader
          user={actor}
          account={actor.account}
          group={actor.group}
          viewingAs={Boolean(actor.impersonation)}
        />
        <PanelNav items={nav} />
        <main className="mx-auto max-w-7xl px-4 py-6 sm:px-6">{children}</main>
      </div>
    </LiveProvider>
  );
}
