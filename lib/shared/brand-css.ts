const HEX_COLOUR = /^#[0-9a-f]{6}$/i;

/**
 * A brand's two colours as the CSS variables app/globals.css derives the `brand-*`
 * palette from (`html[data-brand]`), light and dark; null for the product's own palette.
 * Only `#rrggbb` values pass, so nothing else can reach the style element.
 */
export function brandCss(brand: {
  primaryColor: string | null;
  accentColor: string | null;
}): string | null {
  const { primaryColor: primary, accentColor: accent } = brand;
  if (!primary || !accent || !HEX_COLOUR.test(primary) || !HEX_COLOUR.test(accent)) return null;
  return `:root{--brand-primary:${primary};--brand-accent:${accent}}`;
}
