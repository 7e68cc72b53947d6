import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Two workers take files from one queue, so the project ends when the last file started
 * ends: a long file started late leaves one core idle while it runs. vitest starts the
 * longest files first only when its cache (node_modules/.vite) holds their times, which a
 * clean clone — CI — never has; it then goes by file size, and a short file that starts
 * a server or a database of its own comes last (measured: `embedded-database`, 20 s,
 * started 246 s into a 288 s project). This order comes from the times kept in
 * durations.json (`node scripts/test-durations.mjs` refreshes it), longest first; a file
 * not in it yet goes where an average file would.
 */
const known: Record<string, number> = JSON.parse(
  readFileSync(new URL('./durations.json', import.meta.url), 'utf8'),
);
const times = Object.values(known);
const average = times.length ? times.reduce((sum, time) => sum + time, 0) / times.length : 0;

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // Projects still run one after another, in the base order.
    const base = await super.sort(files);
    const seconds = (spec: TestSpecification) =>
      known[`${spec.project.name}:${relative(this.ctx.config.root, spec.moduleId)}`] ?? average;
    const projectOrder = [...new Set(base.map((spec) => spec.project.name))];
    return [...base].sort(
      (a, b) =>
        projectOrder.indexOf(a.project.name) - projectOrder.indexOf(b.project.name) ||
        seconds(b) - seconds(a),
    );
  }
}
