import { NextResponse } from 'next/server';
import { findRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

/**
 * Liveness, with the database's status for operators: 200 while the process serves,
 * whether its database answers (`ok`) or not (`degraded`; never a stack trace). A
 * supervisor that restarted a process whenever its database was away would turn a
 * database restart into a crash loop — a new process cannot start without it, while the
 * running one reconnects by itself. Whether to send traffic is `/api/ready`'s answer.
 */
export async function GET() {
  const runtime = findRuntime();
  if (!runtime) {
    return NextResponse.json(
      { status: 'unavailable', database: { status: 'down', error: 'not started' } },
      { status: 503 },
    );
  }
  const started = performance.now();
  try {
    await runtime.orm.em.getConnection().execute('select 1');
    return NextResponse.json({
      status: 'ok',
      database: {
        status: 'up',
        kind: runtime.config.databaseKind,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
      },
    });
  } catch {
    return NextResponse.json({
      status: 'degraded',
      database: { status: 'down', kind: runtime.config.databaseKind },
    });
  }
}
