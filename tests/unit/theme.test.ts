import { describe, expect, it } from 'vitest';
import { parseTheme, THEME_BOOT_SCRIPT, THEME_STORAGE_KEY } from '@/lib/client/theme';

/** Runs the inline <head> script against a stored choice and a system preference. */
function bootWith(stored: string | null, systemDark: boolean, storageThrows = false) {
  const classes = new Set<string>();
  const listeners: string[] = [];
  const window = {
    addEventListener: (type: string) => listeners.push(type),
    localStorage: {
      getItem: (key: string) => {
        if (storageThrows) throw new Error('SecurityError');
        return key === THEME_STORAGE_KEY ? stored : null;
      },
    },
    matchMedia: (query: string) => ({
      matches: query === '(prefers-color-scheme: dark)' && systemDark,
      addEventListener: (type: string) => listeners.push(`media:${type}`),
    }),
  };
  const document = {
    documentElement: {
      classList: {
        toggle: (name: string, on: boolean) => (on ? classes.add(name) : classes.delete(name)),
      },
    },
  };
  // Only the names a browser gives it: the script must not lean on anything of the module.
  new Function('window', 'document', THEME_BOOT_SCRIPT)(window, document);
  // It keeps following the system's preference and the other tabs' choice.
  expect(listeners.sort()).toEqual(['media:change', 'storage']);
  return classes.has('dark');
}

describe('theme boot script (runs before first paint)', () => {
  it.each([
    [null, false, false],
    [null, true, true],
    ['system', true, true],
    ['light', true, false],
    ['dark', false, true],
    ['nonsense', true, true],
  ] as const)('stored %s, system dark %s → dark %s', (stored, systemDark, dark) => {
    expect(bootWith(stored, systemDark)).toBe(dark);
  });

  it('follows the system when storage is refused', () => {
    expect(bootWith(null, true, true)).toBe(true);
    expect(bootWith(null, false, true)).toBe(false);
  });

  it('reads unknown stored values as system', () => {
    expect(parseTheme('dark')).toBe('dark');
    expect(parseTheme(undefined)).toBe('system');
    expect(parseTheme('DARK')).toBe('system');
  });
});
