import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, type ClientOptions, type PromptGateClient } from '@promptgate/sdk';
import { startHarness, type Harness } from '../harness.ts';

/**
 * The real app listening on a loopback port, as partner apps and the dashboard reach it: the SDK
 * talks to it over HTTP with the global fetch. `requests` counts every HTTP request it received.
 */
export interface SdkServer {
  h: Harness;
  /** The GraphQL endpoint, http://127.0.0.1:<port>/graphql. */
  url: string;
  requests: { count: number };
  /** A client of this server; with `apiKey` or `token` as given. */
  client(options?: Omit<ClientOptions, 'url'>): PromptGateClient;
  close(): Promise<void>;
}

export async function startSdkServer(options: Parameters<typeof startHarness>[0] = {}): Promise<SdkServer> {
  const h = await startHarness(options);
  const requests = { count: 0 };
  const server = createServer((request, response) => {
    requests.count++;
    void h.app(request, response);
  });
  const port = await listen(server, 0);
  const url = `http://127.0.0.1:${port}/graphql`;
  return {
    h,
    url,
    requests,
    client: (clientOptions = {}) => createClient({ url, ...clientOptions } as ClientOptions),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await h.close();
    },
  };
}

export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** A loopback port that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server, 0);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
