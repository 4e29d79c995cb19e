import { createHash } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/core';
import type { AbstractSqlConnection } from '@mikro-orm/knex';
import { isPostgres } from './dialect.ts';

/**
 * Statements prepared once and reused, on both stores, for the hot path of every request: the
 * reads of key verification and the access decision, and the write of a finished in-process run.
 * MikroORM inlines parameters into the SQL text, so every statement it sends is compiled (SQLite)
 * or parsed and planned (PostgreSQL) anew; these are compiled once per connection and then only
 * bound and run.
 *
 * THE RULE: these statements run outside transactions of the ORM, each read on its own and each
 * `transaction` of writes committed whole before it resolves (on SQLite possibly in one commit
 * with others asked for at the same moment, never half of one). On PostgreSQL they
 * run on a connection of the ORM's pool that is not the request's transaction, so a read cannot
 * see that transaction's uncommitted writes and a write does not join it; on SQLite, while any
 * transaction holds the only connection, they wait for it (through the pool) so a read never sees
 * another request's uncommitted writes and a write never lands inside another request's
 * transaction — called from inside the caller's own ORM transaction either would wait forever.
 * Everything that must share a transaction with the entities (audit rows, the outbox) stays with
 * the entities and services.
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

/**
 * `limit N` for a page's statement, the size written into the text instead of bound: SQLite plans
 * `order by … limit 21` as a sort that keeps 21 rows but `limit ?` as a sort of every row, which
 * measured twice the Integrate tab's statement. Only a checked page size (1 to `max`) is written,
 * so a statement has few shapes, each prepared once.
 */
export function limitClause(limit: number, max: number): string {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new Error(`${limit} is not a page size (1 to ${max})`);
  return `limit ${limit}`;
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

/** One statement of a `transaction`, with its parameters. */
export interface Write {
  readonly statement: Statement;
  readonly params: readonly unknown[];
}

/** What a prepared statement was asked to do, for whoever counts statements (tests, the bench). */
export type StatementListener = (name: string) => void;

export interface PreparedDb {
  /** The first row, or undefined. */
  get<T extends Row = Row>(statement: Statement, params: readonly unknown[]): Promise<T | undefined>;
  all<T extends Row = Row>(statement: Statement, params: readonly unknown[]): Promise<T[]>;
  /** Runs a statement that returns no rows; resolves to the number of rows changed. */
  run(statement: Statement, params: readonly unknown[]): Promise<number>;
  /**
   * Runs the writes in order as one transaction, committed when it resolves: all of them or none.
   * On SQLite a synchronous transaction on the ORM's connection, so no other request's statement
   * can come between them, shared with the other transactions asked for in the same turn of the
   * event loop (group commit, see SqlitePrepared.transaction); on PostgreSQL a single write runs
   * alone (one statement is a transaction of its own: write several rows with one data-modifying
   * statement where you can), several between BEGIN and COMMIT on one connection of the pool.
   */
  transaction(writes: readonly Write[]): Promise<void>;
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
  /** better-sqlite3's transaction: a function that runs `fn` between BEGIN and COMMIT (ROLLBACK if it throws). */
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
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

/** A `transaction` waiting for the next group commit (SQLite). */
interface QueuedWrites {
  readonly writes: readonly Write[];
  resolve(): void;
  reject(error: unknown): void;
}

class SqlitePrepared {
  private readonly cache = new Map<string, SqliteStatement>();
  /** The transactions asked for since the last group commit. */
  private queue: QueuedWrites[] = [];
  /** One SQLite transaction over the writes of several `transaction`s; made once per connection. */
  private readonly writeTogether: (units: readonly QueuedWrites[]) => void;

  constructor(
    private readonly client: KnexClient,
    private readonly db: SqliteDatabase,
  ) {
    this.writeTogether = db.transaction((units: readonly QueuedWrites[]) => {
      for (const unit of units) {
        for (const write of unit.writes) this.prepared(write.statement).run(...write.params.map(sqliteParam));
      }
    });
  }

  /**
   * Group commit: the transactions asked for during one turn of the event loop are written at its
   * end (setImmediate) in ONE SQLite transaction, so concurrent requests share its commit (the WAL
   * write and sync), most of what a small transaction costs: measured ~120 µs of CPU per commit
   * against ~20 µs per insert of a run. Each caller's promise resolves once that commit is done;
   * nothing else runs on the connection in between (it is all synchronous). No savepoint per
   * caller (each cost ~50 µs): when the shared transaction fails, each caller's is tried again
   * alone, so only one that fails by itself fails.
   */
  transaction(writes: readonly Write[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ writes, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => void this.commitQueued());
    });
  }

  private async commitQueued(): Promise<void> {
    const units = this.queue;
    this.queue = [];
    try {
      await this.outsideTransactions(() => {
        try {
          this.writeTogether(units);
          for (const unit of units) unit.resolve();
        } catch (error) {
          // Rolled back as a whole: each alone, so the others still commit.
          if (units.length === 1) throw error;
          for (const unit of units) {
            try {
              this.writeTogether([unit]);
              unit.resolve();
            } catch (alone) {
              unit.reject(alone);
            }
          }
        }
      });
    } catch (error) {
      for (const unit of units) unit.reject(error);
    }
  }

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
  exec<T>(statement: Statement, params: readonly unknown[], use: (s: SqliteStatement, p: unknown[]) => T): Promise<T> {
    const bound = params.map(sqliteParam);
    return this.outsideTransactions(() => use(this.prepared(statement), bound));
  }

  /**
   * Runs `work` (synchronous) at once when no transaction holds the connection, else once the
   * pool gives the connection back, i.e. after that transaction ended. Being synchronous, nothing
   * else runs on the connection while it does.
   */
  async outsideTransactions<T>(work: () => T): Promise<T> {
    if (!this.db.inTransaction) return work();
    const connection = await this.client.acquireConnection();
    try {
      return work();
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

  /** The writes between BEGIN and COMMIT on one connection of the pool (ROLLBACK on a failure). */
  async transaction(writes: readonly Write[]): Promise<void> {
    const connection = (await this.client.acquireConnection()) as PgClient & { query(sql: string): Promise<unknown> };
    try {
      await connection.query('begin');
      try {
        for (const write of writes) await connection.query({ name: write.statement.pgName, text: write.statement.postgresql, values: write.params as unknown[] });
        await connection.query('commit');
      } catch (error) {
        await connection.query('rollback').catch(() => undefined);
        throw error;
      }
    } finally {
      await this.client.releaseConnection(connection);
    }
  }

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
      async transaction(writes: readonly Write[]) {
        for (const write of writes) told(write.statement.name);
        if (writes.length === 1) await pg.exec(writes[0]!.statement, writes[0]!.params);
        else if (writes.length > 1) await pg.transaction(writes);
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
    transaction(writes: readonly Write[]) {
      for (const write of writes) told(write.statement.name);
      return sqlite.transaction(writes);
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
