import cluster from 'node:cluster';
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';
import { API_REGISTRY } from '@/lib/server/api/registry';

/**
 * Prometheus metrics of one panel process, served at `/api/metrics` (server/index.ts):
 * HTTP requests and their duration by route, sockets connected, change-log entries
 * fanned out (events/s is their rate), fan-out lag (commit to emit), the database pool,
 * and Node's own (event-loop lag, memory, CPU). One registry per process on globalThis
 * (the custom server and the route handlers are two module graphs).
 */
export interface TPanelMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  changesFannedOut: Counter;
  fanoutLag: Histogram;
  /** Sockets re-checked against the database after an access-changing entry. */
  liveRechecks: Counter;
  /** Log entries the fan-out gave up on (the audience threw every time), by then skipped. */
  liveEntriesSkipped: Counter;
  /** Times the LISTEN connection was opened again after losing it. */
  liveListenReconnects: Counter;
  /** Balance events never sent live: a later state of the account replaced them (issue 18). */
  liveBalanceCoalesced: Counter;
  /**
   * Catch-up pages answered, by where their entries came from: `memory` (what the
   * fan-out just passed, lib/server/live/recent-log.ts) or `log` (read from PostgreSQL).
   */
  liveCatchUpPages: Counter<'source'>;
  /** Set by the server: live values read at scrape time. */
  sources: {
    sockets?: () => number;
    pool?: () => { used: number; free: number; pending: number } | null;
  };
}

const METRICS_KEY = Symbol.for('reseller-panel.metrics');
type TGlobalWithMetrics = typeof globalThis & { [METRICS_KEY]?: TPanelMetrics };

/**
 * `WORKERS` > 1: a scrape reaches one worker in turn, each counting only its own — so
 * one target's counters went back and forth between scrapes. The worker asks the primary
 * (`CLUSTER_METRICS.ask`), which gathers every worker's registry (prom-client's
 * AggregatorRegistry over IPC) and answers the sum (`answer`).
 */
export const CLUSTER_METRICS = {
  ask: 'panel:metrics-ask',
  answer: 'panel:metrics-answer',
} as const;

function createMetrics(): TPanelMetrics {
  const registry = new Registry();
  // The registry a primary's AggregatorRegistry reads from this worker. prom-client
  // installs the worker's answering listener only when an AggregatorRegistry is made.
  if (ownClusterWorker()) {
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([registry]);
  }
  collectDefaultMetrics({ register: registry, prefix: 'panel_process_' });
  const sources: TPanelMetrics['sources'] = {};
  new Gauge({
    name: 'panel_sockets_connected',
    help: 'Socket.IO connections open on this process',
    registers: [registry],
    collect() {
      this.set(sources.sockets?.() ?? 0);
    },
  });
  const pool = new Gauge({
    name: 'panel_db_pool_connections',
    help: 'Database pool connections by state (used, free, pending acquires)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const state = sources.pool?.();
      if (!state) return;
      pool.set({ state: 'used' }, state.used);
      pool.set({ state: 'free' }, state.free);
      pool.set({ state: 'pending' }, state.pending);
    },
  });
  return {
    registry,
    sources,
    httpRequests: new Counter({
      name: 'panel_http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'panel_http_request_duration_seconds',
      help: 'HTTP request duration, by method and route',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    changesFannedOut: new Counter({
      name: 'panel_changes_fanned_out_total',
      help: 'Change-log entries this process has delivered to its sockets',
      registers: [registry],
    }),
    fanoutLag: new Histogram({
      name: 'panel_fanout_lag_seconds',
      help: "From a change's transaction time to its emission by this process",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    liveRechecks: new Counter({
      name: 'panel_live_rechecks_total',
      help: 'Sockets re-checked because a change-log entry affected access',
      registers: [registry],
    }),
    liveEntriesSkipped: new Counter({
      name: 'panel_live_entries_skipped_total',
      help: 'Change-log entries skipped by the fan-out after failing every retry',
      registers: [registry],
    }),
    liveListenReconnects: new Counter({
      name: 'panel_live_listen_reconnects_total',
      help: 'LISTEN connections re-established after being lost',
      registers: [registry],
    }),
    liveBalanceCoalesced: new Counter({
      name: 'panel_live_balance_coalesced_total',
      help: 'Balance events held and replaced by a later one of the same account within its second',
      registers: [registry],
    }),
    liveCatchUpPages: new Counter({
      name: 'panel_live_catch_up_pages_total',
      help: 'Catch-up pages answered, by source: memory (entries the fan-out just passed) or log',
      labelNames: ['source'],
      registers: [registry],
    }),
  };
}

export function getMetrics(): TPanelMetrics {
  const holder = globalThis as TGlobalWithMetrics;
  holder[METRICS_KEY] ??= createMetrics();
  return holder[METRICS_KEY];
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const KNOWN_ROUTES = new Set([
  // Every route of the registry, catch-up and the OpenAPI document included.
  ...Object.keys(API_REGISTRY).map((path) => `/api/v1${path}`),
  '/api/health',
  '/api/ready',
  '/api/metrics',
]);

/**
 * A bounded route label: ids become `{id}`; a path the API does not have is `other`
 * (so hostile URLs cannot grow the series), pages and assets are grouped.
 */
export function routeLabel(path: string): string {
  const bare = path.split('?')[0] ?? '/';
  if (bare.startsWith('/_next/')) return '/_next';
  if (bare.startsWith('/socket.io')) return '/socket.io';
  if (bare.startsWith('/api/auth/')) return '/api/auth';
  if (!bare.startsWith('/api/')) return 'page';
  // A revision's number (`/cards/{id}/revisions/{n}`) is the only numeric segment.
  const label = bare
    .replace(UUID, '{id}')
    .replace(/\/\d{1,10}(?=\/|$)/g, '/{n}')
    .replace(/\/+$/, '');
  return KNOWN_ROUTES.has(label) ? label : 'other';
}

let asked = 0;

/**
 * A worker of the panel's own cluster (`WORKERS` > 1, server/cluster.ts forks it): a
 * process manager's cluster mode runs each panel as one plain process, whose primary
 * answers no metrics request.
 */
function ownClusterWorker(): boolean {
  return cluster.isWorker && Number(process.env.WORKERS) > 1;
}

/**
 * The scrape's text: this process's registry alone, or in a cluster worker every
 * worker's, summed by the primary (`CLUSTER_METRICS`).
 */
export async function scrapeText(): Promise<{ contentType: string; text: string }> {
  const { registry } = getMetrics();
  if (!ownClusterWorker() || !process.send) {
    return { contentType: registry.contentType, text: await registry.metrics() };
  }
  const id = ++asked;
  const text = await new Promise<string>((resolve, reject) => {
    const answered = (message: { type?: string; id?: number; text?: string; error?: string }) => {
      if (message?.type !== CLUSTER_METRICS.answer || message.id !== id) return;
      clearTimeout(timer);
      process.off('message', answered);
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve(message.text ?? '');
    };
    // The primary's own wait for the workers is 5 s (prom-client).
    const timer = setTimeout(() => {
      process.off('message', answered);
      reject(new Error('metrics: the primary did not answer'));
    }, 6_000);
    process.on('message', answered);
    process.send!({ type: CLUSTER_METRICS.ask, id });
  });
  return { contentType: registry.contentType, text };
}
