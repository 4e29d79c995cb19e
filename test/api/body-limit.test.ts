import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../server/graphql/limits.ts';
import { startHarness, type Harness } from '../harness.ts';

// The body limit is counted on the bytes read, not on what Content-Length claims: a chunked body
// (no Content-Length at all) is refused with 413 once it passes MAX_BODY_BYTES, and no more of it
// is taken in.
const CHUNK = 64 * 1024;
const FIVE_MB = 5 * 1024 * 1024;

let h: Harness;
let server: Server;
let port: number;

beforeAll(async () => {
  h = await startHarness();
  server = createServer(h.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await h.close();
});

/** A JSON body of `size` bytes: a valid operation padded with spaces, sent in 64 KiB chunks. */
function paddedBody(size: number): Buffer {
  const json = Buffer.from(JSON.stringify({ query: '{ __typename }' }));
  return Buffer.concat([json, Buffer.alloc(size - json.length, ' ')]);
}

/** Sends `body` chunked over a real connection; stops sending once an answer arrives. */
function sendChunked(body: Buffer): Promise<{ status: number; text: string; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = httpRequest(
      { host: '127.0.0.1', port, method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8'), sent }));
        res.on('error', reject);
      },
    );
    // The server may close the connection while the rest is still being sent: expected here.
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const writeMore = () => {
      while (!answered && sent < body.length) {
        const chunk = body.subarray(sent, sent + CHUNK);
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', writeMore);
          return;
        }
      }
      if (!answered) req.end();
    };
    writeMore();
  });
}

describe('the request body limit', () => {
  it('refuses a 5 MB chunked body without Content-Length with 413, over a real connection', async () => {
    const { status, text } = await sendChunked(paddedBody(FIVE_MB));
    expect(status).toBe(413);
    const body = JSON.parse(text);
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0].message).toContain(String(MAX_BODY_BYTES));
  });

  it('answers a chunked body under the limit as usual', async () => {
    const { status, text } = await sendChunked(paddedBody(MAX_BODY_BYTES - 100));
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses a streamed body through app.fetch at the limit and reads no further', async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= FIVE_MB) return controller.close();
        pulled += CHUNK;
        controller.enqueue(new Uint8Array(CHUNK).fill(32));
      },
    });
    const response = await h.app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    // At most the limit and the chunk that crossed it (plus what the stream queued ahead).
    expect(pulled).toBeLessThanOrEqual(MAX_BODY_BYTES + 4 * CHUNK);
  });

  it('still refuses a declared Content-Length over the limit before reading', async () => {
    const response = await h.app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(FIVE_MB) },
      body: '{}',
    });
    expect(response.status).toBe(413);
  });

  it('reads no more than a declared Content-Length under the limit, over a real connection', async () => {
    // The bytes after the declared length are never part of the body: here they are a second
    // request on the same connection, answered on its own.
    const operation = Buffer.from(JSON.stringify({ query: '{ __typename }' }));
    const first = `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${operation.length}\r\n\r\n`;
    const second = 'GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n';
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (chunk) => received.push(chunk));
      socket.on('close', () => resolve(Buffer.concat(received).toString('latin1')));
      socket.setTimeout(10_000, () => socket.destroy());
      socket.write(Buffer.concat([Buffer.from(first), operation, Buffer.from(second)]));
    });
    expect(answer.match(/HTTP\/1\.1 200 OK\r\n/g)).toHaveLength(2);
    expect(answer).toContain('x-yoga-id: yoga');
    expect(answer).toContain('{"data":{"__typename":"Query"}}');
  });
});
