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
import type { TComboOption } from '@/components/ui/combobox';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Audit log' };

/**
 * `/audit`: the trail in scope. The address may carry the filters (`resource`, `op`,
 * `actor`, `from`, `to`): a user's page links to its sign-ins here. A value the page does
 * not know — or a person the viewer may not read — is ignored, not an error.
 */
export default async function Page({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const actor = await requirePageActor();
  const pickPeople = uiAbilities(actor).sections.users;
  const asked = await searchParams;
  const one = (name: string) => {
    const value = asked[name];
    return typeof value === 'string' ? value : '';
  };
  const pick = (value: string, known: readonly string[]) => (known.includes(value) ? value : '');
  const day = (value: string) => (/^\d{4}-\d{2}-\d{2}$/.test(value) ? value : '');
  const person = pickPeople ? await personOf(one('actor')) : null;
  const initial: TAuditFilters = {
    ...NO_AUDIT_FILTERS,
    resource: pick(one('resource'), LOGGED_RESOURCES),
    op: pick(one('op'), ['created', 'updated', 'deleted']),
    actorId: person?.id ?? '',
    fromDay: day(one('from')),
    toDay: day(one('to')),
  };
  return (
    <>
      <PageHeading>Audit log</PageHeading>
      <AuditPanel
        // A new address while the page is open starts afresh: Next keeps a page's state
        // when only its search changes.
        key={JSON.stringify(initial)}
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
