import { z } from 'zod';
import { ZText } from './common';

/** A current TOTP code, or one unused recovery code in its place. */
const ZOtp = ZText('is required')
  .trim()
  .min(1, 'is required')
  .max(64, 'is not a code: six digits, or a recovery code');

/** A current password, as a proof of who is at the keyboard. */
const ZCurrentPassword = ZText('is required').min(1, 'is required').max(1024);

/**
 * `POST /me/mfa`: enrolment starts only with the current password — a stolen session or
 * API token must not put its own authenticator on the account and lock the owner out.
 */
export const ZMfaStart = z.strictObject({ password: ZCurrentPassword });
export type TMfaStart = z.infer<typeof ZMfaStart>;

/** `POST /me/mfa/confirm`: the first code from the app proves it holds the secret. */
export const ZMfaConfirm = z.strictObject({ otp: ZOtp });

/** `DELETE /me/mfa`: a current code (or recovery code) or the password turns MFA off. */
export const ZMfaDisable = z.strictObject({
  otp: ZOtp.optional(),
  password: ZCurrentPassword.optional(),
});
export type TMfaDisable = z.infer<typeof ZMfaDisable>;

/** `POST /me/mfa`: what to put in the authenticator app. Shown once; never logged. */
export const ZMfaEnrolment = z.object({
  otpauthUri: z.string(),
  /** The same secret, base32, for typing in by hand. */
  secret: z.string(),
  /** The URI as a QR code: an SVG data URL for an `<img>`. */
  qrCode: z.string(),
});
export type TMfaEnrolment = z.infer<typeof ZMfaEnrolment>;

/** `POST /me/mfa/confirm`: the recovery codes, shown this once (only their hashes are kept). */
export const ZMfaRecoveryCodes = z.object({ recoveryCodes: z.array(z.string()) });
export type TMfaRecoveryCodes = z.infer<typeof ZMfaRecoveryCodes>;

/** `GET /me/mfa`. */
export const ZMfaStatus = z.object({
  enabled: z.boolean(),
  enabledAt: z.string().nullable(),
  /** Enrolment started and not yet confirmed. */
  pending: z.boolean(),
  /** The caller's group requires MFA: it cannot be turned off. */
  required: z.boolean(),
  recoveryCodesLeft: z.number().int(),
});
export type TMfaStatus = z.infer<typeof ZMfaStatus>;
