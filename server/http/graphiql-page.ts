import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { splitPage } from './graphiql-split.ts';

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/**
 * GraphiQL at GET /graphql (Accept: text/html). @graphql-yoga/render-graphiql renders ~9 MB of
 * inline HTML (every script bundled so nothing is fetched from elsewhere); each process renders it
 * once and splits it (graphiql-split.ts) into a small HTML shell and its scripts, style and icon as
 * files under /graphql/assets/<hash>.<ext>:
 * - the shell is revalidated (Cache-Control: no-cache, ETag): a reload costs a 304;
 * - a file's name is its content's hash, so it is cached for a year (immutable) and a deploy that
 *   changes it changes its name: a reload fetches none of the ~9 MB again.
 * Everything is sent Brotli or gzip compressed by Accept-Encoding.
 */
interface Encoded {
  etag: string;
  contentType: string;
  identity: Uint8Array;
  gzip: Uint8Array;
  br: Uint8Array;
}

interface Page {
  shell: Encoded;
  assets: Map<string, Encoded>;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Compressed on libuv's thread pool: the first visit waits for it, other requests do not. */
async function encode(identity: Uint8Array, contentType: string): Promise<Encoded> {
  const [gz, br] = await Promise.all([
    gzipAsync(identity, { level: 9 }),
    brotliAsync(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: identity.length } }),
  ]);
  const etag = `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`;
  return { etag, contentType, identity, gzip: new Uint8Array(gz), br: new Uint8Array(br) };
}

async function build(html: string, assetPath: string): Promise<Page> {
  const { shell, assets } = splitPage(html, assetPath);
  const [encodedShell, ...encodedAssets] = await Promise.all([
    encode(new Uint8Array(Buffer.from(shell, 'utf8')), 'text/html; charset=utf-8'),
    ...assets.map((asset) => encode(asset.bytes, asset.contentType)),
  ]);
  return { shell: encodedShell!, assets: new Map(assets.map((asset, i) => [asset.name, encodedAssets[i]!])) };
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

/** 304 when If-None-Match names the ETag, else the body in the encoding the request accepts. */
function respond(request: Request, ResponseClass: typeof Response, file: Encoded, headers: Record<string, string>): Response {
  const match = request.headers.get('if-none-match');
  if (match && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
    return new ResponseClass(null, { status: 304, headers: { ...headers, etag: file.etag } });
  }
  const encoding = encodingFor(request.headers.get('accept-encoding'));
  const body = file[encoding];
  return new ResponseClass(request.method === 'HEAD' ? null : (body as unknown as BodyInit), {
    status: 200,
    headers: {
      ...headers,
      etag: file.etag,
      'content-type': file.contentType,
      'content-length': String(body.byteLength),
      ...(encoding === 'identity' ? {} : { 'content-encoding': encoding }),
    },
  });
}

export function useGraphiQLPage(endpoint: string, render: () => Promise<string>) {
  const assetPath = `${endpoint}/assets`;
  let built: Promise<Page> | undefined;
  // A failed build is tried again on the next visit.
  const page = () =>
    (built ??= render().then((html) => build(html, assetPath)).catch((error: unknown) => {
      built = undefined;
      throw error;
    }));
  type Args = { request: Request; url: URL; endResponse(response: Response): void; fetchAPI: { Response: typeof Response } };
  const answerAsset = async ({ request, url, endResponse, fetchAPI }: Args) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET, HEAD' } }));
      return;
    }
    const asset = (await page()).assets.get(url.pathname.slice(assetPath.length + 1));
    endResponse(
      asset
        ? respond(request, fetchAPI.Response, asset, { 'cache-control': IMMUTABLE, vary: 'Accept-Encoding' })
        : new fetchAPI.Response('Not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' } }),
    );
  };
  const answerShell = async ({ request, endResponse, fetchAPI }: Args) => {
    endResponse(respond(request, fetchAPI.Response, (await page()).shell, { 'cache-control': 'no-cache', vary: 'Accept, Accept-Encoding' }));
  };
  return {
    // Not async: every other request passes straight through, without a promise to wait on.
    onRequest(args: Args): Promise<void> | void {
      const { request, url } = args;
      if (url.pathname.startsWith(`${assetPath}/`)) return answerAsset(args);
      if (request.method !== 'GET' || !request.headers.get('accept')?.includes('text/html')) return;
      if (url.pathname !== endpoint && url.pathname !== `${endpoint}/`) return;
      return answerShell(args);
    },
  };
}
