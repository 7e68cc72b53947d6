import type { Metadata } from 'next';
import { cache } from 'react';
import { readPageRecord } from '@/lib/server/auth/page-record';
import { getSubAccount } from '@/lib/server/services/accounts/get-sub-account';
import { accountTrail } from '@/lib/server/services/accounts/account-trail';
import type { TResellerDto } from '@/lib/shared/schemas/accounts';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { Breadcrumbs, trailCrumbs } from '@/components/records/breadcrumbs';
import { pickTab, RecordTabs, type TRecordTab } from '@/components/records/record-tabs';
import { ResellerRecord } from '@/components/records/reseller-record';

export const dynamic = 'force-dynamic';
/** The page's read, once per request: the title (generateMetadata) and the page share it. */
const load = cache((id: string) =>
  readPageRecord(id, async (em, actor, id) => ({
    reseller: (await getSubAccount(em, actor, 'reseller', id)) as TResellerDto,
    trail: await accountTrail(em, actor, id),
  })),
);

/** The tab names the record ("Acme Voice · Reseller · Reseller Panel"); the page keeps it live. */
export async function generateMetadata({
  params,
}: {
  params: Promise<{ id: string }>;
}): Promise<Metadata> {
  const { record } = await load((await params).id);
  return { title: `${record.reseller.name} · Reseller` };
}

/** `/resellers/{id}[?tab=…]`: one reseller in the viewer's subtree, or the panel's 404. */
export default async function ResellerPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { id } = await params;
  const { actor, record } = await load(id);
  const can = uiAbilities(actor);
  const tabs: TRecordTab[] = [
    { id: 'overview', label: 'Overview' },
    ...(can.sections.users ? [{ id: 'users', label: 'Users' }] : []),
    ...(can.sections.cards ? [{ id: 'cards', label: 'Cards' }] : []),
    ...(can.sections.customers ? [{ id: 'customers', label: 'Customers' }] : []),
    { id: 'resellers', label: 'Sub-resellers' },
    ...(can.ledger.read ? [{ id: 'balance', label: 'Balance' }] : []),
    ...(can.usage.read ? [{ id: 'calls', label: 'Calls' }] : []),
    ...(can.statements.read ? [{ id: 'statements', label: 'Statements' }] : []),
    ...(can.brand.read ? [{ id: 'brand', label: 'Brand' }] : []),
    ...(can.sections.audit ? [{ id: 'activity', label: 'Activity' }] : []),
  ];
  const tab = pickTab(tabs, (await searchParams).tab);
  const { reseller, trail } = record;
  const parent = trail.at(-2);
  return (
    <div className="space-y-4">
      <Breadcrumbs items={trailCrumbs(actor.account, trail)} />
      <ResellerRecord
        key={tab}
        initial={reseller}
        tab={tab}
        tabs={
          <RecordTabs
            base={`/resellers/${reseller.id}`}
            tabs={tabs}
            current={tab}
            label="Reseller sections"
          />
        }
        can={can}
        own={{ id: actor.account.id, name: actor.account.name }}
        parentName={parent?.name ?? actor.account.name}
      />
    </div>
  );
}
