import { DEFAULT_QUERY_COST_LIMITS, type QueryCostLimits } from './graphql/query-cost.ts';
import { parseCidr } from './http/client-address.ts';
import { parseCorsOrigins } from './http/cors.ts';

/**
 * Server configuration, read once from the environment. Everything has a default that works on a
 * fresh clone: port 4000 and an embedded SQLite file under ./data.
 */
export type DatabaseConfig =
  | { dialect: 'sqlite'; path: string }
  | { dialect: 'postgresql'; url: string };

export interface Config {
  port: number;
  database: DatabaseConfig;
  /** How long a session token from signUp / logIn stays valid. */
  sessionTtlSeconds: number;
  /** Seed the demo organization when the embedded database is new (never on PostgreSQL). */
  seedEmbeddedDemo: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** OpenAI-compatible endpoint for `openai:<model>` prompts; absent without OPENAI_API_KEY. */
  openai?: { baseURL: string; apiKey: string; timeoutMs: number };
  /** How long one model call may take before its run ends FAILED. */
  modelTimeoutMs: number;
  /** Requests per API key per minute (0: no limit), shared through Redis when redisUrl is set. */
  rateLimit: { perMinute: number; redisUrl?: string };
  /** What one run may cost: see RunLimits. */
  runLimits: RunLimits;
  /** Failed sign-ins allowed per account and per client address in each window. */
  signInThrottle: SignInThrottleConfig;
  /** The most one request may cost, per kind of caller (graphql/query-cost.ts says how it is counted). */
  queryCost: QueryCostLimits;
  /** Origins whose pages may call the API from a browser (CORS_ORIGINS); none when empty. */
  corsOrigins: string[];
  /**
   * Prometheus metrics: `/metrics` on the API's port behind `Authorization: Bearer <token>`
   * (METRICS_TOKEN), and/or on a port of their own (METRICS_PORT, meant to be reachable only from
   * inside: a token is asked there too when both are set). Neither: no metrics are served.
   */
  metrics: { token?: string; port?: number };
  /**
   * The reverse proxies (CIDRs, TRUST_PROXY) whose X-Forwarded-For is believed for a key's
   * allowedCidrs (http/client-address.ts); empty: the socket's peer address is the client.
   */
  trustProxy: string[];
  /** Signed webhooks: the delivery worker and what a webhook URL may be (see WebhookConfig). */
  webhooks: WebhookConfig;
}

export interface WebhookConfig {
  /** WEBHOOKS_ALLOW_INSECURE=true: http and private, loopback or metadata addresses allowed (development, tests). */
  allowInsecure: boolean;
  /**
   * WEBHOOK_SECRET_KEY: encrypts the webhooks' signing secrets at rest. Every replica needs the
   * same one. Unset: a random key generated once into data/webhook-secret.key (index.ts).
   */
  secretKey?: string;
  /** How often each replica's worker looks for due deliveries (WEBHOOK_POLL_MS). */
  pollMs: number;
  /** How often it looks for keys about to expire or just expired (WEBHOOK_EXPIRY_SCAN_MS). */
  expiryScanMs: number;
  /** How long one attempt may take (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** The first retry's delay, doubled on each later one up to an hour (WEBHOOK_RETRY_BASE_MS). */
  retryBaseMs: number;
  /** How long a delivery is retried before it ends FAILED (WEBHOOK_RETRY_FOR_MS; 24 hours). */
  retryForMs: number;
}

export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = {
  allowInsecure: false,
  pollMs: 1000,
  expiryScanMs: 60_000,
  timeoutMs: 10_000,
  retryBaseMs: 10_000,
  retryForMs: 24 * 3600_000,
};

/**
 * Bounds on one run, so that no request can make the server build, send or store more than this
 * (a prompt of `{{x}}` 20,000 times in a two-step flow once rendered 400 MB).
 */
export interface RunLimits {
  /** The largest rendered prompt sent to a model, in UTF-8 bytes. */
  maxRenderedBytes: number;
  /** The largest answer kept from a model, per step (and so for a flow's result), in UTF-8 bytes. */
  maxResultBytes: number;
  /** `max_tokens` asked of a model: prompts carry no setting of their own. */
  maxCompletionTokens: number;
}

export const DEFAULT_RUN_LIMITS: RunLimits = { maxRenderedBytes: 100 * 1024, maxResultBytes: 256 * 1024, maxCompletionTokens: 4096 };

export interface SignInThrottleConfig {
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  windowSeconds: number;
  /** Shared between replicas when set. */
  redisUrl?: string;
  /**
   * A header the reverse proxy in front sets to the client's address (e.g. x-forwarded-for; its
   * last entry is used, the one the proxy added). Unset, the connection's peer address is used.
   */
  clientAddressHeader?: string;
}

export const DEFAULT_SIGN_IN_THROTTLE: SignInThrottleConfig = { maxFailuresPerAccount: 10, maxFailuresPerAddress: 100, windowSeconds: 900 };

export const DEFAULT_SQLITE_PATH = './data/promptgate.sqlite';

export class ConfigError extends Error {}

/** Parses DATABASE_URL: `sqlite:PATH` (or `sqlite::memory:`), `postgres://…` or `postgresql://…`. */
export function parseDatabaseUrl(url: string | undefined): DatabaseConfig {
  if (!url) return { dialect: 'sqlite', path: DEFAULT_SQLITE_PATH };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!path) throw new ConfigError('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:./data/promptgate.sqlite');
    return { dialect: 'sqlite', path };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return { dialect: 'postgresql', url };
  }
  throw new ConfigError(
    'DATABASE_URL must start with sqlite:, postgres:// or postgresql:// (the value is not shown because it may hold a password)',
  );
}

function parsePort(value: string | undefined, name = 'PORT'): number {
  if (value === undefined || value === '') return 4000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${name} must be a whole number from 0 to 65535, not "${value}"`);
  }
  return port;
}

function parsePositiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive whole number, not "${value}"`);
  return n;
}

function parseMetrics(env: NodeJS.ProcessEnv): Config['metrics'] {
  const token = env.METRICS_TOKEN || undefined;
  if (token !== undefined && token.length < 16) throw new ConfigError('METRICS_TOKEN must be at least 16 characters (the value is not shown)');
  if (token !== undefined && /\s/.test(token)) throw new ConfigError('METRICS_TOKEN must not contain spaces (the value is not shown)');
  const port = env.METRICS_PORT ? parsePort(env.METRICS_PORT, 'METRICS_PORT') : undefined;
  return { ...(token ? { token } : {}), ...(port !== undefined ? { port } : {}) };
}

/** TRUST_PROXY: comma-separated CIDRs (or single addresses) of the proxies in front. */
export function parseTrustProxy(value: string | undefined): string[] {
  const cidrs = (value ?? '').split(',').map((part) => part.trim()).filter(Boolean);
  const bad = cidrs.find((cidr) => !parseCidr(cidr));
  if (bad !== undefined) throw new ConfigError(`TRUST_PROXY must list CIDRs or addresses separated by commas (e.g. 10.0.0.0/8,::1); "${bad}" is not one`);
  return cidrs;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = (env.LOG_LEVEL ?? 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const modelTimeoutMs = parsePositiveInt('MODEL_TIMEOUT_MS', env.MODEL_TIMEOUT_MS, 30_000);
  return {
    modelTimeoutMs,
    openai: env.OPENAI_API_KEY
      ? { baseURL: env.OPENAI_BASE_URL || 'https://api.openai.com/v1', apiKey: env.OPENAI_API_KEY, timeoutMs: modelTimeoutMs }
      : undefined,
    rateLimit: {
      perMinute: env.KEY_RATE_LIMIT_PER_MINUTE === '0' ? 0 : parsePositiveInt('KEY_RATE_LIMIT_PER_MINUTE', env.KEY_RATE_LIMIT_PER_MINUTE, 600),
      redisUrl: env.REDIS_URL || undefined,
    },
    runLimits: {
      maxRenderedBytes: parsePositiveInt('RUN_MAX_RENDERED_BYTES', env.RUN_MAX_RENDERED_BYTES, DEFAULT_RUN_LIMITS.maxRenderedBytes),
      maxResultBytes: parsePositiveInt('RUN_MAX_RESULT_BYTES', env.RUN_MAX_RESULT_BYTES, DEFAULT_RUN_LIMITS.maxResultBytes),
      maxCompletionTokens: parsePositiveInt('MODEL_MAX_TOKENS', env.MODEL_MAX_TOKENS, DEFAULT_RUN_LIMITS.maxCompletionTokens),
    },
    signInThrottle: {
      maxFailuresPerAccount: parsePositiveInt('SIGN_IN_MAX_FAILURES_PER_ACCOUNT', env.SIGN_IN_MAX_FAILURES_PER_ACCOUNT, DEFAULT_SIGN_IN_THROTTLE.maxFailuresPerAccount),
      maxFailuresPerAddress: parsePositiveInt('SIGN_IN_MAX_FAILURES_PER_ADDRESS', env.SIGN_IN_MAX_FAILURES_PER_ADDRESS, DEFAULT_SIGN_IN_THROTTLE.maxFailuresPerAddress),
      windowSeconds: parsePositiveInt('SIGN_IN_WINDOW_SECONDS', env.SIGN_IN_WINDOW_SECONDS, DEFAULT_SIGN_IN_THROTTLE.windowSeconds),
      redisUrl: env.REDIS_URL || undefined,
      clientAddressHeader: env.CLIENT_ADDRESS_HEADER?.toLowerCase() || undefined,
    },
    queryCost: {
      anonymous: parsePositiveInt('QUERY_MAX_COST_ANONYMOUS', env.QUERY_MAX_COST_ANONYMOUS, DEFAULT_QUERY_COST_LIMITS.anonymous),
      apiKey: parsePositiveInt('QUERY_MAX_COST_API_KEY', env.QUERY_MAX_COST_API_KEY, DEFAULT_QUERY_COST_LIMITS.apiKey),
      user: parsePositiveInt('QUERY_MAX_COST_USER', env.QUERY_MAX_COST_USER, DEFAULT_QUERY_COST_LIMITS.user),
    },
    port: parsePort(env.PORT),
    database: parseDatabaseUrl(env.DATABASE_URL),
    sessionTtlSeconds: parsePositiveInt('SESSION_TTL_SECONDS', env.SESSION_TTL_SECONDS, 30 * 24 * 3600),
    seedEmbeddedDemo: env.PROMPTGATE_SEED_DEMO !== 'false',
    corsOrigins: parseCorsOrigins(env.CORS_ORIGINS),
    metrics: parseMetrics(env),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    webhooks: {
      allowInsecure: env.WEBHOOKS_ALLOW_INSECURE === 'true',
      secretKey: env.WEBHOOK_SECRET_KEY || undefined,
      pollMs: parsePositiveInt('WEBHOOK_POLL_MS', env.WEBHOOK_POLL_MS, DEFAULT_WEBHOOK_CONFIG.pollMs),
      expiryScanMs: parsePositiveInt('WEBHOOK_EXPIRY_SCAN_MS', env.WEBHOOK_EXPIRY_SCAN_MS, DEFAULT_WEBHOOK_CONFIG.expiryScanMs),
      timeoutMs: parsePositiveInt('WEBHOOK_TIMEOUT_MS', env.WEBHOOK_TIMEOUT_MS, DEFAULT_WEBHOOK_CONFIG.timeoutMs),
      retryBaseMs: parsePositiveInt('WEBHOOK_RETRY_BASE_MS', env.WEBHOOK_RETRY_BASE_MS, DEFAULT_WEBHOOK_CONFIG.retryBaseMs),
      retryForMs: parsePositiveInt('WEBHOOK_RETRY_FOR_MS', env.WEBHOOK_RETRY_FOR_MS, DEFAULT_WEBHOOK_CONFIG.retryForMs),
    },
    logLevel,
  };
}
