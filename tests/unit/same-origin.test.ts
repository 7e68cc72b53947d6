import { describe, expect, it } from 'vitest';
import { assertSameOriginWrite } from '@/lib/server/api/same-origin';
import { ApiError } from '@/lib/server/api/errors';

const PANEL = 'https://panel.example';

/** What the check answers: 'ok', or the error's status and code. */
function judge(
  method: string,
  headers: Record<string, string>,
  path = '/api/v1/customers',
  publicUrl = PANEL,
): string {
  try {
    assertSameOriginWrite(new Request(`${PANEL}${path}`, { method, headers }), publicUrl);
    return 'ok';
  } catch (error) {
    if (error instanceof ApiError) return `${error.status} ${error.code}`;
    throw error;
  }
}

const JSON_BODY = { 'content-type': 'application/json', 'content-length': '2' };

describe('cookie writes: same origin and JSON bodies', () => {
  it('lets reads through whatever their origin', () => {
    expect(judge('GET', { origin: 'https://evil.example' })).toBe('ok');
    expect(judge('HEAD', {})).toBe('ok');
  });

  it("accepts a write from the panel's own origin, by Origin or else by Referer", () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'])
      expect(judge(method, { origin: PANEL, ...JSON_BODY })).toBe('ok');
    expect(judge('POST', { referer: `${PANEL}/customers?x=1`, ...JSON_BODY })).toBe('ok');
    // A trailing slash or default port in PUBLIC_URL names the same origin.
    expect(judge('POST', { origin: PANEL, ...JSON_BODY }, undefined, `${PANEL}:443/`)).toBe('ok');
  });

  it('refuses a write from a sibling subdomain, another port or scheme, or no origin at all', () => {
    for (const origin of [
      'https://reseller.panel.example',
      'https://evil.example',
      'http://panel.example',
      'https://panel.example:8443',
      'null',
    ])
      expect(judge('POST', { origin, ...JSON_BODY }), origin).toBe('403 cross_origin');
    expect(judge('DELETE', {})).toBe('403 cross_origin');
    expect(judge('POST', { referer: 'https://evil.example/panel.example' })).toBe(
      '403 cross_origin',
    );
    expect(judge('POST', { referer: 'not a url' })).toBe('403 cross_origin');
    // Origin wins over a Referer that names the panel.
    expect(judge('POST', { origin: 'https://evil.example', referer: `${PANEL}/` })).toBe(
      '403 cross_origin',
    );
  });

  it('refuses a form or text body on a JSON endpoint, and JSON on the CSV import', () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ])
      expect(judge('POST', { origin: PANEL, 'content-type': type }), type).toBe(
        '415 unsupported_media_type',
      );
    expect(judge('PATCH', { origin: PANEL, 'content-length': '2' })).toBe(
      '415 unsupported_media_type',
    );
    expect(
      judge('POST', { origin: PANEL, 'content-type': 'application/json; charset=utf-8' }),
    ).toBe('ok');
    // No body, no type: a DELETE or a bodiless POST.
    expect(judge('POST', { origin: PANEL, 'content-length': '0' })).toBe('ok');
    const importPath = '/api/v1/cards/1/rates/import';
    expect(judge('POST', { origin: PANEL, 'content-type': 'text/csv' }, importPath)).toBe('ok');
    expect(judge('POST', { origin: PANEL, ...JSON_BODY }, importPath)).toBe(
      '415 unsupported_media_type',
    );
  });

  it('takes a brand logo as the image itself, of a logo type only', () => {
    const logoPath = '/api/v1/accounts/1/brand/logo';
    const image = (type: string) => ({
      origin: PANEL,
      'content-type': type,
      'content-length': '9',
    });
    for (const type of ['image/png', 'image/webp', 'image/svg+xml'])
      expect(judge('PUT', image(type), logoPath), type).toBe('ok');
    for (const type of ['image/gif', 'text/plain', 'application/json', 'multipart/form-data'])
      expect(judge('PUT', image(type), logoPath), type).toBe('415 unsupported_media_type');
    expect(judge('DELETE', { origin: PANEL }, logoPath)).toBe('ok');
    // Elsewhere an image is no body the panel takes.
    expect(judge('PUT', image('image/png'), '/api/v1/accounts/1/brand')).toBe(
      '415 unsupported_media_type',
    );
  });
});
