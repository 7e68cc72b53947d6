'use client';

import { useSyncExternalStore } from 'react';

const noChange = () => () => {};

/**
 * The viewer's locale (navigator.language) on the client; null while the server
 * renders and during hydration, so the first client render matches the server's HTML
 * and formatted text appears right after it (no hydration mismatch).
 */
export function useViewerLocale(): string | null {
  return useSyncExternalStore(
    noChange,
    () => navigator.language,
    () => null,
  );
}

/** The current time, ticking every `everyMs` on the client (null on the server). */
export function useNow(everyMs = 30_000): number | null {
  return useSyncExternalStore(
    (onChange) => {
      const timer = window.setInterval(onChange, everyMs);
      return () => window.clearInterval(timer);
    },
    () => Math.floor(Date.now() / everyMs) * everyMs,
    () => null,
  );
}

/**
 * False in the server's HTML and during hydration, true once React owns the page. A form
 * is usable only then: before it, typing is overwritten when react-hook-form registers
 * the field (it writes the default value into the input), and Enter or a click submits
 * the form natively — a GET that would put its fields, a password included, in the URL.
 */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    noChange,
    () => true,
    () => false,
  );
}
