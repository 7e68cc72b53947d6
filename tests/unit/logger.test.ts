import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** tests/fixtures/log-lines.ts in its own process: stdout's lines, its writes, its code. */
async function logLines(
  mode: 'spread' | 'wide' | 'exit' | 'crash' | 'redact' | 'database',
  env: Record<string, string> = { LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/fixtures/log-lines.ts', mode], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  // 'close', not 'exit': the process may exit before its stdout is read to the end (seen
  // in CI beside the build: exit 0 and no lines yet); 'close' comes after both.
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const records = stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { msg: string; index: number });
  const writes = Number(/writes=(\d+)/.exec(stderr)?.[1] ?? NaN);
  const largest = Number(/largest=(\d+)/.exec(stderr)?.[1] ?? NaN);
  const spreadMs = Number(/spread_ms=(\d+)/.exec(stderr)?.[1] ?? NaN);
  return {
    code,
    records,
    writes,
    largest,
    spreadMs,
    bytes: Buffer.byteLength(stdout),
    stderr,
    stdout,
  };
}

describe('the JSON log on stdout', () => {
  it('takes LOG_LEVEL= and LOG_FORMAT= (empty) as unset: info, JSON', async () => {
    const { code, records, stderr } = await logLines('spread', { LOG_FORMAT: '', LOG_LEVEL: ' ' });
    expect(code, stderr).toBe(0);
    expect(records).toHaveLength(100);
  });

  it('writes lines that come a request apart together, every one whole and in order', async () => {
    const { code, records, writes, spreadMs, bytes } = await logLines('spread');
    expect(code).toBe(0);
    expect(records.map((record) => record.index)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(records.every((record) => record.msg === 'request')).toBe(true);
    // Gathered, a write takes what 50 ms brought, or less when 4 KB is full: at most one
    // per 50 ms of the spread and one per 4 KB, and the last. Before, one per line (100)
    // whenever the lines came further apart than a write takes. The bound comes from the
    // spread as measured, so a slow machine widens it rather than failing.
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(Math.ceil(spreadMs / 50) + Math.ceil(bytes / 4096) + 1);
  });

  it('never writes more than a pipe takes whole, in bytes, so workers sharing it never interleave', async () => {
    const { code, records, largest } = await logLines('wide');
    expect(code).toBe(0);
    expect(records.map((record) => record.index)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    // PIPE_BUF on Linux. A batch counted in characters would pass it with these lines.
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThanOrEqual(4096);
  });

  it('writes a database error without its statement or values, with its code and frames', async () => {
    const { code, records, stdout } = await logLines('database');
    expect(code).toBe(0);
    // The statement carried the new password's hash (a connection lost mid-reset).
    expect(stdout).not.toContain('argon2id');
    expect(stdout).not.toContain('app_user');
    const [alone, wrapped] = records as unknown as { err: Record<string, unknown> }[];
    expect(alone!.err).toMatchObject({
      type: 'DriverException',
      code: '57P01',
      routine: 'ProcessInterrupts',
      message: 'database error 57P01 (statement withheld)',
    });
    expect(alone!.err.stack).toMatch(/\n\s+at /);
    expect(wrapped!.err.message).toMatch(/^the reset failed/);
    expect(JSON.stringify(wrapped!.err)).toContain('57P01');
  });

  it('redacts credentials, and writes request lines unredacted in the same order', async () => {
    const { code, records, stderr } = await logLines('redact');
    expect(code).toBe(0);
    expect(stderr).not.toContain('hunter2');
    const [first, credentials, last] = records as unknown as Record<string, unknown>[];
    expect(records.map((record) => record.index)).toEqual([0, 1, 2]);
    expect(credentials).toMatchObject({
      msg: 'credentials',
      user: { password: '[redacted]' },
      token: '[redacted]',
    });
    for (const request of [first, last]) {
      expect(request).toMatchObject({
        msg: 'request',
        method: 'POST',
        path: '/api/v1/authorize',
        status: 200,
        level: 'info',
        service: 'reseller-panel',
      });
    }
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
