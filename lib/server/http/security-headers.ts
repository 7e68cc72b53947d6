import { randomFillSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface TSecurityHeaderOptions {
  /** The panel's public address (PUBLIC_URL): its scheme decides HSTS, its host the socket. */
  publicUrl: string;
  /** Development: React's dev build evaluates code and its overlay injects styles. */
  dev: boolean;
}

/** One year; `preload` is left to the operator, who must opt in with the browsers' list. */
const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * The Content-Security-Policy for one response. Scripts run only with this response's
 * nonce (Next puts it on its inline payload and its chunk tags); `'strict-dynamic'` lets
 * those scripts load the chunks the router needs later, and makes `'self'` a fallback
 * for old browsers only. Style elements need the nonce too; style attributes stay
 * allowed (React renders a few, e.g. the virtualized rates table's spacer heights, and
 * an attribute cannot run code). `connect-src` names the socket's ws(s) origin as well:
 * `'self'` covers it in current browsers, older ones read it as http(s) only.
 */
export function contentSecurityPolicy(nonce: string, options: TSecurityHeaderOptions): string {
  return policyParts(options).join(nonce);
}

/** Stands for the nonce while the policy is built once per configuration. */
const NONCE_SLOT = '\u0000nonce\u0000';

/**
 * The policy around its nonce, split where the nonce goes: built once per configuration
 * (the server has one), so a response only joins the parts with its nonce.
 */
const policyCache = new Map<string, string[]>();
function policyParts(options: TSecurityHeaderOptions): string[] {
  const key = `${options.dev ? 'dev' : 'prod'} ${options.publicUrl}`;
  let parts = policyCache.get(key);
  if (!parts) {
    parts = buildPolicy(NONCE_SLOT, options).split(NONCE_SLOT);
    policyCache.set(key, parts);
  }
  return parts;
}

function buildPolicy(nonce: string, options: TSecurityHeaderOptions): string {
  const url = new URL(options.publicUrl);
  const socketOrigin = `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}`;
  const styles = options.dev ? ["'self'", "'unsafe-inline'"] : ["'self'", `'nonce-${nonce}'`];
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    'script-src': [
      "'self'",
      `'nonce-${nonce}'`,
      "'strict-dynamic'",
      ...(options.dev ? ["'unsafe-eval'"] : []),
    ],
    // The dev overlay and hot reload inject <style> elements without a nonce; a nonce in
    // the list would make the browser ignore 'unsafe-inline'. `style-src` is for browsers
    // that know neither of the two finer directives.
    'style-src': styles,
    'style-src-elem': styles,
    'style-src-attr': ["'unsafe-inline'"],
    'img-src': ["'self'", 'data:', 'blob:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'", socketOrigin],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

/** Every response's security headers, with the policy for `nonce`. */
export function securityHeaders(
  nonce: string,
  options: TSecurityHeaderOptions,
): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Security-Policy': contentSecurityPolicy(nonce, options),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
  };
  // Over plain http the header means nothing to a browser and would only mislead.
  if (/^https:/i.test(options.publicUrl)) headers['Strict-Transport-Security'] = HSTS;
  return headers;
}

/**
 * Random bytes drawn 4 KiB at a time (as `crypto.randomUUID` does): one draw from the
 * system's generator per 256 nonces instead of one per response.
 */
const NONCE_BYTES = 16;
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** A fresh, unguessable nonce per response (128 bits, base64 as CSP allows). */
export function createNonce(): string {
  if (poolOffset + NONCE_BYTES > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const nonce = pool.toString('base64', poolOffset, poolOffset + NONCE_BYTES);
  poolOffset += NONCE_BYTES;
  return nonce;
}

/**
 * Sets the security headers on `res` and hands the same policy to Next on the request:
 * Next's App Router reads the nonce from the REQUEST's `content-security-policy` header
 * (where a proxy would put it) and stamps it on every script it renders. Overwriting the
 * request header also means no client can choose the nonce.
 */
export function applySecurityHeaders(
  req: IncomingMessage,
  res: ServerResponse,
  options: TSecurityHeaderOptions,
): void {
  const headers = securityHeaders(createNonce(), options);
  req.headers['content-security-policy'] = headers['Content-Security-Policy'];
  delete req.headers['content-security-policy-report-only'];
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}
