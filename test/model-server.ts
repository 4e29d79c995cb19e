import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OpenAI-compatible HTTP server on loopback, for the tests of the openai provider: it
 * answers POST /v1/chat/completions by the model asked for —
 *   "upper"  200, the prompt in capitals, usage 7 prompt + 3 completion tokens
 *   "broken" 500 with an OpenAI-style error body
 *   "slow"   answers after `slowMs`, to run past the client's timeout
 *   "nul"    200, an answer holding a NUL and a lone surrogate ("a\u0000b\ud800c")
 *   "leaky"  401 whose error message repeats the Authorization header it got
 *   "parrot" 200, the prompt as it is
 *   "huge"   200, an answer of `hugeBytes` characters (1 MB by default)
 * and records every request it gets (with its Authorization header) for the tests to check.
 */
export interface ModelServer {
  baseURL: string;
  requests: { model: string; prompt: string; authorization: string | undefined }[];
  /** The max_tokens of each request, in the same order. */
  maxTokens: (number | undefined)[];
  close(): Promise<void>;
}

async function body(request: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export async function startModelServer(options: { slowMs?: number; hugeBytes?: number } = {}): Promise<ModelServer> {
  const requests: ModelServer['requests'] = [];
  const maxTokens: ModelServer['maxTokens'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer(async (request, response) => {
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      response.writeHead(404).end();
      return;
    }
    const payload = await body(request);
    const prompt = String(payload.messages?.at(-1)?.content ?? '');
    requests.push({ model: payload.model, prompt, authorization: request.headers.authorization });
    maxTokens.push(payload.max_tokens);
    const json = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    if (payload.model === 'broken') {
      json(500, { error: { message: 'the model is overloaded', type: 'server_error' } });
    } else if (payload.model === 'nul') {
      json(200, completion(payload.model, 'a\u0000b\ud800c'));
    } else if (payload.model === 'leaky') {
      json(401, { error: { message: `Incorrect API key provided: ${request.headers.authorization}`, type: 'invalid_request_error' } });
    } else if (payload.model === 'parrot') {
      json(200, completion(payload.model, prompt));
    } else if (payload.model === 'huge') {
      json(200, completion(payload.model, 'x'.repeat(options.hugeBytes ?? 1024 * 1024)));
    } else if (payload.model === 'slow') {
      const timer = setTimeout(() => json(200, completion(payload.model, 'late')), options.slowMs ?? 2000);
      timers.add(timer);
    } else {
      json(200, completion(payload.model, prompt.toUpperCase()));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    maxTokens,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function completion(model: string, content: string) {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
  };
}
