import { createHash } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/core';
import type { AbstractSqlConnection } from '@mikro-orm/knex';
import { isPostgres } from './dialect.ts';

/**
 * Statements prepared once and reused, on both stores, for the few reads on the hot path of every
 * request (key verification, the access decision). MikroORM inlines parameters into the SQL text,
 * so every statement it sends is compiled (SQLite) or parsed and planned (PostgreSQL) anew; these
 * are compiled once per connection and then only bound and run.
 *
 * THE RULE: these reads run outside transactions. On PostgreSQL they run on a connection of the
 * ORM's pool that is not the request's transaction, so they cannot see its uncommitted writes; on
 * SQLite, while any transaction holds the only connection, they wait for it (through the pool) so
 * they never see another request's uncommitted writes — called from inside the caller's own
 * transaction that would wait forever. Writes and everything inside a transaction stay with the
 * entities and services.
 */

/** A statement declared once, at module level: a stable name and its SQL per dialect (`?` placeholders). */
export interface Statement {
  readonly name: string;
  readonly sqlite: string;
  readonly postgresql: string;
  /** PostgreSQL's statement name: the name plus a hash of the text, so a changed text never meets an old plan. */
  readonly pgName: string;
}

/**
 * Declares a statement. One SQL text serves both stores unless a dialect needs its own; `?`
 * placeholders become `$1, $2, …` on PostgreSQL.
 */
export function statement(name: string, sql: string | { sqlite: string; postgresql: string }): Statement {
  const sqlite = typeof sql === 'string' ? sql : sql.sqlite;
  const postgresql = toNumberedPlaceholders(typeof sql === 'string' ? sql : sql.postgresql);
  const hash = createHash('sha256').update(postgresql).digest('hex').slice(0, 10);
  // PostgreSQL truncates identifiers at 63 bytes.
  return { name, sqlite, postgresql, pgName: `pg_${name.slice(0, 40)}_${hash}` };
}

const built = new Map<string, Statement>();

/**
 * A statement whose text is put together at run time from a few shapes (a page with or without a
 * cursor, with or without a search): each distinct text is declared once and reused, like the
 * module-level ones. The shapes must be few: the text never carries a value, only placeholders.
 */
export function statementFor(name: string, sql: string): Statement {
  let found = built.get(sql);
  if (!found) built.set(sql, (found = statement(name, sql)));
  return found;
}

/** `?` outside string literals → `$n`. */
function toNumberedPlaceholders(sql: string): string {
  let n = 0;
  let inString = false;
  let out = '';
  for (const char of sql) {
    if (char === "'") inString = !inString;
    out += char === '?' && !inString ? `$${++n}` : char;
  }
  return out;
}

export type Row = Record<string, unknown>;

/** What a prepared statement was asked to do, for whoever counts statements (tests, the bench). */
export type StatementListener = (name: string) => void;

export interface PreparedDb {
  /** The first row, or undefined. */
  get<T extends Row = Row>(statement: Statement, params: readonly unknown[]): Promise<T | undefined>;
  all<T extends Row = Row>(statement: Statement, params: readonly unknown[]): Promise<T[]>;
  /** Runs a statement that returns no rows; resolves to the number of rows changed. */
  run(statement: Statement, params: readonly unknown[]): Promise<number>;
  /** Calls `listener` for every statement sent; returns the function that stops it. */
  onStatement(listener: StatementListener): () => void;
}

// --- better-sqlite3 -------------------------------------------------------------------------------

interface SqliteStatement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  readonly inTransaction: boolean;
}

interface KnexClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
}

/** better-sqlite3 binds neither Date nor boolean: store them as MikroORM does (epoch ms, 0/1). */
function sqliteParam(value: unknown): unknown {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

class SqlitePrepared {
  private readonly cache = new Map<string, SqliteStatement>();
  constructor(
    private readonly client: KnexClient,
    private readonly db: SqliteDatabase,
  ) {}

  private prepared(statement: Statement): SqliteStatement {
    // By text: the statements of statementFor share a name across their shapes.
    let prepared = this.cache.get(statement.sqlite);
    if (!prepared) {
      prepared = this.db.prepare(statement.sqlite);
      this.cache.set(statement.sqlite, prepared);
    }
    return prepared;
  }

  /**
   * Runs synchronously on the ORM's own connection. While a transaction holds it (the pool has
   * one connection), waits for the pool instead, so an uncommitted write is never read.
   */
  async exec<T>(statement: Statement, params: readonly unknown[], use: (s: SqliteStatement, p: unknown[]) => T): Promise<T> {
    const bound = params.map(sqliteParam);
    if (!this.db.inTransaction) return use(this.prepared(statement), bound);
    const connection = await this.client.acquireConnection();
    try {
      return use(this.prepared(statement), bound);
    } finally {
      await this.client.releaseConnection(connection);
    }
  }
}

// --- PostgreSQL (pg) ------------------------------------------------------------------------------

interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Row[]; rowCount: number | null }>;
}

class PostgresPrepared {
  constructor(private readonly client: KnexClient) {}

  /**
   * A named statement on a connection of the ORM's pool: node-postgres remembers per connection
   * which names it has parsed, so each connection parses each statement once.
   */
  async exec(statement: Statement, params: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number | null }> {
    const connection = (await this.client.acquireConnection()) as PgClient;
    try {
      return await connection.query({ name: statement.pgName, text: statement.postgresql, values: params as unknown[] });
    } finally {
      await this.client.releaseConnection(connection);
    }
  }
}

// --- one interface --------------------------------------------------------------------------------

async function open(em: EntityManager): Promise<PreparedDb> {
  const knex = (em.getConnection() as unknown as AbstractSqlConnection).getKnex();
  const client = knex.client as unknown as KnexClient;
  const listeners = new Set<StatementListener>();
  const told = (name: string) => {
    for (const listener of listeners) listener(name);
  };
  const onStatement = (listener: StatementListener) => {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  };

  if (isPostgres(em)) {
    const pg = new PostgresPrepared(client);
    return {
      async get<T extends Row>(s: Statement, params: readonly unknown[]) {
        told(s.name);
        return (await pg.exec(s, params)).rows[0] as T | undefined;
      },
      async all<T extends Row>(s: Statement, params: readonly unknown[]) {
        told(s.name);
        return (await pg.exec(s, params)).rows as T[];
      },
      async run(s: Statement, params: readonly unknown[]) {
        told(s.name);
        return (await pg.exec(s, params)).rowCount ?? 0;
      },
      onStatement,
    };
  }

  // The Database handle lives as long as the pool's only connection: take it once and give the
  // connection straight back. A second handle on the file would not see `:memory:` databases and
  // would not see the ORM's writes inside a transaction.
  const connection = await client.acquireConnection();
  await client.releaseConnection(connection);
  const sqlite = new SqlitePrepared(client, connection as SqliteDatabase);
  return {
    get<T extends Row>(s: Statement, params: readonly unknown[]) {
      told(s.name);
      return sqlite.exec(s, params, (st, p) => st.get(...p) as T | undefined);
    },
    all<T extends Row>(s: Statement, params: readonly unknown[]) {
      told(s.name);
      return sqlite.exec(s, params, (st, p) => st.all(...p) as T[]);
    },
    run(s: Statement, params: readonly unknown[]) {
      told(s.name);
      return sqlite.exec(s, params, (st, p) => st.run(...p).changes);
    },
    onStatement,
  };
}

// One per ORM (its driver is shared by every forked EntityManager).
const opened = new WeakMap<object, Promise<PreparedDb>>();

/** The prepared-statement runner of the ORM behind `em` (or the ORM itself), opened on first use. */
export function preparedDb(from: EntityManager | MikroORM): Promise<PreparedDb> {
  const em = 'fork' in from ? from : from.em;
  const driver = em.getDriver();
  let db = opened.get(driver);
  if (!db) {
    db = open(em);
    opened.set(driver, db);
  }
  return db;
}
