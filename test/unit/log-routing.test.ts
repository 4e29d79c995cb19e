/**
 * What libraries print (knex's pool, the pg driver) reaches the log as pino JSON lines with the
 * same redaction as the server's own lines: credentials and connection-URL passwords blanked, a
 * database error reduced to its reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DriverException } from '@mikro-orm/core';
import { createLogger, redactUrlPasswords, routeConsole, type Level } from '../../server/logger.ts';
import { generateCredential } from '../../server/auth/credentials.ts';

const saved = { log: console.log, info: console.info, debug: console.debug, warn: console.warn, error: console.error };
afterEach(() => Object.assign(console, saved));

function routed() {
  const lines: { level: Level; line: Record<string, any>; raw: string }[] = [];
  routeConsole(createLogger('debug', (level, raw) => lines.push({ level, raw, line: JSON.parse(raw) })));
  return lines;
}

describe('routeConsole', () => {
  it('turns console.warn and console.error into JSON lines at their level, marked as from the console', () => {
    const lines = routed();
    console.warn('Knex: run\n$ npm install pg --save', { pool: 'min 2' });
    console.error('pool error');
    expect(lines.map((l) => [l.level, l.line.msg, l.line.from])).toEqual([
      ['warn', "Knex: run\n$ npm install pg --save { pool: 'min 2' }", 'console'],
      ['error', 'pool error', 'console'],
    ]);
  });

  it('redacts a key secret and a connection password in what a library prints', () => {
    const lines = routed();
    const secret = generateCredential('apiKey');
    console.error(`connect failed for postgres://promptgate:hunter2@db:5432/promptgate with ${secret}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.raw).not.toContain('hunter2');
    expect(lines[0]!.raw).not.toContain(secret);
    expect(lines[0]!.line.msg).toContain('postgres://promptgate:[redacted]@db:5432/promptgate');
  });

  it('keeps only the reason of a database error, never its statement or values', () => {
    const lines = routed();
    const error = new DriverException(new Error("insert into users (password_hash) values ('scrypt$secret-hash') - duplicate key value violates unique constraint \"users_email_unique\""));
    console.error('knex: query failed', error);
    expect(lines[0]!.level).toBe('error');
    expect(lines[0]!.raw).not.toContain('scrypt$secret-hash');
    expect(lines[0]!.line.err.message).toBe('duplicate key value violates unique constraint "users_email_unique"');
  });
});

describe('redactUrlPasswords', () => {
  it('blanks the password of any URL with credentials and leaves other text alone', () => {
    expect(redactUrlPasswords('redis://:s3cret@cache:6379 and postgres://u:p%40ss@h/db')).toBe('redis://:[redacted]@cache:6379 and postgres://u:[redacted]@h/db');
    expect(redactUrlPasswords('see https://example.com/a@b')).toBe('see https://example.com/a@b');
  });
});
