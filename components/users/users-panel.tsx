'use client';

import { PanelLink } from '@/components/ui/panel-link';
import { usePagedList } from '@/lib/client/use-resource';
import { useDebounced } from '@/lib/client/use-debounced';
import { useAddressState, useAddressView } from '@/lib/client/address-state';
import { useSearchParams } from 'next/navigation';
import { queryKeys, searchOf } from '@/lib/client/query-keys';
import { USER_SORT_KEYS, type TUserDto } from '@/lib/shared/schemas/users';
import type { TUiAbilities } from '@/lib/shared/ui-abilities';
import { ListState, LoadMore } from '@/components/ui/field';
import { DataTable, ListCount, PanelSection } from '@/components/ui/panel-section';
import { AddUserForm } from './add-user-form';
import { GroupName } from './group-name';
import { RelativeTime } from '@/components/ui/relative-time';
import { RecordPicker, type TPickerSource } from '@/components/pickers/record-picker';

/** Groups the viewer reads (its own, and those above it may give), by name. */
const GROUPS_SOURCE: TPickerSource = {
  resource: 'groups',
  toOption: (item) => ({ id: item.id, label: String(item.name) }),
};

/**
 * Users in scope (searched, sorted and counted on the server; each email opens the
 * user's page) and the create form. The account is picked by a server search, so any
 * account in scope can be given a user (AddUserForm).
 */
export function UsersPanel({
  own,
  can,
  canReadGroups,
  accountsFrom,
  initialGroupId = '',
  rendered,
}: {
  own: { id: string; name: string };
  /** `explain`: each user links to the explainer of what it can see (groups page). */
  can: TUiAbilities['users'];
  /** The viewer reads groups: the Group column names them. */
  canReadGroups: boolean;
  /** The accounts the Add-user form may search: the lists the viewer reads. */
  accountsFrom: { resellers: boolean; customers: boolean };
  /** One group's members (the Groups page's Members link); '' for every user. */
  initialGroupId?: string;
  /** New with each server render of the page (`useAddressState`). */
  rendered?: string;
}) {
  // The address names the group shown, and the search and sort, so Back from a user's
  // page, a reload or a shared link shows the same list again.
  // Back from a user's page the router may show the page as first rendered: the address,
  // which this panel wrote, says what was left.
  const group = useSearchParams()?.get('group');
  const [{ groupId, q: search, sort }, setView] = useAddressState(
    {
      ...useAddressView({ q: '' }, USER_SORT_KEYS),
      groupId: group && /^[0-9a-f-]{36}$/.test(group) ? group : initialGroupId,
    },
    rendered,
    (view) =>
      searchOf({ group: view.groupId || undefined, q: view.q || undefined, sort: view.sort }),
  );
  const setSearch = (q: string) => setView((held) => ({ ...held, q }));
  const setSort = (next: string | undefined) => setView((held) => ({ ...held, sort: next }));
  const setGroupId = (id: string) => setView((held) => ({ ...held, groupId: id }));
  const q = useDebounced(search.trim(), 250);
  const users = usePagedList<TUserDto>(
    queryKeys.list('users', { q, sort, groupId: groupId || undefined }),
  );
  const items = users.data ?? [];

  return (
    <div className="grid gap-6 lg:grid-cols-[2fr_1fr]">
      <PanelSection title="Users">
        <div className="mb-3">
          <label htmlFor="search-users" className="sr-only">
            Search users
          </label>
          <input
            id="search-users"
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value.slice(0, 200))}
            placeholder="Search users by name or email"
            className="w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm focus:outline-none focus:ring-2 focus:ring-brand-500"
          />
        </div>
        {canReadGroups ? (
          <div className="mb-3 max-w-sm">
            <RecordPicker
              id="users-group"
              label="Filter by group"
              sources={[GROUPS_SOURCE]}
              value={groupId}
              onChange={(id) => setGroupId(id)}
              placeholder="Any group"
            />
          </div>
        ) : null}
        {groupId ? (
          // Said in words as well: a group opened by its link may not be among the
          // picker's first options, so the field alone could look empty.
          <p className="mb-3 flex flex-wrap items-center gap-2 text-sm text-slate-700">
            <span>
              Members of <GroupName groupId={groupId} enabled={canReadGroups} />
            </span>
            <button
              type="button"
              className="text-brand-700 underline"
              onClick={() => setGroupId('')}
            >
              Show every group
            </button>
          </p>
        ) : null}
        <ListState isLoading={users.isLoading} error={users.error} empty={items.length === 0}>
          <ListCount
            shown={items.length}
            total={items.total}
            updating={users.isPlaceholderData && users.isFetching}
          />
          <DataTable
            label="Users"
            sort={{ value: sort, onChange: setSort }}
            headers={[
              { label: 'Email', sort: 'email' },
              { label: 'Name', sort: 'name' },
              'Account',
              'Group',
              { label: 'Status', sort: 'status' },
              'MFA',
              // Not "Last sign-in": a narrow column broke that at its hyphen.
              { label: 'Signed in', sort: 'lastSignInAt' },
              '',
            ]}
            rows={items.map((user) => [
              <PanelLink
                key="email"
                className="text-brand-700 underline"
                href={`/users/${user.id}`}
              >
                {user.email}
              </PanelLink>,
              user.name,
              user.accountName,
              <GroupName key="group" groupId={user.groupId} enabled={canReadGroups} />,
              user.status,
              user.mfaEnabled ? 'on' : 'off',
              // Moves live: a sign-in is signalled to those who read the user (not an edit).
              user.lastSignInAt ? <RelativeTime key="signed-in" at={user.lastSignInAt} /> : 'never',
              can.explain ? (
                <PanelLink
                  key="access"
                  className="text-brand-700 underline"
                  aria-label={`Access: what ${user.email} can see`}
                  href={`/groups?user=${user.id}`}
                >
                  Access
                </PanelLink>
              ) : null,
            ])}
          />
          <LoadMore list={users} />
        </ListState>
      </PanelSection>
      {can.create ? (
        <PanelSection title="Add user">
          <AddUserForm own={own} accountsFrom={accountsFrom} />
        </PanelSection>
      ) : null}
    </div>
  );
}
