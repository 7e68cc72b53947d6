import { describe, expect, it } from 'vitest';
import type { TestSpecification, Vitest } from 'vitest/node';
import { LongestFirst } from '../integration/longest-first';
import durations from '../integration/durations.json';

const root = '/repo';
const spec = (project: string, file: string) =>
  ({
    project: { name: project, config: { sequence: { groupOrder: 0 }, isolate: false } },
    moduleId: `${root}/${file}`,
  }) as unknown as TestSpecification;
// A clean clone: vitest's cache knows no file.
const cleanClone = {
  config: { root },
  cache: { getFileTestResults: () => undefined, getFileStats: () => undefined },
} as unknown as Vitest;

describe('the integration files’ order on a clean clone', () => {
  it('starts the longest known files first, each project apart, a new file as an average one', async () => {
    const known = Object.entries(durations as Record<string, number>)
      .filter(([key]) => key.startsWith('integration:'))
      .sort(([, a], [, b]) => b - a);
    const [longest, second] = known;
    const shortest = known.at(-1)!;
    const files = [
      spec('spawned', 'tests/integration/server-lifecycle.test.ts'),
      spec('integration', shortest[0].slice('integration:'.length)),
      spec('integration', 'tests/integration/not-yet-timed.test.ts'),
      spec('integration', second![0].slice('integration:'.length)),
      spec('integration', longest![0].slice('integration:'.length)),
    ];
    const sorted = await new LongestFirst(cleanClone).sort(files);
    expect(
      sorted.map((one) => `${one.project.name}:${one.moduleId.slice(root.length + 1)}`),
    ).toEqual([
      longest![0],
      second![0],
      'integration:tests/integration/not-yet-timed.test.ts',
      shortest[0],
      'spawned:tests/integration/server-lifecycle.test.ts',
    ]);
  });
});
