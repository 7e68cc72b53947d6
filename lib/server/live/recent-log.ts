import type { TLogEntry } from '@/lib/server/authz/audience';

/**
 * The newest log entries this process's fan-out has passed, per carrier, in that
 * carrier's order and without a gap. Catch-up serves a page from here when the page lies
 * within (lib/server/services/events/catch-up.ts): a client resuming after a short
 * absence asks for exactly what the tailer has just read, with each entry's audience
 * already decided (issue 14: resuming 10,000 entries read and parsed every row again and
 * decided it again, about 50 ms a page of 1,000). Socket.IO's own connection-state
 * recovery keeps its missed packets in memory the same way.
 *
 * Sound because a committed entry never changes (the log is append-only, each carrier's
 * positions dense and committed in order), so what the tailer read is what a read now
 * returns — but for the actor's names, joined when the row is read: a page from here
 * names the actor as the live delivery did. A carrier's run starts afresh at a gap (the
 * tailer moved past entries without reading them: no socket here), and the whole is
 * bounded by a count of entries over all carriers and by their size, the oldest read
 * dropped first: an entry is 4–5 KB as a rule, but a card's with ten thousand rules is a
 * megabyte, and a script renaming one filled the count's 20,000 places with 22 GB.
 */
export class RecentLog {
  /** Per carrier, its entries held, oldest first, from index `start` on. */
  private readonly runs = new Map<string, { entries: TLogEntry[]; start: number }>();
  /** Every entry held, in the order remembered; a run's entries are among them. */
  private readonly order: TLogEntry[] = [];
  private orderStart = 0;

  /** Bytes of the entries held (`TLogEntry.bytes`, and `ENTRY_OVERHEAD` each). */
  private bytes = 0;
  private readonly byteBudget: number;

  /**
   * `capacity`: entries held at most (LIVE_RECENT_ENTRIES); 0 holds none. Their bytes are
   * held to `capacity` × `BYTES_PER_ENTRY`: as many as the count allows of the usual size.
   */
  constructor(private readonly capacity: number) {
    this.byteBudget = capacity * BYTES_PER_ENTRY;
  }

  /** The tailer passed `entry`: the carrier's next position, or the start of a new run. */
  remember(entry: TLogEntry): void {
    if (this.capacity === 0) return;
    // One that would take a quarter of the budget is not kept (catch-up reads it from the
    // log), rather than push out everyone else's: the carrier's run starts after it.
    if (sizeOf(entry) * 4 > this.byteBudget) {
      this.runs.delete(entry.carrierId);
      return;
    }
    const run = this.runs.get(entry.carrierId);
    if (run && run.entries.length > run.start && run.entries.at(-1)!.seq + 1 === entry.seq) {
      run.entries.push(entry);
    } else {
      this.runs.set(entry.carrierId, { entries: [entry], start: 0 });
    }
    this.order.push(entry);
    this.bytes += sizeOf(entry);
    while (
      this.order.length - this.orderStart > this.capacity ||
      (this.bytes > this.byteBudget && this.order.length - this.orderStart > 0)
    ) {
      this.dropOldest();
    }
    if (this.orderStart > 1024 && this.orderStart * 2 > this.order.length) {
      this.order.splice(0, this.orderStart);
      this.orderStart = 0;
    }
  }

  /** The tailer moved past a carrier's entries unread: what is held cannot reach past them. */
  forget(carrierId: string): void {
    this.runs.delete(carrierId);
  }

  /**
   * The carrier's entries after `since` up to `upTo`, at most `max` of them, when the one
   * after `since` is held; else null (read the log). Fewer than asked when the tailer
   * has not read as far as `upTo` yet: the caller resumes from the last one given.
   */
  after(carrierId: string, since: number, upTo: number, max: number): TLogEntry[] | null {
    const run = this.runs.get(carrierId);
    if (!run || run.entries.length === run.start) return null;
    const first = run.entries[run.start]!.seq;
    const last = run.entries.at(-1)!.seq;
    if (since + 1 < first || since >= last) return null;
    const from = run.start + (since + 1 - first);
    const to = run.start + (Math.min(upTo, last) - first) + 1;
    return run.entries.slice(from, Math.min(to, from + max));
  }

  /** Entries held (tests, metrics). */
  get size(): number {
    return this.order.length - this.orderStart;
  }

  /** Bytes held (tests, metrics). */
  get heldBytes(): number {
    return this.bytes;
  }

  private dropOldest(): void {
    const oldest = this.order[this.orderStart]!;
    this.order[this.orderStart] = undefined as unknown as TLogEntry;
    this.orderStart += 1;
    this.bytes -= sizeOf(oldest);
    const run = this.runs.get(oldest.carrierId);
    // A run begun afresh since holds other entries: this one is already out of it.
    if (!run || run.entries[run.start] !== oldest) return;
    run.entries[run.start] = undefined as unknown as TLogEntry;
    run.start += 1;
    if (run.start === run.entries.length) this.runs.delete(oldest.carrierId);
    else if (run.start > 1024 && run.start * 2 > run.entries.length) {
      run.entries.splice(0, run.start);
      run.start = 0;
    }
  }
}

/** The usual entry: an account's change with its entity before and after (README). */
const BYTES_PER_ENTRY = 5_000;
/** What an entry holds besides its JSON (positions, scopes, the actor, the object). */
const ENTRY_OVERHEAD = 500;

function sizeOf(entry: TLogEntry): number {
  return (entry.bytes ?? 0) + ENTRY_OVERHEAD;
}
