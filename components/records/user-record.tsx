'use client';

import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import { useJoinedFetch, useLiveRecord } from '@/lib/client/use-resource';
import { useMe } from '@/lib/client/use-me';
import type { TMeDto } from '@/lib/shared/schemas/me';
import type { TUserAccess, TUserDto } from '@/lib/shared/schemas/users';
import type { TUiAbilities } from '@/lib/shared/ui-abilities';
import { PanelSection } from '@/components/ui/panel-section';
import { RelativeTime } from '@/components/ui/relative-time';
import { UserManage } from '@/components/users/user-manage';
import { AccessExplanation } from '@/components/groups/user-access-panel';
import { GroupName } from '@/components/users/group-name';
import { Facts, RecordLink, RecordTitle, RecordBody } from './record-parts';

/**
 * A user's page: its profile, its administration (disable, resets, view as — as the
 * server's manage rule allows) and what it can see; on one's own page, one's own
 * permissions. Each tab is its own URL.
 */
export function UserRecord({
  initial,
  tab,
  tabs,
  can,
  account,
  self,
}: {
  initial: TUserDto;
  tab: string;
  tabs: ReactNode;
  can: TUiAbilities;
  /** Its account as the viewer sees it (a link below the viewer's own account). */
  account: { name: string; href?: string };
  /** Set on one's own page: one's group and grants, and who one is (`/me`, kept live). */
  self: { group: string; grants: readonly string[]; me: TMeDto } | null;
}) {
  const record = useLiveRecord<TUserDto>('users', initial, { readable: can.sections.users });
  const user = record.data;
  return (
    <div className="space-y-4">
      <RecordTitle
        titleKind="User"
        kind={self ? <OwnKind me={self.me} /> : `User${user.name ? ` · ${user.name}` : ''}`}
        name={user.email}
        status={user.status}
        topic={`users:${user.id}`}
        gone={record.gone}
      />
      {tabs}
      <RecordBody gone={record.gone}>
        {tab === 'profile' ? (
          <PanelSection title="Profile">
            <Facts
              items={[
                ['Email', user.email],
                // One's own name and group from `/me`, kept live for everyone: the record
                // itself follows only for a reader of users.
                ['Name', self ? <OwnName key="name" me={self.me} /> : user.name || '—'],
                [
                  'Account',
                  account.href ? (
                    <RecordLink href={account.href}>{account.name}</RecordLink>
                  ) : (
                    account.name
                  ),
                ],
                [
                  'Group',
                  self ? (
                    <OwnGroup key="group" me={self.me} />
                  ) : (
                    <GroupName key="group" groupId={user.groupId} enabled={can.sections.groups} />
                  ),
                ],
                ['Status', user.status],
                ...(self
                  ? [
                      ['Account status', <OwnAccountStatus key="own" me={self.me} />] as [
                        string,
                        ReactNode,
                      ],
                    ]
                  : []),
                ['MFA', user.mfaEnabled ? 'on' : 'off'],
                ['Must change password', user.mustChangePassword ? 'yes, at next sign-in' : 'no'],
                [
                  'Last sign-in',
                  <span key="signed-in" className="flex flex-wrap gap-x-3">
                    {user.lastSignInAt ? <RelativeTime at={user.lastSignInAt} /> : 'never'}
                    {can.sections.audit && can.sections.users ? (
                      // The audit's sign-ins and sign-outs of this person, with hostnames
                      // and addresses (the audit page reads its filters from the address).
                      <RecordLink href={`/audit?resource=sessions&actor=${user.id}`}>
                        Sign-in history
                      </RecordLink>
                    ) : null}
                  </span>,
                ],
                ['Created', <RelativeTime key="created" at={user.createdAt} />],
              ]}
            />
          </PanelSection>
        ) : tab === 'manage' ? (
          <UserManage
            user={user}
            can={{
              update: can.users.update,
              delete: can.users.delete,
              impersonate: can.users.impersonate && !self && Boolean(account.href),
            }}
            self={Boolean(self)}
            onClose={() => history.back()}
          />
        ) : (
          <div className="space-y-4">
            {self ? (
              <PanelSection title="Your permissions">
                <ul className="flex flex-wrap gap-1.5" data-testid="grants">
                  {self.grants.map((grant) => (
                    <li
                      key={grant}
                      className="rounded bg-slate-100 px-2 py-0.5 font-mono text-xs text-slate-700"
                    >
                      {grant}
                    </li>
                  ))}
                </ul>
              </PanelSection>
            ) : null}
            {can.users.explain ? <Access userId={user.id} /> : null}
          </div>
        )}
      </RecordBody>
    </div>
  );
}

/** What the user can see, answered by the server's own authorization, refetched on every change. */
function Access({ userId }: { userId: string }) {
  const accessKey = queryKeys.anyChange('users', { id: userId, sub: 'access' });
  const joinedFetch = useJoinedFetch();
  const access = useQuery({
    queryKey: accessKey,
    queryFn: ({ signal }) => joinedFetch<TUserAccess>(pathOf(accessKey), { signal }),
  });
  return (
    <PanelSection title="What this user can see">
      {access.isLoading ? (
        <p className="py-6 text-sm text-slate-500">Loading…</p>
      ) : access.error ? (
        <p role="alert" className="py-6 text-sm text-red-700">
          Could not load: {(access.error as Error).message}
        </p>
      ) : access.data ? (
        <AccessExplanation access={access.data} />
      ) : null}
    </PanelSection>
  );
}

/** One's own account's status, as `/me` says it now (refetched when the account changes). */
function OwnAccountStatus({ me }: { me: TMeDto }) {
  const live = useMe(me);
  return <>{live.account.status}</>;
}

/** The line above one's own email: one's name as `/me` says it now. */
function OwnKind({ me }: { me: TMeDto }) {
  const live = useMe(me);
  return <>{`User${live.user.name ? ` · ${live.user.name}` : ''} (you)`}</>;
}

function OwnName({ me }: { me: TMeDto }) {
  const live = useMe(me);
  return <>{live.user.name || '—'}</>;
}

function OwnGroup({ me }: { me: TMeDto }) {
  const live = useMe(me);
  return <>{live.group.name}</>;
}
