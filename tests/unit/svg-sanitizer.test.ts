import { describe, expect, it } from 'vitest';
import { XMLValidator } from 'fast-xml-parser';
import {
  sanitizeSvg,
  SvgRejected,
  SVG_NAMESPACE,
} from '@/lib/server/services/brands/svg-sanitizer';

/**
 * The brand logo's SVG sanitiser (issue 19): what runs, loads or navigates is gone, the
 * drawing stays. Each hostile construct is tested on its own and all together.
 */
const HOSTILE = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     viewBox="0 0 100 40" width="100" height="40" onload="alert(1)">
  <script type="text/javascript">alert('owned')</script>
  <defs>
    <linearGradient id="g" x1="0" x2="1">
      <stop offset="0" stop-color="#1d4ed8"/>
      <stop offset="1" stop-color="#0369a1"/>
    </linearGradient>
  </defs>
  <rect x="0" y="0" width="100" height="40" rx="6" fill="url(#g)" onclick="steal()"/>
  <a href="javascript:alert(2)"><circle cx="20" cy="20" r="8" fill="#fff"/></a>
  <a xlink:href="javascript:alert(3)"><path d="M0 0 L10 10" stroke="#fff"/></a>
  <foreignObject width="100" height="40"><body xmlns="http://www.w3.org/1999/xhtml"><iframe src="https://evil.example/"></iframe></body></foreignObject>
  <iframe src="https://evil.example/"/>
  <image href="https://evil.example/track.png" width="10" height="10"/>
  <image xlink:href="http://evil.example/x.svg" width="10" height="10"/>
  <use href="https://evil.example/sprite.svg#logo"/>
  <text x="50" y="25" font-family="sans-serif" text-anchor="middle" fill="#fff">Nimbus &amp; Co</text>
</svg>`;

describe('sanitizeSvg', () => {
  const clean = sanitizeSvg(HOSTILE);

  it('removes scripts, event handlers, javascript: links, foreign content and external references', () => {
    expect(clean).not.toMatch(/<script/i);
    expect(clean).not.toMatch(/alert|steal|owned/);
    expect(clean).not.toMatch(/\son\w+=/i);
    expect(clean).not.toMatch(/javascript:/i);
    expect(clean).not.toMatch(/foreignObject|iframe|<body/i);
    expect(clean).not.toMatch(/evil\.example/);
    expect(clean).not.toMatch(/<image|<use|<a[\s>]/);
  });

  it('keeps the drawing: viewBox, shapes, gradients, a link’s content and text', () => {
    expect(XMLValidator.validate(clean)).toBe(true);
    expect(clean.startsWith(`<svg xmlns="${SVG_NAMESPACE}"`)).toBe(true);
    expect(clean).toContain('viewBox="0 0 100 40"');
    expect(clean).toContain('<rect x="0" y="0" width="100" height="40" rx="6" fill="url(#g)"/>');
    expect(clean).toContain('<linearGradient id="g" x1="0" x2="1">');
    expect(clean).toContain('<stop offset="1" stop-color="#0369a1"/>');
    expect(clean).toContain('<circle cx="20" cy="20" r="8" fill="#fff"/>');
    expect(clean).toContain('<path d="M0 0 L10 10" stroke="#fff"/>');
    expect(clean).toContain('>Nimbus &amp; Co</text>');
  });

  it('keeps references inside the document and embedded rasters, nothing else', () => {
    const out = sanitizeSvg(
      `<svg xmlns="${SVG_NAMESPACE}" xmlns:xlink="http://www.w3.org/1999/xlink">
        <symbol id="s"><rect width="1" height="1"/></symbol>
        <use href="#s"/><use xlink:href="#s"/>
        <image href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/>
        <image href="data:image/svg+xml;base64,PHN2Zz4=" width="1" height="1"/>
        <image href="data:text/html,&lt;script&gt;" width="1" height="1"/>
        <rect fill="url(https://evil.example/p)" width="1" height="1"/>
        <rect style="fill: url('#s'); stroke: red" width="2" height="2"/>
        <rect style="background: url(//evil.example/x)" width="3" height="3"/>
      </svg>`,
    );
    expect(out).toContain('<use href="#s"/>');
    expect(out).toContain('<use xlink:href="#s"/>');
    expect(out).toContain('xmlns:xlink="http://www.w3.org/1999/xlink"');
    expect(out).toContain('<image href="data:image/png;base64,iVBORw0KGgo="');
    expect(out.match(/<image/g)).toHaveLength(1);
    expect(out).toContain('<rect width="1" height="1"/>');
    expect(out).toContain(`<rect style="fill: url('#s'); stroke: red" width="2" height="2"/>`);
    expect(out).toContain('<rect width="3" height="3"/>');
    expect(out).not.toMatch(/evil|text\/html|svg\+xml/);
  });

  it('keeps a style sheet only when it reaches nothing outside', () => {
    const local = sanitizeSvg(
      `<svg xmlns="${SVG_NAMESPACE}"><style><![CDATA[.a { fill: #123456 } .b > .c { opacity: .5 }]]></style></svg>`,
    );
    expect(local).toContain('<style>.a { fill: #123456 } .b &gt; .c { opacity: .5 }</style>');
    for (const css of [
      '@import "https://evil.example/x.css";',
      '.a { background: url(https://evil.example/t.png) }',
      '.a { background: u\\72l(https://evil.example/t.png) }',
      '.a { width: expression(alert(1)) }',
      '.a { background-image: -webkit-image-set("https://evil.example/t.png" 1x) }',
      '@font-face { font-family: x; src: local(x) }',
    ]) {
      const out = sanitizeSvg(`<svg xmlns="${SVG_NAMESPACE}"><style>${css}</style></svg>`);
      expect(out, css).toBe(`<svg xmlns="${SVG_NAMESPACE}"></svg>`);
    }
  });

  it('decodes entities before judging, so an encoded javascript: URL goes too', () => {
    const out = sanitizeSvg(
      `<svg xmlns="${SVG_NAMESPACE}"><use href="&#x6a;avascript:alert(1)"/><rect width="1" height="1"/></svg>`,
    );
    expect(out).toBe(`<svg xmlns="${SVG_NAMESPACE}"><rect width="1" height="1"/></svg>`);
  });

  it('refuses what is not an SVG: malformed XML, another root, a DOCTYPE or entities', () => {
    for (const [text, why] of [
      ['<svg><rect></svg>', /well-formed/],
      ['not xml at all', /well-formed|root/],
      ['<html><svg/></html>', /<svg> root/],
      ['<svg/><svg/>', /well-formed|root/],
      [
        '<!DOCTYPE svg [<!ENTITY a "aaaaaaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
        /DOCTYPE/,
      ],
    ] as const) {
      expect(() => sanitizeSvg(text), text).toThrow(SvgRejected);
      expect(() => sanitizeSvg(text), text).toThrow(why);
    }
  });

  it('refuses nesting deeper than the parser allows instead of recursing without end', () => {
    const deep = `<svg xmlns="${SVG_NAMESPACE}">${'<g>'.repeat(5000)}${'</g>'.repeat(5000)}</svg>`;
    expect(() => sanitizeSvg(deep)).toThrow(SvgRejected);
  });
});
