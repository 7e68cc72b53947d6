import type { ReactNode } from 'react';
import { AppHeader } from '@/components/shell/app-header';
import { PanelNav, type TNavItem } from '@/components/shell/panel-nav';
import { ImpersonationBanner } from '@/components/shell/impersonation-banner';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { IdentityScope } from '@/lib/client/identity-scope';
import { identityOf } from '@/lib/shared/viewer-identity';
import { LiveProvider } from '@/lib/client/live-provider';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { Toaster } from '@/components/ui/toast';
import { OfflineBanner } from '@/components/live/offline-banner';

export const dynamic = 'force-dynamic';

/** Every signed-in page: one query cache per identity, one live connection, header, the sections the grants open, the view-as banner. */
export default async function PanelLayout({ children }: { children: ReactNode }) {
  const actor = await requirePageActor();
  const { sections } = uiAbilities(actor);
  const nav: TNavItem[] = [
    { href: '/', label: 'Overview' },
    ...(sections.resellers ? [{ href: '/resellers', label: 'Resellers' }] : []),
    ...(sections.customers ? [{ href: '/customers', label: 'Customers' }] : []),
    ...(sections.users ? [{ href: '/users', label: 'Users' }] : []),
    ...(sections.groups ? [{ href: '/groups', label: 'Groups' }] : []),
    ...(sections.cards ? [{ href: '/cards', label: 'Cards' }] : []),
    ...(sections.trace ? [{ href: '/trace', label: 'Price trace' }] : []),
    ...(sections.audit ? [{ href: '/audit', label: 'Audit log' }] : []),
  ];
  return (
    <IdentityScope identity={identityOf(actor)}>
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
          <OfflineBanner />
          <PanelNav items={nav} />
          <main className="mx-auto max-w-7xl px-4 py-6 sm:px-6">{children}</main>
          <Toaster />
        </div>
      </LiveProvider>
    </IdentityScope>
  );
}
