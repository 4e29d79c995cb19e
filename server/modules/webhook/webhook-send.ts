import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolveSafeTarget, UnsafeUrlError } from './url-safety.ts';

/** What one attempt got: the receiver's status (none when it never answered) and a short excerpt. */
export interface AttemptResult {
  ok: boolean;
  status: number | null;
  excerpt: string;
}

/** No more of a receiver's answer is read or stored than this. */
export const EXCERPT_BYTES = 256;

/**
 * One POST of a signed body. The host is resolved and checked now (url-safety.ts) and the socket
 * connects to the checked address, so DNS cannot point the request elsewhere between check and
 * connect; TLS still verifies the certificate for the URL's host name. Redirects are not followed
 * (a 3xx is a failed attempt), and the attempt ends after `timeoutMs`.
 */
export async function sendWebhook(
  target: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; allowInsecure: boolean },
): Promise<AttemptResult> {
  let resolved;
  try {
    resolved = await resolveSafeTarget(target, options.allowInsecure);
  } catch (error) {
    if (error instanceof UnsafeUrlError) return { ok: false, status: null, excerpt: `refused: ${error.message}` };
    throw error;
  }
  const pinned: LookupFunction = (_host, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: resolved.address, family: resolved.family }]);
    else callback(null, resolved.address, resolved.family);
  };
  const send = resolved.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<AttemptResult>((resolve) => {
    const req = send(
      resolved.url,
      {
        method: 'POST',
        lookup: pinned,
        timeout: options.timeoutMs,
        headers: { 'content-type': 'application/json', 'user-agent': 'PromptGate-Webhooks/1', ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let length = 0;
        const finish = () => {
          const status = res.statusCode ?? null;
          const excerpt = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
          resolve({ ok: status !== null && status >= 200 && status < 300, status, excerpt });
        };
        res.on('data', (chunk: Buffer) => {
          if (length < EXCERPT_BYTES) chunks.push(chunk);
          length += chunk.length;
          // Enough read: the rest of a large answer is neither read nor kept.
          if (length >= EXCERPT_BYTES) {
            res.destroy();
            finish();
          }
        });
        res.on('end', finish);
        res.on('error', finish);
      },
    );
    const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', (error) => resolve({ ok: false, status: null, excerpt: error.message.slice(0, EXCERPT_BYTES) }));
    req.on('close', () => clearTimeout(deadline));
    req.end(body);
  });
}
