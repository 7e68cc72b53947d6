import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { PageHeading } from '@/components/shell/page-heading';
import { CallsPanel, NO_CALL_FILTERS, type TCallFilters } from '@/components/calls/calls-panel';
import { UNRATED_REASONS, USAGE_STATUSES } from '@/lib/shared/schemas/usage';

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
  const asked = await searchParams;
  const one = (name: string) => {
    const value = asked[name];
    return typeof value === 'string' ? value : '';
  };
  const pick = <T extends string>(value: string, known: readonly T[]): T | '' =>
    (known as readonly string[]).includes(value) ? (value as T) : '';
  const day = (value: string) => (/^\d{4}-\d{2}-\d{2}$/.test(value) ? value : '');
  const initial: TCallFilters = {
    ...NO_CALL_FILTERS,
    number: /^\d{1,32}$/.test(one('number')) ? one('number') : '',
    status: pick(one('status'), USAGE_STATUSES),
    reason: pick(one('reason'), UNRATED_REASONS),
    fromDay: day(one('from')),
    toDay: day(one('to')),
  };
  return (
    <>
      <PageHeading>Calls</PageHeading>
      <CallsPanel
        // A new address (an Overview link while the page is open) starts afresh: Next keeps
        // a page's state when only its search changes.
        key={JSON.stringify(initial)}
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
