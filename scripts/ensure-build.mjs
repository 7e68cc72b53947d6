// Builds the production bundle when it is missing or older than the sources, so the
// README's first command (`npm install && npm start`) works on a fresh clone and a
// re-start after `git pull` never serves a stale build.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const BUILD_ID = '.next/BUILD_ID';
const SOURCES = [
  'app',
  'components',
  'lib',
  'next.config.js',
  'tailwind.config.ts',
  'postcss.config.mjs',
  'package-lock.json',
  'tsconfig.json',
];

function newestMtime(entry) {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of readdirSync(entry))
    newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

/** Whether `.next` is missing, or older than one of the sources it is built from. */
export function buildState() {
  const built = existsSync(BUILD_ID) ? statSync(BUILD_ID).mtimeMs : 0;
  const sources = Math.max(...SOURCES.map(newestMtime));
  return built === 0 ? 'missing' : sources > built ? 'stale' : 'fresh';
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const state = buildState();
  if (state !== 'fresh') {
    console.log(
      state === 'missing'
        ? 'reseller-panel: building (first start)…'
        : 'reseller-panel: sources changed, rebuilding…',
    );
    execSync('npx next build', {
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
    });
  }
}
