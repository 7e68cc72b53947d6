import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { PageHeading } from '@/components/shell/page-heading';
import { CallsPanel, NO_CALL_FILTERS, type TCallFilters } from '@/components/calls/calls-panel';
import { UNRATED_REASONS, USAGE_STATUSES } from '@/lib/shared/schemas/usage';
import { addressFilters, renderKey } from '@/lib/server/pages/address-filters';
import { findRuntime } from '@/lib/server/runtime';
import { DomainError } from '@/lib/server/errors/domain-error';
import { getSubAccount } from '@/lib/server/services/accounts/get-sub-account';
import { ZId } from '@/lib/shared/schemas/common';
import type { TComboOption } from '@/components/ui/combobox';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Calls' };

/**
 * `/calls`: the calls below the viewer, filtered and exported (usage:read; without it no
 * page, as the API refuses). The address may carry the filters (the Overview's unrated
 * calls link here by reason, the traffic rows by account); a value the page does not know
 * — or an account the viewer may not read — is ignored, not an error.
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
  const picks =
    actor.account.kind !== 'customer' && (can.sections.resellers || can.sections.customers);
  const account = picks ? await accountOf(one('account')) : null;
  const initial: TCallFilters = {
    ...NO_CALL_FILTERS,
    accountId: account?.id ?? '',
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
        account={account}
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

  /**
   * The account the address names, as the picker shows one: a reseller or customer below
   * the viewer that it may read (`GET` of it would answer), else none.
   */
  async function accountOf(unverifiedId: string): Promise<TComboOption | null> {
    const runtime = findRuntime();
    if (!runtime || !ZId.safeParse(unverifiedId).success) return null;
    const em = runtime.orm.em.fork();
    for (const kind of ['reseller', 'customer'] as const) {
      if (!can.sections[`${kind}s`]) continue;
      try {
        const found = await getSubAccount(em, actor, kind, unverifiedId);
        return { id: found.id, label: found.name, detail: `${kind}, under ${found.parentName}` };
      } catch (error) {
        if (!(error instanceof DomainError && error.kind === 'not_found')) throw error;
      }
    }
    return null;
  }
}
