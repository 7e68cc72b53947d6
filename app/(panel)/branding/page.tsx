import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { PageHeading } from '@/components/shell/page-heading';
import { BrandEditor } from '@/components/brands/brand-editor';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Branding' };

/**
 * `/branding`: the viewer's own account's brand — a reseller's portal and its customers'
 * statements, a carrier's default for everything below it — set here with `brand:update`.
 * A customer has no brand to set, and no `brand:read` means no page (404, as the API).
 */
export default async function BrandingPage() {
  const actor = await requirePageActor();
  const can = uiAbilities(actor);
  if (!can.brand.read || actor.account.kind === 'customer') notFound();
  return (
    <>
      <PageHeading>Branding</PageHeading>
      <BrandEditor
        account={{ id: actor.account.id, name: actor.account.name }}
        canEdit={can.brand.update}
      />
    </>
  );
}
