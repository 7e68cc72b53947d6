import cluster from 'node:cluster';
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { DriverException } from '@mikro-orm/core';
import pino, { type Logger } from 'pino';

/**
 * The panel's structured log (pino): one JSON object per line on stdout — `level`,
 * `time`, `msg`, and fields such as `reqId`, `method`, `path`, `status`, `ms` — for a
 * log collector. On a terminal (or `LOG_FORMAT=pretty`) the same records print as
 * `reseller-panel: <msg> key=value`, so `npm start` stays readable; `LOG_FORMAT=json`
 * forces JSON. `LOG_LEVEL` (default `info`) filters. Stack traces go to the log only,
 * never to a client.
 *
 * The custom server and the route handlers are two module graphs (STACK.md pitfall 3),
 * so the logger lives on globalThis: one stream, one order. Under `WORKERS` > 1 every
 * record of a worker carries `worker` (its pid), so interleaved lines can be told apart.
 */
/** The header a request id travels in, both ways (set by server/observability.ts). */
export const REQUEST_ID_HEADER = 'x-request-id';

const LOGGER_KEY = Symbol.for('reseller-panel.logger');
type TGlobalWithLogger = typeof globalThis & { [LOGGER_KEY]?: Logger };

const OMITTED = new Set(['time', 'service', 'pid', 'hostname']);

function prettyStream(): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        try {
          const { level, msg, err, ...record } = JSON.parse(line);
          // What a person at a terminal does not need on every line.
          const fields = Object.fromEntries(
            Object.entries(record).filter(([key]) => !OMITTED.has(key)),
          );
          const extras = Object.entries(fields)
            .map(
              ([key, value]) =>
                `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
            )
            .join(' ');
          const tag = level === 'info' ? '' : `${String(level).toUpperCase()} `;
          process.stdout.write(
            `reseller-panel: ${tag}${msg ?? ''}${extras ? ` (${extras})` : ''}\n` +
              (err?.stack && process.env.DEBUG ? `${err.stack}\n` : ''),
          );
        } catch {
          process.stdout.write(`${line}\n`);
        }
      }
      done();
    },
  });
}

function createLogger(): Logger {
  // Empty is unset, as env.ts reads every variable (`LOG_LEVEL=` in a .env file): pino
  // refused '' as a level and the start failed naming no variable.
  const format =
    process.env.LOG_FORMAT?.trim() ||
    (process.stdout.isTTY && process.env.NODE_ENV !== 'test' ? 'pretty' : 'json');
  return pino(
    {
      level: process.env.LOG_LEVEL?.trim() || 'info',
      base: { service: 'reseller-panel', ...(cluster.isWorker ? { worker: process.pid } : {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: (err: unknown) => pino.stdSerializers.err(withoutStatement(err)) },
      // Never log a credential by accident, whatever object is passed.
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'cookie',
          '*.cookie',
        ],
        censor: '[redacted]',
      },
    },
    format === 'pretty'
      ? prettyStream()
      : new BatchedLines(pino.destination({ dest: STDOUT, sync: false, maxWrite: BATCH_BYTES })),
  );
}

/**
 * A database error as the log may keep it. Its message is the failed statement with its
 * values written in (knex's), and MikroORM copies every field of the driver's error onto
 * it: a connection lost during a password reset logged the new argon2 hash, and any 500
 * whatever its statement held. Kept: what says which rule or table failed, and the code's
 * frames (the stack without the message).
 */
function withoutStatement(err: unknown): Error {
  if (!(err instanceof Error)) return err as Error;
  // The same class (the log's `type`), only the fields set here.
  const like = (fields: Record<string, unknown>) =>
    Object.assign(Object.create(Object.getPrototypeOf(err) as object) as Error, fields);
  if (!(err instanceof DriverException)) {
    // One level of cause: a service's error wrapping the database's.
    if (!(err.cause instanceof DriverException)) return err;
    return like({
      ...err,
      name: err.name,
      message: err.message,
      stack: err.stack,
      cause: withoutStatement(err.cause),
    });
  }
  const fields = err as DriverException & Record<string, unknown>;
  const kept: Record<string, unknown> = {};
  for (const key of ['code', 'routine', 'table', 'column', 'constraint', 'schema'] as const) {
    if (typeof fields[key] === 'string') kept[key] = fields[key];
  }
  const message = `database error${kept.code ? ` ${String(kept.code)}` : ''} (statement withheld)`;
  const frames = (err.stack ?? '')
    .split('\n')
    .filter((line) => line.trim().startsWith('at '))
    .join('\n');
  return like({ ...kept, name: err.name, message, stack: `${err.name}: ${message}\n${frames}` });
}

/** The JSON lines' file descriptor. */
const STDOUT = 1;

/**
 * The most one write carries (about twenty request lines, unless one line is longer):
 * within a pipe's atomic write (`PIPE_BUF`), so the workers of `WORKERS` > 1, which
 * share the primary's stdout, never interleave inside each other's lines.
 */
const BATCH_BYTES = 4096;
/** The longest a line waits for others before it is written anyway. */
const BATCH_MS = 50;

/**
 * The JSON lines' way to stdout: gathered, then handed to an asynchronous stream.
 * Asynchronous: a line does not cost the event loop a write(2) (issue 18). Gathered:
 * one line per request was still one write by the thread pool, one wake-up of the event
 * loop when it ended and one of whatever reads the pipe (a log collector, the bench's
 * harness), about 0.05–0.1 ms of the panel's CPU per `POST /authorize` (docs/bench.md).
 * Lines now leave together, in order, `BATCH_MS` after the first or sooner when the
 * next would pass `BATCH_BYTES`. On exit, crash included, what is gathered is written
 * synchronously after what the stream still holds (pino flushes that stream on exit).
 */
class BatchedLines {
  private batch = '';
  /** The batch's length in bytes (what `PIPE_BUF` counts), not in UTF-16 units. */
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: ReturnType<typeof pino.destination>) {
    process.once('exit', () => {
      // Written synchronously, after what the stream holds: handed to the stream, the
      // batch would start an asynchronous write that the exiting process may never see
      // finish (the last lines of a busy process were lost so, 2 runs in 30 under load).
      clearTimeout(this.timer);
      const rest = this.batch;
      this.batch = '';
      this.bytes = 0;
      try {
        out.flushSync();
        if (rest) fs.writeSync(STDOUT, rest);
      } catch {
        // Not open yet, or already closed: nothing more can be written.
      }
    });
  }

  write(line: string): boolean {
    const bytes = Buffer.byteLength(line);
    if (this.batch && this.bytes + bytes > BATCH_BYTES) this.flush();
    this.batch += line;
    this.bytes += bytes;
    this.timer ??= setTimeout(() => this.flush(), BATCH_MS).unref();
    return true;
  }

  /** pino's `logger.flush()`: what is gathered goes to the stream now. */
  flush(done?: (error?: Error) => void): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch) {
      this.out.write(this.batch);
      this.batch = '';
      this.bytes = 0;
    }
    done?.();
  }
}

export function getLogger(): Logger {
  const holder = globalThis as TGlobalWithLogger;
  holder[LOGGER_KEY] ??= createLogger();
  return holder[LOGGER_KEY];
}

/**
 * The request lines' logger (server/observability.ts): the same stream and level, without
 * the redaction. A request line holds only the server's own primitives (id, method, path,
 * status, time), none named like a credential, yet pino ran the `*.password`-style
 * redactor on each of its fields, cloning as it went: a tenth of what a `POST /authorize`
 * allocated, and so of the young-generation collections that set its p99 (docs/bench.md).
 */
export function getRequestLogger(): Logger {
  const parent = getLogger();
  let child = requestLoggers.get(parent);
  if (!child) {
    child = parent.child({}, { redact: [] });
    requestLoggers.set(parent, child);
  }
  return child;
}
const requestLoggers = new WeakMap<Logger, Logger>();
