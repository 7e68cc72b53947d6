'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useWatch } from 'react-hook-form';
import { ApiClientError, apiFetch } from '@/lib/client/api';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import { useSchemaForm } from '@/lib/client/use-schema-form';
import { AA_LARGE, AA_TEXT, contrastRatio } from '@/lib/shared/contrast';
import {
  BRAND_MAX_HOSTNAMES,
  LOGO_MAX_BYTES,
  LOGO_TYPES,
  ZBrandPut,
  type TBrandDto,
  type TBrandView,
} from '@/lib/shared/schemas/brands';
import { Button, TextAreaField, TextField } from '@/components/ui/field';
import { FormMessage, PanelSection } from '@/components/ui/panel-section';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { Facts } from '@/components/records/record-parts';
import { ConflictNotice } from '@/components/live/conflict-notice';

/** The colours a first brand starts from: the panel's own, which pass both checks. */
const START = { primaryColor: '#1d4ed8', accentColor: '#0f766e' };

/**
 * An account's brand (issue 19, DESIGN's branded portals): what its customers' portal and
 * statements show — its own brand, else the nearest above it, else the product's — and,
 * with `brand:update`, the form that sets it (name, colours checked for contrast as the
 * server checks them, support contacts, the portal's hostnames), its logo, and Remove.
 * Brands are audited, not live: the view is read when it opens and after each change.
 */
export function BrandEditor({
  account,
  canEdit,
}: {
  account: { id: string; name: string };
  canEdit: boolean;
}) {
  const key = queryKeys.static('accounts', { id: account.id, sub: 'brand' });
  const queryClient = useQueryClient();
  const view = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => apiFetch<TBrandView>(pathOf(key), { signal }),
    staleTime: 0,
    refetchOnMount: 'always',
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: key });
  if (view.isLoading) return <p className="text-sm text-slate-600">Loading…</p>;
  if (view.error || !view.data) {
    return (
      <p role="alert" className="text-sm text-red-700">
        The brand could not be read: {(view.error as Error | null)?.message ?? 'no answer'}
      </p>
    );
  }
  const { brand, effective } = view.data;
  return (
    <div className={`grid gap-4 ${canEdit ? 'lg:grid-cols-[1fr_1fr]' : ''}`}>
      <PanelSection title={`Brand of ${account.name}`}>
        <p className="mb-3 text-sm text-slate-700" data-testid="brand-source">
          {effective.source === 'own'
            ? 'Its own brand: its portal, its customers’ portals and statements show it.'
            : effective.source === 'inherited'
              ? 'No brand of its own: the brand above it applies.'
              : 'No brand here or above: the product’s own look applies.'}
        </p>
        <Facts
          items={[
            ['Shown as', effective.displayName],
            ['Primary colour', <Swatch key="primary" colour={effective.primaryColor} />],
            ['Accent colour', <Swatch key="accent" colour={effective.accentColor} />],
            ['Support email', effective.supportEmail ?? '—'],
            ['Support page', effective.supportUrl ?? '—'],
            ['Portal hostnames', brand?.hostnames.length ? brand.hostnames.join(', ') : '—'],
            [
              'Logo',
              effective.logoUrl ? (
                // eslint-disable-next-line @next/next/no-img-element -- a stored, sanitised upload
                <img
                  key="logo"
                  src={effective.logoUrl}
                  alt={`Logo of ${effective.displayName}`}
                  className="h-8 w-auto"
                />
              ) : (
                '—'
              ),
            ],
          ]}
        />
      </PanelSection>
      {canEdit ? (
        <div className="space-y-4">
          {/* Kept across a logo upload (which moves the version) so nothing typed is lost;
              set afresh when the brand comes or goes. A save elsewhere meanwhile is a
              conflict the form shows. */}
          <BrandForm
            key={brand ? 'brand' : 'none'}
            account={account}
            brand={brand}
            onSaved={refresh}
          />
          {brand ? <BrandLogo account={account} onSaved={refresh} /> : null}
          {brand ? <RemoveBrand account={account} onRemoved={refresh} /> : null}
        </div>
      ) : null}
    </div>
  );
}

function Swatch({ colour }: { colour: string | null }) {
  if (!colour) return <>the product’s</>;
  return (
    <span className="inline-flex items-center gap-2">
      <span
        aria-hidden="true"
        className="inline-block h-4 w-6 rounded border border-slate-300"
        style={{ backgroundColor: colour }}
      />
      <span className="font-mono text-xs">{colour}</span>
    </span>
  );
}

/** The brand's fields as a conflict names them. */
const BRAND_LABELS: Record<string, string> = {
  displayName: 'Display name',
  primaryColor: 'Primary colour',
  accentColor: 'Accent colour',
  supportEmail: 'Support email',
  supportUrl: 'Support page',
  hostnames: 'Portal hostnames',
};

/** "White text on it: 7.04:1, enough" — the check the server makes, said before saving. */
function contrastNote(colour: string, minimum: number, what: string): string | undefined {
  if (!/^#[0-9a-fA-F]{6}$/.test(colour)) return undefined;
  const ratio = contrastRatio(colour, '#ffffff');
  const shown = (Math.floor(ratio * 100) / 100).toFixed(2);
  return ratio >= minimum
    ? `${what}: ${shown}:1, enough (at least ${minimum}:1).`
    : `${what}: ${shown}:1 — too faint; it needs at least ${minimum}:1.`;
}

function BrandForm({
  account,
  brand,
  onSaved,
}: {
  account: { id: string; name: string };
  brand: TBrandDto | null;
  onSaved: () => void;
}) {
  const form = useSchemaForm({
    schema: ZBrandPut,
    defaultValues: {
      displayName: brand?.displayName ?? account.name,
      primaryColor: brand?.primaryColor ?? START.primaryColor,
      accentColor: brand?.accentColor ?? START.accentColor,
      supportEmail: brand?.supportEmail ?? '',
      supportUrl: brand?.supportUrl ?? '',
      hostnames: brand?.hostnames.join('\n') ?? '',
    },
    toBody: (values) => ({
      ...(brand ? { version: brand.version } : {}),
      displayName: values.displayName,
      primaryColor: values.primaryColor.trim(),
      accentColor: values.accentColor.trim(),
      supportEmail: values.supportEmail.trim() || null,
      supportUrl: values.supportUrl.trim() || null,
      // One per line (or separated by commas or spaces), as people paste them.
      hostnames: values.hostnames.split(/[\s,]+/).filter(Boolean),
    }),
    resetOnSuccess: false,
    submit: async (body) => {
      try {
        await apiFetch(`/accounts/${account.id}/brand`, { method: 'PUT', body });
      } catch (error) {
        // Removed elsewhere (a 409 with no brand to show): read it again, so the page
        // stops offering what is gone.
        if (error instanceof ApiClientError && error.status === 409 && !error.current) onSaved();
        throw error;
      }
      onSaved();
    },
    success: { message: `Brand of ${account.name} saved.` },
  });
  const [primary, accent] = useWatch({
    control: form.form.control,
    name: ['primaryColor', 'accentColor'],
  });
  return (
    <PanelSection title={brand ? 'Edit brand' : 'Set a brand'}>
      <form onSubmit={form.onSubmit} className="space-y-3" aria-label="Brand" noValidate>
        <TextField
          label="Display name"
          {...form.register('displayName')}
          error={form.fields.displayName}
        />
        <ColourField
          label="Primary colour (buttons, white text on it)"
          field={form.register('primaryColor')}
          value={primary}
          error={form.fields.primaryColor}
          note={contrastNote(primary, AA_TEXT, 'White text on it')}
        />
        <ColourField
          label="Accent colour (links and marks on white)"
          field={form.register('accentColor')}
          value={accent}
          error={form.fields.accentColor}
          note={contrastNote(accent, AA_LARGE, 'On white')}
        />
        <TextField
          label="Support email (optional)"
          type="email"
          {...form.register('supportEmail')}
          error={form.fields.supportEmail}
        />
        <TextField
          label="Support page, https:// (optional)"
          {...form.register('supportUrl')}
          error={form.fields.supportUrl}
        />
        <TextAreaField
          label={`Portal hostnames, one per line (at most ${BRAND_MAX_HOSTNAMES})`}
          {...form.register('hostnames')}
          error={form.fields.hostnames}
        />
        <p className="text-xs text-slate-600">
          Point each hostname’s DNS at the panel; its customers sign in there under this brand.
          Taking one away ends the sessions on it.
        </p>
        <FormMessage message={form.message} />
        {form.conflict ? (
          // Saved (or removed) by someone else meanwhile: both shown, the person chooses.
          <ConflictNotice
            conflict={form.conflict}
            labels={BRAND_LABELS}
            pending={form.pending}
            onTakeTheirs={() => {
              form.dismissConflict();
              onSaved();
            }}
            onOverwrite={() => void form.overwrite()}
          />
        ) : null}
        <Button type="submit" disabled={form.pending}>
          {brand ? 'Save brand' : 'Set brand'}
        </Button>
      </form>
    </PanelSection>
  );
}

type TRegistered = ReturnType<ReturnType<typeof useSchemaForm>['register']>;

/** A `#rrggbb` field with a swatch of what is typed and the contrast it gives. */
function ColourField({
  label,
  field,
  value,
  error,
  note,
}: {
  label: string;
  field: TRegistered;
  value: string;
  error?: string;
  note?: string;
}) {
  const shown = /^#[0-9a-fA-F]{6}$/.test(value) ? value : null;
  return (
    <div className="space-y-1">
      <div className="flex items-end gap-2">
        <div className="grow">
          <TextField label={label} {...field} error={error} />
        </div>
        <span
          aria-hidden="true"
          className="mb-1 inline-block h-8 w-8 shrink-0 rounded border border-slate-300"
          style={{ backgroundColor: shown ?? 'transparent' }}
        />
      </div>
      {note && !error ? (
        <p className={`text-xs ${note.includes('too faint') ? 'text-red-700' : 'text-slate-600'}`}>
          {note}
        </p>
      ) : null}
    </div>
  );
}

/** The logo: PNG, WebP or SVG (sanitised by the server), sent as its own bytes. */
function BrandLogo({
  account,
  onSaved,
}: {
  account: { id: string; name: string };
  onSaved: () => void;
}) {
  const [state, setState] = useState<{ text: string; failed: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const upload = async (file: File | undefined) => {
    if (!file) return;
    setState(null);
    if (!(LOGO_TYPES as readonly string[]).includes(file.type)) {
      setState({ text: 'A logo must be a PNG, WebP or SVG image.', failed: true });
      return;
    }
    if (file.size > LOGO_MAX_BYTES) {
      setState({ text: `A logo must be at most ${LOGO_MAX_BYTES / 1024} KB.`, failed: true });
      return;
    }
    setBusy(true);
    try {
      await apiFetch(`/accounts/${account.id}/brand/logo`, { method: 'PUT', body: file });
      setState({ text: 'Logo saved.', failed: false });
      onSaved();
    } catch (error) {
      setState({
        text: error instanceof ApiClientError ? error.message : 'The logo could not be saved.',
        failed: true,
      });
    } finally {
      setBusy(false);
    }
  };
  return (
    <PanelSection title="Logo">
      <label className="block text-sm font-medium text-slate-700" htmlFor="brand-logo">
        Upload a logo (PNG, WebP or SVG, at most {LOGO_MAX_BYTES / 1024} KB)
      </label>
      <input
        id="brand-logo"
        type="file"
        accept={LOGO_TYPES.join(',')}
        disabled={busy}
        onChange={(event) => void upload(event.target.files?.[0])}
        className="mt-2 block text-sm"
      />
      {state ? (
        <p
          role={state.failed ? 'alert' : 'status'}
          className={`mt-2 text-sm ${state.failed ? 'text-red-700' : 'text-slate-700'}`}
        >
          {state.text}
        </p>
      ) : null}
    </PanelSection>
  );
}

/** Remove the brand: the one above applies again; its hostnames stop answering. Asked first. */
function RemoveBrand({
  account,
  onRemoved,
}: {
  account: { id: string; name: string };
  onRemoved: () => void;
}) {
  const { confirm, dialog } = useConfirm();
  const [failed, setFailed] = useState<string | null>(null);
  const remove = async () => {
    const sure = await confirm({
      title: `Remove the brand of ${account.name}?`,
      consequence:
        'The brand above it applies again. Its portal hostnames stop answering and the sessions on them end; its logo is dropped.',
      confirmLabel: 'Remove brand',
      danger: true,
    });
    if (!sure) return;
    setFailed(null);
    try {
      await apiFetch(`/accounts/${account.id}/brand`, { method: 'DELETE' });
      onRemoved();
    } catch (error) {
      setFailed((error as Error).message);
    }
  };
  return (
    <PanelSection title="Remove brand">
      <Button type="button" danger onClick={() => void remove()}>
        Remove brand
      </Button>
      <FormMessage message={failed} />
      {dialog}
    </PanelSection>
  );
}
