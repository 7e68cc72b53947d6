/**
 * The colour theme: 'system' follows the browser's `prefers-color-scheme`; 'light' and
 * 'dark' pin it. The choice is the browser's (localStorage), not the account's: it is
 * about this screen, and it must apply before the first paint, before any request.
 */
export const THEMES = ['system', 'light', 'dark'] as const;
export type TTheme = (typeof THEMES)[number];

export const THEME_STORAGE_KEY = 'reseller-panel-theme';

/** A stored value read back: anything unknown (or nothing) means 'system'. */
export function parseTheme(value: unknown): TTheme {
  return THEMES.includes(value as TTheme) ? (value as TTheme) : 'system';
}

/**
 * Puts the `dark` class on <html> for the stored choice. Self-contained on purpose (no
 * outside names): its source is also the inline script that runs before first paint
 * (THEME_BOOT_SCRIPT), so the page never flashes the other theme, and the toggle calls
 * the same function: one rule, not two.
 */
export function applyStoredTheme(storageKey: string): void {
  let dark: boolean;
  try {
    const stored = window.localStorage.getItem(storageKey);
    dark =
      stored === 'dark' ||
      (stored !== 'light' && window.matchMedia('(prefers-color-scheme: dark)').matches);
  } catch {
    // Storage refused (privacy mode): follow the system as far as it can be read.
    dark = Boolean(window.matchMedia?.('(prefers-color-scheme: dark)').matches);
  }
  document.documentElement.classList.toggle('dark', dark);
}

/**
 * Applies the theme now, and again whenever the system's preference changes (while the
 * choice is 'system') or another tab stores a new choice: the page follows without React,
 * on every page, the ones without the header's toggle included.
 */
function bootTheme(storageKey: string, apply: (storageKey: string) => void): void {
  apply(storageKey);
  window
    .matchMedia?.('(prefers-color-scheme: dark)')
    .addEventListener?.('change', () => apply(storageKey));
  window.addEventListener('storage', (event) => {
    if (event.key === storageKey || event.key === null) apply(storageKey);
  });
}

/** The inline <head> script (app/layout.tsx): the stored theme applied before first paint. */
export const THEME_BOOT_SCRIPT = `(${bootTheme.toString()})(${JSON.stringify(THEME_STORAGE_KEY)}, ${applyStoredTheme.toString()});`;
