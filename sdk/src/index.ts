/**
 * @promptgate/sdk: a typed client for the PromptGate GraphQL API.
 *
 *   const client = createClient({ url, apiKey });
 *   const run = await client.runPrompt({ promptId, inputs: { text } });
 */
export { createClient, PromptGateClient, type ClientOptions } from './client.js';
export {
  BadUserInputError,
  ConflictError,
  ForbiddenError,
  InternalServerError,
  NetworkError,
  NotFoundError,
  PromptGateError,
  RateLimitedError,
  UnauthenticatedError,
  type ErrorCode,
  type ForbiddenReason,
  type GraphQLErrorEntry,
  type RateLimitedReason,
} from './errors.js';
export type { IterateOptions, Page, PageArgs, SearchPageArgs } from './pagination.js';
export type { RetryEvent, RetryOptions } from './retry.js';
export type * from './types.js';

// The typed documents (RunPromptDocument, …) with their result and variable types and the
// schema's input and enum types, for urql, Apollo Client or `client.request`.
export * from '../__generated__/graphql.js';
export { getSdk, type Requester, type Sdk } from '../__generated__/sdk.js';
export type { TypedDocumentNode } from '@graphql-typed-document-node/core';
