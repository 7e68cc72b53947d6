import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * A brand's SVG logo made inert (issue 19): parsed as XML and rebuilt from an allowlist
 * of SVG's drawing elements and presentation attributes, so nothing that runs, loads or
 * navigates survives — no script, event handler, foreign content, frame, external
 * reference (`href`, `url()`, `@import`) or `javascript:` / `data:` URL other than an
 * embedded PNG, JPEG or WebP. Whatever the allowlist does not name is dropped, not
 * escaped: a new attack needs a new entry here, never a missed one. The served file is
 * also sandboxed by its headers (the logo route); this is the first of the two walls.
 */

export const SVG_NAMESPACE = 'http://www.w3.org/2000/svg';
const XLINK_NAMESPACE = 'http://www.w3.org/1999/xlink';

/** Why an upload is not a usable SVG; the route answers 400 naming `body`. */
export class SvgRejected extends Error {}

/** Elements kept with their allowed attributes and children. */
const ELEMENTS = new Set([
  'svg',
  'g',
  'defs',
  'symbol',
  'use',
  'title',
  'desc',
  'path',
  'rect',
  'circle',
  'ellipse',
  'line',
  'polyline',
  'polygon',
  'text',
  'tspan',
  'textPath',
  'linearGradient',
  'radialGradient',
  'stop',
  'clipPath',
  'mask',
  'pattern',
  'marker',
  'image',
  'style',
  'filter',
  'feBlend',
  'feColorMatrix',
  'feComponentTransfer',
  'feComposite',
  'feDropShadow',
  'feFlood',
  'feFuncA',
  'feFuncB',
  'feFuncG',
  'feFuncR',
  'feGaussianBlur',
  'feMerge',
  'feMergeNode',
  'feMorphology',
  'feOffset',
]);

/** Elements dropped but whose children are kept: a link's drawing without the link. */
const UNWRAPPED = new Set(['a', 'switch']);

/** Presentation, geometry and structure attributes; `style`, `href` are checked apart. */
const ATTRIBUTES = new Set([
  'id',
  'class',
  'style',
  'href',
  'xlink:href',
  'viewBox',
  'preserveAspectRatio',
  'version',
  'width',
  'height',
  'x',
  'y',
  'x1',
  'y1',
  'x2',
  'y2',
  'cx',
  'cy',
  'r',
  'rx',
  'ry',
  'fx',
  'fy',
  'fr',
  'd',
  'points',
  'pathLength',
  'transform',
  'fill',
  'fill-opacity',
  'fill-rule',
  'stroke',
  'stroke-width',
  'stroke-linecap',
  'stroke-linejoin',
  'stroke-miterlimit',
  'stroke-dasharray',
  'stroke-dashoffset',
  'stroke-opacity',
  'opacity',
  'color',
  'display',
  'visibility',
  'overflow',
  'vector-effect',
  'shape-rendering',
  'paint-order',
  'clip-path',
  'clip-rule',
  'clipPathUnits',
  'mask',
  'maskUnits',
  'maskContentUnits',
  'filter',
  'filterUnits',
  'primitiveUnits',
  'gradientUnits',
  'gradientTransform',
  'spreadMethod',
  'offset',
  'stop-color',
  'stop-opacity',
  'patternUnits',
  'patternContentUnits',
  'patternTransform',
  'marker-start',
  'marker-mid',
  'marker-end',
  'markerWidth',
  'markerHeight',
  'markerUnits',
  'refX',
  'refY',
  'orient',
  'font-family',
  'font-size',
  'font-style',
  'font-weight',
  'font-variant',
  'letter-spacing',
  'word-spacing',
  'text-anchor',
  'text-decoration',
  'dominant-baseline',
  'alignment-baseline',
  'baseline-shift',
  'writing-mode',
  'textLength',
  'lengthAdjust',
  'startOffset',
  'method',
  'spacing',
  'side',
  'dx',
  'dy',
  'rotate',
  'xml:space',
  'xml:lang',
  'lang',
  'in',
  'in2',
  'result',
  'mode',
  'type',
  'values',
  'operator',
  'k1',
  'k2',
  'k3',
  'k4',
  'stdDeviation',
  'flood-color',
  'flood-opacity',
  'lighting-color',
  'radius',
  'tableValues',
  'slope',
  'intercept',
  'amplitude',
  'exponent',
  'edgeMode',
  'color-interpolation',
  'color-interpolation-filters',
]);

/** An embedded raster image: the only `data:` URL kept (on `<image>`). */
const EMBEDDED_RASTER = /^data:image\/(png|jpeg|webp);base64,[a-z0-9+/=\s]+$/i;
/** A reference inside the document (`#id`): the only other `href` kept. */
const LOCAL_FRAGMENT = /^#[\w.:-]+$/;
/** `url(#id)`, quoted or not: the only `url()` an attribute or style may hold. */
const LOCAL_URL = /url\(\s*(['"]?)#[\w.:-]+\1\s*\)/gi;
/**
 * What makes CSS reach out or run, looked for once the local `url()`s are taken out:
 * another `url()`, `image-set()` (which loads a bare string), an at-rule that fetches,
 * old script hooks, and any backslash escape (`u\72l(` spells `url(`).
 */
const ACTIVE_CSS =
  /url\s*\(|image-set\s*\(|@import|@font-face|@namespace|expression\s*\(|javascript:|behavior\s*:|-moz-binding|\\/i;

type TNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  allowBooleanAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  htmlEntities: false,
});

/**
 * The SVG in `text`, rebuilt inert, or `SvgRejected` when it is not one: not well-formed
 * XML, a DOCTYPE (entities are never expanded), or a root other than `<svg>`.
 */
export function sanitizeSvg(text: string): string {
  if (/<!DOCTYPE/i.test(text)) throw new SvgRejected('must not declare a DOCTYPE');
  if (/<!ENTITY/i.test(text)) throw new SvgRejected('must not declare entities');
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new SvgRejected(`is not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
  }
  let nodes: TNode[];
  try {
    nodes = parser.parse(text) as TNode[];
  } catch (error) {
    throw new SvgRejected(`cannot be read as XML (${(error as Error).message})`);
  }
  const elements = nodes.filter((node) => elementName(node) !== null);
  if (elements.length !== 1 || elementName(elements[0]!) !== 'svg') {
    throw new SvgRejected('has no single <svg> root element');
  }
  const root = elements[0]!;
  const body = rebuildChildren(childrenOf(root));
  const attributes = keptAttributes('svg', root[':@'] ?? {});
  const usesXlink = /\sxlink:href="/.test(body) || 'xlink:href' in attributes;
  const head = [
    `xmlns="${SVG_NAMESPACE}"`,
    ...(usesXlink ? [`xmlns:xlink="${XLINK_NAMESPACE}"`] : []),
    ...Object.entries(attributes).map(([name, value]) => `${name}="${escapeAttribute(value)}"`),
  ].join(' ');
  return `<svg ${head}>${body}</svg>`;
}

/** The element's name, or null for text, CDATA and comments. */
function elementName(node: TNode): string | null {
  const name = Object.keys(node).find((key) => key !== ':@');
  return name && !name.startsWith('#') ? name : null;
}

function childrenOf(node: TNode): TNode[] {
  const name = elementName(node);
  const children = name ? node[name] : [];
  return Array.isArray(children) ? (children as TNode[]) : [];
}

function rebuildChildren(nodes: TNode[]): string {
  return nodes.map(rebuild).join('');
}

function rebuild(node: TNode): string {
  if ('#text' in node) return escapeText(String(node['#text']));
  if ('#cdata' in node) return rebuildChildren(node['#cdata'] as TNode[]);
  const name = elementName(node);
  if (!name) return '';
  if (UNWRAPPED.has(name)) return rebuildChildren(childrenOf(node));
  if (!ELEMENTS.has(name)) return '';
  if (name === 'style') return rebuildStyle(node);
  const attributes = keptAttributes(name, node[':@'] ?? {});
  // A picture without a picture to show, or a reference to nothing kept: dropped whole.
  if ((name === 'image' || name === 'use') && !('href' in attributes || 'xlink:href' in attributes))
    return '';
  const open = [
    name,
    ...Object.entries(attributes).map(([key, value]) => `${key}="${escapeAttribute(value)}"`),
  ].join(' ');
  const inner = rebuildChildren(childrenOf(node));
  return inner ? `<${open}>${inner}</${name}>` : `<${open}/>`;
}

/** A `<style>` sheet is kept only when it reaches nothing outside the document. */
function rebuildStyle(node: TNode): string {
  const css = textOf(childrenOf(node));
  if (!safeCss(css)) return '';
  return `<style>${escapeText(css)}</style>`;
}

function textOf(nodes: TNode[]): string {
  return nodes
    .map((node) =>
      '#text' in node
        ? String(node['#text'])
        : '#cdata' in node
          ? textOf(node['#cdata'] as TNode[])
          : '',
    )
    .join('');
}

function safeCss(css: string): boolean {
  return !ACTIVE_CSS.test(css.replace(LOCAL_URL, ''));
}

/** The attributes the allowlist names, each value checked for what it may reach. */
function keptAttributes(
  element: string,
  attributes: Record<string, string>,
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, raw] of Object.entries(attributes)) {
    if (!ATTRIBUTES.has(name)) continue;
    const value = String(raw);
    if (name === 'href' || name === 'xlink:href') {
      const href = value.trim();
      const allowed = element === 'image' ? EMBEDDED_RASTER.test(href) : LOCAL_FRAGMENT.test(href);
      if (allowed) kept[name] = href;
      continue;
    }
    if (!safeCss(value)) continue;
    kept[name] = value;
  }
  return kept;
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttribute(value: string): string {
  return escapeText(value).replace(/"/g, '&quot;');
}
