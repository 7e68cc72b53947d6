import { afterEach, describe, expect, it } from 'vitest';
import { noteServerDate, onServerClock, serverNow } from '@/lib/client/server-clock';

/** The browser's reading of the server's clock from API answers' `Date` headers. */
describe('the server clock', () => {
  const at = (offsetMs: number, sent = Date.now(), trip = 40) =>
    noteServerDate(new Date(sent + offsetMs).toUTCString(), sent, sent + trip);
  const reading = () => serverNow() - Date.now();
  afterEach(() => at(0));

  it('follows a server whose clock is an hour ahead of the browser’s', () => {
    at(3_600_000);
    // The header is to the second: within a second and a half of the truth.
    expect(Math.abs(reading() - 3_600_000)).toBeLessThan(1_500);
  });

  it('leaves the browser’s clock alone within a few seconds, and ignores no header', () => {
    at(-3_600_000);
    at(2_000);
    expect(Math.abs(reading())).toBeLessThan(50);
    at(-600_000);
    const sent = Date.now();
    noteServerDate(null, sent, sent);
    noteServerDate('not a date', sent, sent);
    expect(Math.abs(reading() + 600_000)).toBeLessThan(1_500);
  });

  it('ignores a slow answer, and holds steady through readings a second apart', () => {
    const told: number[] = [];
    const stop = onServerClock(() => told.push(reading()));
    // A 20 s answer from a server in step: stamped at its end, it would read 10 s ahead.
    const sent = Date.now() - 20_000;
    noteServerDate(new Date(sent + 20_000).toUTCString(), sent, sent + 20_000);
    expect(Math.abs(reading())).toBeLessThan(50);
    // A desk 6 s behind, read twice: the header is to the second, so the two readings
    // differ by up to a second, and what is shown does not move between them.
    at(6_000);
    const held = reading();
    at(6_000);
    // (Two readings of the desk's clock apart: a millisecond may pass between them.)
    expect(Math.abs(reading() - held)).toBeLessThan(5);
    expect(told).toHaveLength(1);
    expect(Math.abs(told[0]! - held)).toBeLessThan(5);
    // Three seconds further is another reading: followed, and told.
    at(9_000);
    expect(Math.abs(reading() - 9_000)).toBeLessThan(1_500);
    expect(told).toHaveLength(2);
    stop();
  });
});
