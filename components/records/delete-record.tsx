'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { apiFetch, ApiClientError } from '@/lib/client/api';
import { useWritesEnabled } from '@/lib/client/writes-enabled';
import { Button } from '@/components/ui/field';
import { FormMessage } from '@/components/ui/panel-section';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { useToast } from '@/components/ui/toast';

/**
 * Deleting a record from its page (an account, a card): asked first, then `DELETE` on
 * the API, then on to its list. The server decides what may go: what still depends on
 * it (sub-accounts, users, cards, ledger entries; derived cards, assignments) is refused
 * with 409 naming it, shown here as the server words it, so the person knows what to
 * remove first.
 */
export function DeleteRecord({
  label,
  name,
  path,
  consequence,
  then,
}: {
  /** The button: "Delete customer". */
  label: string;
  /** The record's name, for the question and the toast. */
  name: string;
  /** The API path to DELETE: `/customers/{id}`. */
  path: string;
  consequence: string;
  /** Where to go once it is gone: its list. */
  then: string;
}) {
  const router = useRouter();
  const toast = useToast();
  const writes = useWritesEnabled();
  const { confirm, dialog } = useConfirm();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);

  async function remove() {
    setMessage(null);
    const sure = await confirm({
      title: `Delete ${name}?`,
      consequence,
      confirmLabel: label,
      danger: true,
    });
    if (!sure) return;
    setBusy(true);
    try {
      await apiFetch(path, { method: 'DELETE' });
      toast({ message: `${name} deleted.` });
      router.push(then);
    } catch (error) {
      setMessage(
        error instanceof ApiClientError
          ? withDependants(error)
          : 'Something went wrong; try again.',
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="space-y-2">
      <FormMessage message={message} />
      <Button type="button" danger disabled={!writes || busy} onClick={() => void remove()}>
        {label}
      </Button>
      {dialog}
    </div>
  );
}

/** The server's refusal and, when it names them, what blocks it: "… (users: Jo; cards: Retail)". */
function withDependants(error: ApiClientError): string {
  const named = error.dependants.filter((item) => item.name);
  if (!named.length) return error.message;
  const shown = named
    .slice(0, 6)
    .map((item) => (item.resource ? `${item.resource}: ${item.name}` : item.name))
    .join('; ');
  return `${error.message} (${shown}${named.length > 6 ? '; …' : ''})`;
}
