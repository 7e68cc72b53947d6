import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

/**
 * The fan-out bench's baseline (forked with an IPC channel): a bare Socket.IO server —
 * no database, no authorization, no log — that puts each socket in its scope's room on
 * connect and, on command, emits the same envelope the panel sends to the same
 * recipient sets by room (the reseller's room and the admins' room) at a given rate.
 * What the panel costs beyond this is what its database, log and audience add.
 *
 * It runs Socket.IO's own connection state recovery (issue 14): a socket whose transport
 * dropped gets its rooms back and the packets it missed on reconnecting — Socket.IO's
 * answer to what the panel's catch-up does, the baseline of the storm and resume figures.
 */
export type TBareCommand =
  | { type: 'emit'; rate: number; seconds: number; scopes: string[]; sample: TSample }
  /** `count` envelopes at once, while the sockets are away (storm, resume). */
  | { type: 'burst'; count: number; scopes: string[]; sample: TSample }
  | { type: 'close' };

export interface TSample {
  type: string;
  id: string;
  data: Record<string, unknown>;
  actor: unknown;
}

const http = createServer();
// The defaults: missed packets kept for two minutes.
const io = new Server(http, { serveClient: false, connectionStateRecovery: {} });
let seq = 0;

io.on('connection', (socket) => {
  // A recovered socket has its rooms back already.
  if (!socket.recovered) {
    const scope = String(socket.handshake.query.scope ?? 'admin');
    void socket.join(scope === 'admin' ? 'admins' : `r:${scope}`);
  }
  // Through the adapter (the socket's own room), so even a socket that has had no change
  // yet holds an offset to recover from: Socket.IO stores and numbers broadcasts only.
  io.to(socket.id).emit('hello', { seq, recovered: socket.recovered });
});

function envelope(sample: TSample, scope: string) {
  return {
    seq: ++seq,
    type: sample.type,
    id: sample.id,
    data: { ...sample.data, parentId: scope },
    at: new Date().toISOString(),
    actor: sample.actor,
  };
}

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
      io.to([`r:${scope}`, 'admins']).emit('change', envelope(command.sample, scope));
    }
    // Keep to the wall clock, not to the sum of timer delays.
    const due = started + (tick + 1) * tickMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
  }
}

/** `count` envelopes round robin over the scopes, yielding now and then to the sockets. */
async function burst(command: Extract<TBareCommand, { type: 'burst' }>) {
  for (let index = 0; index < command.count; index++) {
    const scope = command.scopes[index % command.scopes.length]!;
    io.to([`r:${scope}`, 'admins']).emit('change', envelope(command.sample, scope));
    if (index % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
}

process.on('message', async (command: TBareCommand) => {
  if (command.type === 'emit' || command.type === 'burst') {
    const before = seq;
    const started = performance.now();
    await (command.type === 'emit' ? emit(command) : burst(command));
    // The seconds it took: more than asked when the server fell behind its ticks.
    const elapsed = (performance.now() - started) / 1000;
    process.send!({ type: 'emitted', count: seq - before, elapsed });
  } else {
    io.close();
    process.exit(0);
  }
});

http.listen(0, '127.0.0.1', () => {
  process.send!({ type: 'ready', port: (http.address() as AddressInfo).port });
});
