import { afterEach, describe, expect, it } from 'vitest';
import { dayWindow } from '@/lib/client/day-window';

const zone = process.env.TZ;
afterEach(() => {
  // Node reads TZ again whenever it is assigned.
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
});

describe('dayWindow', () => {
  it('turns picked days into the viewer’s midnights, the last day included', () => {
    process.env.TZ = 'Europe/Berlin';
    expect(dayWindow('2026-12-01', '2026-12-03')).toEqual({
      from: '2026-11-30T23:00:00.000Z',
      to: '2026-12-03T23:00:00.000Z',
    });
    // A day that is 23 hours long: the window ends at the next local midnight, not 24 h on.
    expect(dayWindow('2026-03-29', '2026-03-29')).toEqual({
      from: '2026-03-28T23:00:00.000Z',
      to: '2026-03-29T22:00:00.000Z',
    });
    process.env.TZ = 'America/New_York';
    expect(dayWindow('2026-12-31', '')).toEqual({
      from: '2026-12-31T05:00:00.000Z',
      to: undefined,
    });
  });

  it('leaves out a bound that is empty or not a day', () => {
    expect(dayWindow('', '')).toEqual({ from: undefined, to: undefined });
    expect(dayWindow('2026-13-40x', 'yesterday')).toEqual({ from: undefined, to: undefined });
  });
});
