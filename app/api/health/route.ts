import { NextResponse } from 'next/server';
import { findRuntime } from '@/lib/server/runtime';
import { checkDatabase } from '@/lib/server/db/database-check';

export const dynamic = 'force-dynamic';

/**
 * Liveness, with the database's status for operators: 200 while the process serves,
 * whether its database answers (`ok`) or not (`degraded`; never a stack trace). A
 * supervisor that restarted a process whenever its database was away would turn a
 * database restart into a crash loop — a new process cannot start without it, while the
 * running one reconnects by itself. Likewise a busy pool (`busy`: no connection within a
 * second) answers at once rather than when a connection frees. Whether to send traffic
 * is `/api/ready`'s answer.
 */
export async function GET() {
  const runtime = findRuntime();
  if (!runtime) {
    return NextResponse.json(
      { status: 'unavailable', database: { status: 'down', error: 'not started' } },
      { status: 503 },
    );
  }
  const database = await checkDatabase(runtime.orm);
  const kind = runtime.config.databaseKind;
  return NextResponse.json(
    database.status === 'up'
      ? { status: 'ok', database: { status: 'up', kind, latencyMs: database.latencyMs } }
      : { status: 'degraded', database: { status: database.status, kind } },
  );
}
