/**
 * WCAG 2 contrast (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio) between two
 * `#rrggbb` colours: (L1 + 0.05) / (L2 + 0.05), the lighter's relative luminance over the
 * darker's, from 1 (the same) to 21 (black on white). Compared unrounded against a
 * minimum (#777777 on white, 4.478, fails 4.5 though it is shown as 4.48). A brand's colours are checked with
 * it (lib/server/services/brands): the primary carries white text, the accent sits on
 * white.
 */
export function contrastRatio(first: string, second: string): number {
  const a = relativeLuminance(first);
  const b = relativeLuminance(second);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/** WCAG AA minimums: body text (white on a button), and large text or UI parts. */
export const AA_TEXT = 4.5;
export const AA_LARGE = 3;

const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;

function relativeLuminance(colour: string): number {
  if (!HEX_COLOUR.test(colour)) throw new Error(`not a #rrggbb colour: ${colour}`);
  const [r, g, b] = [1, 3, 5].map((at) => {
    const channel = parseInt(colour.slice(at, at + 2), 16) / 255;
    return channel <= 0.04045 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
