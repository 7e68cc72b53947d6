import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { Server } from 'socket.io';
import { io as connect } from 'socket.io-client';
import { writeFlushesWhole } from '@/server/ws-flush';

/**
 * What a delivery costs the server to write (server/ws-flush.ts), by how many packets a
 * socket is sent in one synchronous pass — the fan-out's pass over the log entries it
 * read together. Two Socket.IO servers in this process, `sockets` WebSocket clients each
 * (in a child process), one as Socket.IO is and one with the panel's whole flushes; each
 * sends `emits` change envelopes to all its clients, `batch` at a time, and the CPU this
 * process spent (user and system: the writes are system calls) is divided by the
 * deliveries. The two alternate, twice each, and each keeps the lower of its two figures.
 */
export interface TFlushFigures {
  sockets: number;
  rows: { batch: number; plainUsPerDelivery: number; wholeUsPerDelivery: number }[];
}

const BATCHES = [1, 2, 5, 10];

export async function benchWsFlush(options: {
  sockets: number;
  emits: number;
  log: (line: string) => void;
}): Promise<TFlushFigures> {
  const plain = await startServer(false, options.sockets);
  const whole = await startServer(true, options.sockets);
  const envelope = sampleEnvelope();
  try {
    const rows: TFlushFigures['rows'] = [];
    for (const batch of BATCHES) {
      const best = { plain: Infinity, whole: Infinity };
      for (let round = 0; round < 2; round++) {
        for (const [name, server] of [
          ['plain', plain],
          ['whole', whole],
        ] as const) {
          const us = await costPerDelivery(server, batch, options.emits, envelope);
          best[name] = Math.min(best[name], us);
        }
      }
      const row = {
        batch,
        plainUsPerDelivery: Math.round(best.plain * 100) / 100,
        wholeUsPerDelivery: Math.round(best.whole * 100) / 100,
      };
      options.log(
        `flush: ${batch} at a time → ${row.plainUsPerDelivery} µs a delivery as Socket.IO is, ${row.wholeUsPerDelivery} µs whole`,
      );
      rows.push(row);
    }
    return { sockets: options.sockets, rows };
  } finally {
    await Promise.all([plain.close(), whole.close()]);
  }
}

interface TFlushServer {
  io: Server;
  clients: ChildProcess;
  received(): Promise<number>;
  close(): Promise<void>;
}

async function startServer(flushWhole: boolean, sockets: number): Promise<TFlushServer> {
  const httpServer = http.createServer();
  const io = new Server(httpServer);
  if (flushWhole) writeFlushesWhole(io);
  io.on('connection', (socket) => void socket.join('admins'));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as { port: number };
  const clients = fork(
    'tests/bench/ws-flush-bench.ts',
    ['--flush-clients', String(port), String(sockets)],
    {
      execArgv: ['--import', 'tsx'],
    },
  );
  await new Promise((resolve) => clients.once('message', resolve));
  return {
    io,
    clients,
    received: () =>
      new Promise<number>((resolve) => {
        clients.once('message', (message: { received: number }) => resolve(message.received));
        clients.send('count');
      }),
    close: async () => {
      clients.kill();
      await io.close();
    },
  };
}

/** µs of this process's CPU per delivery for `emits` envelopes, `batch` per pass. */
async function costPerDelivery(
  server: TFlushServer,
  batch: number,
  emits: number,
  envelope: unknown,
): Promise<number> {
  const sockets = server.io.of('/').sockets.size;
  const before = await server.received();
  const cpu = process.cpuUsage();
  for (let sent = 0; sent < emits; sent += batch) {
    for (let index = 0; index < batch; index++)
      server.io.local.to('admins').emit('change', envelope);
    // The next pass after this one's writes have gone (as the fan-out's next read).
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  // Every delivery received, so every write counted.
  const expected = before + emits * sockets;
  while ((await server.received()) < expected) await new Promise((r) => setTimeout(r, 20));
  const spent = process.cpuUsage(cpu);
  return (spent.user + spent.system) / (emits * sockets);
}

/** A customer's change as the fan-out sends it, about 600 bytes. */
function sampleEnvelope() {
  const id = '563460e8-9e07-4dbe-b66d-fb4da47382ba';
  return {
    seq: 15,
    type: 'customers.updated',
    id,
    data: {
      id,
      name: 'Flushed customer 0',
      email: null,
      status: 'suspended',
      balance: '0.000000',
      version: 2,
      currency: 'EUR',
      parentId: '571407c8-b801-490f-9b04-7802ebde1edd',
      createdAt: '2026-12-03T18:28:37.896Z',
      updatedAt: '2026-12-03T18:28:38.301Z',
      parentName: 'Carrier',
      creditBlock: null,
      creditLimit: null,
      warningThreshold: null,
    },
    at: '2026-12-03T18:28:38.305Z',
    actor: { kind: 'user', id: '4b4f0d61-57c5-49e5-a702-498fcfb9400b', name: 'Carrier admin' },
  };
}

// The clients' process: `sockets` WebSocket clients, counting what they receive.
if (process.argv[2] === '--flush-clients') {
  const [port, count] = [Number(process.argv[3]), Number(process.argv[4])];
  let received = 0;
  let connected = 0;
  for (let index = 0; index < count; index++) {
    const socket = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
    socket.on('connect', () => {
      if (++connected === count) process.send!('ready');
    });
    socket.on('change', () => void received++);
  }
  process.on('message', () => process.send!({ received }));
}
