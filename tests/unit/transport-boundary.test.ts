import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
/** Where the rules live: they throw domain errors and never know the transport. */
const TRANSPORT_NEUTRAL = ['lib/server/services', 'lib/server/authz'];
/** `from '…'`, `import '…'`, `import('…')`, `require('…')` and `export … from '…'`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

/** The specifier as a path from the repository root (`@/x` and relative ones), or as written. */
function resolved(file: string, specifier: string): string {
  if (specifier.startsWith('@/')) return specifier.slice(2);
  if (specifier.startsWith('.')) {
    return path
      .relative(ROOT, path.resolve(path.dirname(file), specifier))
      .split(path.sep)
      .join('/');
  }
  return specifier;
}

/** An HTTP module: the API layer, or Next itself. */
function isHttpModule(target: string): boolean {
  return (
    target === 'lib/server/api' ||
    target.startsWith('lib/server/api/') ||
    target === 'next' ||
    target.startsWith('next/')
  );
}

function httpImports(file: string, text: string): string[] {
  return [...text.matchAll(SPECIFIER)]
    .map((match) => resolved(file, match[1]!))
    .filter(isHttpModule);
}

describe('transport-neutral services and authorization', () => {
  it('recognizes every way of naming an HTTP module', () => {
    const file = path.join(ROOT, 'lib/server/services/x/y.ts');
    const text = [
      "import { notFound } from '@/lib/server/api/errors';",
      "import { json } from '../../api/handler';",
      "import { headers } from 'next/headers';",
      "export { x } from 'next';",
      "const m = await import('@/lib/server/api/routes');",
      "import { notFound as nf } from '@/lib/server/errors/domain-error';",
      "import { z } from 'zod';",
    ].join('\n');
    expect(httpImports(file, text)).toEqual([
      'lib/server/api/errors',
      'lib/server/api/handler',
      'next/headers',
      'next',
      'lib/server/api/routes',
    ]);
  });

  it('no module under lib/server/services or lib/server/authz imports lib/server/api or next', () => {
    const files = TRANSPORT_NEUTRAL.flatMap((dir) => sources(path.join(ROOT, dir)));
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.flatMap((file) =>
      httpImports(file, readFileSync(file, 'utf8')).map(
        (target) => `${path.relative(ROOT, file)} imports ${target}`,
      ),
    );
    expect(offenders).toEqual([]);
  });
});
