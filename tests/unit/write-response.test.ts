import { createServer, get, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { answerFailed, writeResponse } from '@/server/api-router';

/**
 * How the API router writes a streamed answer (an export, a logo, the OpenAPI document)
 * when the stream or the client fails partway, on a real HTTP server and connection.
 */
let close: (() => void) | undefined;
afterEach(() => close?.());

/** A server answering every request with `answer(req, res)`; its port. */
async function serveWith(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => {
    server.closeAllConnections();
    server.close();
  };
  return (server.address() as AddressInfo).port;
}

it('breaks the connection when the body fails after its first bytes, never ends it as whole', async () => {
  const failed: unknown[] = [];
  const port = await serveWith((req, res) => {
    let batches = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (batches++ === 0) controller.enqueue(new TextEncoder().encode('id,name\r\na,b\r\n'));
        else controller.error(new Error('the database went away'));
      },
    });
    const response = new Response(body, { headers: { 'content-type': 'text/csv' } });
    // As the router answers (withApiRouter).
    writeResponse(res, response, false, req).catch((error: unknown) => {
      failed.push(error);
      answerFailed(res, error);
    });
  });
  const outcome = await new Promise<string>((resolve) => {
    get(`http://127.0.0.1:${port}/export`, (res) => {
      expect(res.statusCode).toBe(200);
      res.resume();
      res.on('end', () => resolve('ended as whole'));
      res.on('error', () => resolve('broken'));
    }).on('error', () => resolve('broken'));
  });
  expect(outcome).toBe('broken');
  expect(failed).toEqual([new Error('the database went away')]);
});

it('lets go of an answer whose client stopped reading and went away', async () => {
  let served: { res: ServerResponse; writing: Promise<void>; pulled: () => number } | undefined;
  const port = await serveWith((req, res) => {
    let pulls = 0;
    // Endless: only the client going away can end it.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const writing = writeResponse(res, new Response(body), false, req);
    served = { res, writing, pulled: () => pulls };
  });
  const client = connect(port, '127.0.0.1');
  client.pause(); // reads nothing
  client.write('GET /logo HTTP/1.1\r\nhost: localhost\r\n\r\n');
  // Until the server waits for the client to take more.
  while (!served || served.res.listenerCount('drain') === 0) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  client.destroy();
  // Ends once the connection closed (else it waits for a 'drain' that never comes).
  await served.writing;
  const pulled = served.pulled();
  await new Promise((resolve) => setTimeout(resolve, 50));
  // And the body is no longer read.
  expect(served.pulled()).toBe(pulled);
  expect(served.res.destroyed).toBe(true);
});
