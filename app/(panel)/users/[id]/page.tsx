import type { Metadata } from 'next';
import { cache } from 'react';
import { readPageRecord } from '@/lib/server/auth/page-record';
import { can as holds } from '@/lib/server/authz/can';
import { forbidden } from '@/lib/server/errors/domain-error';
import { findScopedUser, toUserDto } from '@/lib/server/services/users/user-access';
import { accountTrail } from '@/lib/server/services/accounts/account-trail';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { toMeDto } from '@/lib/server/services/me/me-dto';
import { Breadcrumbs, trailCrumbs } from '@/components/records/breadcrumbs';
import { pickTab, RecordTabs, type TRecordTab } from '@/components/records/record-tabs';
import { UserRecord } from '@/components/records/user-record';

export const dynamic = 'force-dynamic';
/** The page's read, once per request: the title (generateMetadata) and the page share it. */
const load = cache((id: string) =>
  readPageRecord(id, async (em, actor, id) => {
    if (id !== actor.userId && !holds(actor, 'users:read')) throw forbidden('users:read');
    const user = await findScopedUser(em, actor, id);
    return { user: toUserDto(user), trail: await accountTrail(em, actor, user.account.id) };
  }),
);

/** The tab names the record ("ops@acme.test · User · Reseller Panel"); the page keeps it live. */
export async function generateMetadata({
  params,
}: {
  params: Promise<{ id: string }>;
}): Promise<Metadata> {
  const { record } = await load((await params).id);
  return { title: `${record.user.email} · User` };
}

/**
 * `/users/{id}[?tab=…]`: a user of the viewer's account or below (`users:read`), or
 * one's own page whatever the grants; anything else is the panel's 404.
 */
export default async function UserPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { id } = await params;
  const { actor, record } = await load(id);
  const can = uiAbilities(actor);
  const { user, trail } = record;
  const self = user.id === actor.userId;
  const below = user.accountId !== actor.account.id;
  const tabs: TRecordTab[] = [
    { id: 'profile', label: 'Profile' },
    // One's own page: Manage holds one's own rename (users:update), nothing else.
    ...((
      self
        ? can.users.update
        : can.users.update || can.users.delete || (can.users.impersonate && below)
    )
      ? [{ id: 'manage', label: 'Manage' }]
      : []),
    ...(self || can.users.explain ? [{ id: 'access', label: 'Access' }] : []),
  ];
  const tab = pickTab(tabs, (await searchParams).tab);
  const owner = trail.at(-1);
  return (
    <div className="space-y-4">
      <Breadcrumbs
        items={[
          ...trailCrumbs(actor.account, trail),
          ...(can.sections.users ? [{ label: 'Users', href: '/users' }] : []),
          { label: user.email },
        ]}
      />
      <UserRecord
        key={tab}
        initial={user}
        tab={tab}
        tabs={
          <RecordTabs base={`/users/${user.id}`} tabs={tabs} current={tab} label="User sections" />
        }
        can={can}
        account={
          owner
            ? {
                name: owner.name,
                // A customer's people (issue 19) belong to a customer's page, not a reseller's.
                href: `/${owner.kind === 'reseller' ? 'resellers' : 'customers'}/${owner.id}`,
              }
            : { name: actor.account.name }
        }
        self={self ? { group: actor.group.name, grants: actor.grants, me: toMeDto(actor) } : null}
      />
    </div>
  );
}
