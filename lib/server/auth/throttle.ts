import { isIPv4, isIPv6 } from 'node:net';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '@/lib/server/errors/domain-error';

export interface TThrottlePolicy {
  /** Failures allowed before any delay. */
  freeFailures: number;
  /** Failures after which the key is locked for `lockSeconds`. */
  lockFailures: number;
  baseDelayMs: number;
  lockSeconds: number;
}

/**
 * The sign-in throttle: the curve per (email, IP), a budget per IP across emails, and a
 * budget per email across the addresses it has not signed in from lately.
 */
export interface TLoginThrottlePolicy extends TThrottlePolicy {
  /** Failed sign-ins one client IP may spend per window, whatever the emails (spraying). */
  ipFailures: number;
  ipWindowSeconds: number;
  /**
   * Failed sign-ins one email may take per window from addresses it has not signed in
   * from lately, however many (a botnet guessing one password: each of its addresses
   * stays under the pair curve and its own IP budget).
   */
  accountFailures: number;
  accountWindowSeconds: number;
  /** How long an address stays known to an email after a sign-in from it. */
  knownAddressDays: number;
}

/**
 * How long the next attempt must wait after `failures` consecutive failures: nothing at
 * first, then doubling delays, then the lock. Pure, so the unit test covers the curve.
 */
export function delayAfter(failures: number, policy: TThrottlePolicy): number {
  if (failures < policy.freeFailures) return 0;
  if (failures >= policy.lockFailures) return policy.lockSeconds * 1000;
  return Math.min(
    policy.baseDelayMs * 2 ** (failures - policy.freeFailures),
    policy.lockSeconds * 1000,
  );
}

/**
 * A table throttled on the delay curve. Names are constants of this module, never input.
 * `clock_timestamp()`, not `now()`: a claim that waited for the row lock must compare
 * with the time it got the lock, not with when its transaction began.
 */
interface TCurveTable {
  table: string;
  key: readonly string[];
}
const PAIR: TCurveTable = { table: 'login_throttle', key: ['email', 'ip'] };
const OWN_PASSWORD: TCurveTable = { table: 'password_change_throttle', key: ['user_id'] };

const keyMatch = (spec: TCurveTable) => spec.key.map((column) => `${column} = ?`).join(' and ');

/**
 * Claims one attempt on the curve: counts it as a failure *before* the password is
 * checked, and tells whether it may run (0) or how many seconds to wait. The upsert takes
 * the row lock and holds it to the caller's commit, so concurrent claims on one key queue
 * up and each sees the delay the one before it set: a burst gets exactly the checks a
 * sequential caller would. A success then clears the key.
 */
async function claimOnCurve(
  tx: EntityManager,
  spec: TCurveTable,
  key: string[],
  policy: TThrottlePolicy,
): Promise<number> {
  const { table } = spec;
  const columns = spec.key.join(', ');
  // A key quiet for one lock period after its wait is forgotten (`pruneThrottles` deletes
  // it): decided here too, so it starts a fresh curve whether or not a prune ran in
  // between — one runs only after some refusal, and a quiet installation has none, so a
  // person back hours after a lock got one try before the full lock again.
  // (Its wait restarts with it: else every guess would find the key still forgotten.)
  const forgotten = `${table}.next_allowed_at < clock_timestamp() - (? * interval '1 second')`;
  const claimed = await tx.execute<{ failures: number }[]>(
    `insert into ${table} (${columns}, failures, next_allowed_at, updated_at)
     values (${spec.key.map(() => '?').join(', ')}, 1, clock_timestamp(), clock_timestamp())
     on conflict (${columns}) do update
       set failures = case when ${forgotten} then 1 else ${table}.failures + 1 end,
           next_allowed_at = case when ${forgotten} then clock_timestamp()
                             else ${table}.next_allowed_at end,
           updated_at = clock_timestamp()
       where ${table}.next_allowed_at <= clock_timestamp()
     returning failures`,
    [...key, policy.lockSeconds, policy.lockSeconds],
  );
  if (!claimed[0]) return secondsUntil(tx, table, 'next_allowed_at', keyMatch(spec), key);
  const delay = delayAfter(claimed[0].failures, policy);
  if (delay > 0) {
    await tx.execute(
      `update ${table} set next_allowed_at = clock_timestamp() + (? * interval '1 millisecond')
        where ${keyMatch(spec)}`,
      [delay, ...key],
    );
  }
  return 0;
}

async function secondsUntil(
  tx: EntityManager,
  table: string,
  column: string,
  where: string,
  key: string[],
): Promise<number> {
  const rows = await tx.execute<{ wait: string | null }[]>(
    `select extract(epoch from (${column} - clock_timestamp())) as wait from ${table} where ${where}`,
    key,
  );
  // The row is ours (locked) until commit; at least 1 s so a client never retries at once.
  return Math.max(1, Math.ceil(Number(rows[0]?.wait ?? 1)));
}

/**
 * The client address as the sign-in throttle keys it. One IPv6 host is routinely given a
 * whole /64 (2^64 addresses it may send from): keyed by the full address, each guess
 * could come from a fresh one and never meet the pair's curve or the IP's budget. So an
 * IPv6 address counts as its /64 — unless it carries an IPv4 client (IPv4-mapped
 * `::ffff:a.b.c.d` in any spelling, IPv4-compatible `::a.b.c.d`, NAT64's `64:ff9b::/96`),
 * which counts as that IPv4 address: else every IPv4 client behind such a front end
 * would share one key. A port a proxy appended (`[v6]:443`, `a.b.c.d:443`) is dropped;
 * anything unparsable is kept as it is.
 */
export function throttleAddress(ip: string): string {
  let address = ip.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(address)) address = address.replace(/:\d+$/, '');
  address = address.replace(/%.*$/, '');
  if (isIPv4(address)) return address;
  const groups = isIPv6(address) ? ipv6Groups(address) : null;
  if (!groups) return ip.slice(0, 64);
  const zeros = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  const v4 = () => [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.');
  if (zeros(0, 5) && groups[5] === 0xffff) return v4();
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4();
  if (zeros(0, 6) && (groups[6]! > 0 || groups[7]! > 1)) return v4();
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** A valid IPv6 address (`isIPv6`) as its eight 16-bit groups. */
function ipv6Groups(address: string): number[] {
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  let text = address;
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${address.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, null];
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const all =
    rest === null
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.map((group) => parseInt(group, 16));
}

/**
 * A table budgeted per fixed window. Names are constants of this module, never input.
 */
interface TWindowTable {
  table: string;
  key: string;
}
const IP_BUDGET: TWindowTable = { table: 'login_ip_throttle', key: 'ip' };
const ACCOUNT_BUDGET: TWindowTable = { table: 'login_account_throttle', key: 'email' };

/**
 * Spends one failure of `key`'s budget in its window (a new window once the last ended):
 * 0 when it may, else the seconds until the window ends. The upsert holds the row's lock
 * to the caller's commit, so a burst spends exactly the budget, as one by one.
 */
async function claimInWindow(
  tx: EntityManager,
  spec: TWindowTable,
  key: string,
  budget: number,
  windowSeconds: number,
): Promise<number> {
  const { table, key: column } = spec;
  const claimed = await tx.execute<{ failures: number }[]>(
    `insert into ${table} (${column}, failures, window_ends_at, updated_at)
     values (?, 1, clock_timestamp() + (? * interval '1 second'), clock_timestamp())
     on conflict (${column}) do update set
       failures = case when ${table}.window_ends_at <= clock_timestamp() then 1
                       else ${table}.failures + 1 end,
       window_ends_at = case when ${table}.window_ends_at <= clock_timestamp()
                       then clock_timestamp() + (? * interval '1 second')
                       else ${table}.window_ends_at end,
       updated_at = clock_timestamp()
     where ${table}.window_ends_at <= clock_timestamp()
        or ${table}.failures < ?
     returning failures`,
    [key, windowSeconds, windowSeconds, budget],
  );
  if (claimed[0]) return 0;
  return secondsUntil(tx, table, 'window_ends_at', `${column} = ?`, [key]);
}

/** One failure of the window given back: the claim turned out not to be one. */
async function refundWindow(em: EntityManager, spec: TWindowTable, key: string) {
  await em.execute(
    `update ${spec.table} set failures = greatest(failures - 1, 0) where ${spec.key} = ?`,
    [key],
  );
}

/** Whether the email signed in from this address (as keyed) within the policy's days. */
async function isKnownAddress(
  em: EntityManager,
  email: string,
  ip: string,
  policy: TLoginThrottlePolicy,
): Promise<boolean> {
  const rows = await em.execute(
    `select 1 from login_known_address
      where email = ? and ip = ? and signed_in_at > clock_timestamp() - (? * interval '1 day')`,
    [email, ip, policy.knownAddressDays],
  );
  return rows.length > 0;
}

/**
 * Claims one sign-in attempt for (email, IP) — the email need not exist: unknown and
 * known emails are throttled alike, so the throttle tells nothing either. In one
 * transaction, in one lock order (no deadlock): the IP's budget, then — from an address
 * the email has not signed in from lately — the email's budget, then the pair's curve.
 * A claim refused later gives the earlier ones back, so only checks that run spend a
 * budget. Returns 0 when the check may run, else the seconds to wait (Retry-After).
 *
 * The email's budget is what stops many addresses guessing one password (each stays
 * under its pair curve and IP budget); its person's own addresses never spend it, so an
 * attack on the account does not lock them out — only new addresses wait it out.
 */
export async function claimLoginAttempt(
  em: EntityManager,
  email: string,
  address: string,
  policy: TLoginThrottlePolicy,
): Promise<TLoginClaim> {
  const ip = throttleAddress(address);
  return em.transactional(async (tx) => {
    const ipWait = await claimInWindow(
      tx,
      IP_BUDGET,
      ip,
      policy.ipFailures,
      policy.ipWindowSeconds,
    );
    if (ipWait > 0) return { wait: ipWait };
    const spendsAccount = !(await isKnownAddress(tx, email, ip, policy));
    if (spendsAccount) {
      const accountWait = await claimInWindow(
        tx,
        ACCOUNT_BUDGET,
        email,
        policy.accountFailures,
        policy.accountWindowSeconds,
      );
      if (accountWait > 0) {
        await refundWindow(tx, IP_BUDGET, ip);
        // The first refusal of this window (the row is held): its person is to be told —
        // at most once a day, however often an attacker spends the budget.
        const told = await tx.execute<{ window_ends_at: Date }[]>(
          `update login_account_throttle set paused_notice_for = window_ends_at
            where email = ?
              and (paused_notice_for is null
                   or window_ends_at >= paused_notice_for + interval '1 day')
            returning window_ends_at`,
          [email],
        );
        const until = told[0]?.window_ends_at;
        return { wait: accountWait, ...(until ? { pausedUntil: new Date(until) } : {}) };
      }
    }
    const wait = await claimOnCurve(tx, PAIR, [email, ip], policy);
    if (wait > 0) {
      await refundWindow(tx, IP_BUDGET, ip);
      if (spendsAccount) await refundWindow(tx, ACCOUNT_BUDGET, email);
    }
    return { wait };
  });
}

/** A claimed sign-in attempt (`claimLoginAttempt`). */
export interface TLoginClaim {
  /** 0: the check may run; else the seconds to wait (Retry-After). */
  wait: number;
  /**
   * Set on the first refusal after the email's budget was spent, at most once a day:
   * until when new addresses wait. Its person, if the email is one, is told (login.ts).
   */
  pausedUntil?: Date;
}

/**
 * The right password (and code): the pair starts afresh, the attempt costs the IP and
 * the email nothing, and the address is known to the email from now on.
 */
export async function loginSucceeded(
  em: EntityManager,
  email: string,
  address: string,
  policy: TLoginThrottlePolicy,
) {
  const ip = throttleAddress(address);
  await em.execute('delete from login_throttle where email = ? and ip = ?', [email, ip]);
  await refundWindow(em, IP_BUDGET, ip);
  if (!(await isKnownAddress(em, email, ip, policy))) await refundWindow(em, ACCOUNT_BUDGET, email);
  await em.execute(
    `insert into login_known_address (email, ip, signed_in_at) values (?, ?, clock_timestamp())
     on conflict (email, ip) do update set signed_in_at = excluded.signed_in_at`,
    [email, ip],
  );
}

/**
 * The right password, its second factor still to come (`otp_required`): the attempt
 * costs the IP and the email nothing, as a success does — the form always asks in two
 * steps, and guesses at the code have their own budget per user. The pair keeps its
 * count until the code is right.
 */
export async function passwordAccepted(
  em: EntityManager,
  email: string,
  address: string,
  policy: TLoginThrottlePolicy,
) {
  const ip = throttleAddress(address);
  await refundWindow(em, IP_BUDGET, ip);
  if (!(await isKnownAddress(em, email, ip, policy))) await refundWindow(em, ACCOUNT_BUDGET, email);
}

/**
 * Guesses at a secret of one user by someone already past part of its credentials — the
 * current password on `POST /me/password` and `DELETE /me/mfa` (a stolen session), the
 * second factor at sign-in (a known password): one per-user budget on the sign-in curve,
 * claimed before the check like a sign-in, whatever the address.
 */
export async function claimOwnPasswordAttempt(
  em: EntityManager,
  userId: string,
  policy: TThrottlePolicy,
): Promise<number> {
  return em.transactional((tx) => claimOnCurve(tx, OWN_PASSWORD, [userId], policy));
}

/**
 * `claimOwnPasswordAttempt` for a screen of one's own (a password change, MFA): refused
 * 429 `throttled`, saying `message` and when to try again, while the user must wait.
 */
export async function claimOwnPasswordAttemptOrRefuse(
  em: EntityManager,
  userId: string,
  policy: TThrottlePolicy,
  message: string,
): Promise<void> {
  const wait = await claimOwnPasswordAttempt(em, userId, policy);
  if (wait > 0) {
    throw new DomainError('throttled', 'throttled', message, { retryAfterSeconds: wait });
  }
}

export async function clearOwnPasswordAttempts(em: EntityManager, userId: string) {
  await em.execute('delete from password_change_throttle where user_id = ?', [userId]);
}

/** Rows deleted per table and call: pruning never turns one request into a long one. */
const PRUNE_BATCH = 200;

/**
 * Forgets expired throttle rows, so a spray across endless emails cannot grow the tables
 * without bound. Called after each refused sign-in (what adds rows; password-change rows
 * are one per user at most), bounded, and skipping rows a claim holds. A key on the
 * curve is forgotten once its wait ended a whole lock period ago, so a locked attacker
 * who keeps guessing stays locked; an IP's or an email's budget once its window ended
 * (it would restart anyway; an email's once it no longer remembers having told its
 * person a day ago); a known address once it is no longer known.
 */
export async function pruneThrottles(
  em: EntityManager,
  policy: TLoginThrottlePolicy,
): Promise<void> {
  const curve = (spec: TCurveTable) => {
    const columns = spec.key.join(', ');
    return `delete from ${spec.table} where (${columns}) in (
      select ${columns} from ${spec.table}
       where next_allowed_at < clock_timestamp() - (? * interval '1 second')
       limit ${PRUNE_BATCH} for update skip locked)`;
  };
  const windowEnded = ({ table, key }: TWindowTable, also = '') =>
    `delete from ${table} where ${key} in (
       select ${key} from ${table} where window_ends_at < clock_timestamp() ${also}
        limit ${PRUNE_BATCH} for update skip locked)`;
  await em.execute(
    `with pairs as (${curve(PAIR)}),
          own as (${curve(OWN_PASSWORD)}),
          ips as (${windowEnded(IP_BUDGET)}),
          emails as (${windowEnded(
            ACCOUNT_BUDGET,
            // Kept while it remembers telling its person, so that is once a day.
            `and (paused_notice_for is null
                  or paused_notice_for < clock_timestamp() - interval '1 day')`,
          )}),
          addresses as (delete from login_known_address where (email, ip) in (
            select email, ip from login_known_address
             where signed_in_at < clock_timestamp() - (? * interval '1 day')
             limit ${PRUNE_BATCH} for update skip locked))
     select 1`,
    [policy.lockSeconds, policy.lockSeconds, policy.knownAddressDays],
  );
}
