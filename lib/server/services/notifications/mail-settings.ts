import type { TEnv } from '@/lib/server/env';

/** How the outbox reaches an SMTP server: a URL, or nodemailer's transport options. */
export interface TMailSettings {
  transport:
    | string
    | {
        host: string;
        port: number;
        secure: boolean;
        auth?: { user: string; pass: string };
      };
  from: string;
}

/**
 * Outgoing mail from the environment: `SMTP_URL` (`smtp://user:pass@host:587`,
 * `smtps://…` for TLS from the start), or `SMTP_HOST` with `SMTP_PORT` (587; 465 means
 * TLS from the start), `SMTP_USER` and `SMTP_PASSWORD`. Neither set: null — delivery is
 * off and the outbox keeps its mail pending until a server is configured.
 */
export function mailSettingsOf(
  env: Pick<
    TEnv,
    'SMTP_URL' | 'SMTP_HOST' | 'SMTP_PORT' | 'SMTP_USER' | 'SMTP_PASSWORD' | 'MAIL_FROM'
  >,
  publicUrl: string,
): TMailSettings | null {
  const from = env.MAIL_FROM ?? `Reseller Panel <no-reply@${hostOf(publicUrl)}>`;
  if (env.SMTP_URL) return { transport: env.SMTP_URL, from };
  if (!env.SMTP_HOST) return null;
  const port = env.SMTP_PORT ?? 587;
  return {
    transport: {
      host: env.SMTP_HOST,
      port,
      secure: port === 465,
      ...(env.SMTP_USER && env.SMTP_PASSWORD
        ? { auth: { user: env.SMTP_USER, pass: env.SMTP_PASSWORD } }
        : {}),
    },
    from,
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname || 'localhost';
  } catch {
    return 'localhost';
  }
}
