import type { TTestDatabaseTarget } from '../fixtures/test-database';
import { redisAvailable, TEST_REDIS_URL } from '../fixtures/redis';
import { startBenchPanel } from './bench-panel';
import {
  customerEdits,
  forkChild,
  measureBare,
  measureLoad,
  openLoop,
  seedResellers,
  socketGroups,
  type TChild,
  type TLoadFigures,
} from './fanout-bench';
import type { TClientGroup, TStats } from './fanout-clients';

/**
 * `--workers N`: the fan-out ceiling of one panel process against `WORKERS=N` on the
 * same machine (server/cluster.ts), measured the way the fan-out bench measures it
 * (tests/bench/fanout-bench.ts: the same sockets, edits through the API, the rate raised
 * ×1.5 until p99 passes the limit), each on a fresh database, and the bare Socket.IO server
 * with the same clients in the same run. One worker is the plain process `npm start`
 * runs (no cluster, no Redis); N workers run with the Redis adapter, as they must.
 */
export interface TWorkersOptions {
  workers: number;
  sockets: number;
  resellers: number;
  rate: number;
  seconds: number;
  stepSeconds: number;
  p99LimitMs: number;
  log?: (line: string) => void;
}

export interface TWorkersFigures {
  sockets: number;
  recipientsPerChange: number;
  /** One entry per worker count measured: 1, then N. */
  runs: { workers: number; figures: TLoadFigures }[];
  baseline: TLoadFigures;
}

const ADMIN = { email: 'workers@carrier.test', password: 'workers-admin-password' };
/**
 * The steps start at 10 changes/s (the fan-out section's at 25): on a busy machine one
 * process may not pass 25, and a ceiling of 0 tells nothing.
 */
const FIRST_STEP = 10;

export async function benchWorkers(
  target: TTestDatabaseTarget,
  options: TWorkersOptions,
): Promise<TWorkersFigures> {
  const log = options.log ?? (() => {});
  if (options.workers > 1 && !(await redisAvailable())) {
    throw new Error(`--workers ${options.workers} needs Redis at ${TEST_REDIS_URL}`);
  }
  const runs: TWorkersFigures['runs'] = [];
  let last: { groups: TClientGroup[]; resellers: { id: string }[]; sample: TStats['sample'] };
  let shape = { sockets: 0, recipients: 0 };
  for (const workers of [...new Set([1, options.workers])]) {
    const panel = await startBenchPanel(
      target,
      ADMIN,
      workers > 1 ? { WORKERS: String(workers), REDIS_URL: TEST_REDIS_URL } : {},
    );
    let clients: TChild | undefined;
    try {
      const started = performance.now();
      const { admin, resellers } = await seedResellers(
        panel.server.url,
        panel.tokenFor,
        ADMIN,
        options.resellers,
      );
      log(
        `${workers} worker(s): seeded ${options.resellers} resellers in ${Math.round(performance.now() - started)} ms`,
      );
      const { groups, sockets, recipients } = socketGroups(admin, resellers, options.sockets);
      shape = { sockets, recipients };
      clients = forkChild('tests/bench/fanout-clients.ts');
      await clients.next('ready');
      const connected = await clients.ask<{ ms: number; connected: number; failed: number }>(
        { type: 'connect', url: panel.server.url, groups, concurrency: 50 },
        'connected',
      );
      if (connected.failed > 0) throw new Error(`${connected.failed} sockets could not connect`);
      log(`${workers} worker(s): ${connected.connected} sockets connected in ${connected.ms} ms`);
      const edit = customerEdits(panel.server.url, admin, resellers);
      const figures = await measureLoad(
        clients,
        (rate, seconds) => openLoop(rate, seconds, edit),
        `panel, ${workers} worker(s)`,
        { ...options, recipients, firstStep: FIRST_STEP, log },
      );
      runs.push({ workers, figures });
      const { sample } = await clients.ask<TStats>({ type: 'stats' }, 'stats');
      last = { groups, resellers, sample };
    } finally {
      clients?.child.kill();
      await panel.stop();
    }
  }
  const baseline = await measureBare(last!.groups, last!.resellers, last!.sample, (child, drive) =>
    measureLoad(child, drive, 'bare Socket.IO', {
      ...options,
      recipients: shape.recipients,
      firstStep: FIRST_STEP,
      log,
    }),
  );
  return { sockets: shape.sockets, recipientsPerChange: shape.recipients, runs, baseline };
}
