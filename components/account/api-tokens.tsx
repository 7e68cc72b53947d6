'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { apiFetch } from '@/lib/client/api';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import type { TPage } from '@/lib/shared/schemas/common';
import { ZTokenCreate, type TTokenDto, type TTokenIssued } from '@/lib/shared/schemas/tokens';
import { useSchemaForm } from '@/lib/client/use-schema-form';
import { Button, TextField } from '@/components/ui/field';
import { DataTable, FormMessage } from '@/components/ui/panel-section';
import { DateTime } from '@/components/ui/date-time';
import { RelativeTime } from '@/components/ui/relative-time';
import { useConfirm } from '@/components/ui/confirm-dialog';

/** One's own tokens, up to the API's page: a person keeps a handful, not hundreds. */
const TOKENS_KEY = queryKeys.static('tokens', { filter: { limit: '100' } });

/**
 * One's own API tokens (DESIGN §3: "listed and revoked by their owner"): what each is
 * called, when it was made, last used and ends, and Revoke — asked first, since a script
 * or a switch using it is refused from its next request. Before this, a leaked token could
 * be ended only through the API, or by a password change that ends every other session
 * and token too. A new one is issued here as `POST /api/v1/auth/token` issues it (the
 * password again, and a code with MFA on) and shown once.
 */
export function ApiTokens({ email, mfaOn }: { email: string; mfaOn: boolean }) {
  const queryClient = useQueryClient();
  const { confirm, dialog } = useConfirm();
  const tokens = useQuery({
    queryKey: TOKENS_KEY,
    queryFn: () => apiFetch<TPage<TTokenDto>>(pathOf(TOKENS_KEY)),
    // As the MFA status on this page: read afresh, forgotten once the page closes.
    staleTime: 0,
    gcTime: 0,
    refetchOnMount: 'always',
  });
  const [done, setDone] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);

  const revoke = async (token: TTokenDto) => {
    const sure = await confirm({
      title: `Revoke ${token.name}?`,
      consequence:
        'Whatever uses this token — a script, a switch — is refused from its next request. It cannot be undone: a new token is issued by signing in through the API.',
      confirmLabel: 'Revoke token',
      danger: true,
    });
    if (!sure) return;
    setDone(null);
    setFailed(null);
    try {
      await apiFetch(`/tokens/${token.id}`, { method: 'DELETE' });
      setDone(`${token.name} revoked.`);
    } catch (error) {
      setFailed(`Could not revoke ${token.name}: ${(error as Error).message}`);
    }
    await queryClient.invalidateQueries({ queryKey: TOKENS_KEY });
  };

  const items = tokens.data?.items ?? [];
  return (
    <section aria-label="API tokens" className="rounded-lg border border-slate-200 bg-white p-4">
      <h2 className="mb-1 text-sm font-semibold text-slate-700">API tokens</h2>
      <p className="mb-3 text-sm text-slate-600">
        Tokens you issued for scripts and switches (<code>POST /api/v1/auth/token</code>). Each
        carries exactly your permissions.
      </p>
      {tokens.isLoading ? <p className="text-sm text-slate-500">Loading…</p> : null}
      {tokens.error ? (
        <p role="alert" className="text-sm text-red-700">
          Could not load: {(tokens.error as Error).message}
        </p>
      ) : null}
      {tokens.isSuccess && items.length === 0 ? (
        <p className="text-sm text-slate-600">You have no API tokens.</p>
      ) : null}
      {items.length ? (
        <DataTable
          label="Your API tokens"
          headers={['Name', 'Created', 'Last used', 'Expires', '']}
          rows={items.map((token) => [
            token.name,
            <RelativeTime key="created" at={token.createdAt} />,
            token.lastUsedAt ? <RelativeTime key="used" at={token.lastUsedAt} /> : 'never',
            <DateTime key="expires" at={token.expiresAt} show="date" />,
            <button
              key="revoke"
              type="button"
              className="text-sm text-red-700 underline"
              aria-label={`Revoke ${token.name}`}
              onClick={() => void revoke(token)}
            >
              Revoke
            </button>,
          ])}
        />
      ) : null}
      {done ? (
        <p role="status" className="mt-2 text-sm text-slate-700">
          {done}
        </p>
      ) : null}
      <FormMessage message={failed} />
      <IssueToken
        email={email}
        mfaOn={mfaOn}
        onIssued={() => void queryClient.invalidateQueries({ queryKey: TOKENS_KEY })}
      />
      {dialog}
    </section>
  );
}

/**
 * A new token for a script or a switch: named, for a number of days, against the password
 * (and a code with MFA on) as `POST /auth/token` asks — a session left open must not mint
 * a credential that outlives it. The token is shown once, here, and never again.
 */
function IssueToken({
  email,
  mfaOn,
  onIssued,
}: {
  email: string;
  mfaOn: boolean;
  onIssued: () => void;
}) {
  const [issued, setIssued] = useState<TTokenIssued | null>(null);
  const [copied, setCopied] = useState(false);
  const form = useSchemaForm({
    schema: ZTokenCreate,
    defaultValues: { name: '', expiresInDays: '90', password: '', otp: '' },
    toBody: (values) => ({
      email,
      // Unnamed: the API's own default ("API token").
      name: values.name.trim() || undefined,
      expiresInDays: /^\d+$/.test(values.expiresInDays)
        ? Number(values.expiresInDays)
        : values.expiresInDays,
      password: values.password,
      ...(mfaOn ? { otp: values.otp } : {}),
    }),
    submit: async (body) => {
      setIssued(null);
      setCopied(false);
      const token = await apiFetch<TTokenIssued>('/auth/token', { method: 'POST', body });
      setIssued(token);
      onIssued();
      return token;
    },
  });
  return (
    <div className="mt-4 space-y-3 border-t border-slate-100 pt-4">
      <h3 className="text-sm font-semibold text-slate-700">Issue a token</h3>
      {issued ? (
        <div role="status" className="space-y-2 rounded-md border border-amber-300 bg-amber-50 p-3">
          <p className="text-sm text-amber-900">
            {issued.name}: copy it now. It is shown once; only a new token replaces it.
          </p>
          <code
            data-testid="issued-token"
            className="block break-all rounded bg-white px-2 py-1 font-mono text-xs text-slate-900"
          >
            {issued.token}
          </code>
          <button
            type="button"
            className="text-sm text-brand-700 underline"
            onClick={() =>
              void navigator.clipboard?.writeText(issued.token).then(() => setCopied(true))
            }
          >
            {copied ? 'Copied' : 'Copy token'}
          </button>
        </div>
      ) : null}
      <form onSubmit={form.onSubmit} className="space-y-3" aria-label="Issue a token" noValidate>
        <TextField
          label="Name (what uses it)"
          {...form.register('name')}
          error={form.fields.name}
        />
        <TextField
          label="Expires after (days, 1 to 365)"
          inputMode="numeric"
          {...form.register('expiresInDays')}
          error={form.fields.expiresInDays}
        />
        <TextField
          label="Your password"
          type="password"
          autoComplete="current-password"
          {...form.register('password')}
          error={form.fields.password}
        />
        {mfaOn ? (
          <TextField
            label="Authenticator code"
            inputMode="numeric"
            autoComplete="one-time-code"
            {...form.register('otp')}
            error={form.fields.otp}
          />
        ) : null}
        <FormMessage message={form.message} />
        <Button type="submit" disabled={form.pending}>
          Issue token
        </Button>
      </form>
    </div>
  );
}
