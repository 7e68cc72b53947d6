import { NextResponse } from 'next/server';
import { findRuntime } from '@/lib/server/runtime';

export const dynamic = 'force-dynamic';

/**
 * Liveness and database status, for load balancers and operators. 200 when the
 * database answers, 503 otherwise; never a stack trace.
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
    return NextResponse.json(
      { status: 'unavailable', database: { status: 'down', kind: runtime.config.databaseKind } },
      { status: 503, headers: { 'Retry-After': '5' } },
    );
  }
}
