// @ts-expect-error a plain script without type declarations
import { buildState } from '../../scripts/ensure-build.mjs';

/**
 * The spawned files run the production server from `.next`: refuse to test an older
 * build than the sources (the test command builds just before this project).
 */
export default function setup() {
  const state: string = buildState();
  if (state !== 'fresh') {
    throw new Error(
      `The production build is ${state}: run \`npm run build\` before the spawned tests.`,
    );
  }
}
