#!/usr/bin/env node
/**
 * Refreshes tests/integration/durations.json — how long each integration and spawned file
 * took, hooks included — from the cache vitest keeps after a run, so that a clean clone
 * (which has no such cache) still starts the longest files first
 * (tests/integration/longest-first.ts). After a whole, quiet `npm test`:
 *   node scripts/test-durations.mjs
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const cacheRoot = 'node_modules/.vite/vitest';
const target = 'tests/integration/durations.json';
const durations = JSON.parse(readFileSync(target, 'utf8'));
for (const dir of readdirSync(cacheRoot)) {
  const { results } = JSON.parse(readFileSync(join(cacheRoot, dir, 'results.json'), 'utf8'));
  for (const [key, { duration }] of results) {
    if (key.startsWith('integration:') || key.startsWith('spawned:')) {
      durations[key] = Math.round(duration / 100) / 10;
    }
  }
}
const sorted = Object.fromEntries(Object.entries(durations).sort(([a], [b]) => (a < b ? -1 : 1)));
writeFileSync(target, `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`${target}: ${Object.keys(sorted).length} files`);
