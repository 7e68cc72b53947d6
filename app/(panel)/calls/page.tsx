import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { PageHeading } from '@/components/shell/page-heading';
import { CallsPanel, NO_CALL_FILTERS, type TCallFilters } from '@/components/calls/calls-panel';
import { UNRATED_REASONS, USAGE_STATUSES } from '@/lib/shared/schemas/usage';
import { addressFilters, renderKey } from '@/lib/server/pages/address-filters';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Calls' };

/**
 * `/calls`: the calls below the viewer, filtered and exported (usage:read; without it no
 * page, as the API refuses). The address may carry the filters (the Overview's unrated
 * calls link here by reason); a value the page does not know is ignored, not an error.
 */
export default async function CallsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const actor = await requirePageActor();
  const can = uiAbilities(actor);
  if (!can.usage.read) notFound();
  const { one, pick, day } = addressFilters(await searchParams);
  const initial: TCallFilters = {
    ...NO_CALL_FILTERS,
    number: /^\d{1,32}$/.test(one('number')) ? one('number') : '',
    status: pick('status', USAGE_STATUSES),
    reason: pick('reason', UNRATED_REASONS),
    fromDay: day('from'),
    toDay: day('to'),
  };
  return (
    <>
      <PageHeading>Calls</PageHeading>
      <CallsPanel
        // Its filters start again when a render asks for another address (`renderKey`).
        rendered={renderKey()}
        initial={initial}
        viewer={{
          accountId: actor.account.id,
          accountName: actor.account.name,
          isCustomer: actor.account.kind === 'customer',
          readsResellers: can.sections.resellers,
          readsCustomers: can.sections.customers,
        }}
      />
    </>
  );
}
