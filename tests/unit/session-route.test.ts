import type { Worker } from 'node:cluster';
import { describe, expect, it } from 'vitest';
import { routeSends } from '@/server/cluster';
import { sessionIdInRequest, taggedSessionId, workerOfSessionId } from '@/server/session-route';

/** @socket.io/sticky's own reading of a request's session id (its index.js). */
const STICKY_SID = /sid=([\w-]{20})/;

describe('session ids that name their worker', () => {
  it('are read back by sticky whole, and name the worker', () => {
    for (const workerId of [1, 2, 35, 36, 1295, 46_655]) {
      const sid = taggedSessionId(workerId)!;
      expect(sid).toHaveLength(20);
      expect(
        STICKY_SID.exec(`GET /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1`)?.[1],
      ).toBe(sid);
      expect(workerOfSessionId(sid)).toBe(workerId);
    }
    expect(taggedSessionId(1)).not.toBe(taggedSessionId(1));
  });

  it('fall back to none past what three base-36 digits name; other ids name no worker', () => {
    expect(taggedSessionId(46_656)).toBeUndefined();
    expect(workerOfSessionId('AAAAAAAAAAAAAAAAAAAA')).toBeNull();
    expect(workerOfSessionId('w001short')).toBeNull();
  });

  it('are found in the head of a request only', () => {
    const sid = taggedSessionId(7)!;
    const head = `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n\r\n`;
    expect(sessionIdInRequest(Buffer.from(head))).toBe(sid);
    expect(sessionIdInRequest(Buffer.from(`GET / HTTP/1.1\r\n\r\nsid=${sid}`))).toBeNull();
    expect(sessionIdInRequest(undefined)).toBeNull();
  });
});

/** A worker that records what reaches it. */
function fakeWorker(id: number, got: string[]): Worker {
  return {
    id,
    send: (message: { type: string; connectionId?: string }) => {
      got.push(`${id}:${message.type}${message.connectionId ? `:${message.connectionId}` : ''}`);
      return true;
    },
  } as unknown as Worker;
}

describe("the primary's routing of sticky's messages", () => {
  const setUp = () => {
    const got: string[] = [];
    const [one, two] = [fakeWorker(1, got), fakeWorker(2, got)];
    const ready = new Set([one, two]);
    const routed = new Map<string, Worker>();
    const byId = (id: number) => ({ 1: one, 2: two })[id];
    for (const worker of [one, two]) routeSends(worker, ready, routed, () => one, byId);
    return { got, one, two, ready, routed };
  };
  const request = (sid: string) =>
    Buffer.from(`GET /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\n\r\n`);

  it("sends a request of worker 2's session to worker 2, whoever sticky chose", () => {
    const { got, one } = setUp();
    one.send({ type: 'sticky:connection', data: request(taggedSessionId(2)!) });
    expect(got).toEqual(['2:sticky:connection']);
  });

  it("keeps a relayed request's later chunks with its first, and forgets it on abort", () => {
    const { got, one, routed } = setUp();
    const data = request(taggedSessionId(2)!);
    one.send({ type: 'sticky:http-chunk-start', connectionId: 'c1', data });
    one.send({ type: 'sticky:http-chunk', connectionId: 'c1', data: Buffer.from('body') });
    one.send({ type: 'sticky:abort', connectionId: 'c1' });
    expect(got).toEqual([
      '2:sticky:http-chunk-start:c1',
      '2:sticky:http-chunk:c1',
      '2:sticky:abort:c1',
    ]);
    expect(routed.size).toBe(0);
  });

  it('leaves a new session, or one of a worker gone or starting, where sticky sent it', () => {
    const { got, one, two, ready } = setUp();
    one.send({ type: 'sticky:connection', data: request('AAAAAAAAAAAAAAAAAAAA') });
    one.send({ type: 'sticky:connection', data: request(taggedSessionId(9)!) });
    ready.delete(two);
    one.send({ type: 'sticky:connection', data: request(taggedSessionId(2)!) });
    expect(got).toEqual(['1:sticky:connection', '1:sticky:connection', '1:sticky:connection']);
  });

  it('stops the primary reading a connection before handing it over', () => {
    // Node closes the primary's copy only once the worker acknowledges it, reading on
    // (and dropping what it reads) until then: the bytes must stay for the worker.
    const { got, one } = setUp();
    const socket = { _handle: { readStop: () => got.push('readStop') } };
    one.send({ type: 'sticky:connection', data: request(taggedSessionId(2)!) }, socket as never);
    one.send({ type: 'sticky:http-chunk-start', connectionId: 'c2', data: request('x') });
    // Stopped before the message left (once per wrapper it passes: harmless).
    expect(got.indexOf('readStop')).toBe(0);
    expect(got.lastIndexOf('readStop')).toBeLessThan(got.indexOf('2:sticky:connection'));
    expect(got.filter((entry) => entry !== 'readStop')).toEqual([
      '2:sticky:connection',
      '1:sticky:http-chunk-start:c2',
    ]);
  });

  it('diverts what reaches a worker still starting to one that serves', () => {
    const { got, two, ready } = setUp();
    ready.delete(two);
    two.send({ type: 'sticky:connection', data: request('AAAAAAAAAAAAAAAAAAAA') });
    expect(got).toEqual(['1:sticky:connection']);
  });

  it('routes only sticky’s traffic: a metrics request reaches the worker asked, starting or not', () => {
    const { got, two, ready } = setUp();
    ready.delete(two);
    two.send({ type: 'prom-client:getMetricsReq', requestId: 1 } as never);
    expect(got).toEqual(['2:prom-client:getMetricsReq']);
  });
});
