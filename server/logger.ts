import { DriverException } from '@mikro-orm/core';
import { redactCredentials } from './http/redact.ts';
import type { Config } from './config.ts';

export interface Logger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

type Level = 'debug' | 'info' | 'warn' | 'error';
/** Where log lines go: the console, or (in tests) a list that keeps them. */
export type LogSink = (level: Level, line: string) => void;

const ORDER = ['debug', 'info', 'warn', 'error', 'silent'] as const;

const consoleSink: LogSink = (level, line) => console[level](line);

/**
 * An error as log text. A database error's message is the whole statement with its values (a
 * password hash, a run's inputs) followed by the database's reason: only the reason is kept, with
 * any quoted literal in it blanked, plus the error's kind, codes and stack frames.
 */
function errorText(error: Error): string {
  if (error instanceof DriverException) {
    const reason = error.message.slice(error.message.lastIndexOf(' - ') + 3).replace(/'(?:[^']|'')*'/g, "'…'");
    const frames = (error.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at '));
    return [`${error.name} (code ${error.code ?? '-'}, sqlState ${error.sqlState ?? '-'}): ${reason}`, ...frames].join('\n');
  }
  const cause = (error as { originalError?: unknown }).originalError;
  // A GraphQL error wrapping a database error: describe the cause, never its message.
  if (cause instanceof DriverException) return `${error.name}: caused by ${errorText(cause)}`;
  return error.stack ?? `${error.name}: ${error.message}`;
}

/** A log argument as text, errors with their stack, any credential-shaped string redacted. */
function toText(value: unknown): string {
  const text = value instanceof Error ? errorText(value) : typeof value === 'string' ? value : JSON.stringify(value);
  return redactCredentials(text ?? String(value));
}

/**
 * A leveled logger. It is given messages and errors, never requests or headers, and it redacts
 * anything shaped like a credential, so no secret reaches a log line through it.
 */
export function createLogger(level: Config['logLevel'], sink: LogSink = consoleSink): Logger {
  const threshold = ORDER.indexOf(level);
  const at =
    (name: Level) =>
    (...args: unknown[]) => {
      if (ORDER.indexOf(name) >= threshold) sink(name, `[promptgate] ${name}: ${args.map(toText).join(' ')}`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
