import { afterEach, describe, expect, it } from 'vitest';
import { noteServerDate, serverNow } from '@/lib/client/server-clock';

/** The browser's reading of the server's clock from API answers' `Date` headers. */
describe('the server clock', () => {
  afterEach(() => noteServerDate(new Date().toUTCString(), Date.now(), Date.now()));

  it('follows a server whose clock is an hour ahead of the browser’s', () => {
    const sent = Date.now();
    noteServerDate(new Date(sent + 3_600_000).toUTCString(), sent, sent + 40);
    // The header is to the second: within a second and a half of the truth.
    expect(Math.abs(serverNow() - (Date.now() + 3_600_000))).toBeLessThan(1_500);
  });

  it('leaves the browser’s clock alone within a few seconds, and ignores no header', () => {
    const sent = Date.now();
    noteServerDate(new Date(sent - 3_600_000).toUTCString(), sent, sent);
    noteServerDate(new Date(sent + 2_000).toUTCString(), sent, sent + 10);
    expect(Math.abs(serverNow() - Date.now())).toBeLessThan(50);
    noteServerDate(new Date(sent - 600_000).toUTCString(), sent, sent);
    noteServerDate(null, sent, sent);
    noteServerDate('not a date', sent, sent);
    expect(Math.abs(serverNow() - (Date.now() - 600_000))).toBeLessThan(1_500);
  });
});
