/**
 * Generates the SDK's typed operations from schema.graphql and sdk/operations/*.graphql into
 * sdk/__generated__ (`npm run codegen`, part of `npm run generate`). scripts/check-drift.sh sets
 * CODEGEN_OUT_DIR to regenerate into a scratch folder and compare.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const out = process.env.CODEGEN_OUT_DIR ?? 'sdk/__generated__';
// Date-times travel as RFC 3339 strings; a Date in variables serializes to one.
const scalars = { DateTime: { input: 'string | Date', output: 'string' }, JSON: 'unknown', ID: 'string' };

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: 'sdk/operations/*.graphql',
  // Relative imports with .js, as ES modules in Node.js need them.
  emitLegacyCommonJSImports: false,
  generates: {
    // Operation, fragment, input and enum types, and each operation as a TypedDocumentNode: what
    // urql and Apollo Client users import. typescript-operations 6 emits the input and enum types
    // itself, so the `typescript` plugin is not used (it would declare them twice).
    [`${out}/graphql.ts`]: {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: { useTypeImports: true, scalars },
    },
    // getSdk(requester): one typed function per operation, over the documents above (documentMode
    // 'external', so no document is emitted twice). sdk/src/client.ts wraps it.
    [`${out}/sdk.ts`]: {
      plugins: ['typescript-generic-sdk'],
      config: {
        useTypeImports: true,
        scalars,
        documentMode: 'external',
        importDocumentNodeExternallyFrom: './graphql.js',
        importOperationTypesFrom: 'Operations',
      },
    },
  },
};

export default config;
