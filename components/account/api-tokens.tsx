'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { apiFetch } from '@/lib/client/api';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import type { TPage } from '@/lib/shared/schemas/common';
import type { TTokenDto } from '@/lib/shared/schemas/tokens';
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
 * and token too. Tokens are issued by `POST /api/v1/auth/token` (shown once there).
 */
export function ApiTokens() {
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
      {dialog}
    </section>
  );
}
