import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TTestDatabaseTarget } from '../fixtures/test-database';
import { startBenchPanel } from './bench-panel';

/**
 * What one API request costs the server: its CPU time (user + system, from
 * `/proc/<pid>/stat`) over `requests` calls, 4 at a time, after as many to warm up — for a read
 * (`GET /customers/{id}`) and for an edit (`PATCH /customers/{id}`, a transaction and
 * its change-log row, no socket listening). The write path's floor, beside which the
 * fan-out's figures read. Linux only (null elsewhere).
 */
export interface TApiCostFigures {
  getCpuMs: number | null;
  patchCpuMs: number | null;
  getPerS: number;
  patchPerS: number;
  /** The same requests against the floor server (tests/bench/floor-server.ts). */
  floorGetCpuMs: number | null;
  floorPatchCpuMs: number | null;
  floorGetPerS: number;
  floorPatchPerS: number;
}

const ADMIN = { email: 'cost@carrier.test', password: 'cost-admin-password' };

function cpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

export async function benchApiCost(
  target: TTestDatabaseTarget,
  options: { requests: number },
): Promise<TApiCostFigures> {
  const panel = await startBenchPanel(target, ADMIN);
  const { server } = panel;
  try {
    let base = server.url;
    const call = async (method: string, path: string, token?: string, body?: unknown) => {
      const response = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const parsed = (await response.json()) as Record<string, unknown>;
      return { ok: response.ok, status: response.status, body: parsed };
    };
    const token = await panel.tokenFor(ADMIN.email, ADMIN.password);
    const customers: { id: string; version: number }[] = [];
    for (let index = 0; index < 16; index++) {
      const reseller = await call('POST', '/resellers', token, {
        name: `Cost R${index}`,
        email: `r${index}@cost.test`,
      });
      const customer = await call('POST', '/customers', token, {
        name: `Cost C${index}`,
        parentId: reseller.body.id,
        creditLimit: '1',
      });
      customers.push(customer.body as { id: string; version: number });
    }
    let pid = server.child.pid!;
    const measure = async (one: (index: number) => Promise<void>) => {
      // Warm up with as many requests as are measured, for the panel and the floor alike:
      // after 100, the panel's larger code was still being optimized (profiled: a fresh
      // server's first 1,000 GETs cost 2.3 ms each, the next 1,000 0.9 ms, a quarter of
      // the first on threads besides the main one: V8's compilers and GC helpers), so the
      // figure measured warm-up.
      for (let index = 0; index < options.requests; index++) await one(index);
      const cpuBefore = cpuMs(pid);
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let index = next++; index < options.requests; index = next++) await one(index);
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const cpuAfter = cpuMs(pid);
      return {
        cpuMs:
          cpuBefore === null || cpuAfter === null
            ? null
            : Math.round(((cpuAfter - cpuBefore) / options.requests) * 100) / 100,
        perS: Math.round(options.requests / seconds),
      };
    };
    const getOne = async (index: number) => {
      const answer = await call('GET', `/customers/${customers[index % 16]!.id}`, token);
      if (!answer.ok) throw new Error('GET failed');
    };
    const patchOne = async (index: number) => {
      const customer = customers[index % 16]!;
      const answer = await call('PATCH', `/customers/${customer.id}`, token, {
        version: customer.version,
        creditLimit: String(index),
      });
      if (answer.ok) customer.version = answer.body.version as number;
      else {
        // Another of the four writers edited it first: take its version and go on.
        const current = (answer.body.error as { current?: { version: number } })?.current;
        if (current) customer.version = current.version;
        else if (answer.status === 409) {
          // It did so between this one's read and its versioned UPDATE (rare; the answer
          // then carries no `current`): read the version.
          const read = await call('GET', `/customers/${customer.id}`, token);
          customer.version = read.body.version as number;
        } else throw new Error(`PATCH failed: ${answer.status}`);
      }
    };
    const get = await measure(getOne);
    const patch = await measure(patchOne);

    // The floor on the same database, token and customers.
    const floor = fork('tests/bench/floor-server.ts', [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, DATABASE_URL: panel.db.url },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        floor.once('message', (message: { port: number }) => resolve(message.port));
        floor.once('exit', (code) => reject(new Error(`floor server exited (${code})`)));
      });
      base = `http://127.0.0.1:${port}`;
      pid = floor.pid!;
      const floorGet = await measure(getOne);
      const floorPatch = await measure(patchOne);
      return {
        getCpuMs: get.cpuMs,
        patchCpuMs: patch.cpuMs,
        getPerS: get.perS,
        patchPerS: patch.perS,
        floorGetCpuMs: floorGet.cpuMs,
        floorPatchCpuMs: floorPatch.cpuMs,
        floorGetPerS: floorGet.perS,
        floorPatchPerS: floorPatch.perS,
      };
    } finally {
      floor.send({ type: 'close' });
    }
  } finally {
    await panel.stop();
  }
}
