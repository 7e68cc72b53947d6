import type { Server } from 'socket.io';

/**
 * One write(2) for the packets a WebSocket connection flushes together.
 *
 * Engine.IO sends a connection's first packet at once and queues the ones that follow
 * until that write has finished (the fan-out delivers a whole batch of log entries in
 * one synchronous pass, so a carrier admin's socket queues one packet for nearly every
 * entry). The queue is then flushed by writing each packet as its own frame, and `ws`
 * corks and uncorks the TCP socket around each frame: one `writev` system call per
 * packet per socket. On loopback that call is most of what a delivery costs (CPU
 * profile of the fan-out bench: `writev` was a third of the panel's busy time). Corking
 * the TCP socket around the whole flush hands the kernel all of its frames in one call;
 * the frames, their order and their bytes are unchanged, and nothing waits longer than
 * the synchronous loop that writes them.
 */
export function writeFlushesWhole(io: Server): void {
  io.engine.on('connection', (connection: TEngineConnection) => {
    corkSends(connection.transport);
    connection.on('upgrade', (transport: TEngineTransport) => corkSends(transport));
  });
}

/** The parts of Engine.IO's connection and WebSocket transport this relies on. */
interface TEngineConnection {
  transport: TEngineTransport;
  on(event: 'upgrade', listener: (transport: TEngineTransport) => void): void;
}
interface TEngineTransport {
  name: string;
  send(packets: unknown[]): void;
  /** The `ws` WebSocket, whose `_socket` is the TCP socket. */
  socket?: { _socket?: { cork(): void; uncork(): void; destroyed: boolean } };
}

function corkSends(transport: TEngineTransport): void {
  // Long polling answers a whole flush in one HTTP response already.
  if (transport.name !== 'websocket') return;
  const send = transport.send;
  transport.send = function (this: TEngineTransport, packets: unknown[]) {
    const tcp = this.socket?._socket;
    if (packets.length < 2 || !tcp || tcp.destroyed) return send.call(this, packets);
    tcp.cork();
    try {
      send.call(this, packets);
    } finally {
      tcp.uncork();
    }
  };
}
