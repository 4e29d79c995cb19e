import { randomBytes } from 'node:crypto';
import { copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { inject } from 'vitest';
import type { DatabaseConfig } from '../server/config.ts';
import { openDatabase, type Orm } from '../server/db/orm.ts';
import { createLogger } from '../server/logger.ts';
import { createApp, type App, type AppOptions } from '../server/yoga.ts';
import { createScratchPostgres } from './postgres.ts';

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export interface RequestOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  headers?: Record<string, string>;
}

export interface Harness {
  app: App;
  orm: Orm;
  /** Which store this run uses: SQLite unless TEST_DATABASE_URL points at a PostgreSQL server. */
  dialect: DatabaseConfig['dialect'];
  /** Everything the server logged during the test file, for checks that no secret is logged. */
  logLines: string[];
  /** Posts one GraphQL operation to the app, as a client over HTTP would. */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, options?: RequestOptions): Promise<GraphQLResponse<T>>;
  /**
   * Posts one of the SDK's generated operations (sdk/__generated__/graphql.ts): its variables
   * and its data are typed. Ordinary operations go this way; hostile input stays a raw string.
   */
  op<TData, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: TVariables,
    options?: RequestOptions,
  ): Promise<GraphQLResponse<TData>>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  config?: Partial<AppOptions['config']>;
  rateLimiter?: AppOptions['rateLimiter'];
  /**
   * Start from an empty database and run every migration on it, instead of copying the database
   * that test/global-setup.ts migrated once for the whole run (for the tests of the migrations).
   */
  emptyDatabase?: boolean;
}

/**
 * The real app on a real, fresh database: a temporary SQLite file, or a new PostgreSQL database
 * named promptgate_test_<random> on the server at TEST_DATABASE_URL, dropped again by close().
 * The database is a copy of one migrated once per run (see test/global-setup.ts), and the app
 * still checks on start that no migration is pending, as it does in production.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  const template = options.emptyDatabase ? undefined : inject('databaseTemplate');
  let database: DatabaseConfig;
  let cleanup: () => Promise<void>;
  if (serverUrl) {
    const scratch = await createScratchPostgres(serverUrl, { template: template?.postgresDatabase });
    database = { dialect: 'postgresql', url: scratch.url };
    cleanup = () => scratch.drop();
  } else {
    const path = join(tmpdir(), `promptgate-test-${randomBytes(6).toString('hex')}.sqlite`);
    if (template?.sqlitePath) copyFileSync(template.sqlitePath, path);
    database = { dialect: 'sqlite', path };
    cleanup = async () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    };
  }
  const orm = await openDatabase(database);
  const logLines: string[] = [];
  // The server's own logger, its lines kept for the tests to read (and printed with TEST_LOG=1).
  const logger = createLogger('debug', (level, line) => {
    logLines.push(line);
    if (process.env.TEST_LOG) console[level](line);
  });
  const app = createApp({
    orm,
    config: { sessionTtlSeconds: 3600, modelTimeoutMs: 5000, ...options.config },
    logger,
    rateLimiter: options.rateLimiter,
  });

  const harness: Harness = {
    app,
    orm,
    dialect: database.dialect,
    logLines,
    op(document, variables, options) {
      return harness.gql(textOf(document), variables, options);
    },
    async gql(query, variables, options = {}) {
      const response = await app.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
      return { status: response.status, ...body } as GraphQLResponse<any>;
    },
    async close() {
      await orm.close(true);
      await cleanup();
    },
  };
  return harness;
}

const printed = new WeakMap<object, string>();

/** The text of a generated document, printed once. */
function textOf(document: TypedDocumentNode<any, any>): string {
  let text = printed.get(document);
  if (text === undefined) printed.set(document, (text = print(document)));
  return text;
}

/** The error code of the first error, or undefined when the operation succeeded. */
export function codeOf(response: GraphQLResponse): string | undefined {
  return response.errors?.[0]?.extensions?.code;
}

/** The data of a response that must have succeeded; fails the test with the errors otherwise. */
export function dataOf<T = Record<string, any>>(response: GraphQLResponse<T>): T {
  if (response.errors?.length || !response.data) {
    throw new Error(`expected success, got: ${JSON.stringify(response.errors ?? response)}`);
  }
  return response.data;
}
