import type { AuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { z } from 'zod';
import type { TRuntime } from '@/lib/server/runtime';
import { ZText } from '@/lib/shared/schemas/common';
import { authenticate, CLIENT_IP_HEADER } from './login';
import { SESSION_MAX_AGE_SECONDS, secureCookies, sessionCookieName } from './session';
import { openSession, signOutSession } from './sessions';
import { requestHostname } from '@/lib/server/http/request-host';
import { brandForHost } from '@/lib/server/services/brands/brands';
import { getLogger } from '@/lib/server/observability/logger';

const ZCredentials = z.object({
  // A NUL reaching the database is a driver error; here it is just a refused sign-in.
  email: ZText().trim().min(1).max(320),
  password: ZText().min(1).max(1024),
  otp: ZText().trim().max(64).optional(),
});

/** A refusal next-auth passes to the form as `error` (throttled, a code asked for). */
class SignInRefusal extends Error {}

/**
 * next-auth: email + password, JWT sessions holding only the user id and the session
 * version (`sv`). Everything else is read from the database on each request.
 */
export function buildAuthOptions(runtime: TRuntime): AuthOptions {
  /** The sign-in's check: the user, or null (wrong), or a SignInRefusal the form explains. */
  async function checkSignIn(
    credentials: Record<string, string> | undefined,
    req: { headers?: unknown } | undefined,
  ) {
    const parsed = ZCredentials.safeParse(credentials);
    if (!parsed.success) return null;
    const headers = (req?.headers ?? {}) as Record<string, string | undefined>;
    const hostname = requestHostname(headers.host);
    // Without a Host there is no site to bind the session to.
    if (!hostname) return null;
    // On a brand's hostname only that brand's subtree signs in (issue 19).
    const portal = await brandForHost(runtime.orm.em.fork(), hostname);
    const result = await authenticate(
      runtime.orm.em.fork(),
      {
        ...parsed.data,
        ip: headers[CLIENT_IP_HEADER] ?? 'unknown',
        portalPath: portal?.accountPath ?? null,
      },
      runtime.config.loginThrottle,
    );
    if (result.ok) {
      // A session row on the server, bound to this host: signing out or a password
      // change ends it, and its cookie opens nothing on another host.
      const sid = await openSession(runtime.orm.em.fork(), {
        userId: result.claims.sub,
        sessionVersion: result.claims.sv,
        verifiedHash: result.passwordHash,
        host: hostname,
        mfaChecked: result.mfaChecked,
        ip: headers[CLIENT_IP_HEADER] ?? 'unknown',
      });
      // The password changed, or MFA was turned on, while this sign-in was checked.
      if (!sid) return null;
      return { id: result.claims.sub, sv: result.claims.sv, sid };
    }
    // next-auth passes the message to the form as `error`; the form explains it.
    if (result.reason === 'throttled')
      throw new SignInRefusal(`throttled:${result.retryAfterSeconds}`);
    // Said only after the password was right: the form asks for the code.
    if (result.reason === 'otp_required' || result.reason === 'otp_invalid')
      throw new SignInRefusal(result.reason);
    return null;
  }

  return {
    secret: runtime.config.authSecret,
    session: { strategy: 'jwt', maxAge: SESSION_MAX_AGE_SECONDS },
    // The cookie names from the public URL, as the panel reads them (sessionCookieName):
    // under https the session's is `__Host-` (next-auth's own default is `__Secure-`,
    // which a sibling subdomain may plant), with the attributes that prefix requires.
    useSecureCookies: secureCookies(runtime.config.publicUrl),
    ...(secureCookies(runtime.config.publicUrl)
      ? {
          cookies: {
            sessionToken: {
              name: sessionCookieName(runtime.config.publicUrl),
              options: { httpOnly: true, sameSite: 'lax' as const, path: '/', secure: true },
            },
          },
        }
      : {}),
    pages: { signIn: '/login', error: '/login' },
    // Into the panel's JSON log, one line each: next-auth's own printed multi-line stacks
    // on stderr. A cookie that is not a session (anyone can send one) is not an error.
    logger: {
      error(code, metadata) {
        const err = metadata instanceof Error ? metadata : (metadata as { error?: unknown }).error;
        if (code === 'JWT_SESSION_ERROR' || code === 'SIGNOUT_ERROR') {
          getLogger().debug({ code, name: (err as Error | undefined)?.name }, 'next-auth');
          return;
        }
        getLogger().error({ code, err }, 'next-auth');
      },
      warn(code) {
        getLogger().warn({ code }, 'next-auth');
      },
      debug() {},
    },
    providers: [
      CredentialsProvider({
        name: 'Email and password',
        credentials: {
          email: { label: 'Email', type: 'email' },
          password: { label: 'Password', type: 'password' },
          otp: { label: 'Authentication code', type: 'text' },
        },
        async authorize(credentials, req) {
          try {
            return await checkSignIn(credentials, req);
          } catch (error) {
            if (error instanceof SignInRefusal) throw new Error(error.message, { cause: error });
            // next-auth puts an error's message in the redirect URL the browser follows: a
            // database's is its statement with the email and the address (knex's). The
            // form says sign-in is unavailable; the operator's log has the cause.
            getLogger().error({ err: error }, 'sign-in: the check failed');
            throw new Error('unavailable', { cause: error });
          }
        },
      }),
    ],
    events: {
      // Sign-out ends the session on the server too: a copied cookie stops working.
      async signOut({ token }) {
        // next-auth clears the cookie whatever happens here: a session row left open is a
        // copied cookie still working, so say so loudly.
        await signOutSession(runtime.orm.em.fork(), token).catch((error: unknown) => {
          getLogger().error({ err: error, sid: token?.sid }, 'sign-out: session not ended');
        });
      },
    },
    callbacks: {
      jwt({ token, user }) {
        // On sign-in `user` is what authorize returned; afterwards keep the same claims.
        const source = (user ?? token) as {
          id?: string;
          sub?: string;
          sv?: unknown;
          sid?: unknown;
        };
        return { sub: source.id ?? source.sub, sv: source.sv, sid: source.sid } as typeof token;
      },
      session({ session, token }) {
        return { expires: session.expires, user: { id: token.sub } } as typeof session;
      },
    },
  };
}
