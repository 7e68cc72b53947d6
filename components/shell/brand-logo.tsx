/**
 * A brand's logo beside (never instead of) its name: the name stays the heading's text,
 * so the image is decorative (empty alt). Served by the panel itself
 * (`/api/v1/logos/{sha256}`: immutable, inert, SVGs sanitised on upload), so a plain
 * <img> — Next's image optimiser would only fetch it back from the same server.
 * `brand-logo` (app/globals.css) gives it a light plate in the dark theme.
 */
export function BrandLogo({ src, className }: { src: string | null; className: string }) {
  if (!src) return null;
  // eslint-disable-next-line @next/next/no-img-element -- see above: our own, already small
  return <img src={src} alt="" data-testid="brand-logo" className={`brand-logo ${className}`} />;
}
