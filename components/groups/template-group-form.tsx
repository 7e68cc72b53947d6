'use client';

import { useEffect, useId, useRef, useState } from 'react';
import { ApiClientError } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { useApiMutation } from '@/lib/client/use-resource';
import { useSchemaForm } from '@/lib/client/use-schema-form';
import { firstFreeName } from '@/lib/shared/group-names';
import { GROUP_TEMPLATES, type TGroupTemplate } from '@/lib/shared/permissions';
import { ZGroupCreate } from '@/lib/shared/schemas/groups';
import { Button, TextField } from '@/components/ui/field';
import { FormMessage } from '@/components/ui/panel-section';

/** The template body with its name required: the person names the group they create. */
const ZTemplateCreate = ZGroupCreate.options[1].required({ name: true });

/**
 * "Create Default Reseller" / "Create Default Customer": a group from a built-in
 * template, under a name the person confirms or changes (the first free "Default
 * Reseller (n)" is offered), instead of a fixed one. `takenNames`: the groups on
 * screen, for the suggestion; the server still decides. A template holding a grant the
 * viewer's group lacks (one added to the catalog after that group was made: migrations
 * widen only whole-catalog groups) would be refused as an escalation: its button is off
 * and says which, rather than failing on submit.
 */
export function TemplateGroupCreate({
  template,
  takenNames,
  known = true,
  held,
}: {
  template: TGroupTemplate;
  takenNames: readonly string[];
  /** The groups have loaded: until then the suggestion would offer a taken name. */
  known?: boolean;
  /** The viewer's grants: a template may hand out only these (the subset rule). */
  held?: readonly string[];
}) {
  const baseName = GROUP_TEMPLATES[template].name;
  const lacking = held
    ? GROUP_TEMPLATES[template].grants.filter((grant) => !held.includes(grant))
    : [];
  const lackingId = useId();
  const [open, setOpen] = useState(false);
  // Closing puts the focus back on the opening button, where the person started.
  const [refocus, setRefocus] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  function close() {
    setOpen(false);
    setRefocus(true);
  }
  const create = useApiMutation<unknown, unknown>('POST', '/groups', [queryKeys.list('groups')]);
  const form = useSchemaForm({
    schema: ZTemplateCreate,
    defaultValues: { name: '' },
    toBody: (values: { name: string }) => ({ template, name: values.name }),
    submit: async (body) => {
      try {
        await create.mutateAsync(body);
      } catch (error) {
        // One account cannot hold two groups of one name: say so under the field.
        if (error instanceof ApiClientError && error.code === 'duplicate') {
          throw new ApiClientError(error.status, error.code, error.message, {
            name: 'is taken by another group of this account',
          });
        }
        throw error;
      }
      close();
    },
  });
  const { reset, setFocus } = form.form;

  useEffect(() => {
    if (open) setFocus('name', { shouldSelect: true });
    else if (refocus) box.current?.querySelector('button')?.focus();
  }, [open, refocus, setFocus]);

  return <div ref={box}>{open ? renderForm() : renderOpener()}</div>;

  function renderOpener() {
    return (
      <div className="flex flex-col gap-1">
        <Button
          type="button"
          disabled={!known || lacking.length > 0}
          aria-describedby={lacking.length ? lackingId : undefined}
          onClick={() => {
            reset({ name: firstFreeName(baseName, new Set(takenNames)) });
            setRefocus(false);
            setOpen(true);
          }}
        >
          Create {baseName}
        </Button>
        {lacking.length ? (
          <span id={lackingId} className="max-w-56 text-xs text-slate-600">
            Your group lacks {lacking.join(', ')}: make a group with the grants you hold instead.
          </span>
        ) : null}
      </div>
    );
  }

  function renderForm() {
    return (
      <form
        onSubmit={form.onSubmit}
        noValidate
        aria-label={`New group from the ${baseName} template`}
        className="flex flex-wrap items-end gap-2"
      >
        <TextField
          label="Name of the new group"
          {...form.register('name')}
          error={form.fields.name}
        />
        <Button type="submit" disabled={form.pending}>
          Create
        </Button>
        <button
          type="button"
          className="px-2 py-2 text-sm text-slate-700 underline"
          onClick={close}
        >
          Cancel
        </button>
        <div className="basis-full">
          <FormMessage message={form.message} />
        </div>
      </form>
    );
  }
}
