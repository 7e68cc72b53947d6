import { z } from 'zod';
import { ZMoney } from './common';

const seconds = (min: number, max: number, fallback: number) =>
  z.coerce
    .number(`must be a whole number of seconds`)
    .int('must be a whole number of seconds')
    .min(min, `must be ${min} to ${max}`)
    .max(max, `must be ${min} to ${max}`)
    .default(fallback);

/**
 * One rate row as the API and CSV import take it (DESIGN §3 "rates"): money as decimal
 * strings, increments in seconds (60/60 unless given), grace 0, not blocked.
 */
export const ZRateInput = z.strictObject({
  prefix: z
    .string('is required')
    .trim()
    .regex(/^\d{1,20}$/, 'must be 1 to 20 digits'),
  destination: z.string('is required').trim().min(1, 'is required').max(120, 'is too long'),
  rate: ZMoney,
  connectionFee: ZMoney.default('0'),
  initialIncrement: seconds(1, 3600, 60),
  increment: seconds(1, 3600, 60),
  graceSeconds: seconds(0, 600, 0),
  effectiveFrom: z.iso.datetime({ offset: true, error: 'must be an ISO date-time' }).optional(),
  blocked: z.boolean('must be true or false').default(false),
});
export type TRateInput = z.output<typeof ZRateInput>;

/** The CSV columns, in the order export writes them; the first three are required. */
export const RATE_CSV_COLUMNS = [
  'prefix',
  'destination',
  'rate',
  'connectionFee',
  'initialIncrement',
  'increment',
  'graceSeconds',
  'effectiveFrom',
  'blocked',
] as const;
