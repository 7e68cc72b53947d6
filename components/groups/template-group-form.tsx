'use client';

import { useEffect, useRef, useState } from 'react';
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
 * screen, for the suggestion; the server still decides.
 */
export function TemplateGroupCreate({
  template,
  takenNames,
  known = true,
}: {
  template: TGroupTemplate;
  takenNames: readonly string[];
  /** The groups have loaded: until then the suggestion would offer a taken name. */
  known?: boolean;
}) {
  const baseName = GROUP_TEMPLATES[template].name;
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
      <Button
        type="button"
        disabled={!known}
        onClick={() => {
          reset({ name: firstFreeName(baseName, new Set(takenNames)) });
          setRefocus(false);
          setOpen(true);
        }}
      >
        Create {baseName}
      </Button>
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
