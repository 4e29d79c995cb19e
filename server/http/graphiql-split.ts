import { createHash } from 'node:crypto';

/**
 * Splits GraphiQL's self-contained page (~9 MB: @graphql-yoga/render-graphiql inlines every script,
 * style and its icon) into a small HTML shell and the files it inlined, each named by its content's
 * hash so a browser may keep it for a year: a deploy that changes a file changes its name. The
 * shell keeps each tag's attributes and the scripts' order, so the page runs as it did.
 */
export interface PageAsset {
  /** `<sha256 hex prefix>.<ext>`, e.g. `3f2a9c0b1d4e5f60.js`. */
  name: string;
  contentType: string;
  bytes: Uint8Array;
}

export interface SplitPage {
  shell: string;
  assets: PageAsset[];
}

// The HTML parser ends an inline script or style at the first `</script` or `</style`, so a lazy
// match finds the same end the browser does.
const INLINE_TAG = /<(script|style)\b([^>]*)>([\s\S]*?)<\/\1\s*>/gi;
// The favicon, as a base64 data URL in the head (~150 KB of the page).
const DATA_URL_HREF = /\bhref="data:(image\/[\w.+-]+);base64,([A-Za-z0-9+/=]+)"/gi;
// Script types a browser runs from a file; JSON, import maps and templates stay inline.
const RUNNABLE_SCRIPT_TYPE = /^(|module|text\/javascript|application\/javascript)$/i;
const IMAGE_EXTENSIONS: Record<string, string> = { 'image/x-icon': 'ico', 'image/vnd.microsoft.icon': 'ico', 'image/png': 'png', 'image/svg+xml': 'svg' };

function typeOf(attributes: string): string {
  return /\btype\s*=\s*["']?([^"'\s>]+)/i.exec(attributes)?.[1] ?? '';
}

export function splitPage(html: string, assetPath: string): SplitPage {
  const assets = new Map<string, PageAsset>();
  const add = (bytes: Uint8Array, ext: string, contentType: string): string => {
    const name = `${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.${ext}`;
    assets.set(name, { name, contentType, bytes });
    return `${assetPath}/${name}`;
  };
  const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

  const shell = html
    .replace(INLINE_TAG, (tag: string, kind: string, attributes: string, body: string) => {
      if (body.trim() === '') return tag;
      if (kind.toLowerCase() === 'style') {
        return `<link rel="stylesheet" href="${add(utf8(body), 'css', 'text/css; charset=utf-8')}"${attributes}>`;
      }
      if (/\bsrc\s*=/i.test(attributes) || !RUNNABLE_SCRIPT_TYPE.test(typeOf(attributes))) return tag;
      return `<script${attributes} src="${add(utf8(body), 'js', 'text/javascript; charset=utf-8')}"></script>`;
    })
    .replace(DATA_URL_HREF, (attribute: string, mime: string, base64: string) => {
      const ext = IMAGE_EXTENSIONS[mime.toLowerCase()];
      return ext ? `href="${add(new Uint8Array(Buffer.from(base64, 'base64')), ext, mime)}"` : attribute;
    });
  return { shell, assets: [...assets.values()] };
}
