import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import nextPlugin from '@next/eslint-plugin-next';

/**
 * Import directions (STYLE.md): lib/shared runs in the browser and on the server, so it
 * imports neither side; lib/client never reaches server code; nothing imports server/.
 */
const noServerDir = {
  group: ['@/server', '@/server/*', '../server/*', '../../server/*'],
  message: 'Nothing imports server/.',
};
const noLibServer = { group: ['@/lib/server/*', '**/lib/server/*'], message: 'Server-only code.' };
const noLibClient = { group: ['@/lib/client/*', '**/lib/client/*'], message: 'Browser-only code.' };
/** Links prefetch on intent, not on sight (components/ui/panel-link.tsx says why). */
const noNextLink = {
  name: 'next/link',
  message: 'Use PanelLink (components/ui/panel-link.tsx): it prefetches on intent only.',
};

export default tseslint.config(
  {
    ignores: [
      '.e2e-data*/**',
      'node_modules/**',
      '.next/**',
      'data/**',
      'test-results/**',
      'playwright-report/**',
      'next-env.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        globalThis: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/ban-ts-comment': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='only']", message: 'No .only in tests.' },
      ],
    },
  },
  {
    files: ['app/**/*.{ts,tsx}', 'components/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks, '@next/next': nextPlugin },
    rules: {
      ...reactHooks.configs.recommended.rules,
      ...nextPlugin.configs.recommended.rules,
      ...nextPlugin.configs['core-web-vitals'].rules,
    },
  },
  {
    files: ['lib/client/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    files: ['lib/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noServerDir, noLibServer, noLibClient] }],
    },
  },
  {
    files: ['lib/client/**/*.{ts,tsx}', 'components/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [noNextLink], patterns: [noServerDir, noLibServer] },
      ],
    },
  },
  {
    // The one file that wraps next/link keeps the import directions.
    files: ['components/ui/panel-link.tsx'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noServerDir, noLibServer] }] },
  },
  {
    files: ['lib/server/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noServerDir, noLibClient] }] },
  },
  {
    files: ['app/**/*.{ts,tsx}'],
    rules: { 'no-restricted-imports': ['error', { paths: [noNextLink], patterns: [noServerDir] }] },
  },
);
