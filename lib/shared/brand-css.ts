import type { CSSProperties } from 'react';

const HEX_COLOUR = /^#[0-9a-f]{6}$/i;

/**
 * A brand's two colours as the CSS variables app/globals.css derives the `brand-*`
 * palette from (`html[data-brand]`), light and dark; null for the product's own palette.
 * Set as <html>'s style attribute, which the CSP allows (`style-src-attr`) and React
 * updates in place when a refresh changes the brand (after signing in): a new <style>
 * element would carry the new response's nonce, which the page's policy refuses. Only
 * `#rrggbb` values pass.
 */
export function brandStyle(brand: {
  primaryColor: string | null;
  accentColor: string | null;
}): CSSProperties | null {
  const { primaryColor: primary, accentColor: accent } = brand;
  if (!primary || !accent || !HEX_COLOUR.test(primary) || !HEX_COLOUR.test(accent)) return null;
  return { '--brand-primary': primary, '--brand-accent': accent } as CSSProperties;
}
