import { Agent, get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { usePanelSuite } from '../fixtures/panel-suite';

/**
 * A client that pools connections (a load balancer, Playwright's and most API clients'
 * agents) sends its next request on an idle connection whenever it likes. If the panel
 * closes that connection at the same moment the request is lost with ECONNRESET — which
 * is how an e2e journey failed in CI, its API call sent about 5 s after the one before,
 * just as Node's default keep-alive (5 s) ran out. The panel keeps idle connections for
 * `HTTP_KEEP_ALIVE_SECONDS` (65 s by default), past the usual balancers' 60 s.
 */
const suite = usePanelSuite({
  ADMIN_EMAIL: 'admin@keep-alive.test',
  ADMIN_PASSWORD: 'keep-alive-password',
});

/** One `GET /api/health` through `agent`: its status, headers, body, and whether it reused a connection. */
function health(agent: Agent) {
  return new Promise<{ status: number; keepAlive: string; body: string; reused: boolean }>(
    (resolve, reject) => {
      const req = get(`${suite.server.url}/api/health`, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            keepAlive: String(res.headers['keep-alive']),
            body,
            reused: req.reusedSocket,
          }),
        );
      });
      req.on('error', reject);
    },
  );
}

it('keeps an idle connection open past Node’s 5 s default and answers on it', async () => {
  // One connection, kept between requests, as a pooling client keeps it.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let closed = 0;
  agent.on('free', (socket) => socket.once('close', () => closed++));
  try {
    const first = await health(agent);
    expect(first.status).toBe(200);
    // What the panel tells a client about how long it may reuse the connection.
    expect(first.keepAlive).toBe('timeout=65');

    await sleep(6_000);
    expect(closed).toBe(0);
    const second = await health(agent);
    expect(second).toMatchObject({ status: 200, reused: true });
    expect(JSON.parse(second.body)).toMatchObject({ status: 'ok' });
  } finally {
    agent.destroy();
  }
});
