import type { Config } from 'tailwindcss';

// Tailwind 4 reads this file through the `@config` line in app/globals.css. The colours
// (the brand scale included) are CSS variables defined there, so the dark palette can
// remap them in one place; `dark:` classes, where a component needs one, follow the same
// `dark` class on <html> (set before first paint by app/layout.tsx).
const config: Config = {
  darkMode: 'class',
  content: ['./app/**/*.{ts,tsx}', './components/**/*.{ts,tsx}', './lib/client/**/*.{ts,tsx}'],
};

export default config;
