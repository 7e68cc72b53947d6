import NextAuth from 'next-auth';
import { buildAuthOptions } from '@/lib/server/auth/options';
import { getRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

// Options are built per request from the runtime the server set up (secret, ORM).
function handler(req: Request, context: { params: Promise<{ nextauth: string[] }> }) {
  return NextAuth(req as never, context as never, buildAuthOptions(getRuntime()));
}

export { handler as GET, handler as POST };
