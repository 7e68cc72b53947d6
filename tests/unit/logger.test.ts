import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** tests/fixtures/log-lines.ts in its own process: stdout's lines, its writes, its code. */
async function logLines(mode: 'spread' | 'exit' | 'crash') {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/fixtures/log-lines.ts', mode], {
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const records = stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { msg: string; index: number });
  const writes = Number(/writes=(\d+)/.exec(stderr)?.[1] ?? NaN);
  return { code, records, writes, stderr };
}

describe('the JSON log on stdout', () => {
  it('writes lines that come a request apart together, every one whole and in order', async () => {
    const { code, records, writes } = await logLines('spread');
    expect(code).toBe(0);
    expect(records.map((record) => record.index)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(records.every((record) => record.msg === 'request')).toBe(true);
    // One write per line before the lines were gathered (100 here); gathered, a write
    // takes up to 4 KB (about 20 of these lines) or what 50 ms brought.
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(40);
  });

  it('keeps the last line of a process that exits in the same tick', async () => {
    const { code, records } = await logLines('exit');
    expect(code).toBe(0);
    expect(records.map((record) => record.msg)).toEqual(['before exit']);
  });

  it('keeps the last line of a process that crashes', async () => {
    const { code, records, stderr } = await logLines('crash');
    expect(code).not.toBe(0);
    expect(stderr).toContain('crash on purpose');
    expect(records.map((record) => record.msg)).toEqual(['before crash']);
  });
});
