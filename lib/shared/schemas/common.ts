import { z } from 'zod';

/**
 * Text without control characters: C0 (U+0000–U+001F), DEL and C1 (U+007F–U+009F), and
 * the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
 * PostgreSQL cannot store a NUL in text at all (the driver's refusal was a 500), and the
 * others are never part of a name, a reason or a destination: pasted by mistake (C1 is
 * what a Latin-1 file read as Unicode leaves), or sent to confuse whoever reads it later
 * — U+009B starts a terminal escape where a log is read, and an override shows
 * `invoice\u202Efdp.exe` as `invoiceexe.pdf`. The left-to-right and right-to-left marks
 * (U+200E, U+200F) stay: right-to-left names may need them. `multiline` text (free text
 * that may span lines) keeps tab, line feed and carriage return.
 */
// Matching control characters is the point of these two.
// eslint-disable-next-line no-control-regex
const PLAIN_TEXT = /^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$/;
const MULTILINE_TEXT =
  // eslint-disable-next-line no-control-regex
  /^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$/;
export const CONTROL_CHARACTER_MESSAGE = 'must not contain a NUL or another control character';

/**
 * Half of a UTF-16 pair without its other half (`"\ud800"` in JSON). It is no character:
 * PostgreSQL's jsonb refuses it (a change-log row then failed, naming no field) and its
 * text stores it as U+FFFD, so what was stored differed from what was sent — two keys
 * that differ only there met as one, and a call's id no longer matched its stored self.
 * With the `u` flag the class matches only a lone half: a whole pair is one code point.
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
export const LONE_SURROGATE_MESSAGE =
  'must be whole characters: it holds half of one (a lone UTF-16 surrogate)';

/** Whether `value` holds a control character text may not (`multiline`: tab, line breaks ok). */
export function hasControlCharacter(value: string, multiline = false): boolean {
  return !(multiline ? MULTILINE_TEXT : PLAIN_TEXT).test(value);
}

/** Whether `value` holds half of a UTF-16 pair on its own. */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

/**
 * `value` cut to at most `max` UTF-16 units without splitting a pair: text the server
 * makes from what it was sent (a notice's title naming a card) is cut to its column, and
 * half an emoji left at the end was refused by jsonb as the change-log row was written.
 */
export function cutText(value: string, max: number): string {
  if (value.length <= max) return value;
  const cut = value.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/**
 * The one building block for text the panel takes (bodies, query parameters, CSV cells,
 * sign-in): a string of whole characters without control characters, the control rule
 * as a pattern so the OpenAPI document shows it. Chain the field's own rules after it:
 * these checks come first, so the reason given for a NUL is this one.
 */
export function ZText(error?: string, options: { multiline?: boolean } = {}) {
  return z
    .string(error)
    .regex(options.multiline ? MULTILINE_TEXT : PLAIN_TEXT, CONTROL_CHARACTER_MESSAGE)
    .refine((value) => !hasLoneSurrogate(value), LONE_SURROGATE_MESSAGE);
}

/**
 * An email address as people paste it: spaces around it dropped, then checked, then in
 * lower case — as sign-in reads the address typed (lib/server/auth/login.ts), so what
 * signs in is also what is taken when a user or an account is made.
 */
export const ZEmailAddress = z
  .string('must be an email address')
  .trim()
  .pipe(z.email('must be an email address').max(320))
  .transform((email) => email.toLowerCase());

/**
 * A name people read (an account's, a card's, a group's, a destination's): text as `ZText`,
 * trimmed, 1 to `max` characters, at least one of them visible — a name of nothing but
 * zero-width or other format characters (`"\u200b\u200b"`) passed "is required" and shows
 * as a blank in every list.
 */
export function ZNameText(max: number, tooLong = 'is too long', error = 'is required') {
  return ZText(error)
    .trim()
    .min(1, 'is required')
    .max(max, tooLong)
    .refine((value) => VISIBLE.test(value), 'must show at least one visible character');
}
/** A character that shows: neither a separator, white space nor a format character. */
const VISIBLE = /[^\p{Z}\p{Cf}\s]/u;

/**
 * The instants the panel takes: years 1970 to 9999 once the offset is applied. PostgreSQL
 * has no year 0, and `toISOString` writes a year past 9999 with a sign (`+010000-…`) that
 * it refuses, so `9999-12-31T23:59:00-01:00` was as bad as `0000-06-01T00:00:00Z`: the
 * database's refusal named no field. Nothing the panel dates (calls, rates, payments) is
 * older than 1970.
 */
export const INSTANT_RANGE_MESSAGE = 'must be between 1970 and 9999';

/** Whether an ISO date-time (or `toISOString`'s) falls in the range the panel takes. */
export function isStorableInstant(value: string): boolean {
  const year = new Date(value).getUTCFullYear();
  return year >= 1970 && year <= 9999;
}

/** An ISO 8601 date-time with its offset, in the range the panel takes. */
export function ZInstant(error: string) {
  return z.iso
    .datetime({ offset: true, error, abort: true })
    .refine(isStorableInstant, INSTANT_RANGE_MESSAGE);
}

/** Opaque ids (uuids today): the same in REST and in events. */
/**
 * An id, read in lower case as PostgreSQL writes it: the same card in capitals must not
 * pass a comparison with the stored id (a card made its own parent).
 */
export const ZId = z.uuid('must be an id').toLowerCase();

/**
 * A list's search as its address gives it (`?q=`): 200 characters (not UTF-16 units: a
 * pair is never split), and none the API refuses (a control character, a lone surrogate)
 * — such a search is ignored, as any value a page does not know, rather than a list in
 * error.
 */
export function addressSearch(asked: string): string {
  const q = Array.from(asked).slice(0, 200).join('');
  return ZText().safeParse(q).success ? q : '';
}

/**
 * What is wrong with an amount typed, said as such: "-5" is a decimal string, and "12,50"
 * is how half of Europe writes one, so the generic message would describe another fault.
 */
export function amountProblem(
  value: string,
  shape: { digits: number; decimals: number; signed?: boolean; example?: string } = {
    digits: 12,
    decimals: 6,
  },
): string | null {
  const { digits, decimals, signed = false, example = '12.50' } = shape;
  if (!signed && /^-\s*\d/.test(value)) return 'must not be negative';
  const unsigned = signed ? value.replace(/^-/, '') : value;
  if (/^\d+,\d+$/.test(unsigned)) return `must use a dot for decimals, such as "${example}"`;
  if (new RegExp(`^\\d{${digits + 1},}(\\.\\d*)?$`).test(unsigned)) {
    return `must have at most ${digits} digits before the point`;
  }
  if (new RegExp(`^\\d+\\.\\d{${decimals + 1},}$`).test(unsigned)) {
    return `must have at most ${decimals} decimals`;
  }
  return null;
}

/**
 * `schema` (a decimal string's pattern) with what is wrong with a value said first: the
 * field shows one reason, the first (lib/server/errors/zod-fields.ts).
 */
export function sayAmountProblem(shape: Parameters<typeof amountProblem>[1]) {
  return (value: string, ctx: z.RefinementCtx) => {
    const problem = amountProblem(value, shape);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  };
}

/** Money travels as a decimal string, never a JSON number (DESIGN §3). */
export const ZMoney = ZText('must be a decimal string such as "12.50"')
  .trim()
  // First, so the field shows it rather than the pattern's (one reason per field).
  .superRefine(sayAmountProblem({ digits: 12, decimals: 6 }))
  .regex(/^\d{1,12}(\.\d{1,6})?$/, 'must be a decimal string such as "12.50" (up to 6 decimals)');

/**
 * The ISO 4217 codes of currencies in use, as the platform's Unicode data knows them
 * (Node's `Intl`, and the browser's): an account's currency is fixed for life, so three
 * letters naming no currency ("ABC") would leave an account no card or transfer can match.
 * A browser without the list (before Safari 15.4) leaves the check to the server.
 */
const CURRENCY_CODES: ReadonlySet<string> | null =
  typeof Intl.supportedValuesOf === 'function' ? new Set(Intl.supportedValuesOf('currency')) : null;

/** An ISO 4217 currency code: accounts' and cards' (fixed once chosen). */
export const ZCurrency = ZText('is required')
  .regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 code such as "EUR"')
  .refine(
    (code) => !CURRENCY_CODES || CURRENCY_CODES.has(code),
    'is not an ISO 4217 currency code',
  );

export const ZVersion = z.number('is required').int().positive();

/**
 * The longest cursor a list hands out: a sorted list's holds the last row's sort value
 * (`encodeKeyCursor`), a 200-character name at up to 3 UTF-8 bytes a character or a
 * 320-character email, in base64url with its sort and id — about 1,000 characters.
 * Every `nextCursor` given out must be taken back (at 200, a 100-byte name's was not).
 */
export const CURSOR_MAX = 2_000;

export const ZPageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1, 'must be 1 to 500')
    .max(500, 'must be 1 to 500')
    .default(50),
  cursor: ZText().max(CURSOR_MAX).optional(),
});

/**
 * A list's sort (`?sort=name`, `?sort=-name` for descending) on one of its main columns.
 * Anything else is 400 naming `sort`; absent, lists keep their creation order.
 */
export function ZSort<const K extends readonly [string, ...string[]]>(keys: K) {
  const values = keys.flatMap((key) => [key, `-${key}`]) as [
    TSortValue<K[number]>,
    ...TSortValue<K[number]>[],
  ];
  return z.enum(values, `must be one of ${values.join(', ')}`).optional();
}
export type TSortValue<K extends string> = K | `-${K}`;

/** `?sort=` read: the column and the direction. */
export function sortOf<K extends string>(
  value: TSortValue<K> | undefined,
  fallback: K,
): { key: K; dir: 'asc' | 'desc' } {
  if (!value) return { key: fallback, dir: 'asc' };
  return value.startsWith('-')
    ? { key: value.slice(1) as K, dir: 'desc' }
    : { key: value as K, dir: 'asc' };
}

/**
 * A page of a list, as `ZPageOf` declares it. `total`: how many rows in the caller's
 * scope match the filters, over every page (lists that count).
 */
export type TPage<T> = { items: T[]; nextCursor: string | null; total?: number };

/** Fields every entity carries. */
export const ZEntityMeta = z.object({
  id: z.string(),
  version: z.number().int(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type TEntityMeta = z.infer<typeof ZEntityMeta>;

/** A page of a list: `{ items, nextCursor, total? }`. */
export function ZPageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable(),
    /** Rows in scope matching the filters, over every page (absent: the list does not count). */
    total: z.number().int().nonnegative().optional(),
  });
}

/** The error body of every non-2xx answer (DESIGN §3). */
export const ZErrorBody = z.object({
  error: z
    .object({
      code: z.string(),
      message: z.string(),
      fields: z.record(z.string(), z.string()).optional(),
      current: z.unknown().optional(),
      dependants: z
        .array(z.object({ resource: z.string(), id: z.string(), name: z.string() }))
        .optional(),
    })
    .loose(),
});
