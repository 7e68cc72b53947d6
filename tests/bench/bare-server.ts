import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

/**
 * The fan-out bench's baseline (forked with an IPC channel): a bare Socket.IO server —
 * no database, no authorization, no log — that puts each socket in its scope's room on
 * connect and, on command, emits the same envelope the panel sends to the same
 * recipient sets by room (the reseller's room and the admins' room) at a given rate.
 * What the panel costs beyond this is what its database, log and audience add.
 */
export type TBareCommand =
  | { type: 'emit'; rate: number; seconds: number; scopes: string[]; sample: TSample }
  | { type: 'close' };

export interface TSample {
  type: string;
  id: string;
  data: Record<string, unknown>;
  actor: unknown;
}

const http = createServer();
const io = new Server(http, { serveClient: false });
let seq = 0;

io.on('connection', (socket) => {
  const scope = String(socket.handshake.query.scope ?? 'admin');
  void socket.join(scope === 'admin' ? 'admins' : `r:${scope}`);
  socket.emit('hello', { seq });
});

/** Emits `rate` envelopes a second for `seconds`, spread over 10 ms ticks, round robin over the scopes. */
async function emit(command: Extract<TBareCommand, { type: 'emit' }>) {
  const tickMs = 10;
  const ticks = Math.round((command.seconds * 1000) / tickMs);
  const perTick = command.rate / (1000 / tickMs);
  let owed = 0;
  let next = 0;
  const started = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    owed += perTick;
    for (; owed >= 1; owed--) {
      const scope = command.scopes[next++ % command.scopes.length]!;
      seq++;
      io.to([`r:${scope}`, 'admins']).emit('change', {
        seq,
        type: command.sample.type,
        id: command.sample.id,
        data: { ...command.sample.data, parentId: scope },
        at: new Date().toISOString(),
        actor: command.sample.actor,
      });
    }
    // Keep to the wall clock, not to the sum of timer delays.
    const due = started + (tick + 1) * tickMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
  }
  return seq;
}

process.on('message', async (command: TBareCommand) => {
  if (command.type === 'emit') {
    const before = seq;
    await emit(command);
    process.send!({ type: 'emitted', count: seq - before });
  } else {
    io.close();
    process.exit(0);
  }
});

http.listen(0, '127.0.0.1', () => {
  process.send!({ type: 'ready', port: (http.address() as AddressInfo).port });
});
