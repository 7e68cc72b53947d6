import type { Metadata } from 'next';
import { AuditPanel, NO_AUDIT_FILTERS, type TAuditFilters } from '@/components/audit/audit-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { findRuntime } from '@/lib/server/runtime';
import { DomainError } from '@/lib/server/errors/domain-error';
import { findScopedUser } from '@/lib/server/services/users/user-access';
import { PageHeading } from '@/components/shell/page-heading';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { LOGGED_RESOURCES } from '@/lib/shared/schemas/audit';
import { ZId } from '@/lib/shared/schemas/common';
import { addressFilters, renderKey } from '@/lib/server/pages/address-filters';
import type { TComboOption } from '@/components/ui/combobox';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Audit log' };

/**
 * `/audit`: the trail in scope. The address may carry the filters (`resource`, `op`,
 * `entity`, `actor`, `from`, `to`): a user's page links to its sign-ins here. A value the page does
 * not know — or a person the viewer may not read — is ignored, not an error.
 */
export default async function Page({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const actor = await requirePageActor();
  const pickPeople = uiAbilities(actor).sections.users;
  const { one, pick, day } = addressFilters(await searchParams);
  const person = pickPeople ? await personOf(one('actor')) : null;
  const initial: TAuditFilters = {
    ...NO_AUDIT_FILTERS,
    resource: pick('resource', LOGGED_RESOURCES),
    op: pick('op', ['created', 'updated', 'deleted']),
    entityId: ZId.safeParse(one('entity')).success ? one('entity') : '',
    actorId: person?.id ?? '',
    fromDay: day('from'),
    toDay: day('to'),
  };
  return (
    <>
      <PageHeading>Audit log</PageHeading>
      <AuditPanel
        // Its filters start again when a render asks for another address (`renderKey`).
        rendered={renderKey()}
        initial={initial}
        person={person}
        pickPeople={pickPeople}
      />
    </>
  );

  /** The person the address names, as the picker shows one: only a user in scope. */
  async function personOf(unverifiedId: string): Promise<TComboOption | null> {
    const runtime = findRuntime();
    if (!runtime || !ZId.safeParse(unverifiedId).success) return null;
    try {
      const user = await findScopedUser(runtime.orm.em.fork(), actor, unverifiedId);
      return { id: user.id, label: user.email, ...(user.name ? { detail: user.name } : {}) };
    } catch (error) {
      if (error instanceof DomainError && error.kind === 'not_found') return null;
      throw error;
    }
  }
}
