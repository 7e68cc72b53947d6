'use client';

import { useApiMutation, usePagedList } from '@/lib/client/use-resource';
import { createdToast } from '@/components/ui/toast';
import { queryKeys } from '@/lib/client/query-keys';
import { useSchemaForm } from '@/lib/client/use-schema-form';
import { useState } from 'react';
import { PanelLink } from '@/components/ui/panel-link';
import { ZGroupCreate, type TGroupDto, type TUseOnlyGroupDto } from '@/lib/shared/schemas/groups';
import type { TUiAbilities } from '@/lib/shared/ui-abilities';
import { GROUP_TEMPLATE_KEYS } from '@/lib/shared/permissions';
import { Button, ListState, LoadMore, TextField } from '@/components/ui/field';
import { DataTable, FormMessage, ListCount, PanelSection } from '@/components/ui/panel-section';
import { TemplateGroupCreate } from './template-group-form';
import { GrantMatrix } from './grant-matrix';
import { GroupEditForm, RequireMfaField } from './group-edit-form';
import { UserAccessPanel } from './user-access-panel';

/**
 * Groups: the list (owned and use-only), "Create Default Reseller" and "Create Default
 * Customer" under a name, the
 * grant matrix for a new group and for editing one (offering only the grants the
 * signed-in user holds), and the explainer of what any user in scope can see.
 */
export function GroupsPanel({
  held: grants,
  can,
  readsUsers = false,
  explainUserId,
}: {
  /** The signed-in person's grants: the matrix offers only these. */
  held: readonly string[];
  can: TUiAbilities['groups'];
  /** Each group links to its members on the Users page (those the viewer may see). */
  readsUsers?: boolean;
  explainUserId?: string;
}) {
  const [editingId, setEditingId] = useState<string | null>(null);
  const [sort, setSort] = useState<string | undefined>(undefined);
  const groups = usePagedList<TGroupDto | TUseOnlyGroupDto>(queryKeys.list('groups', { sort }));
  const create = useApiMutation<unknown, unknown>('POST', '/groups', [queryKeys.list('groups')], {
    success: createdToast('groups'),
  });
  const form = useSchemaForm({
    // The matrix form is the named-grants shape of the create body (not the template).
    schema: ZGroupCreate.options[0],
    defaultValues: { name: '', grants: [] as string[], requireMfa: false },
    toBody: (values) => values,
    submit: create.mutateAsync,
  });
  const items = groups.data ?? [];
  // Only someone who holds every grant of a group may edit it (no escalation).
  const held = new Set<string>(grants);
  const editing = items.find(
    (group): group is TGroupDto => group.id === editingId && !group.useOnly,
  );

  return (
    <div className="space-y-6">
      <div className="grid gap-6 lg:grid-cols-[2fr_1fr]">
        <PanelSection
          title="Groups"
          actions={
            can.create ? (
              <div className="flex flex-wrap gap-2">
                {GROUP_TEMPLATE_KEYS.map((template) => (
                  <TemplateGroupCreate
                    key={template}
                    template={template}
                    takenNames={items.map((group) => group.name)}
                    known={groups.isSuccess}
                    held={grants}
                  />
                ))}
              </div>
            ) : null
          }
        >
          {create.error && !form.message ? (
            <FormMessage message={(create.error as Error).message} />
          ) : null}
          <ListState isLoading={groups.isLoading} error={groups.error} empty={items.length === 0}>
            <ListCount
              shown={items.length}
              total={items.total}
              updating={groups.isPlaceholderData && groups.isFetching}
            />
            <DataTable
              label="Groups"
              sort={{ value: sort, onChange: setSort }}
              headers={[
                { label: 'Name', sort: 'name' },
                'Grants',
                'MFA',
                'Editable',
                ...(readsUsers ? ['Members'] : []),
                '',
              ]}
              rows={items.map((group) => [
                group.name,
                `${group.grants.length} grants`,
                !group.useOnly && group.requireMfa ? 'required' : '',
                group.useOnly ? 'use only' : 'yes',
                ...(readsUsers
                  ? [
                      <PanelLink
                        key="members"
                        className="text-sm text-brand-700 underline"
                        aria-label={`Members of ${group.name}`}
                        href={`/users?group=${group.id}`}
                      >
                        Members
                      </PanelLink>,
                    ]
                  : []),
                can.update && !group.useOnly && !group.grants.every((grant) => held.has(grant)) ? (
                  <span className="text-xs text-slate-600">holds grants you lack</span>
                ) : can.update && !group.useOnly ? (
                  <button
                    type="button"
                    className="text-sm text-brand-700 underline"
                    aria-label={`Edit ${group.name}`}
                    onClick={() => setEditingId(group.id)}
                  >
                    Edit
                  </button>
                ) : null,
              ])}
            />
            <LoadMore list={groups} />
          </ListState>
          {editing ? (
            <div className="mt-4 border-t border-slate-200 pt-4">
              <GroupEditForm
                key={editing.id}
                group={editing}
                latest={editing}
                held={grants}
                canDelete={can.delete}
                onDone={() => setEditingId(null)}
              />
            </div>
          ) : null}
        </PanelSection>
        {can.create ? (
          <PanelSection title="New group">
            <form onSubmit={form.onSubmit} className="space-y-3" noValidate aria-label="New group">
              <TextField
                label="Group name"
                {...form.register('name')}
                error={form.fields.name}
                required
              />
              <GrantMatrix label="Grants" held={grants} field={form.register('grants')} />
              <RequireMfaField id="new-group-require-mfa" field={form.register('requireMfa')} />
              <FormMessage
                message={
                  form.message ?? (form.fields.grants ? `Grants: ${form.fields.grants}` : null)
                }
              />
              <Button type="submit" disabled={form.pending}>
                Create group
              </Button>
            </form>
          </PanelSection>
        ) : null}
      </div>
      {can.explain ? (
        // A link from the users page names the user in the URL: a new link, a new choice.
        <UserAccessPanel key={explainUserId ?? ''} initialUserId={explainUserId} />
      ) : null}
    </div>
  );
}
