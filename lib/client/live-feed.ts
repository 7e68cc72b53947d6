import { isSessionEnvelope, type TChangeEnvelope } from '@/lib/shared/live/change';
import {
  EVENTS_PAGE_MAX,
  PROTOCOL_VERSION,
  ZHandshakeRefusal,
  type THello,
} from '@/lib/shared/live/events';
import type { TMeDto } from '@/lib/shared/schemas/me';
import { accessOf } from '@/lib/shared/viewer-identity';
import { ApiClientError } from './api';
import { RESCOPE_HOLD_MS } from './live-cache';
import type { TPanelClientSocket } from './socket';

/** `outdated`: the server speaks a newer protocol than this page; only a reload helps. */
export type TConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline' | 'outdated';

export interface TLiveFeedHandlers {
  /** One change, in seq order, each seq at most once; `source` says how it came. */
  /**
   * `replay`: a catch-up entry at or behind the last seq (from a resume point the server
   * held back), applied before: patched again by version, and a removal not counted twice.
   */
  onChange(envelope: TChangeEnvelope, source: 'live' | 'catch-up' | 'replay'): void;
  /**
   * What the client holds can no longer be patched (gap too old, access changed): refetch
   * it. After an access change, `access` is the new one (accessOf).
   */
  onResync(reason: 'resync_required' | 'rescoped', access?: string): void;
  onHello?(hello: THello): void;
  onRescoped?(me: TMeDto): void;
  /** `held`: still signed in, but held at a step (the page, loaded again, leads there). */
  onRevoked?(reason: string, code: 'ended' | 'held'): void;
  onState?(state: TConnectionState, reason: string | null): void;
  /** Back after a disconnect and caught up: a good moment to retry what failed meanwhile. */
  onResumed?(): void;
}

const CATCH_UP_PAGE = EVENTS_PAGE_MAX;
/** A catch-up page not answered by then is a failed catch-up: reconnect and try again. */
const CATCH_UP_TIMEOUT_MS = 30_000;
/** How long a page waits for the socket before showing data anyway (it refetches on join). */
const READY_TIMEOUT_MS = 3_000;
/** Retrying a refused handshake: as the transport's own backoff (lib/client/socket.ts). */
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 10_000;

/**
 * The client's side of DESIGN §2 "Catch-up", independent of React so scripts and the
 * model test run the very same code as the browser:
 * - the socket joins its rooms before `hello`, so whatever the client fetches after
 *   `ready()` resolves is a snapshot that live events only move forward;
 * - it remembers the last seq it applied and drops anything at or below it (duplicates
 *   across catch-up and live are harmless);
 * - after a reconnect it buffers live events, asks `events:since` (the pages of
 *   `GET /events?since=last`, over the socket), applies those in order, then the buffer;
 *   a gap older than the kept log (410) means refetch all;
 * - reconnects use Socket.IO's jittered exponential backoff (see socket.ts), and a
 *   handshake refused as `unavailable` (a server shedding load) is retried the same way;
 *   a server that ends the session (revoked) or refuses the credential is not retried.
 */
export class LiveFeed {
  private lastSeq: number | null = null;
  /**
   * Where catch-up starts after a reconnect: the last seq, or earlier while the server
   * holds coalesced balance changes behind it (an envelope's `resumeAfter`).
   */
  private resumeSeq: number | null = null;
  private access: string | null = null;
  private catchingUp = false;
  private buffer: TChangeEnvelope[] = [];
  private readyWaiters: (() => void)[] = [];
  private connected = false;
  /**
   * Handshakes refused as `unavailable`, or sockets the server closed before a hello, in
   * a row: the retry backs off with them.
   */
  private refusals = 0;
  /** The server said this credential is over (`session.revoked`): its close is final. */
  private revoked = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Snapshots went ahead without the socket: what they hold is refetched once it joins. */
  private releasedEarly = false;
  /** The access the page on screen was rendered for (null: never told, as in scripts). */
  private rendered: string | null;
  /**
   * After an access change, until the page is rendered for `access` (at most
   * RESCOPE_HOLD_MS): reads wait. Asked meanwhile by the old page's sections, they would
   * go as the new access — refused, or answered for a page that is about to go.
   */
  private held: { access: string; timer: ReturnType<typeof setTimeout> } | null = null;
  state: TConnectionState = 'connecting';
  reason: string | null = null;

  /**
   * `renderedFor`: the access the page was rendered for (the layout's accessOf). The first
   * `hello` is compared with it: access that changed between the server's render and the
   * join (a view-as ended in another tab, a group's grants edited) is a rescope, as it is
   * on any later hello — else the page would show the old identity's shell and sections
   * over data fetched as the new one.
   */
  constructor(
    private readonly socket: TPanelClientSocket,
    private readonly handlers: TLiveFeedHandlers,
    renderedFor?: string,
  ) {
    this.access = renderedFor ?? null;
    this.rendered = renderedFor ?? null;
    const early = setTimeout(() => {
      if (this.lastSeq !== null) return;
      this.releasedEarly = true;
      this.release();
    }, READY_TIMEOUT_MS);
    (early as { unref?: () => void }).unref?.();
    socket.on('hello', (hello) => void this.onHello(hello));
    // A session's envelope repeats its own event below (which this feed acts on).
    socket.on('change', (envelope) => {
      if (!isSessionEnvelope(envelope)) this.onLive(envelope);
    });
    socket.on('session.rescoped', (me) => {
      this.access = accessOf(me);
      handlers.onRescoped?.(me);
      this.rescoped(this.access);
    });
    socket.on('session.revoked', ({ reason, code }) => {
      this.revoked = true;
      handlers.onRevoked?.(reason, code);
      this.setState('offline', reason);
    });
    socket.on('disconnect', (why) => {
      this.connected = false;
      if (this.state === 'outdated') return;
      if (why !== 'io server disconnect') {
        this.setState('reconnecting', why);
        return;
      }
      // Closed by the server on purpose: final when it revoked the credential first. Else
      // it could not check this socket (a re-check or its welcome failed: the database
      // away a moment) and Socket.IO, which never reconnects after a server's close by
      // itself, would leave the tab offline for good: connect again, backing off; a
      // credential that did end meanwhile is refused at the door (connect_error).
      if (this.revoked) {
        this.setState('offline', this.reason ?? 'Signed out');
        return;
      }
      this.setState('reconnecting', 'The server closed the connection; connecting again.');
      this.retryLater();
    });
    socket.on('connect_error', (error) => {
      // A server shedding load (or briefly without its database) refuses with
      // `unavailable`. Socket.IO never retries a refused handshake by itself: the feed
      // does, after the server's hint, backing off with jitter like the transport.
      const refused = ZHandshakeRefusal.safeParse((error as { data?: unknown }).data);
      if (!socket.active && refused.success && refused.data.code === 'unavailable') {
        this.setState('reconnecting', error.message);
        this.retryLater(refused.data.retryAfterMs);
        return;
      }
      this.setState(socket.active ? 'reconnecting' : 'offline', error.message);
      // A refused handshake must not leave snapshots waiting forever.
      if (!socket.active) {
        this.endHold();
        this.release();
      }
    });
  }

  /** The last seq applied (null before the first `hello`). */
  get seq(): number | null {
    return this.lastSeq;
  }

  /**
   * Resolves once the socket has joined its rooms (or cannot): take snapshots after it.
   * While disconnected later on, it resolves at once: catch-up covers the gap.
   */
  ready(): Promise<void> {
    if (!this.held && this.isReady()) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private isReady(): boolean {
    return (
      (this.lastSeq !== null && (!this.catchingUp || !this.connected)) ||
      this.state === 'offline' ||
      this.state === 'outdated' ||
      (this.releasedEarly && this.lastSeq === null)
    );
  }

  /**
   * The page is now rendered for `access` (the provider calls this with the layout's
   * value after each render): reads held for an access change to it go.
   */
  renderedFor(access: string): void {
    this.rendered = access;
    if (this.held?.access === access) this.endHold();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.socket.disconnect();
    this.endHold();
    this.release();
  }

  /** Access changed to `access`: refetch, and hold reads until the page renders for it. */
  private rescoped(access: string): void {
    // Back to what the page shows (A → B → A before it rendered B): nothing to wait for.
    if (access === this.rendered) this.endHold();
    else if (this.rendered !== null) {
      if (this.held) clearTimeout(this.held.timer);
      const timer = setTimeout(() => this.endHold(), RESCOPE_HOLD_MS);
      (timer as { unref?: () => void }).unref?.();
      this.held = { access, timer };
    }
    this.handlers.onResync('rescoped', access);
  }

  private endHold(): void {
    if (!this.held) return;
    clearTimeout(this.held.timer);
    this.held = null;
    if (this.isReady() || this.closed) this.release();
  }

  /** The next handshake after a refusal, with `handshakeRetryDelayMs`'s backoff. */
  private retryLater(hintMs?: number): void {
    const delay = handshakeRetryDelayMs(this.refusals++, hintMs);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (!this.closed && !this.socket.active) this.socket.connect();
    }, delay);
  }

  private async onHello(hello: THello): Promise<void> {
    if (hello.protocol > PROTOCOL_VERSION) {
      // Events of a newer protocol may mean what this page's code does not know: stop
      // applying anything and let the person reload into the new version.
      this.socket.disconnect();
      this.setState('outdated', 'The panel was updated: reload the page to continue.');
      this.endHold();
      this.release();
      return;
    }
    this.connected = true;
    // Let in and welcomed: the next refusal or close backs off from the start.
    this.refusals = 0;
    this.handlers.onHello?.(hello);
    // Access that changed while away (group, grants, view-as) means what is held was
    // filtered by other rules: refetch rather than patch.
    const access = accessOf(hello);
    const before = this.access;
    const changed = before !== null && before !== access;
    this.access = access;
    if (this.lastSeq === null) {
      this.lastSeq = hello.seq;
      this.resumeSeq = hello.seq;
      this.setState('live', null);
      // Before the waiting reads go: they are then held until the page renders anew.
      if (changed) this.rescoped(access);
      this.release();
      if (this.releasedEarly && !changed) this.handlers.onResync('resync_required');
      return;
    }
    this.catchingUp = true;
    try {
      await this.catchUp(hello.seq);
    } catch (error) {
      if (error instanceof ApiClientError && error.code === 'resync_required') {
        this.lastSeq = Math.max(this.lastSeq, hello.seq);
        this.resumeSeq = this.lastSeq;
        this.handlers.onResync('resync_required');
      } else {
        // The server is there but catch-up failed: start over on a fresh connection, after
        // a jittered pause so a struggling server is not hammered by every tab at once.
        this.catchingUp = false;
        this.buffer = [];
        // The access change (if any) is applied by the hello that catches up: this one's
        // comparison must stand for it.
        this.access = before;
        this.socket.disconnect();
        this.setState('reconnecting', (error as Error).message);
        setTimeout(() => this.socket.connect(), 1_000 + Math.random() * 2_000);
        // Reads that waited for this catch-up go now, as any read does while disconnected
        // (the next catch-up covers what they miss): else they would wait until one works.
        this.release();
        return;
      }
    }
    const buffered = this.buffer;
    this.buffer = [];
    this.catchingUp = false;
    for (const envelope of buffered) this.apply(envelope, 'live');
    if (changed) this.rescoped(access);
    this.handlers.onResumed?.();
    this.setState('live', null);
    this.release();
  }

  /**
   * Pages through `events:since` on the socket (the pages of `GET /events`, without an
   * HTTP request each) until it has passed `joinedAt` (the hello's seq: the socket joined
   * its rooms before it, so everything later comes live, held in `buffer` meanwhile) or
   * stops advancing. Not until the carrier is quiet: its head moves with every commit of
   * the carrier, most of which this viewer never sees, and a busy carrier kept a page's
   * reads waiting and its writes paused round trip after round trip. It starts at the
   * resume point, which may lie behind the last seq (coalesced changes the server still
   * held): what it replays there the client has applied or supersedes by version.
   */
  private async catchUp(joinedAt: number): Promise<void> {
    let since = this.resumeSeq ?? this.lastSeq!;
    // At least to the last seq applied: positions behind it the server still owed (a
    // held balance, `resumeAfter`) come from the log, whatever a hello from a process
    // a moment behind says — live, that process's envelope would be dropped as old.
    const until = Math.max(joinedAt, this.lastSeq!);
    while (since < until) {
      const answer = await this.socket
        .timeout(CATCH_UP_TIMEOUT_MS)
        .emitWithAck('events:since', { since, limit: CATCH_UP_PAGE });
      if (!answer.ok) {
        const { code, message } = answer.error;
        throw new ApiClientError(code === 'resync_required' ? 410 : 400, code, message);
      }
      const page = answer.page;
      for (const envelope of page.items) {
        // Behind the last seq: a replay over what is held, patched by version.
        if (envelope.seq <= this.lastSeq!) this.handlers.onChange(envelope, 'replay');
        else this.apply(envelope, 'catch-up');
      }
      if (page.seq <= since) break;
      since = page.seq;
      this.lastSeq = Math.max(this.lastSeq!, page.seq);
    }
    // Catch-up is exact up to where it stopped: nothing behind it is owed any more.
    this.resumeSeq = this.lastSeq;
  }

  private onLive(envelope: TChangeEnvelope): void {
    if (this.state === 'outdated') return;
    if (this.catchingUp) this.buffer.push(envelope);
    else this.apply(envelope, 'live');
  }

  private apply(envelope: TChangeEnvelope, source: 'live' | 'catch-up'): void {
    // A coalesced balance change may come after changes of later positions (the server
    // held it up to a second); it carries the account's latest state and is applied by
    // version, so one already superseded changes nothing.
    if (envelope.coalesced && source === 'live') {
      this.handlers.onChange(envelope, source);
      this.lastSeq = Math.max(this.lastSeq ?? 0, envelope.seq);
    } else {
      if (this.lastSeq !== null && envelope.seq <= this.lastSeq) return;
      this.lastSeq = envelope.seq;
      this.handlers.onChange(envelope, source);
    }
    if (source === 'live') {
      this.resumeSeq =
        envelope.resumeAfter === undefined
          ? this.lastSeq
          : Math.min(envelope.resumeAfter, this.lastSeq);
    } else {
      this.resumeSeq = this.lastSeq;
    }
  }

  private setState(state: TConnectionState, reason: string | null): void {
    this.state = state;
    this.reason = reason;
    this.handlers.onState?.(state, reason);
  }

  private release(): void {
    // An access change waits for the page (endHold lets them go).
    if (this.held) return;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * How long to wait before the next handshake after `refusals` refusals in a row: the
 * server's hint, doubled for each refusal up to 10 s, ±50 % so a crowd of refused tabs
 * does not come back together. The bench's storm clients retry the same way.
 */
export function handshakeRetryDelayMs(refusals: number, hintMs = RETRY_BASE_MS): number {
  const base = Math.min(Math.max(hintMs, RETRY_BASE_MS * 2 ** refusals), RETRY_MAX_MS);
  return base * (0.5 + Math.random());
}
