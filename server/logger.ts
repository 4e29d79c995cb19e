import type { Config } from './config.ts';

export interface Logger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

const ORDER = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/**
 * A leveled console logger. It is given messages and errors, never requests or headers, so no
 * credential can reach a log line through it.
 */
export function createLogger(level: Config['logLevel']): Logger {
  const threshold = ORDER.indexOf(level);
  const at =
    (name: (typeof ORDER)[number], write: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      if (ORDER.indexOf(name) >= threshold) write(`[promptgate] ${name}:`, ...args);
    };
  return {
    debug: at('debug', console.debug),
    info: at('info', console.info),
    warn: at('warn', console.warn),
    error: at('error', console.error),
  };
}
