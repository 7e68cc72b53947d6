'use client';

import { useApiMutation, usePagedList } from '@/lib/client/use-resource';
import { useFormSubmit } from '@/lib/client/use-form-submit';
import { ACTIONS, RESOURCES, type TGrant } from '@/lib/shared/permissions';
import type { TGroupDto, TUseOnlyGroupDto } from '@/lib/shared/schemas/groups';
import { Button, ListState, TextField } from '@/components/ui/field';
import { DataTable, FormMessage, PanelSection } from './panel-section';

/**
 * Groups: the list (owned and use-only), "Create Default Reseller" in one click, and a
 * grant matrix for a new group offering only the grants the signed-in user holds.
 */
export function GroupsPanel({ grants, canCreate }: { grants: string[]; canCreate: boolean }) {
  const groups = usePagedList<TGroupDto | TUseOnlyGroupDto>('/groups');
  const create = useApiMutation<Record<string, unknown>, unknown>('POST', '/groups', ['/groups']);
  const form = useFormSubmit(create.mutateAsync, (data) => ({
    name: String(data.get('name') ?? ''),
    grants: data.getAll('grants').map(String),
  }));
  const items = groups.data ?? [];
  const held = new Set(grants);

  return (
    <div className="grid gap-6 lg:grid-cols-[2fr_1fr]">
      <PanelSection
        title="Groups"
        actions={
          canCreate ? (
            <Button
              type="button"
              disabled={create.isPending}
              onClick={() =>
                void create.mutateAsync({ template: 'default-reseller' }).catch(() => {})
              }
            >
              Create Default Reseller
            </Button>
          ) : null
        }
      >
        {create.error && !form.message ? (
          <FormMessage message={(create.error as Error).message} />
        ) : null}
        <ListState isLoading={groups.isLoading} error={groups.error} empty={items.length === 0}>
          <DataTable
            label="Groups"
            headers={['Name', 'Grants', 'Editable']}
            rows={items.map((group) => [
              group.name,
              `${group.grants.length} grants`,
              group.useOnly ? 'use only' : 'yes',
            ])}
          />
        </ListState>
      </PanelSection>
      {canCreate ? (
        <PanelSection title="New group">
          <form onSubmit={form.onSubmit} className="space-y-3" noValidate aria-label="New group">
            <TextField label="Group name" name="name" error={form.fields.name} required />
            <fieldset>
              <legend className="text-sm font-medium text-slate-700">Grants</legend>
              <table className="mt-2 text-xs">
                <thead>
                  <tr>
                    <th />
                    {ACTIONS.map((action) => (
                      <th key={action} scope="col" className="px-1 font-medium text-slate-500">
                        {action}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {RESOURCES.map((resource) => (
                    <tr key={resource}>
                      <th scope="row" className="pr-2 text-left font-medium text-slate-600">
                        {resource}
                      </th>
                      {ACTIONS.map((action) => {
                        const grant = `${resource}:${action}` as TGrant;
                        return (
                          <td key={action} className="px-1 text-center">
                            <input
                              type="checkbox"
                              name="grants"
                              value={grant}
                              aria-label={grant}
                              disabled={!held.has(grant)}
                            />
                          </td>
                        );
                      })}
                    </tr>
                  ))}
                </tbody>
              </table>
              <label className="mt-2 flex items-center gap-2 text-xs text-slate-600">
                <input
                  type="checkbox"
                  name="grants"
                  value="impersonation:start"
                  disabled={!held.has('impersonation:start')}
                />
                impersonation:start (view as a user of a lower account)
              </label>
            </fieldset>
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
  );
}
