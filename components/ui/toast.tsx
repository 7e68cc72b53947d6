'use client';

import { PanelLink } from '@/components/ui/panel-link';
import { useEffect, useState, useSyncExternalStore } from 'react';

/** A success message, with a link to the record it is about when it has a page. */
export interface TToast {
  message: string;
  href?: string;
  /** The link's text; "Open" when not given. */
  linkLabel?: string;
}

interface TShown extends TToast {
  id: number;
}

/** How long a toast stays when nobody hovers or focuses it. */
const SHOW_MS = 6_000;

/**
 * The toasts on screen: one small store outside React, so any component can show one
 * and the panel layout mounts a single <Toaster /> (without wrapping the page).
 */
let shown: TShown[] = [];
const listeners = new Set<() => void>();
let nextId = 1;

function publish(next: TShown[]): void {
  shown = next;
  for (const listener of listeners) listener();
}

/** Shows a toast (the panel's <Toaster /> renders it; nothing shows where none is mounted). */
export function showToast(toast: TToast): void {
  publish([...shown.slice(-3), { ...toast, id: nextId++ }]);
}

function dismissToast(id: number): void {
  publish(shown.filter((toast) => toast.id !== id));
}

/** The function that shows a toast, for components and hooks. */
export function useToast(): (toast: TToast) => void {
  return showToast;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The panel's toasts: one polite live region (role=status), each toast dismissible and
 * hiding by itself after a few seconds unless the pointer or focus is on it.
 */
export function Toaster() {
  const toasts = useSyncExternalStore(
    subscribe,
    () => shown,
    () => EMPTY,
  );
  return (
    <div
      role="status"
      aria-live="polite"
      aria-label="Notifications"
      className="pointer-events-none fixed bottom-4 right-4 z-50 flex w-full max-w-sm flex-col gap-2"
    >
      {toasts.map((toast) => (
        <ToastItem key={toast.id} toast={toast} />
      ))}
    </div>
  );
}
const EMPTY: TShown[] = [];

function ToastItem({ toast }: { toast: TShown }) {
  const [held, setHeld] = useState(false);
  const onDismiss = () => dismissToast(toast.id);
  useEffect(() => {
    if (held) return;
    const timer = window.setTimeout(() => dismissToast(toast.id), SHOW_MS);
    return () => window.clearTimeout(timer);
  }, [held, toast.id]);
  return (
    <div
      data-testid="toast"
      className="pointer-events-auto flex items-start gap-3 rounded-md border border-emerald-200 bg-white px-4 py-3 text-sm text-slate-800 shadow-lg"
      onMouseEnter={() => setHeld(true)}
      onMouseLeave={() => setHeld(false)}
      onFocus={() => setHeld(true)}
      onBlur={() => setHeld(false)}
    >
      <span aria-hidden className="mt-1 h-2 w-2 flex-none rounded-full bg-emerald-500" />
      <p className="flex-1">
        {toast.message}
        {toast.href ? (
          <>
            {' '}
            <PanelLink href={toast.href} className="font-medium text-brand-700 underline">
              {toast.linkLabel ?? 'Open'}
            </PanelLink>
          </>
        ) : null}
      </p>
      <button
        type="button"
        aria-label="Dismiss notification"
        className="rounded px-1 text-slate-500 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
        onClick={onDismiss}
      >
        ×
      </button>
    </div>
  );
}

const RECORD_PATHS = {
  resellers: 'resellers',
  customers: 'customers',
  cards: 'cards',
  users: 'users',
} as const;

/** The page of a record that has one (`/resellers/{id}`…); undefined for the others. */
export function recordHref(resource: string, id: string | undefined): string | undefined {
  const path = RECORD_PATHS[resource as keyof typeof RECORD_PATHS];
  return path && id ? `/${path}/${encodeURIComponent(id)}` : undefined;
}

const NOUNS: Record<string, string> = {
  resellers: 'Reseller',
  customers: 'Customer',
  users: 'User',
  groups: 'Group',
  cards: 'Card',
};

/** The success toast of a create: "Reseller Nimbus Telecom created." with a link to it. */
export function createdToast(resource: string) {
  return (created: unknown): TToast => {
    const record = (created ?? {}) as { id?: string; name?: string; email?: string };
    const name = record.name ?? record.email;
    const noun = NOUNS[resource] ?? 'Record';
    return {
      message: `${noun}${name ? ` ${name}` : ''} created.`,
      href: recordHref(resource, record.id),
    };
  };
}
