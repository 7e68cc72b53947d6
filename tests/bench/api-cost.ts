import { fork } from 'node:child_process';
import type { TTestDatabaseTarget } from '../fixtures/test-database';
import { cpuDuring, startBenchPanel } from './bench-panel';

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

/** Alternating rounds per request kind (see `measure`). */
const ROUNDS = 10;

const ADMIN = { email: 'cost@carrier.test', password: 'cost-admin-password' };

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
    // The floor on the same database, token and customers, running beside the panel.
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
      const servers = {
        panel: { url: server.url, pid: server.child.pid! },
        floor: { url: `http://127.0.0.1:${port}`, pid: floor.pid! },
      };
      /** `count` requests, 4 at a time, against one server: its CPU and the wall time. */
      const round = async (
        which: keyof typeof servers,
        count: number,
        one: (index: number) => Promise<void>,
      ) => {
        base = servers[which].url;
        const started = performance.now();
        let next = 0;
        const { cpuMs } = await cpuDuring(servers[which].pid, () =>
          Promise.all(
            Array.from({ length: 4 }, async () => {
              for (let index = next++; index < count; index = next++) await one(index);
            }),
          ),
        );
        return { cpu: cpuMs, seconds: (performance.now() - started) / 1000 };
      };
      /**
       * Both servers measured in alternating rounds, after a warm-up of as many requests
       * as are measured (a fresh server's first 1,000 GETs cost 2.3 ms each, the next
       * 1,000 0.9 ms: V8 still optimizing). Measured one after the other, the floor's
       * figure moved by half from run to run (0.58–0.89 ms a PATCH) with whatever else
       * the machine did meanwhile; alternating rounds give both the same conditions.
       */
      const measure = async (one: (index: number) => Promise<void>) => {
        for (const which of ['panel', 'floor'] as const) {
          for (let index = 0; index < options.requests; index++) {
            base = servers[which].url;
            await one(index);
          }
        }
        const totals = {
          panel: { cpu: 0 as number | null, seconds: 0 },
          floor: { cpu: 0 as number | null, seconds: 0 },
        };
        const size = Math.ceil(options.requests / ROUNDS);
        for (let done = 0; done < options.requests; done += size) {
          for (const which of ['panel', 'floor'] as const) {
            const result = await round(which, Math.min(size, options.requests - done), one);
            const total = totals[which];
            total.cpu = total.cpu === null || result.cpu === null ? null : total.cpu + result.cpu;
            total.seconds += result.seconds;
          }
        }
        const figure = (total: { cpu: number | null; seconds: number }) => ({
          cpuMs: total.cpu === null ? null : Math.round((total.cpu / options.requests) * 100) / 100,
          perS: Math.round(options.requests / total.seconds),
        });
        return { panel: figure(totals.panel), floor: figure(totals.floor) };
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
      return {
        getCpuMs: get.panel.cpuMs,
        patchCpuMs: patch.panel.cpuMs,
        getPerS: get.panel.perS,
        patchPerS: patch.panel.perS,
        floorGetCpuMs: get.floor.cpuMs,
        floorPatchCpuMs: patch.floor.cpuMs,
        floorGetPerS: get.floor.perS,
        floorPatchPerS: patch.floor.perS,
      };
    } finally {
      floor.send({ type: 'close' });
    }
  } finally {
    await panel.stop();
  }
}
