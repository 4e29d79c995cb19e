import { inspect } from 'node:util';
import { DriverException } from '@mikro-orm/core';
import { pino, type Logger as PinoLogger } from 'pino';
import { redactCredentials } from './http/redact.ts';
import type { Config } from './config.ts';

/**
 * The server's logger: pino, one JSON object per line on stdout (short text lines when stdout is a
 * terminal). Code calls it with a message and, optionally, an error or details:
 * `logger.warn('could not record lastUsedAt', error)`. It is given messages, errors and ids, never
 * requests or headers; anything shaped like a credential is redacted from every line it writes.
 */
export interface Logger {
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
  /** A logger whose every line also carries these fields (a request id, say). */
  child(fields: Record<string, unknown>): Logger;
  /** Writes one line of the given fields, as they are: for the per-request line. */
  line(level: Level, fields: Record<string, unknown>, message: string): void;
  /** Whether lines of this level are written: a caller can skip building one that would not be. */
  enabled(level: Level): boolean;
}

export type Level = 'debug' | 'info' | 'warn' | 'error';
/** Where log lines go in tests: each JSON line with its level. */
export type LogSink = (level: Level, line: string) => void;

const levelOf = (label: unknown): Level => (label === 'debug' || label === 'info' || label === 'warn' ? label : label === 'trace' ? 'debug' : 'error');

/**
 * Fields that could hold a credential, should one ever be logged as an object: replaced whatever
 * their value. Messages and error text are redacted by shape as well (http/redact.ts).
 */
const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  '*.authorization',
  '*.headers.authorization',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'apiKey',
  'openai.apiKey',
];

/**
 * An error as log fields. A database error's message is the whole statement with its values (a
 * password hash, a run's inputs) followed by " - " and the database's reason: only the reason is
 * kept, with any quoted literal in it blanked. An error with no statement (a connection refused,
 * a database that does not exist) is its reason whole.
 */
export function errorFields(error: Error): Record<string, unknown> {
  if (error instanceof DriverException) {
    const cut = error.message.lastIndexOf(' - ');
    const reason = (cut < 0 ? error.message : error.message.slice(cut + 3)).replace(/'(?:[^']|'')*'/g, "'…'");
    const frames = (error.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at '));
    return { type: error.name, code: error.code, sqlState: error.sqlState, message: reason, stack: frames.join('\n') };
  }
  const cause = (error as { originalError?: unknown }).originalError;
  // A GraphQL error wrapping a database error: describe the cause, never the wrapper's message.
  if (cause instanceof DriverException) return { type: error.name, message: 'caused by a database error', cause: errorFields(cause) };
  return { type: error.name, message: error.message, stack: error.stack };
}

const asText = (value: unknown) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)));

function wrap(log: PinoLogger): Logger {
  const at =
    (level: Level) =>
    (message: string, ...details: unknown[]) => {
      if (!log.isLevelEnabled(level)) return;
      const error = details.find((d): d is Error => d instanceof Error);
      const text = [message, ...details.filter((d) => d !== error).map(asText)].join(' ');
      if (error) log[level]({ err: errorFields(error) }, text);
      else log[level](text);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => lazyChild(log, fields),
    line: (level, fields, message) => log[level](fields, message),
    enabled: (level) => log.isLevelEnabled(level),
  };
}

/**
 * A child logger made when it first writes: every request has one (its lines carry the request
 * id), and most requests write no line but their own at info, or none at all.
 */
function lazyChild(parent: PinoLogger, fields: Record<string, unknown>): Logger {
  let made: Logger | undefined;
  const child = () => (made ??= wrap(parent.child(fields)));
  return {
    debug: (message, ...details) => child().debug(message, ...details),
    info: (message, ...details) => child().info(message, ...details),
    warn: (message, ...details) => child().warn(message, ...details),
    error: (message, ...details) => child().error(message, ...details),
    child: (more) => child().child(more),
    line: (level, lineFields, message) => {
      if (parent.isLevelEnabled(level)) child().line(level, lineFields, message);
    },
    enabled: (level) => parent.isLevelEnabled(level),
  };
}

/** A password in a connection URL (postgres://user:password@host, as a driver error may quote it): blanked. */
export function redactUrlPasswords(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"]*:)[^\s@"/]+@/gi, '$1[redacted]@');
}

/** A JSON line as a short line for a person at a terminal: time, level, message, other fields. */
function forTerminal(line: string): string {
  try {
    const { level, time, msg, pid: _pid, hostname: _host, err, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const fields = Object.entries(rest).map(([k, v]) => `${k}=${asText(v)}`).join(' ');
    const clock = new Date(Number(time)).toISOString().slice(11, 23);
    const error = err ? `\n  ${(err as { type?: string }).type}: ${(err as { message?: string }).message}${(err as { stack?: string }).stack ? `\n${(err as { stack: string }).stack}` : ''}` : '';
    return `${clock} ${String(level)} ${msg ?? ''}${fields ? `  ${fields}` : ''}${error}\n`;
  } catch {
    return line;
  }
}

/**
 * The logger at the given level. Lines go to stdout (as text on a terminal, unless LOG_FORMAT=json),
 * or, in tests, to `sink`.
 */
export function createLogger(level: Config['logLevel'], sink?: LogSink): Logger {
  const pretty = !sink && process.stdout.isTTY && process.env.LOG_FORMAT !== 'json';
  const destination = {
    write(line: string) {
      const safe = redactUrlPasswords(redactCredentials(line));
      if (sink) sink(levelOf(/"level":"(\w+)"/.exec(safe)?.[1]), safe.trimEnd());
      else process.stdout.write(pretty ? forTerminal(safe) : safe);
    },
  };
  const log = pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // "level":"warn" rather than pino's 40: readable in any log system without a mapping.
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return wrap(log);
}

/**
 * Sends what libraries print with console.* (knex's pool warnings, the pg driver, MikroORM) through
 * the logger: JSON lines with the same redaction as the rest, not stray text between them. An
 * error among the arguments keeps its fields (errorFields: a database error's reason, no statement).
 * For the server process only: a CLI keeps its console.
 */
export function routeConsole(logger: Logger): void {
  const route =
    (level: Level) =>
    (...args: unknown[]) => {
      const error = args.find((a): a is Error => a instanceof Error);
      const text = args.filter((a) => a !== error).map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 3, breakLength: Infinity }))).join(' ');
      if (error) logger.child({ from: 'console' })[level](text || 'error', error);
      else logger.child({ from: 'console' })[level](text);
    };
  console.log = route('info');
  console.info = route('info');
  console.debug = route('debug');
  console.warn = route('warn');
  console.error = route('error');
}
