import type { Metadata } from 'next';
import { AuditPanel } from '@/components/audit/audit-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { PageHeading } from '@/components/shell/page-heading';
import { uiAbilities } from '@/lib/shared/ui-abilities';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Audit log' };

export default async function Page() {
  const actor = await requirePageActor();
  return (
    <>
      <PageHeading>Audit log</PageHeading>
      <AuditPanel pickPeople={uiAbilities(actor).sections.users} />
    </>
  );
}
