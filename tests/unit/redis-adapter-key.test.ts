import { describe, expect, it } from 'vitest';
import { adapterKey } from '@/server/redis-adapter';

describe('adapterKey: one installation, one set of Redis channels', () => {
  const url = 'postgresql://panel:secret@db.internal:5432/panel_prod';

  it('is the same for every process of an installation, whatever credentials they use', () => {
    expect(adapterKey(url)).toBe(
      adapterKey('postgresql://other:rotated@db.internal:5432/panel_prod?sslmode=require'),
    );
    expect(adapterKey(url)).toMatch(/^panel-[0-9a-f]{16}$/);
  });

  it('differs by database, host and port: two installations never share channels', () => {
    const keys = [
      url,
      'postgresql://panel:secret@db.internal:5432/panel_staging',
      'postgresql://panel:secret@db2.internal:5432/panel_prod',
      'postgresql://panel:secret@db.internal:5433/panel_prod',
    ].map(adapterKey);
    expect(new Set(keys).size).toBe(4);
  });

  it('never carries the password into a channel name', () => {
    expect(adapterKey(url)).not.toContain('secret');
    expect(adapterKey('not a url: /var/lib/panel')).toMatch(/^panel-[0-9a-f]{16}$/);
  });
});
