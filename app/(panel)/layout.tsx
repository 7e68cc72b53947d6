import type { ReactNode } from 'react';
import { AppHeader } from '@/components/shell/app-header';
import { PanelNav, type TNavItem } from '@/components/shell/panel-nav';
import { ImpersonationBanner } from '@/components/shell/impersonation-banner';
import { SkipLink } from '@/components/shell/skip-link';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { getPageBrand } from '@/lib/server/auth/page-brand';
import { BrandNameProvider } from '@/lib/client/brand-name';
import { IdentityScope } from '@/lib/client/identity-scope';
import { accessOf, identityOf } from '@/lib/shared/viewer-identity';
import { LiveProvider } from '@/lib/client/live-provider';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { toMeDto } from '@/lib/server/services/me/me-dto';
import { Toaster } from '@/components/ui/toast';
import { OfflineBanner } from '@/components/live/offline-banner';

export const dynamic = 'force-dynamic';

/** Every signed-in page: one query cache per identity, one live connection, header, the sections the grants open, the view-as banner. */
export default async function PanelLayout({ children }: { children: ReactNode }) {
  const actor = await requirePageActor();
  const brand = await getPageBrand();
  const abilities = uiAbilities(actor);
  const { sections } = abilities;
  const me = toMeDto(actor);
  const nav: TNavItem[] = [
    { href: '/', label: 'Overview' },
    ...(sections.resellers ? [{ href: '/resellers', label: 'Resellers' }] : []),
    ...(sections.customers ? [{ href: '/customers', label: 'Customers' }] : []),
    ...(sections.users ? [{ href: '/users', label: 'Users' }] : []),
    ...(sections.groups ? [{ href: '/groups', label: 'Groups' }] : []),
    // A customer holds one card, its rate card (issue 19: its sell prices, nothing else).
    ...(sections.cards
      ? [{ href: '/cards', label: actor.account.kind === 'customer' ? 'Rate card' : 'Cards' }]
      : []),
    ...(sections.trace ? [{ href: '/trace', label: 'Price trace' }] : []),
    ...(abilities.usage.read ? [{ href: '/calls', label: 'Calls' }] : []),
    ...(sections.audit ? [{ href: '/audit', label: 'Audit log' }] : []),
    // One's own brand: what one's portal and customers show (a customer has none to set).
    ...(abilities.brand.read && actor.account.kind !== 'customer'
      ? [{ href: '/branding', label: 'Branding' }]
      : []),
  ];
  return (
    <IdentityScope identity={identityOf(actor)}>
      <BrandNameProvider name={brand.displayName}>
        <LiveProvider access={accessOf(me)}>
          <div className="min-h-screen">
            <SkipLink />
            {actor.impersonation ? (
              <ImpersonationBanner
                userEmail={actor.email}
                reason={actor.impersonation.reason}
                expiresAt={actor.impersonation.expiresAt.toISOString()}
              />
            ) : null}
            <AppHeader
              me={me}
              viewingAs={Boolean(actor.impersonation)}
              brandName={brand.displayName}
              brandLogoUrl={brand.logoUrl}
            />
            <OfflineBanner />
            <PanelNav items={nav} />
            <main
              id="content"
              tabIndex={-1}
              className="mx-auto max-w-7xl px-4 py-6 focus:outline-none sm:px-6"
            >
              {children}
            </main>
            <Toaster />
          </div>
        </LiveProvider>
      </BrandNameProvider>
    </IdentityScope>
  );
}
