import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * GraphiQL's page, rendered in a worker thread that exits once it has answered. The renderer
 * (@graphql-yoga/render-graphiql) bundles every GraphiQL script as text: loaded into the server
 * it would hold about 70 MB of memory for the life of the process (measured: RSS 244 → 172 MB at
 * start-up without it), for a page rendered once. In a worker that memory goes when the worker does.
 */
export function renderGraphiQLInWorker(options: Record<string, unknown>): Promise<string> {
  // Resolved here, where node_modules is known; the worker only requires the file.
  const renderer = createRequire(import.meta.url).resolve('@graphql-yoga/render-graphiql');
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    parentPort.postMessage(require(workerData.renderer).renderGraphiQL(workerData.options));
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: { renderer, options } });
    let html: string | undefined;
    worker.once('message', (message: string) => {
      html = message;
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => (html === undefined ? reject(new Error(`GraphiQL's renderer stopped (exit code ${code}) without a page`)) : resolve(html)));
  });
}
