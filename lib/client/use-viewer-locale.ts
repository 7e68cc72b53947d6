'use client';

import {
  createContext,
  createElement,
  useContext,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { onServerClock, serverNow } from '@/lib/client/server-clock';

const noChange = () => () => {};

/**
 * What the server rendered with: the request's language (Accept-Language) and the
 * moment of the render. Hooks below give these while the server renders and while the
 * client hydrates, so the server's HTML already shows formatted amounts and times, and
 * the first client render matches it; the viewer's own settings follow right after.
 */
interface TRenderMoment {
  locale: string;
  now: number;
}

const RenderMoment = createContext<TRenderMoment>({ locale: 'en', now: 0 });

export function RenderMomentProvider({
  locale,
  now,
  children,
}: TRenderMoment & { children: ReactNode }) {
  return createElement(RenderMoment.Provider, { value: { locale, now } }, children);
}

/**
 * The zone the server renders times in: it does not know the viewer's, so it names the
 * one it used (components/ui/date-time.tsx); the browser's own follows once hydrated.
 */
const SERVER_TIME_ZONE = 'UTC';

/** The viewer's locale (navigator.language); the request's language on the server. */
export function useViewerLocale(): string {
  const { locale } = useContext(RenderMoment);
  return useSyncExternalStore(
    noChange,
    () => navigator.language,
    () => locale,
  );
}

/** The viewer's time zone; `SERVER_TIME_ZONE` on the server and while hydrating. */
export function useViewerTimeZone(): string {
  return useSyncExternalStore(
    noChange,
    () => Intl.DateTimeFormat().resolvedOptions().timeZone,
    () => SERVER_TIME_ZONE,
  );
}

/**
 * The current time by the server's clock (`serverNow`), ticking every `everyMs` on the
 * client (the render's on the server).
 */
export function useNow(everyMs = 30_000): number {
  const { now } = useContext(RenderMoment);
  return useSyncExternalStore(
    (onChange) => {
      const timer = window.setInterval(onChange, everyMs);
      const stop = onServerClock(onChange);
      return () => {
        window.clearInterval(timer);
        stop();
      };
    },
    () => Math.floor(serverNow() / everyMs) * everyMs,
    () => Math.floor(now / everyMs) * everyMs,
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
