import type { TLogEntry } from '@/lib/server/authz/audience';
import { isCallsChange } from '@/lib/shared/live/change-summary';

/** At most one balance event per account in this long, to any socket (issue 18). */
export const BALANCE_WINDOW_MS = 1_000;

interface THeld {
  /** The latest balance move of the account: the one delivered when the hold ends. */
  entry: TLogEntry;
  /** A move of calls it replaced, which its envelopes must tell of too (see below). */
  calls?: TLogEntry;
  timer: NodeJS.Timeout;
}

/**
 * Balance events coalesced per account (issue 18 "Live, at call rate"): calls move
 * balances many times a second, and a panel needs the latest balance, not every step.
 * An account's balance-only entry (lib/server/live/balance-only.ts) goes out at once
 * when the account's last event went out a window or more ago; otherwise it is held
 * until the window has passed, later moves replacing it, and only the latest goes out.
 * Anything else about the account (a credit block, a rename, a removal) goes out at
 * once and drops what is held: it carries the account as it is now, so an older
 * version never follows a newer one.
 *
 * Calls need more than the latest version (`isCallsChange`): that calls moved the account
 * — or were stored for it without moving it, which only its own entry says (`within`,
 * lib/server/authz/audience.ts) — is what the traffic views above it follow, and a
 * payment or a rename does not say it. So when a move that is not of calls replaces held
 * calls, or anything else about the account drops them, the calls are handed on with the
 * entry that goes out instead (`release`'s second argument, `sending`'s answer), and its
 * envelopes tell of them (`withCallsOf`): still one event per account a second.
 *
 * A held entry leaves a gap behind the socket's last seq: `floorOf` is the position
 * before the first entry held in a carrier, which the fan-out puts on every envelope
 * it sends meanwhile (`resumeAfter`), so a client that drops its connection catches up
 * from there and nothing held is lost (lib/client/live-feed.ts). Catch-up itself is
 * never coalesced.
 */
export class BalanceHold {
  /** Per account, when its last event went out; oldest first (a new time moves it last). */
  private readonly sent = new Map<string, number>();
  private readonly held = new Map<string, THeld>();
  /** Per carrier, its held accounts with their first held position, in position order. */
  private readonly firstHeld = new Map<string, Map<string, number>>();
  private stopped = false;

  constructor(
    /**
     * Delivers a held entry once its window has passed, with the held calls it replaced
     * (its envelopes tell of them too).
     */
    private readonly release: (entry: TLogEntry, calls: TLogEntry | undefined) => void,
    /** An entry replaced by a later one of the same account before it went out. */
    private readonly onCoalesced: () => void = () => {},
    private readonly windowMs = BALANCE_WINDOW_MS,
  ) {}

  /**
   * A balance-only entry, in log order: true when it is held (delivered later, or
   * replaced), false when it goes out now.
   */
  hold(entry: TLogEntry, now = Date.now()): boolean {
    const id = entry.entityId;
    const held = this.held.get(id);
    if (held) {
      // Calls replaced by a move that is not of calls are kept to be told of; a later move
      // of calls tells of them itself.
      if (!isCallsChange(entry.summary))
        held.calls = isCallsChange(held.entry.summary) ? held.entry : held.calls;
      else held.calls = undefined;
      held.entry = entry;
      this.onCoalesced();
      return true;
    }
    this.forget(now);
    const last = this.sent.get(id);
    if (last === undefined || now - last >= this.windowMs) return false;
    const timer = setTimeout(() => this.flush(id), last + this.windowMs - now);
    timer.unref();
    this.held.set(id, { entry, timer });
    let carrier = this.firstHeld.get(entry.carrierId);
    if (!carrier) this.firstHeld.set(entry.carrierId, (carrier = new Map()));
    carrier.set(id, entry.seq);
    return true;
  }

  /**
   * An account's entry goes out now (any entry of an account: a balance move let through
   * or anything else). What is held for it is dropped: this one is newer. Answers the
   * held calls it must tell of too, unless it is itself a move of calls.
   */
  sending(entry: TLogEntry, now = Date.now()): TLogEntry | undefined {
    if (entry.resource !== 'resellers' && entry.resource !== 'customers') return undefined;
    const held = this.held.get(entry.entityId);
    let calls: TLogEntry | undefined;
    if (held) {
      this.unhold(entry.entityId, held);
      this.onCoalesced();
      calls = isCallsChange(held.entry.summary) ? held.entry : held.calls;
    }
    this.sent.delete(entry.entityId);
    this.sent.set(entry.entityId, now);
    return calls && !isCallsChange(entry.summary) ? calls : undefined;
  }

  /** The position before the first entry held in the carrier, or undefined: none held. */
  floorOf(carrierId: string): number | undefined {
    const carrier = this.firstHeld.get(carrierId);
    if (!carrier) return undefined;
    for (const seq of carrier.values()) return seq - 1;
    return undefined;
  }

  /** Accounts held now. */
  get size(): number {
    return this.held.size;
  }

  stop(): void {
    this.stopped = true;
    for (const held of this.held.values()) clearTimeout(held.timer);
    this.held.clear();
    this.firstHeld.clear();
  }

  private flush(id: string): void {
    const held = this.held.get(id);
    if (!held || this.stopped) return;
    this.unhold(id, held);
    this.sent.delete(id);
    this.sent.set(id, Date.now());
    this.release(held.entry, held.calls);
  }

  private unhold(id: string, held: THeld): void {
    clearTimeout(held.timer);
    this.held.delete(id);
    const carrier = this.firstHeld.get(held.entry.carrierId);
    carrier?.delete(id);
    if (carrier?.size === 0) this.firstHeld.delete(held.entry.carrierId);
  }

  /** Send times a window old no longer hold anything back. */
  private forget(now: number): void {
    for (const [id, at] of this.sent) {
      if (now - at < this.windowMs) break;
      this.sent.delete(id);
    }
  }
}
