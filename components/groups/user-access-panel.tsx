'use client';

import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { useJoinedFetch } from '@/lib/client/use-resource';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import { DENY_REASONS, type TAccessSection, type TUserAccess } from '@/lib/shared/schemas/users';
import { RecordPicker, USERS_SOURCE } from '@/components/pickers/record-picker';
import { PanelSection } from '@/components/ui/panel-section';
import { GrantMatrix } from './grant-matrix';

/**
 * "Check what your reseller sees" without signing in as them (DESIGN §1 "Groups are
 * explainable"): pick a user, see its effective permissions and the exact accounts and
 * cards it can see — answered by the server's own authorization, refetched on every live
 * change so a group edit or an assignment shows at once.
 */
export function UserAccessPanel({ initialUserId }: { initialUserId?: string }) {
  const router = useRouter();
  const [userId, setUserId] = useState(initialUserId ?? '');
  const choose = (id: string) => {
    setUserId(id);
    router.replace(id ? `/groups?user=${id}` : '/groups', { scroll: false });
  };
  const accessKey = queryKeys.anyChange('users', { id: userId, sub: 'access' });
  const joinedFetch = useJoinedFetch();
  const access = useQuery({
    queryKey: accessKey,
    queryFn: ({ signal }) => joinedFetch<TUserAccess>(pathOf(accessKey), { signal }),
    enabled: userId !== '',
  });
  return (
    <PanelSection title="What a user can see">
      <div className="max-w-md">
        {/* Searched on the server: any user in scope, however long the list. */}
        <RecordPicker
          id="explain-user"
          label="User"
          sources={[USERS_SOURCE]}
          // A linked user (`/groups?user=`) is named before any search found it.
          local={access.data ? [{ id: access.data.user.id, label: access.data.user.email }] : []}
          value={userId}
          onChange={(id) => choose(id)}
          placeholder="Search users by email or name…"
        />
      </div>
      {userId === '' ? (
        <p className="mt-3 text-sm text-slate-600">
          Their effective permissions and every account and card they can see, without signing in as
          them.
        </p>
      ) : access.isLoading ? (
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

export function AccessExplanation({ access }: { access: TUserAccess }) {
  return (
    <div className="mt-4 space-y-4" data-testid="user-access">
      <p className="text-sm text-slate-800">
        <strong>{access.user.email}</strong> in {access.account.name} ({access.account.kind}), group{' '}
        <strong>{access.group?.name ?? '—'}</strong>.
      </p>
      {access.denied ? (
        <p role="status" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
          No access at all: {DENY_REASONS[access.denied]}.
        </p>
      ) : access.grants === null ? (
        <p className="text-sm text-slate-700">
          Their group belongs to an account above yours and is not one you may assign: its
          permissions are not shown to you.
        </p>
      ) : (
        <GrantMatrix label="Effective permissions" held={[]} checked={access.grants} readOnly />
      )}
      {access.mustChangePassword && !access.denied ? (
        <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
          They must choose a new password at their next sign-in before they can do anything else.
        </p>
      ) : null}
      <div className="grid gap-4 md:grid-cols-3">
        <AccessList
          title="Resellers"
          section={access.resellers}
          denied={access.denied !== null}
          grant="resellers:read"
          describe={(item) => `${item.name}${item.status === 'active' ? '' : ` (${item.status})`}`}
        />
        <AccessList
          title="Customers"
          section={access.customers}
          denied={access.denied !== null}
          grant="customers:read"
          describe={(item) => `${item.name}${item.status === 'active' ? '' : ` (${item.status})`}`}
        />
        <AccessList
          title="Rate cards"
          section={access.cards}
          denied={access.denied !== null}
          grant="cards:read"
          describe={(item) =>
            `${item.name} — ${item.kind}, ${item.relation === 'assigned' ? 'assigned to them' : 'theirs'}`
          }
        />
      </div>
    </div>
  );
}

function AccessList<TItem extends { id: string }>({
  title,
  section,
  denied,
  grant,
  describe,
}: {
  title: string;
  section: TAccessSection<TItem>;
  /** The user has no access at all (said once above). */
  denied: boolean;
  grant: string;
  describe: (item: TItem) => string;
}) {
  const headingId = `access-${title.toLowerCase().replace(/\s+/g, '-')}`;
  return (
    <section aria-labelledby={headingId}>
      <h3 id={headingId} className="text-sm font-semibold text-slate-700">
        {title}
        {'total' in section && !('notGranted' in section) && !denied ? ` (${section.total})` : null}
      </h3>
      {'hiddenFrom' in section ? (
        <p className="mt-1 text-sm text-slate-600">
          {section.hiddenFrom === 'group'
            ? 'Not shown, as their group is not.'
            : `Not shown: your group does not grant ${section.grant}.`}
        </p>
      ) : denied ? (
        <p className="mt-1 text-sm text-slate-600">None: they have no access.</p>
      ) : 'notGranted' in section ? (
        <p className="mt-1 text-sm text-slate-600">None: their group does not grant {grant}.</p>
      ) : section.items.length === 0 ? (
        <p className="mt-1 text-sm text-slate-600">None.</p>
      ) : (
        <>
          <ul className="mt-1 max-h-64 space-y-0.5 overflow-y-auto text-sm text-slate-800">
            {section.items.map((item) => (
              <li key={item.id}>{describe(item)}</li>
            ))}
          </ul>
          {section.total > section.items.length ? (
            <p className="mt-1 text-xs text-slate-600">
              The first {section.items.length} of {section.total}.
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}
