'use client';

import { useState } from 'react';
import { queryKeys } from '@/lib/client/query-keys';
import type { TUserDto } from '@/lib/shared/schemas/users';
import { Button } from '@/components/ui/field';
import { PanelSection } from '@/components/ui/panel-section';
import { AddUserForm } from '@/components/users/add-user-form';
import { RecordLink, RecordList } from './record-parts';

/**
 * The people of one account below the viewer — a reseller's, or a customer's since its
 * people sign in (issue 19) — live, with whether each is active, and "+ Add user" for
 * this account. Each row opens the user's page, where support may view as them.
 */
export function AccountUsers({
  account,
  canCreate,
  own,
}: {
  account: { id: string; name: string };
  canCreate: boolean;
  own: { id: string; name: string };
}) {
  const [adding, setAdding] = useState(false);
  return (
    <div className="grid gap-4 lg:grid-cols-[2fr_1fr]">
      <PanelSection
        title={`Users of ${account.name}`}
        actions={
          canCreate && !adding ? (
            <Button type="button" onClick={() => setAdding(true)}>
              + Add user
            </Button>
          ) : null
        }
      >
        <RecordList<TUserDto>
          queryKey={queryKeys.list('users', { accountId: account.id })}
          label={`Users of ${account.name}`}
          headers={['Email', 'Name', 'Status', 'MFA']}
          emptyText={canCreate ? 'No users yet: add the first one.' : 'No users yet.'}
          row={(user) => [
            <RecordLink key="email" href={`/users/${user.id}`}>
              {user.email}
            </RecordLink>,
            user.name || '—',
            user.status,
            user.mfaEnabled ? 'on' : 'off',
          ]}
        />
      </PanelSection>
      {adding ? (
        <PanelSection title="Add user" reveal>
          <AddUserForm
            account={account}
            own={own}
            // The toast names the new user and links to its page.
            onCreated={() => setAdding(false)}
            onCancel={() => setAdding(false)}
          />
        </PanelSection>
      ) : null}
    </div>
  );
}
