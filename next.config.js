// @ts-check
/**
 * Next.js configuration. The panel always runs behind server/index.ts (one HTTP server
 * for Next and Socket.IO), so nothing here starts a server of its own.
 * @type {import('next').NextConfig}
 */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // `npm run typecheck` checks the whole tree (tests included) before the test command
  // builds; a second check inside the build would cost a minute and fail a build over a
  // test file's types.
  typescript: { ignoreBuildErrors: true },
  // Native and database packages stay outside the bundle; Next 16 already treats most
  // of them this way, listing them keeps the intent visible.
  serverExternalPackages: [
    '@mikro-orm/core',
    '@mikro-orm/postgresql',
    '@mikro-orm/migrations',
    '@node-rs/argon2',
    '@electric-sql/pglite',
    '@electric-sql/pglite-socket',
    'pg',
    // pdfkit reads its standard fonts' metrics from its own folder at run time.
    'pdfkit',
  ],
};

export default nextConfig;
