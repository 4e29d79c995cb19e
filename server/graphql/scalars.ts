import { GraphQLError, Kind } from 'graphql';
import { builder } from '../builder.ts';

function parseDateTime(value: unknown): Date {
  const match = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(value) : null;
  if (match) {
    const date = new Date(value as string);
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    // Years 1 to 9999 (both stores keep them), and a real day: 2031-02-30 is refused, not rolled over.
    const realDay = day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate() && month >= 1 && month <= 12;
    if (!Number.isNaN(date.getTime()) && year >= 1 && realDay && date.getUTCFullYear() >= 1 && date.getUTCFullYear() <= 9999) return date;
  }
  throw new GraphQLError('DateTime must be an RFC 3339 date-time between the years 1 and 9999, such as 2026-11-26T12:00:00Z', {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

builder.scalarType('DateTime', {
  description: 'An RFC 3339 date-time in UTC, e.g. 2026-11-26T12:00:00.000Z',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string | number)).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

function parseJsonLiteral(ast: import('graphql').ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map(parseJsonLiteral);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((field) => [field.name.value, parseJsonLiteral(field.value)]));
    default:
      throw new GraphQLError('JSON literals cannot hold variables', { extensions: { code: 'BAD_USER_INPUT' } });
  }
}

builder.scalarType('JSON', {
  description: 'Any JSON value',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: parseJsonLiteral,
});
