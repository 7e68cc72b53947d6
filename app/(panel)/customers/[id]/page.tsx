import type { Metadata } from 'next';
import { cache } from 'react';
import { readPageRecord } from '@/lib/server/auth/page-record';
import { getSubAccount } from '@/lib/server/services/accounts/get-sub-account';
import { accountTrail } from '@/lib/server/services/accounts/account-trail';
import type { TCustomerDto } from '@/lib/shared/schemas/accounts';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { Breadcrumbs, trailCrumbs } from '@/components/records/breadcrumbs';
import { pickTab, RecordTabs, type TRecordTab } from '@/components/records/record-tabs';
import { CustomerRecord } from '@/components/records/customer-record';

export const dynamic = 'force-dynamic';
/** The page's read, once per request: the title (generateMetadata) and the page share it. */
const load = cache((id: string) =>
  readPageRecord(id, async (em, actor, id) => ({
    customer: (await getSubAccount(em, actor, 'customer', id)) as TCustomerDto,
    trail: await accountTrail(em, actor, id),
  })),
);

/** The tab names the record ("Hotel Alpine · Customer · Reseller Panel"); the page keeps it live. */
export async function generateMetadata({
  params,
}: {
  params: Promise<{ id: string }>;
}): Promise<Metadata> {
  const { record } = await load((await params).id);
  return { title: `${record.customer.name} · Customer` };
}

/** `/customers/{id}[?tab=activity]`: one customer in the viewer's subtree, or the panel's 404. */
export default async function CustomerPage({
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
    // Its people sign in too (issue 19): who they are and whether they are active.
    ...(can.sections.users ? [{ id: 'users', label: 'Users' }] : []),
    ...(can.ledger.read ? [{ id: 'balance', label: 'Balance' }] : []),
    ...(can.usage.read ? [{ id: 'calls', label: 'Calls' }] : []),
    ...(can.statements.read ? [{ id: 'statements', label: 'Statements' }] : []),
    ...(can.sections.audit ? [{ id: 'activity', label: 'Activity' }] : []),
  ];
  const tab = pickTab(tabs, (await searchParams).tab);
  const { customer, trail } = record;
  const parent = trail.at(-2);
  return (
    <div className="space-y-4">
      <Breadcrumbs items={trailCrumbs(actor.account, trail)} />
      <CustomerRecord
        key={tab}
        initial={customer}
        tab={tab}
        tabs={
          <RecordTabs
            base={`/customers/${customer.id}`}
            tabs={tabs}
            current={tab}
            label="Customer sections"
          />
        }
        can={can}
        own={{ id: actor.account.id, name: actor.account.name }}
        owner={
          parent
            ? { id: parent.id, name: parent.name, href: `/resellers/${parent.id}` }
            : { id: actor.account.id, name: actor.account.name }
        }
      />
    </div>
  );
}
