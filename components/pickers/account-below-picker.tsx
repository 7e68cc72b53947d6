'use client';

import { RecordPicker } from './record-picker';

/**
 * An account directly below `parentId` (a reseller or a customer), searched on the
 * server: where a card is assigned, or a customer moved.
 */
export function AccountBelowPicker({
  id,
  label,
  parentId,
  value,
  onChange,
  error,
  local,
  exclude,
}: {
  id: string;
  label: string;
  /** Only accounts whose parent this is; undefined: any reseller in scope. */
  parentId?: string;
  value: string;
  onChange: (id: string, name: string | null) => void;
  error?: string;
  /** Options matched locally (the viewer's own account). */
  local?: { id: string; label: string; detail?: string }[];
  /** An id never offered (a customer's current parent). */
  exclude?: string;
}) {
  const filter = parentId ? { parentId } : undefined;
  const option = (kind: string) => (account: Record<string, unknown> & { id: string }) =>
    account.id === exclude
      ? null
      : {
          id: account.id,
          label: String(account.name),
          detail: `${kind}, under ${String(account.parentName ?? '')}`,
        };
  return (
    <RecordPicker
      id={id}
      label={label}
      sources={
        parentId
          ? [
              { resource: 'resellers', filter, toOption: option('reseller') },
              { resource: 'customers', filter, toOption: option('customer') },
            ]
          : [{ resource: 'resellers', toOption: option('reseller') }]
      }
      local={local?.filter((entry) => entry.id !== exclude)}
      value={value}
      onChange={(picked, option) => onChange(picked, option?.label ?? null)}
      error={error}
    />
  );
}
