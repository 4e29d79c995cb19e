import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/**
 * GraphiQL at GET /graphql (Accept: text/html), rendered once per process instead of on every
 * visit: the page is ~9 MB of inline HTML (@graphql-yoga/render-graphiql bundles every script so
 * nothing is fetched from elsewhere). It is sent compressed (Brotli or gzip, ~2 MB or less) with an
 * ETag; the browser revalidates (Cache-Control: no-cache) and a reload costs a 304, not 9 MB. The
 * ETag is the page's hash, so a deploy that changes the page changes it.
 */
interface Page {
  etag: string;
  identity: Uint8Array;
  gzip: Uint8Array;
  br: Uint8Array;
}

/** Compressed on libuv's thread pool: the first visit waits for it, other requests do not. */
async function build(html: string): Promise<Page> {
  const identity = new Uint8Array(Buffer.from(html, 'utf8'));
  const [gz, br] = await Promise.all([
    gzipAsync(identity, { level: 9 }),
    brotliAsync(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: identity.length } }),
  ]);
  return { etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`, identity, gzip: new Uint8Array(gz), br: new Uint8Array(br) };
}

/** The encoding to send: Brotli, then gzip, when the request accepts it (q=0 refuses). */
function encodingFor(acceptEncoding: string | null): 'br' | 'gzip' | 'identity' {
  const accepted = new Map(
    (acceptEncoding ?? '').split(',').map((part) => {
      const [name, ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find(Boolean);
      return [name ?? '', q === undefined ? 1 : Number(q)] as const;
    }),
  );
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  return ok('br') ? 'br' : ok('gzip') ? 'gzip' : 'identity';
}

export function useGraphiQLPage(endpoint: string, render: () => string) {
  let built: Promise<Page> | undefined;
  return {
    async onRequest({ request, url, endResponse, fetchAPI }: { request: Request; url: URL; endResponse(response: Response): void; fetchAPI: { Response: typeof Response } }) {
      if (request.method !== 'GET' || !request.headers.get('accept')?.includes('text/html')) return;
      if (url.pathname !== endpoint && url.pathname !== `${endpoint}/`) return;
      // A failed build is tried again on the next visit.
      built ??= build(render()).catch((error: unknown) => {
        built = undefined;
        throw error;
      });
      const page = await built;
      const headers: Record<string, string> = { etag: page.etag, 'cache-control': 'no-cache', vary: 'Accept, Accept-Encoding' };
      const match = request.headers.get('if-none-match');
      if (match && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === page.etag)) {
        endResponse(new fetchAPI.Response(null, { status: 304, headers }));
        return;
      }
      const encoding = encodingFor(request.headers.get('accept-encoding'));
      endResponse(
        new fetchAPI.Response(page[encoding] as unknown as BodyInit, {
          status: 200,
          headers: { ...headers, 'content-type': 'text/html; charset=utf-8', ...(encoding === 'identity' ? {} : { 'content-encoding': encoding }) },
        }),
      );
    },
  };
}
