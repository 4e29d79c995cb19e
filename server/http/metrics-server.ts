import { createServer, type Server } from 'node:http';
import type { AggregatorRegistry, PrometheusContentType } from 'prom-client';
import { bearerMatches, metricsText } from '../metrics.ts';

/**
 * METRICS_PORT: `/metrics` on a port of its own, for a scraper on the inside network while the API
 * port faces the world. With METRICS_TOKEN set as well, the token is asked here too. In the
 * primary of WORKERS>1 it answers with every worker's metrics summed (`aggregate`); otherwise
 * with this process's.
 */
export async function serveMetrics(port: number, token: string | undefined, aggregate?: AggregatorRegistry<PrometheusContentType>): Promise<Server> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://metrics').pathname;
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served on this port\n');
      return;
    }
    if (token && !bearerMatches(request.headers.authorization ?? null, token)) {
      response.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('metrics need Authorization: Bearer <METRICS_TOKEN>\n');
      return;
    }
    metricsText(aggregate).then(
      ({ body, contentType }) => response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : body),
      () => response.writeHead(503, { 'content-type': 'text/plain' }).end('metrics could not be collected\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  return server;
}
