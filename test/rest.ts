import type { Harness } from './harness.ts';

/** An answer of the REST face: its status, headers and envelope. */
export interface RestAnswer {
  status: number;
  headers: Headers;
  body: {
    code: number;
    message: string;
    error: { code: string; reason?: string; field?: string; retryAfterSeconds?: number; requestId?: string } | null;
    results: Record<string, any> | null;
  };
}

export interface RestOptions {
  token?: string;
  /** application/json unless given; null sends none. */
  contentType?: string | null;
  /** Sent as is instead of the JSON of `body`. */
  raw?: string;
  method?: string;
  headers?: Record<string, string>;
}

/** Calls one of the /v1 endpoints of the app, as a Promptitude client would over HTTP. */
export async function rest(h: Pick<Harness, 'app'>, path: string, body?: unknown, options: RestOptions = {}): Promise<RestAnswer> {
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  const response = await h.app.fetch(`http://localhost${path}`, {
    method: options.method ?? 'POST',
    headers: {
      ...(contentType ? { 'content-type': contentType } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.method === 'GET' ? {} : { body: options.raw ?? JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as RestAnswer['body'] };
}
