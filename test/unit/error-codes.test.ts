/**
 * The contract's error codes are listed twice, once by the server (server/errors.ts) and once by
 * the SDK (sdk/src/errors.ts), because the SDK is a package of its own and imports nothing from
 * the server. This holds the SDK's list and its error classes to the server's list.
 */
import * as sdk from '@promptgate/sdk';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../server/errors.ts';
import { ERROR_CODES as SDK_ERROR_CODES, errorFromResponse } from '../../sdk/src/errors.ts';

/** BAD_USER_INPUT → BadUserInputError, INTERNAL_SERVER_ERROR → InternalServerError. */
function className(code: string): string {
  const words = code.replace(/_ERROR$/, '').toLowerCase().split('_');
  return `${words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('')}Error`;
}

function errorFor(code: string): sdk.PromptGateError {
  return errorFromResponse([{ message: `a ${code} answer`, extensions: { code } }], { operationName: 'Test', status: 200 });
}

/** The error classes the SDK exports, but for the base class and NetworkError (no GraphQL answer). */
const exportedErrorClasses = Object.entries(sdk).filter(
  ([name, value]) =>
    typeof value === 'function' &&
    value.prototype instanceof sdk.PromptGateError &&
    name !== 'NetworkError',
);

describe('the error codes of the server and of the SDK', () => {
  it('are the same list', () => {
    expect([...SDK_ERROR_CODES]).toEqual([...ERROR_CODES]);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expectTypeOf<sdk.ErrorCode>().toEqualTypeOf<ErrorCode>();
  });

  it.each(ERROR_CODES)('%s arrives as its own exported class, with the code and message unchanged', (code) => {
    const error = errorFor(code);
    const ErrorClass = (sdk as Record<string, unknown>)[className(code)];
    expect(ErrorClass, `the SDK exports ${className(code)}`).toBeTypeOf('function');
    expect(error.constructor).toBe(ErrorClass);
    expect(error).toBeInstanceOf(sdk.PromptGateError);
    expect(error).toMatchObject({ name: className(code), code, message: `a ${code} answer`, operationName: 'Test' });
  });

  it('gives every code a different class, and every exported error class belongs to a code', () => {
    const classes = ERROR_CODES.map((code) => errorFor(code).constructor);
    expect(new Set(classes).size).toBe(ERROR_CODES.length);
    expect(exportedErrorClasses.map(([name]) => name).sort()).toEqual(ERROR_CODES.map(className).sort());
    for (const [, ErrorClass] of exportedErrorClasses) expect(classes).toContain(ErrorClass);
  });

  it('reports a code outside the list as a plain PromptGateError, code unchanged', () => {
    const error = errorFor('SOMETHING_NEW');
    expect(error.constructor).toBe(sdk.PromptGateError);
    expect(error.code).toBe('SOMETHING_NEW');
  });
});
