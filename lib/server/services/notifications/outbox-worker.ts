import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import nodemailer, { type Transporter } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import { readersOf } from '@/lib/server/authz/recipients';
import { directQuery } from '@/lib/server/db/direct-query';
import type { TGrant } from '@/lib/shared/permissions';
import { getLogger } from '@/lib/server/observability/logger';
import { effectiveBrand } from '@/lib/server/services/brands/brands';
import type { TMailSettings } from './mail-settings';

export interface TOutboxOptions {
  /** How often pending mail is looked for. */
  pollMs: number;
  /** Rows claimed at once. */
  batch: number;
  /** Sends tried before a row is marked failed. */
  maxAttempts: number;
  /** Wait before the next try after `attempts` failed ones. */
  backoffMs: (attempts: number) => number;
  /** How long a claim holds a row: past it, a send that never finished is tried again. */
  leaseMs: number;
  /** How long a send waits for the mail server at each step: well inside the lease. */
  sendTimeoutMs: number;
  /**
   * How long a stop waits for a send under way: a mail server that hangs must not hold a
   * shutdown (the process is killed 10 s after SIGTERM). The row's lease covers it: one
   * left mid-send is claimed again when the lease ends.
   */
  stopWaitMs: number;
}

const DEFAULTS: TOutboxOptions = {
  pollMs: 2_000,
  batch: 20,
  maxAttempts: 8,
  // 1 min, 2, 4 … capped at an hour: about four hours before a row is given up.
  backoffMs: (attempts) => Math.min(60_000 * 2 ** (attempts - 1), 3_600_000),
  leaseMs: 5 * 60_000,
  sendTimeoutMs: 60_000,
  stopWaitMs: 2_000,
};

/** Why a mail was dropped unsent (`outbox.last_error`). */
export const NOT_SENT_GONE = 'not sent: its recipient was removed or disabled since';
export const NOT_SENT_UNREADABLE = 'not sent: its recipient may no longer read what it tells of';
export const NOT_SENT_STALE = 'not sent: older than a week (its notice is in the panel)';

/**
 * Mail older than this is not sent: delivery turned on after a long time off (or a
 * server refusing for days) would otherwise mail weeks of old news at once.
 */
const MAIL_MAX_AGE_DAYS = 7;

interface TClaimed {
  id: string;
  to_address: string;
  subject: string;
  body_text: string;
  link: string | null;
  attempts: number;
  /** The recipient's account, through the notice the mail tells of (null: none). */
  account_path: string | null;
}

/**
 * Sends the outbox (lib/server/entities/notification.entity.ts) over SMTP, in the server
 * process. A pass claims due rows with `FOR UPDATE SKIP LOCKED` in a short transaction
 * that moves their next attempt a lease ahead — so several processes never take the same
 * row, and no transaction stays open while a mail server answers (the embedded database
 * serves one connection) — then sends each and marks it sent, or pending again after a
 * growing wait, or failed after the last try. A process that dies mid-send leaves its
 * rows to be claimed again when the lease runs out: a mail may then go twice, never
 * not at all. Each send renews its row's claim first and gives up well inside it, and a
 * send's outcome is written only while the row is still its claim's.
 */
export class OutboxWorker {
  private readonly options: TOutboxOptions;
  private readonly transport: Transporter;
  /** The configured sender's address alone (MAIL_FROM may carry a name): a brand's name goes with it. */
  private readonly fromAddress: string | undefined;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly settings: TMailSettings,
    private readonly publicUrl: string,
    options: Partial<TOutboxOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    // Every wait well inside the lease (nodemailer's own: 2 and 10 minutes), so a send
    // that hangs fails before another process may claim its row and send it too.
    const timeouts = {
      connectionTimeout: this.options.sendTimeoutMs,
      greetingTimeout: this.options.sendTimeoutMs,
      socketTimeout: this.options.sendTimeoutMs,
    };
    // A URL read here: given `{url}`, nodemailer takes the URL's options alone, and the
    // timeouts would be lost.
    this.transport = nodemailer.createTransport(
      typeof settings.transport === 'string'
        ? { ...parseConnectionUrl(settings.transport), ...timeouts }
        : { ...timeouts, ...settings.transport },
    );
    this.fromAddress = addressparser(settings.from, { flatten: true })[0]?.address;
  }

  start(): void {
    this.timer = setInterval(() => this.nudge(), this.options.pollMs);
    this.timer.unref();
    this.nudge();
  }

  /** Look for due mail now (a pass already under way runs once more after it). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => getLogger().warn({ err: error }, 'outbox: pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([
      this.running,
      new Promise((resolve) => (waited = setTimeout(resolve, this.options.stopWaitMs))),
    ]);
    clearTimeout(waited);
    this.transport.close();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const claimed = await this.claim();
      for (const row of claimed) {
        if (this.stopped) return;
        await this.send(row);
      }
      if (claimed.length < this.options.batch) return;
    }
  }

  private async claim(): Promise<TClaimed[]> {
    const em = this.orm.em.fork();
    // Who receives a notice is decided when it is written; a mail still waiting (delivery
    // off, or retried for hours) is checked again before it goes: its person removed
    // (their notices go with them) or disabled since is told nothing more.
    await directQuery(
      em,
      `update outbox o set status = 'failed', last_error = ?
        where o.status = 'pending' and o.next_attempt_at <= now()
          and not exists (select 1 from notification n join app_user u on u.id = n.user_id
                           where n.id = o.notification_id and u.status = 'active')`,
      [NOT_SENT_GONE],
    );
    await directQuery(
      em,
      `update outbox o set status = 'failed', last_error = ?
        where o.status = 'pending' and o.next_attempt_at <= now()
          and o.created_at < now() - (? * interval '1 day')`,
      [NOT_SENT_STALE, MAIL_MAX_AGE_DAYS],
    );
    return em.transactional((tx) =>
      directQuery<TClaimed>(
        tx,
        `update outbox o
            set attempts = o.attempts + 1,
                next_attempt_at = now() + (? * interval '1 millisecond')
           from (select id from outbox
                  where status = 'pending' and next_attempt_at <= now()
                  order by next_attempt_at, id
                  limit ?
                  for update skip locked) due
          where o.id = due.id
      returning o.id,
                -- The person's address now: one corrected since the notice was written
                -- (a typo, someone else's mailbox) is not written to.
                coalesce((select u.email from notification n join app_user u on u.id = n.user_id
                           where n.id = o.notification_id), o.to_address) as to_address,
                o.subject, o.body_text, o.link, o.attempts,
                (select a.path from notification n join account a on a.id = n.account_id
                  where n.id = o.notification_id) as account_path`,
        [this.options.leaseMs, this.options.batch],
      ),
    );
  }

  /**
   * The panel as the recipient knows it, from the brand their account works in (a
   * white-label portal's people never meet the product's own name nor the carrier's
   * domain): the sender is the brand's name at the configured address — the panel's
   * domain is the one that may send (SPF, DKIM) — and the link opens on the brand's
   * first hostname (`PUBLIC_URL`'s scheme and port), where their session lives. No brand
   * on their path, or one without a hostname: the configured sender, `PUBLIC_URL`.
   */
  private async postmarkFor(
    em: EntityManager,
    row: TClaimed,
  ): Promise<{ from: string | { name: string; address: string }; base: string }> {
    const resolved = row.account_path ? await effectiveBrand(em, row.account_path) : null;
    // The portal they sign in at: the nearest brand with a hostname, which may be an
    // ancestor's when their own brand has a name but no hostname of its own.
    const portal =
      resolved && !resolved.brand.hostnames.length
        ? await effectiveBrand(em, row.account_path!, { withHostname: true })
        : resolved;
    const hostname = portal?.brand.hostnames[0];
    let base = this.publicUrl.replace(/\/$/, '');
    if (hostname) {
      const url = new URL(this.publicUrl);
      url.hostname = hostname;
      base = url.origin;
    }
    return {
      from:
        resolved && this.fromAddress
          ? { name: resolved.brand.displayName, address: this.fromAddress }
          : this.settings.from,
      base,
    };
  }

  private async stillReads(em: EntityManager, outboxId: string): Promise<boolean> {
    const [notice] = await directQuery<{
      user_id: string;
      account_id: string;
      read_grants: TGrant[];
      subject_path: string | null;
    }>(
      em,
      `select n.user_id, n.account_id, n.read_grants, s.path as subject_path from outbox o
         join notification n on n.id = o.notification_id
         left join account s on s.id = n.subject_account_id
        where o.id = ?`,
      [outboxId],
    );
    if (!notice) return false;
    const readers = await readersOf(
      em,
      [notice.account_id],
      notice.read_grants,
      notice.subject_path,
    );
    return readers.some((reader) => reader.userId === notice.user_id);
  }

  private async send(row: TClaimed): Promise<void> {
    const em = this.orm.em.fork();
    // The claim renewed for this send (rows of a batch go one after another): kept only
    // while it is still this claim's — not sent, failed or claimed again meanwhile.
    const held = await directQuery<{ id: string }>(
      em,
      `update outbox set next_attempt_at = now() + (? * interval '1 millisecond')
        where id = ? and status = 'pending' and attempts = ? returning id`,
      [this.options.leaseMs, row.id, row.attempts],
    );
    if (!held.length) return;
    // And only to someone who may still read what it tells of: a group without the
    // notice's grants by now, an account suspended above, no usable group, the account it
    // tells of moved out of their part of the tree (the same rule
    // that chose the recipients when the notice was written, `readersOf`).
    if (!(await this.stillReads(em, row.id))) {
      await directQuery(
        em,
        `update outbox set status = 'failed', last_error = ?
          where id = ? and status = 'pending' and attempts = ?`,
        [NOT_SENT_UNREADABLE, row.id, row.attempts],
      );
      return;
    }
    try {
      const { from, base } = await this.postmarkFor(em, row);
      await this.transport.sendMail({
        from,
        to: row.to_address,
        subject: row.subject,
        text: row.link ? `${row.body_text}\n\n${base}${row.link}\n` : row.body_text,
      });
      await directQuery(
        em,
        `update outbox set status = 'sent', sent_at = now(), last_error = null where id = ?`,
        [row.id],
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const last = row.attempts >= this.options.maxAttempts;
      getLogger().warn(
        { outbox: row.id, attempts: row.attempts, err: message },
        last ? 'outbox: mail failed, giving up' : 'outbox: mail failed, will retry',
      );
      // Only while the row is still this claim's: a send that outlived its lease may
      // have been sent by another process since, which this must not put back.
      await directQuery(
        em,
        `update outbox
            set status = ?, last_error = ?,
                next_attempt_at = now() + (? * interval '1 millisecond')
          where id = ? and status = 'pending' and attempts = ?`,
        [
          last ? 'failed' : 'pending',
          message.slice(0, 2000),
          this.options.backoffMs(row.attempts),
          row.id,
          row.attempts,
        ],
      );
    }
  }
}
