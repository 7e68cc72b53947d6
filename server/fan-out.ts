import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { audienceOf } from '@/lib/server/authz/audience';
import { CHANGE_LOG_CHANNEL, liveProcessTag, setLiveNudge } from '@/lib/server/live/change-log';
import { logHead, readLogAfter } from '@/lib/server/live/read-log';
import type { TPanelServer } from './socket';
import { applyRevocation } from './revocation';
import { getLogger } from '@/lib/server/observability/logger';
import { getMetrics } from '@/lib/server/observability/metrics';

/** A safety net only: commits wake the tailer at once by nudge or NOTIFY. */
const SAFETY_POLL_MS = 5_000;
const BATCH = 500;

/**
 * The tailer of one server process (DESIGN §2 "Fan-out from the log"): woken by an
 * in-process nudge after a commit or by a NOTIFY from another process (carrying no change
 * data, only the sender's process tag), it
 * reads the log after the last seq it delivered, in order, and emits each entry to the
 * rooms of its audience on this process's own sockets (`io.local`). No per-socket loop
 * and no per-socket query: the audience is rooms, computed once per entry.
 */
export class FanOut {
  private lastSeq = 0;
  private draining = false;
  private again = false;
  private listener?: pg.Client;
  private poll?: NodeJS.Timeout;

  constructor(
    private readonly io: TPanelServer,
    private readonly orm: MikroORM,
    private readonly databaseUrl: string,
  ) {}

  /** The last seq this process has delivered: new sockets get live events after it. */
  get head(): number {
    return this.lastSeq;
  }

  async start(): Promise<void> {
    this.lastSeq = await logHead(this.orm.em.fork());
    setLiveNudge(() => this.nudge());
    await this.listen();
    this.poll = setInterval(() => this.nudge(), SAFETY_POLL_MS);
    this.poll.unref();
  }

  nudge(): void {
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    void this.drain()
      .catch((error: Error) => getLogger().error({ err: error }, 'fan-out: delivery failed'))
      .finally(() => {
        this.draining = false;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  private async drain(): Promise<void> {
    const em = this.orm.em.fork();
    const metrics = getMetrics();
    for (;;) {
      const entries = await readLogAfter(em, this.lastSeq, BATCH);
      for (const entry of entries) {
        // A change to who may see what first re-scopes or ends the sockets it touches, so
        // the entry itself already goes by the access it leaves behind.
        await applyRevocation(this.io, this.orm, entry);
        for (const delivery of audienceOf(entry)) {
          this.io.local
            .to(delivery.rooms)
            .except(delivery.except ?? [])
            .emit('change', delivery.envelope);
        }
        this.lastSeq = entry.seq;
        metrics.changesFannedOut.inc();
        metrics.fanoutLag.observe(Math.max(0, Date.now() - entry.at.getTime()) / 1000);
      }
      if (entries.length < BATCH) return;
    }
  }

  /** LISTEN for other processes' commits; without it (a driver that refuses), nudges and the poll remain. */
  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    try {
      await client.connect();
      // Another process committed; this process's own commits have nudged already.
      client.on('notification', (message) => {
        if (message.payload !== liveProcessTag()) this.nudge();
      });
      client.on('error', (error) =>
        getLogger().warn({ err: error }, 'fan-out: LISTEN connection failed'),
      );
      await client.query(`listen ${CHANGE_LOG_CHANNEL}`);
      this.listener = client;
    } catch (error) {
      getLogger().warn({ err: error }, 'fan-out: LISTEN unavailable, relying on in-process nudges');
      await client.end().catch(() => {});
    }
  }

  async stop(): Promise<void> {
    setLiveNudge(undefined);
    if (this.poll) clearInterval(this.poll);
    await this.listener?.end().catch(() => {});
  }
}
