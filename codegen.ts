import type { CodegenConfig } from '@graphql-codegen/cli';

const out = process.env.CODEGEN_OUT_DIR ?? 'sdk/__generated__';
const scalars = { DateTime: { input: 'string | Date', output: 'string' }, JSON: 'unknown', ID: 'string' };

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: 'sdk/operations/*.graphql',
  emitLegacyCommonJSImports: false,
  generates: {
    [`${out}/graphql.ts`]: {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: { useTypeImports: true, scalars, dedupeFragments: true },
    },
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
