import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import {
  audienceOf,
  withCallsOf,
  type TDelivery,
  type TLogEntry,
} from '@/lib/server/authz/audience';
import { CHANGE_LOG_CHANNEL, liveProcessTag, setLiveNudge } from '@/lib/server/live/change-log';
import { logHeads, readLogAfterCursors } from '@/lib/server/live/read-log';
import type { TPanelServer, TPanelSocket } from './socket';
import { affectedSockets, recheckTogether } from './revocation';
import { dropPresence, presenceHolders } from './presence';
import { getLogger } from '@/lib/server/observability/logger';
import { getMetrics } from '@/lib/server/observability/metrics';
import { isBalanceOnly } from '@/lib/server/live/balance-only';
import { BalanceHold } from './balance-hold';
import type { RecentLog } from '@/lib/server/live/recent-log';

const BATCH = 500;
/** Tries of an entry whose audience throws, before it is logged and skipped. */
const MAX_ENTRY_ATTEMPTS = 3;
const ENTRY_RETRY_MS = 200;
/** Waits between attempts to open the LISTEN connection again, the last repeated. */
const LISTEN_BACKOFF_MS = [250, 500, 1_000, 2_000, 5_000, 10_000];
/**
 * After the last socket here goes, the tailer goes on reading for this long, so a client
 * coming back finds what it missed in `recent` (catch-up from memory) — the two minutes
 * Socket.IO's own connection-state recovery keeps a gone session's packets by default.
 */
const RECENT_RECOVERY_MS = 120_000;

/**
 * The tailer of one server process (DESIGN §2 "Fan-out from the log"): woken by an
 * in-process nudge after a commit or by a NOTIFY from another process (carrying no change
 * data, only the sender's process tag), it reads each carrier's log after the last
 * position it delivered of that carrier, in that carrier's order, and emits each entry
 * to the rooms of its audience on this process's own sockets (`io.local`). A socket
 * belongs to one carrier, so carriers' entries may interleave freely. No per-socket loop
 * and no per-socket query: the audience is rooms, computed once per entry. An entry that
 * changed access holds the sockets it touches (`HeldSockets`) while they are re-checked;
 * every other socket goes on receiving.
 */
export class FanOut {
  /** Per carrier, the last position delivered: new sockets get live events after it. */
  private cursors = new Map<string, number>();
  /** Entries passed (delivered or skipped) since start: "did anything go by meanwhile". */
  private passed = 0;
  private draining = false;
  /** When a socket here last went away (0: never). */
  private lastGoneAt = 0;
  private again = false;
  private stopped = false;
  private listener?: pg.Client;
  private listenFailures = 0;
  private reconnect?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private poll?: NodeJS.Timeout;
  /** Tries so far of a failing entry, by `carrier:seq`. */
  private readonly failures = new Map<string, number>();
  private readonly held: HeldSockets;
  /** Balance-only entries held back per account (issue 18: at most one a second). */
  private readonly balances: BalanceHold;

  constructor(
    private readonly io: TPanelServer,
    private readonly orm: MikroORM,
    private readonly databaseUrl: string,
    private readonly options: {
      /** A safety net only (`LIVE_POLL_MS`): commits wake the tailer at once. */
      pollMs: number;
      /**
       * A brand (or an account, with its brand) may have changed: the socket's allowed
       * origins are read again. Also called for entries passed unread (nobody here).
       */
      onBrandsChanged?: () => void;
      /** Keeps what the tailer passes, for catch-up to page from (recent-log.ts). */
      recent?: RecentLog;
    } = { pollMs: 5_000 },
  ) {
    this.held = new HeldSockets(orm);
    this.balances = new BalanceHold(
      (entry, calls) => this.release(entry, calls),
      () => getMetrics().liveBalanceCoalesced.inc(),
    );
  }

  /** The last position of a carrier this process has delivered (0 before its first). */
  headOf(carrierId: string): number {
    return this.cursors.get(carrierId) ?? 0;
  }

  /**
   * Grows with every entry the tailer passes: a handshake compares it before and after
   * the door to know whether a change went by before its socket joined its rooms.
   */
  get passedCount(): number {
    return this.passed;
  }

  async start(): Promise<void> {
    this.cursors = await logHeads(this.orm.em.fork());
    this.io.on('connection', (socket) =>
      socket.on('disconnect', () => void (this.lastGoneAt = Date.now())),
    );
    setLiveNudge((committed) => this.nudge(committed));
    await this.listen();
    this.poll = setInterval(() => this.nudge(), this.options.pollMs);
    this.poll.unref();
  }

  /**
   * Reads and delivers what was committed since the last pass. `committed` (this
   * process's own commit, its carriers' last positions): with no socket here, the
   * cursors move there without reading anything — every position up to it is committed
   * (commit order per carrier), and nobody is here to receive them.
   */
  nudge(committed?: ReadonlyMap<string, number>): void {
    if (this.stopped) return;
    if (committed && !this.draining && this.idle()) {
      for (const [carrierId, head] of committed) this.skipTo(carrierId, head);
      return;
    }
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
    for (;;) {
      // No socket here: nobody to deliver to, so move to the heads without reading the
      // entries (a handshake under way sees `passedCount` move and re-checks).
      if (this.idle() && (await this.skipToHeads(em))) return;
      const entries = await readLogAfterCursors(em, this.cursors, BATCH);
      const perCarrier = new Map<string, number>();
      // A carrier whose entry failed waits for its retry; the others go on.
      const stalled = new Set<string>();
      for (const entry of entries) {
        perCarrier.set(entry.carrierId, (perCarrier.get(entry.carrierId) ?? 0) + 1);
        if (stalled.has(entry.carrierId)) continue;
        if (!this.deliver(entry)) stalled.add(entry.carrierId);
      }
      const more = [...perCarrier].some(
        ([carrierId, count]) => count === BATCH && !stalled.has(carrierId),
      );
      if (!more) return;
    }
  }

  /**
   * No socket connected and none held for a re-check — nor gone so lately that it may
   * come back to catch up (then what it missed is read, for `recent` to keep).
   */
  private idle(): boolean {
    return (
      this.io.of('/').sockets.size === 0 &&
      this.held.size === 0 &&
      (!this.options.recent || Date.now() - this.lastGoneAt > RECENT_RECOVERY_MS)
    );
  }

  /**
   * True when it moved the cursors; false when a socket arrived while the heads were
   * read: its hello named the cursor as it was, and what lies past it is that socket's to
   * receive live (its catch-up stops at its hello), so the entries are read and delivered.
   */
  private async skipToHeads(em: EntityManager): Promise<boolean> {
    const heads = await logHeads(em);
    if (!this.idle()) return false;
    for (const [carrierId, head] of heads) this.skipTo(carrierId, head);
    return true;
  }

  /** Passes a carrier's entries up to `head` without reading them (nobody to deliver to). */
  private skipTo(carrierId: string, head: number): void {
    const cursor = this.cursors.get(carrierId) ?? 0;
    if (head <= cursor) return;
    // Unread, so it may have been a brand's change.
    this.options.onBrandsChanged?.();
    this.passed += head - cursor;
    this.cursors.set(carrierId, head);
    this.options.recent?.forget(carrierId);
  }

  /**
   * One entry to this process's sockets; false when it failed and will be tried again
   * (the drain stops there, keeping the order). An entry that keeps failing is logged
   * with its seq, counted, and skipped: one bad row must not halt delivery forever.
   */
  private deliver(entry: TLogEntry): boolean {
    const metrics = getMetrics();
    if (changesHostnames(entry)) this.options.onBrandsChanged?.();
    // A balance move within a second of the account's last event waits, and only the
    // latest of those goes out (BalanceHold); its position is passed now.
    if (isBalanceOnly(entry) && this.balances.hold(entry)) {
      this.advance(entry);
      return true;
    }
    let deliveries: readonly TDelivery[];
    let affected: TPanelSocket[];
    try {
      const audience = audienceOf(entry);
      affected = affectedSockets(this.io, entry);
      // Only what reaches a socket here, unless a socket is (or is about to be) held: a
      // held socket is judged after its re-check by the rooms it is in then, so it is
      // owed every delivery. Envelopes are built here, so a throw happens before any emit.
      deliveries =
        this.held.size || affected.length ? audience : audience.filter((d) => this.reachesHere(d));
      for (const delivery of deliveries) void delivery.envelope;
    } catch (error) {
      const key = `${entry.carrierId}:${entry.seq}`;
      const attempts = (this.failures.get(key) ?? 0) + 1;
      if (attempts < MAX_ENTRY_ATTEMPTS) {
        this.failures.set(key, attempts);
        getLogger().warn(
          { err: error, carrier: entry.carrierId, seq: entry.seq, attempts },
          'fan-out: entry failed',
        );
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.nudge(), ENTRY_RETRY_MS * attempts);
        this.retry.unref();
        return false;
      }
      this.failures.delete(key);
      getLogger().error(
        { err: error, carrier: entry.carrierId, seq: entry.seq },
        'fan-out: entry skipped',
      );
      metrics.liveEntriesSkipped.inc();
      this.advance(entry);
      return true;
    }
    if (this.failures.size) this.failures.delete(`${entry.carrierId}:${entry.seq}`);
    // A change to who may see what first holds the sockets it touches and re-checks
    // them; they receive this entry (and any after it) once re-scoped, so it already
    // goes by the access it leaves behind. Every other socket receives it now.
    this.held.recheck(affected, entry.seq - 1);
    // Held calls of the account this entry drops are told of in its envelopes.
    const calls = this.balances.sending(entry);
    this.emit(entry.carrierId, calls ? tellingOfCalls(deliveries, calls) : deliveries, false);
    this.advance(entry);
    metrics.changesFannedOut.inc();
    metrics.fanoutLag.observe(Math.max(0, Date.now() - entry.at.getTime()) / 1000);
    return true;
  }

  /**
   * A held balance entry whose second has passed: the account's latest, marked
   * `coalesced` (it may follow envelopes of later positions; the client applies it by
   * version). Its position was passed when it was held.
   */
  private release(entry: TLogEntry, calls: TLogEntry | undefined): void {
    if (this.stopped) return;
    const metrics = getMetrics();
    let deliveries: readonly TDelivery[];
    try {
      const audience = audienceOf(entry);
      deliveries = this.held.size ? audience : audience.filter((d) => this.reachesHere(d));
      // Calls it replaced are told of in its envelopes (server/balance-hold.ts).
      if (calls) deliveries = tellingOfCalls(deliveries, calls);
      for (const delivery of deliveries) void delivery.envelope;
    } catch (error) {
      getLogger().error(
        { err: error, carrier: entry.carrierId, seq: entry.seq },
        'fan-out: held balance entry skipped',
      );
      metrics.liveEntriesSkipped.inc();
      return;
    }
    this.emit(entry.carrierId, deliveries, true);
    metrics.changesFannedOut.inc();
    metrics.fanoutLag.observe(Math.max(0, Date.now() - entry.at.getTime()) / 1000);
  }

  /**
   * Emits an entry's deliveries to this process's sockets (those held for a re-check
   * get them queued). While balance entries of the carrier are held, each envelope says
   * where a client that loses its connection must catch up from (`resumeAfter`).
   */
  private emit(carrierId: string, deliveries: readonly TDelivery[], coalesced: boolean): void {
    const floor = this.balances.floorOf(carrierId);
    const marked =
      coalesced || floor !== undefined
        ? deliveries.map((delivery) => ({
            rooms: delivery.rooms,
            except: delivery.except,
            envelope: {
              ...delivery.envelope,
              ...(coalesced ? { coalesced: true as const } : {}),
              ...(floor !== undefined ? { resumeAfter: floor } : {}),
            },
          }))
        : deliveries;
    const held = this.held.ids();
    for (const delivery of marked) {
      if (!this.reachesHere(delivery)) continue;
      const except = held.length ? [...(delivery.except ?? []), ...held] : delivery.except;
      const to = this.io.local.to(delivery.rooms);
      (except?.length ? to.except(except) : to).emit('change', delivery.envelope);
      // A held socket is judged when its deliveries are released (HeldSockets).
      leavePresenceOfRemoved(delivery, (socket) => !held.includes(socket.id));
    }
    this.held.queue(marked);
  }

  /**
   * Whether a socket of this process is in any of the delivery's rooms: a broadcast to
   * none sends nothing, and its envelope need not be built or encoded.
   */
  private reachesHere(delivery: TDelivery): boolean {
    const rooms = this.io.of('/').adapter.rooms;
    return delivery.rooms.some((room) => rooms.has(room));
  }

  private advance(entry: TLogEntry): void {
    this.cursors.set(entry.carrierId, entry.seq);
    this.passed += 1;
    this.options.recent?.remember(entry);
  }

  /**
   * LISTEN for other processes' commits. A lost connection (PostgreSQL restarted) is
   * opened again with growing waits, and the log read once it is back; meanwhile the
   * poll delivers.
   */
  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (this.listener === client) this.listener = undefined;
      if (error) getLogger().warn({ err: error }, 'fan-out: LISTEN connection lost');
      void client.end().catch(() => {});
      this.scheduleListen();
    };
    // Another process committed; this process's own commits have nudged already.
    client.on('notification', (message) => {
      if (message.payload !== liveProcessTag()) this.nudge();
    });
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      await client.connect();
      await client.query(`listen ${CHANGE_LOG_CHANNEL}`);
    } catch (error) {
      getLogger().warn(
        { err: error },
        'fan-out: LISTEN unavailable, relying on nudges and the poll',
      );
      onLost();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.listener = client;
    if (this.listenFailures > 0) {
      getMetrics().liveListenReconnects.inc();
      // Commits while it was away sent notifications no one heard.
      this.nudge();
    }
    this.listenFailures = 0;
  }

  private scheduleListen(): void {
    if (this.stopped) return;
    const wait = LISTEN_BACKOFF_MS[Math.min(this.listenFailures, LISTEN_BACKOFF_MS.length - 1)]!;
    this.listenFailures += 1;
    clearTimeout(this.reconnect);
    this.reconnect = setTimeout(() => void this.listen(), wait);
    this.reconnect.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    setLiveNudge(undefined);
    this.balances.stop();
    if (this.poll) clearInterval(this.poll);
    clearTimeout(this.reconnect);
    clearTimeout(this.retry);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
  }
}

/**
 * Sockets being re-checked after an access-changing entry, and the deliveries they are
 * owed meanwhile. Re-checks run in entry order, each entry's sockets together
 * (`recheckTogether`); when entry N's re-check is done, each of its sockets receives what
 * was queued for it after N's mark and before the next mark of its own, judged by the
 * rooms it is in now — so nothing reaches it under access it is about to lose, and its
 * events keep their order. A re-check that fails closes its sockets: a client that comes
 * back goes through the door afresh, never on stale access.
 */
class HeldSockets {
  private readonly waiting = new Map<string, { socket: TPanelSocket; items: THeldItem[] }>();
  private chain: Promise<void> = Promise.resolve();
  private mark = 0;

  constructor(private readonly orm: MikroORM) {}

  ids(): string[] {
    return [...this.waiting.keys()];
  }

  /** How many sockets are held now. */
  get size(): number {
    return this.waiting.size;
  }

  /** `givenUpTo`: the position before the entry that changed their access. */
  recheck(sockets: TPanelSocket[], givenUpTo: number): void {
    if (!sockets.length) return;
    getMetrics().liveRechecks.inc(sockets.length);
    const mark = ++this.mark;
    for (const socket of sockets) {
      const held = this.waiting.get(socket.id) ?? { socket, items: [] };
      held.items.push({ mark });
      this.waiting.set(socket.id, held);
    }
    this.chain = this.chain.then(() =>
      recheckTogether(this.orm, sockets, givenUpTo)
        .catch((error: unknown) => {
          getLogger().error({ err: error }, 'fan-out: re-check failed; closing its sockets');
          for (const socket of sockets) socket.disconnect(true);
        })
        .then(() => {
          for (const socket of sockets) this.release(socket.id, mark);
        }),
    );
  }

  queue(deliveries: readonly TDelivery[]): void {
    for (const held of this.waiting.values()) held.items.push({ deliveries });
  }

  private release(socketId: string, mark: number): void {
    const held = this.waiting.get(socketId);
    if (!held) return;
    const { socket, items } = held;
    // This socket's own mark is first: earlier marks were released by earlier re-checks.
    if (items[0] && 'mark' in items[0] && items[0].mark === mark) items.shift();
    while (items.length && !('mark' in items[0]!)) {
      const item = items.shift() as { deliveries: readonly TDelivery[] };
      for (const delivery of item.deliveries) {
        if (!reaches(socket, delivery)) continue;
        socket.emit('change', delivery.envelope);
        leavePresenceOfRemoved(delivery, (holder) => holder === socket);
      }
    }
    if (!items.length) this.waiting.delete(socketId);
  }
}

type THeldItem = { mark: number } | { deliveries: readonly TDelivery[] };

/** What a room broadcast would decide for one socket: in a room, in no exception. */
function reaches(socket: TPanelSocket, delivery: TDelivery): boolean {
  return (
    delivery.rooms.some((room) => socket.rooms.has(room)) &&
    !(delivery.except ?? []).some((room) => socket.rooms.has(room))
  );
}

/**
 * A record that leaves its recipients' view (`<resource>.removed`: transferred away,
 * unassigned, a group no longer usable; or `.deleted`) takes them out of its presence
 * (`<resource>:<id>`), whatever changed — the record or their access — so no reader it
 * left lingers in that list or hears who opens it next. Judged by the delivery's own
 * rooms against the few sockets in that presence (`of`: those this emit decides): no
 * query, nothing per connected socket; nothing at all when nobody here is in it.
 */
function leavePresenceOfRemoved(delivery: TDelivery, of: (socket: TPanelSocket) => boolean): void {
  const { type, id } = delivery.envelope;
  const dot = type.lastIndexOf('.');
  const kind = type.slice(dot + 1);
  if (kind !== 'removed' && kind !== 'deleted') return;
  const topic = `${type.slice(0, dot)}:${id}`;
  for (const socket of [...presenceHolders(topic)]) {
    if (of(socket) && reaches(socket, delivery)) void dropPresence(socket, topic);
  }
}

/** A brand's change, or an account's removal (its brand and hostnames go with it). */
function changesHostnames(entry: TLogEntry): boolean {
  return (
    entry.resource === 'brands' ||
    (entry.op === 'deleted' && (entry.resource === 'resellers' || entry.resource === 'customers'))
  );
}

/**
 * `withCallsOf`, or the deliveries as they are if the held calls' own audience fails: an
 * entry that was never delivered must not stop the one that replaced it (logged, counted
 * as an entry skipped).
 */
function tellingOfCalls(deliveries: readonly TDelivery[], calls: TLogEntry): readonly TDelivery[] {
  try {
    const told = withCallsOf(deliveries, calls);
    for (const delivery of told) void delivery.envelope;
    return told;
  } catch (error) {
    getLogger().error(
      { err: error, carrier: calls.carrierId, seq: calls.seq },
      'fan-out: held calls not told of',
    );
    getMetrics().liveEntriesSkipped.inc();
    return deliveries;
  }
}
