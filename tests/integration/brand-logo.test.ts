import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { directQuery } from '@/lib/server/db/direct-query';
import { DEFAULT_RESELLER_GRANTS } from '@/lib/shared/permissions';
import { LOGO_MAX_BYTES } from '@/lib/shared/schemas/brands';
import { usePanelSuite } from '../fixtures/panel-suite';
import { apiClient, type TApiClient } from '../fixtures/api-client';

/**
 * A brand's logo (issue 19) over the real API and PostgreSQL: upload, replace and
 * removal with who may (as for the brand), the type and size checks, the SVG made inert
 * before it is stored, the public immutable URL by content hash with its headers, the
 * brand's `logoUrl` (own and inherited), and the audit.
 */
const ADMIN = { email: 'admin@logo.test', password: 'logo-admin-pass' };
const PASSWORD = 'logo-user-pass-1';
const suite = usePanelSuite({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });

/** A real 1×1 PNG and a real 1×1 lossless WebP. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const WEBP = Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64');
const HOSTILE_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)">
  <script>alert(2)</script>
  <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>
  <a href="javascript:alert(3)"><rect width="10" height="10" fill="#1d4ed8"/></a>
  <image href="https://tracker.example/pixel.png" width="1" height="1"/>
</svg>`;

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let admin: TApiClient;
let r1: TApiClient;
let r2: TApiClient;
let noBrand: TApiClient;
const ids = {} as Record<'C' | 'R1' | 'K' | 'R2', string>;

const brand = (displayName: string) => ({
  displayName,
  primaryColor: '#1d4ed8',
  accentColor: '#0369a1',
  hostnames: [],
});

const logoPath = (id: string) => `/accounts/${id}/brand/logo`;

/** The logo at a brand's `logoUrl`, fetched without any credential. */
async function fetchLogo(url: string) {
  const response = await fetch(`${suite.server.url}${url}`);
  return { response, bytes: Buffer.from(await response.arrayBuffer()) };
}

beforeAll(async () => {
  admin = await apiClient(suite.server.url, ADMIN.email, ADMIN.password);
  ids.C = (await admin.get('/me')).body.account.id;
  const group = (await admin.post('/groups', { template: 'default-reseller' })).body;
  const without = await admin.post('/groups', {
    name: 'Resellers without brands',
    grants: DEFAULT_RESELLER_GRANTS.filter((grant) => !grant.startsWith('brand:')),
  });
  expect(without.status).toBe(201);
  ids.R1 = (await admin.post('/resellers', { name: 'R1', email: 'r1@l.test' })).body.id;
  ids.R2 = (await admin.post('/resellers', { name: 'R2', email: 'r2@l.test' })).body.id;
  ids.K = (await admin.post('/customers', { name: 'K', parentId: ids.R1 })).body.id;
  for (const [email, accountId, groupId] of [
    ['ops@r1.l.test', ids.R1, group.id],
    ['ops@r2.l.test', ids.R2, group.id],
    ['plain@r1.l.test', ids.R1, without.body.id],
  ] as const) {
    const made = await admin.post('/users', { email, password: PASSWORD, accountId, groupId });
    expect(made.status).toBe(201);
  }
  r1 = await apiClient(suite.server.url, 'ops@r1.l.test', PASSWORD);
  r2 = await apiClient(suite.server.url, 'ops@r2.l.test', PASSWORD);
  noBrand = await apiClient(suite.server.url, 'plain@r1.l.test', PASSWORD);
});

describe('uploading a logo', () => {
  it('needs a brand of the account’s own first: 409 no_brand', async () => {
    const refused = await r1.raw('PUT', logoPath(ids.R1), PNG, 'image/png');
    expect(refused.status).toBe(409);
    expect(JSON.parse(refused.text).error).toMatchObject({ code: 'no_brand' });
    expect(JSON.parse(refused.text).error.message).toMatch(/no brand.*set its brand/);
    expect((await r1.put(`/accounts/${ids.R1}/brand`, brand('Nimbus'))).status).toBe(201);
  });

  it('stores a PNG, serves it by its hash, and names it in the brand (own and inherited)', async () => {
    const put = await r1.raw('PUT', logoPath(ids.R1), PNG, 'image/png');
    expect(put.status).toBe(200);
    const dto = JSON.parse(put.text);
    expect(dto).toMatchObject({ accountId: ids.R1, logoUrl: `/api/v1/logos/${sha(PNG)}` });
    expect(dto.version).toBe(2);

    const view = (await r1.get(`/accounts/${ids.R1}/brand`)).body;
    expect(view.brand.logoUrl).toBe(dto.logoUrl);
    expect(view.effective).toMatchObject({ source: 'own', logoUrl: dto.logoUrl });
    // Its customer has no brand: the reseller's applies, logo and all.
    expect((await r1.get(`/accounts/${ids.K}/brand`)).body.effective).toMatchObject({
      source: 'inherited',
      logoUrl: dto.logoUrl,
    });

    const { response, bytes } = await fetchLogo(dto.logoUrl);
    expect(response.status).toBe(200);
    expect(bytes.equals(PNG)).toBe(true);
    expect(response.headers.get('content-type')).toBe('image/png');
  });

  it('serves it public, immutable and inert', async () => {
    const { response } = await fetchLogo(`/api/v1/logos/${sha(PNG)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    );
    expect(response.headers.get('content-disposition')).toBe('inline');
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('answers 404 for an unknown hash and for what is not a hash', async () => {
    for (const url of [`/api/v1/logos/${'0'.repeat(64)}`, '/api/v1/logos/not-a-hash']) {
      const { response, bytes } = await fetchLogo(url);
      expect(response.status, url).toBe(404);
      expect(JSON.parse(bytes.toString()).error.code).toBe('not_found');
    }
  });

  it('replaces it: a new URL, the old one gone, the same one again writes nothing', async () => {
    const put = await r1.raw('PUT', logoPath(ids.R1), WEBP, 'image/webp');
    expect(put.status).toBe(200);
    const dto = JSON.parse(put.text);
    expect(dto).toMatchObject({ logoUrl: `/api/v1/logos/${sha(WEBP)}`, version: 3 });
    expect((await fetchLogo(`/api/v1/logos/${sha(PNG)}`)).response.status).toBe(404);
    const served = await fetchLogo(dto.logoUrl);
    expect(served.response.headers.get('content-type')).toBe('image/webp');
    expect(served.bytes.equals(WEBP)).toBe(true);

    const again = await r1.raw('PUT', logoPath(ids.R1), WEBP, 'image/webp; charset=binary');
    expect(JSON.parse(again.text).version).toBe(3);
  });

  it('moves the brand’s version: a PUT of the brand as read before is stale', async () => {
    const stale = await r1.put(`/accounts/${ids.R1}/brand`, { ...brand('Nimbus 2'), version: 1 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.current.logoUrl).toBe(`/api/v1/logos/${sha(WEBP)}`);
  });
});

describe('what is refused', () => {
  it('400 naming body when the bytes are not of the type sent', async () => {
    for (const [bytes, type] of [
      [PNG, 'image/webp'],
      [WEBP, 'image/png'],
      [Buffer.from(HOSTILE_SVG), 'image/png'],
      [PNG, 'image/svg+xml'],
      [Buffer.from('<html><body/></html>'), 'image/svg+xml'],
      [Buffer.from('<svg><rect></svg>'), 'image/svg+xml'],
      [Buffer.alloc(0), 'image/png'],
      // Within the limit as sent, over it once `>` is escaped.
      [
        Buffer.from(
          `<svg xmlns="http://www.w3.org/2000/svg"><text>${'>'.repeat(100_000)}</text></svg>`,
        ),
        'image/svg+xml',
      ],
    ] as const) {
      const refused = await r1.raw('PUT', logoPath(ids.R1), bytes, type);
      expect(refused.status, type).toBe(400);
      expect(Object.keys(JSON.parse(refused.text).error.fields), type).toEqual(['body']);
    }
    // Nothing changed.
    const view = (await r1.get(`/accounts/${ids.R1}/brand`)).body;
    expect(view.brand).toMatchObject({ logoUrl: `/api/v1/logos/${sha(WEBP)}`, version: 3 });
  });

  it('415 for another type, naming the Content-Type', async () => {
    for (const type of ['image/gif', 'application/json', 'text/plain']) {
      const refused = await r1.raw('PUT', logoPath(ids.R1), PNG, type);
      expect(refused.status, type).toBe(415);
      expect(JSON.parse(refused.text).error.fields).toHaveProperty('content-type');
    }
  });

  it('413 naming the limit beyond 256 KiB, declared or streamed', async () => {
    const big = Buffer.concat([PNG, Buffer.alloc(LOGO_MAX_BYTES + 1 - PNG.length)]);
    const declared = await r1.raw('PUT', logoPath(ids.R1), big, 'image/png');
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.text).error).toMatchObject({
      code: 'payload_too_large',
      limit: LOGO_MAX_BYTES,
    });
    const streamed = await fetch(`${suite.server.url}/api/v1${logoPath(ids.R1)}`, {
      method: 'PUT',
      headers: { cookie: r1.cookie, origin: suite.server.url, 'content-type': 'image/png' },
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error.message).toContain(String(LOGO_MAX_BYTES));
    // Exactly the limit is accepted.
    const limit = Buffer.concat([PNG, Buffer.alloc(LOGO_MAX_BYTES - PNG.length)]);
    const ok = await r1.raw('PUT', logoPath(ids.K), limit, 'image/png');
    expect(ok.status).toBe(409); // K has no brand: the size passed, the brand is missing.
  });
});

describe('who may', () => {
  it('is 404 to a sibling reseller and to a child, upload or removal', async () => {
    for (const [client, id] of [
      [r2, ids.R1],
      [r2, ids.K],
      [r1, ids.R2],
      [r1, ids.C],
    ] as const) {
      expect((await client.raw('PUT', logoPath(id), PNG, 'image/png')).status).toBe(404);
      expect((await client.del(logoPath(id))).status).toBe(404);
    }
    expect((await r1.get(`/accounts/${ids.R1}/brand`)).body.brand.version).toBe(3);
  });

  it('is 403 without brand:update, before anything about the image', async () => {
    const refused = await noBrand.raw('PUT', logoPath(ids.R1), PNG, 'image/png');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).error.message).toContain('brand:update');
    expect((await noBrand.raw('PUT', logoPath(ids.R1), WEBP, 'image/png')).status).toBe(403);
    expect((await noBrand.del(logoPath(ids.R1))).status).toBe(403);
  });

  it('the parent side sets and removes its child’s', async () => {
    expect((await admin.put(`/accounts/${ids.R2}/brand`, brand('R2'))).status).toBe(201);
    const put = await admin.raw('PUT', logoPath(ids.R2), PNG, 'image/png');
    expect(put.status).toBe(200);
    expect((await r2.get(`/accounts/${ids.R2}/brand`)).body.brand.logoUrl).toBe(
      `/api/v1/logos/${sha(PNG)}`,
    );
    expect((await admin.del(logoPath(ids.R2))).status).toBe(204);
    expect((await r2.get(`/accounts/${ids.R2}/brand`)).body.brand.logoUrl).toBeNull();
    expect((await admin.del(logoPath(ids.R2))).status).toBe(404);
    expect((await fetchLogo(`/api/v1/logos/${sha(PNG)}`)).response.status).toBe(404);
  });
});

describe('an SVG logo', () => {
  it('is stored and served sanitised: no script, handler, javascript:, foreignObject or external image', async () => {
    const put = await r2.raw('PUT', logoPath(ids.R2), HOSTILE_SVG, 'image/svg+xml');
    expect(put.status).toBe(200);
    const { logoUrl } = JSON.parse(put.text);
    const { response, bytes } = await fetchLogo(logoUrl);
    expect(response.headers.get('content-type')).toBe('image/svg+xml');
    const served = bytes.toString('utf8');
    // The URL is the hash of what is stored, which is not what was sent.
    expect(logoUrl).toBe(`/api/v1/logos/${sha(bytes)}`);
    expect(logoUrl).not.toContain(sha(Buffer.from(HOSTILE_SVG)));
    expect(served).not.toMatch(/<script|onload|javascript:|foreignObject|tracker\.example|alert/i);
    expect(served).toContain('<rect width="10" height="10" fill="#1d4ed8"/>');
    expect(served).toContain('viewBox="0 0 10 10"');
    const [row] = await directQuery<{ bytes: Buffer; byte_size: number }>(
      suite.orm.em.fork(),
      `select bytes, byte_size from brand_logo where account_id = ?`,
      [ids.R2],
    );
    expect(row!.bytes.toString('utf8')).toBe(served);
    expect(row!.byte_size).toBe(bytes.length);
  });
});

describe('storage and audit', () => {
  it('logs each change as the brand’s, for its side and above, never a sibling', async () => {
    const own = (await r1.get(`/audit?resource=brands&entityId=${ids.R1}`)).body.items as {
      op: string;
      before: { logoUrl: string | null } | null;
      after: { logoUrl: string | null } | null;
    }[];
    const logoChanges = own.filter(
      (entry) => entry.op === 'updated' && entry.before?.logoUrl !== entry.after?.logoUrl,
    );
    expect(logoChanges.map((entry) => entry.after?.logoUrl)).toEqual(
      expect.arrayContaining([`/api/v1/logos/${sha(PNG)}`, `/api/v1/logos/${sha(WEBP)}`]),
    );
    expect((await admin.get(`/audit?resource=brands&entityId=${ids.R1}`)).body.items).toHaveLength(
      own.length,
    );
    expect((await r2.get(`/audit?resource=brands&entityId=${ids.R1}`)).body.items).toEqual([]);
    const removal = (await admin.get(`/audit?resource=brands&entityId=${ids.R2}`)).body.items.find(
      (entry: (typeof own)[number]) => entry.before?.logoUrl && entry.after?.logoUrl === null,
    );
    expect(removal).toBeDefined();
  });

  it('cannot change outside mutate() (the change-log guard)', async () => {
    await expect(
      directQuery(suite.orm.em.fork(), `delete from brand_logo where account_id = ?`, [ids.R2]),
    ).rejects.toThrow(/change-log row/);
  });

  it('goes with its brand', async () => {
    const { logoUrl } = (await r2.get(`/accounts/${ids.R2}/brand`)).body.brand;
    expect((await fetchLogo(logoUrl)).response.status).toBe(200);
    expect((await r2.del(`/accounts/${ids.R2}/brand`)).status).toBe(204);
    expect((await fetchLogo(logoUrl)).response.status).toBe(404);
    // Without a brand, removing a logo is refused as uploading one is.
    const none = await r2.del(logoPath(ids.R2));
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe('no_brand');
  });
});
