import cluster from 'node:cluster';
import { Writable } from 'node:stream';
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
  const format =
    process.env.LOG_FORMAT ??
    (process.stdout.isTTY && process.env.NODE_ENV !== 'test' ? 'pretty' : 'json');
  return pino(
    {
      level: process.env.LOG_LEVEL ?? 'info',
      base: { service: 'reseller-panel', ...(cluster.isWorker ? { worker: process.pid } : {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
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
    // Asynchronous: a request's log line no longer costs the event loop a write(2) of its
    // own (issue 18: one per `POST /authorize`, in a switch's call path); lines that meet
    // a write in flight go out together with the next, in order. pino flushes what is
    // pending synchronously when the process exits, crash handlers included.
    format === 'pretty' ? prettyStream() : pino.destination({ sync: false }),
  );
}

export function getLogger(): Logger {
  const holder = globalThis as TGlobalWithLogger;
  holder[LOGGER_KEY] ??= createLogger();
  return holder[LOGGER_KEY];
}
