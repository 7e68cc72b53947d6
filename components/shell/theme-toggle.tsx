'use client';

import { useSyncExternalStore } from 'react';
import {
  applyStoredTheme,
  parseTheme,
  THEME_STORAGE_KEY,
  THEMES,
  type TTheme,
} from '@/lib/client/theme';

const LABELS: Record<TTheme, string> = {
  system: 'System theme',
  light: 'Light theme',
  dark: 'Dark theme',
};

/** Tells this tab's toggles that the choice changed (the storage event fires only in others). */
const CHANGED = 'reseller-panel-theme-changed';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('storage', onChange);
  window.addEventListener(CHANGED, onChange);
  return () => {
    window.removeEventListener('storage', onChange);
    window.removeEventListener(CHANGED, onChange);
  };
}

function readTheme(): TTheme {
  try {
    return parseTheme(window.localStorage.getItem(THEME_STORAGE_KEY));
  } catch {
    return 'system';
  }
}

/**
 * System / light / dark, kept in this browser. The page already wears the stored theme
 * and follows the system and the other tabs (the boot script in app/layout.tsx); a new
 * choice is stored and applied at once.
 */
export function ThemeToggle() {
  const theme = useSyncExternalStore(subscribe, readTheme, () => 'system' as TTheme);

  return (
    // The options say what they choose ("Dark theme"): the header has no room for a label
    // beside them on a tablet, and the select keeps "Theme" as its name.
    <label className="shrink-0 whitespace-nowrap text-sm">
      <span className="sr-only">Theme</span>
      <select
        value={theme}
        onChange={(event) => {
          const choice = parseTheme(event.target.value);
          try {
            window.localStorage.setItem(THEME_STORAGE_KEY, choice);
          } catch {
            // Storage refused: the choice lasts for this page only.
            document.documentElement.classList.toggle('dark', choice === 'dark');
            return;
          }
          applyStoredTheme(THEME_STORAGE_KEY);
          window.dispatchEvent(new Event(CHANGED));
        }}
        className="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
      >
        {THEMES.map((value) => (
          <option key={value} value={value}>
            {LABELS[value]}
          </option>
        ))}
      </select>
    </label>
  );
}
