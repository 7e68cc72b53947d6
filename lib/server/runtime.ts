import type { MikroORM } from '@mikro-orm/postgresql';
import type { TLoginThrottlePolicy } from './auth/throttle';
import type { RecentLog } from './live/recent-log';

/** What the server resolved at start, beyond the raw environment. */
export interface TServerConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  publicUrl: string;
  /**
   * The panel's own hostnames (`PUBLIC_URL`'s and `PANEL_HOSTNAMES`), which no brand may
   * claim or be found by (lib/server/services/brands/brands.ts).
   */
  panelHostnames: readonly string[];
  authSecret: string;
  databaseKind: 'embedded' | 'postgresql';
  redisUrl?: string;
  dataDir: string;
  /** How many reseller levels may nest below a carrier. */
  resellerDepthLimit: number;
  /** Sign-in throttling; its curve also throttles guesses at one's own current password. */
  loginThrottle: TLoginThrottlePolicy;
  /** How long a "view as" lasts. */
  impersonationMinutes: number;
  /** How far back `GET /events` answers (the audit keeps everything). */
  eventsRetentionDays: number;
}

export interface TRuntime {
  config: TServerConfig;
  orm: MikroORM;
  /** What this process's fan-out has just passed, for catch-up (live/recent-log.ts). */
  recent?: RecentLog;
}

/**
 * The live singletons, shared through globalThis (STACK.md pitfall 3): the custom server
 * (loaded by tsx) and the route handlers (bundled by Next) are two module graphs, so a
 * module-level variable would exist twice. The server sets it once, before Next starts.
 */
const RUNTIME_KEY = Symbol.for('reseller-panel.runtime');
type TGlobalWithRuntime = typeof globalThis & { [RUNTIME_KEY]?: TRuntime };

export function setRuntime(runtime: TRuntime | undefined): void {
  (globalThis as TGlobalWithRuntime)[RUNTIME_KEY] = runtime;
}

/** The runtime, or undefined when the code runs outside the panel's server (a build). */
export function findRuntime(): TRuntime | undefined {
  return (globalThis as TGlobalWithRuntime)[RUNTIME_KEY];
}

export function getRuntime(): TRuntime {
  const runtime = findRuntime();
  if (!runtime)
    throw new Error('The panel runtime is not started: run it through server/index.ts.');
  return runtime;
}
