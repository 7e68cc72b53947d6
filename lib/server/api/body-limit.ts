import { isUtf8 } from 'node:buffer';
import { LOGO_MAX_BYTES } from '@/lib/shared/schemas/brands';
import { invalidInput } from '@/lib/server/errors/domain-error';
import { ApiError } from './errors';

/**
 * Request body limits (issue 7): a JSON body is at most 1 MB, but a card's whole set
 * (`PUT /cards/{id}/rates`) and a CSV import at most 32 MB (200,000 and 250,000 rows of
 * generous width), and a batch of calls 4 MB. The server refuses a declared length
 * over the limit before any handler runs (server/index.ts); a body without a declared
 * length is counted as it streams and cut off at the limit. 413 names the limit.
 */
export const JSON_BODY_LIMIT = 1_000_000;
export const CSV_BODY_LIMIT = 32_000_000;
/**
 * A batch of call records (`POST /usage`, JSON or CSV): 10,000 records of generous width
 * (a long id, a formatted number) take about 2.5 MB.
 */
export const USAGE_BODY_LIMIT = 4_000_000;

/**
 * A card's whole set as JSON (`PUT /cards/{id}/rates`): up to the 200,000 rows its schema
 * takes, every field written out (~120 bytes a row). Held to 1 MB it refused about
 * 15,000 — a carrier's ordinary card — while the document promised 200,000.
 */
export const RATES_PUT_BODY_LIMIT = 32_000_000;
const RATES_PATH = /^\/api\/v1\/cards\/[^/]+\/rates\/?$/;

/** A brand's logo, sent as the raw image (`PUT /accounts/{id}/brand/logo`). */
export const LOGO_BODY_LIMIT = LOGO_MAX_BYTES;
export const LOGO_PATH = /^\/api\/v1\/accounts\/[^/]+\/brand\/logo\/?$/;

export function bodyLimitFor(path: string): number {
  if (/\/rates\/import\/?$/.test(path)) return CSV_BODY_LIMIT;
  if (LOGO_PATH.test(path)) return LOGO_BODY_LIMIT;
  if (RATES_PATH.test(path)) return RATES_PUT_BODY_LIMIT;
  if (/^\/api\/v1\/usage\/?$/.test(path)) return USAGE_BODY_LIMIT;
  return JSON_BODY_LIMIT;
}

export function payloadTooLarge(limit: number): ApiError {
  return new ApiError(413, 'payload_too_large', `The body is larger than ${limit} bytes.`, {
    limit,
  });
}

/** The body as text, at most `limit` bytes (413 beyond). */
export async function readTextLimited(req: Request, limit: number): Promise<string> {
  const kept = BODY_TEXT.get(req);
  if (kept !== undefined) {
    if (Buffer.byteLength(kept) > limit) throw payloadTooLarge(limit);
    return kept;
  }
  if (!req.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of countedBody(req.body as unknown as AsyncIterable<Uint8Array>, limit)) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  const bytes = Buffer.concat(chunks, size);
  // Decoded leniently, bytes that are not UTF-8 would each become U+FFFD: two different
  // idempotency keys or call ids would read alike, and a name be stored mangled.
  if (!isUtf8(bytes)) throw invalidInput({ body: 'is not UTF-8 text' });
  const text = bytes.toString('utf8');
  // Kept, so a second read (the pipeline's check that no body came, then the handler's
  // own) finds it rather than a stream already drained.
  BODY_TEXT.set(req, text);
  return text;
}

/** The body as bytes, at most `limit` (413 beyond): a binary upload (a logo). */
export async function readBytesLimited(req: Request, limit: number): Promise<Buffer> {
  // Never one the router kept as text: its limit is not the JSON one (server/api-router.ts).
  if (!req.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of countedBody(req.body as unknown as AsyncIterable<Uint8Array>, limit)) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  return Buffer.concat(chunks, size);
}

/** Passes the chunks through and throws 413 once more than `limit` bytes went by. */
export async function* countedBody(
  body: AsyncIterable<Uint8Array>,
  limit: number,
): AsyncIterable<Uint8Array> {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) throw payloadTooLarge(limit);
    yield chunk;
  }
}

/** Bodies the API router read whole before the handler ran (server/api-router.ts). */
const BODY_TEXT = new WeakMap<Request, string>();

/** Keeps a body read whole beside its Request, which then carries none of its own. */
export function keepBodyText(req: Request, text: string): void {
  BODY_TEXT.set(req, text);
}
