/**
 * The SDK's public surface: the methods the issue names exist, every public method is driven
 * against the real server by some test in this folder, and the SDK imports nothing Node-only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as sdk from '@promptgate/sdk';
import { describe, expect, it } from 'vitest';

const methods = Object.getOwnPropertyNames(sdk.PromptGateClient.prototype).filter((name) => name !== 'constructor');

describe('the client', () => {
  it('has the methods partner apps and the dashboard need, by these names', () => {
    const required = [
      'runPrompt', 'runFlow', 'checkAccess', 'availableApiKeys', 'iterateAvailableApiKeys', 'viewer', 'signUp', 'logIn', 'logOut',
      'createOrganization', 'organization', 'addMember', 'updateMemberRole', 'removeMember',
      'createPrompt', 'updatePrompt', 'deletePrompt', 'prompt', 'prompts', 'iteratePrompts',
      'createFlow', 'updateFlow', 'deleteFlow', 'flow', 'flows', 'iterateFlows',
      'createApiKey', 'updateApiKeyPermissions', 'updateApiKey', 'revokeApiKey', 'rotateApiKey', 'apiKey', 'apiKeys', 'iterateApiKeys',
      'run', 'runs', 'iterateRuns', 'rateRun', 'apiKeyUsage', 'auditLog', 'iterateAuditLog', 'request',
      // What a console needs beyond that: a page of the Integrate tab, a key with its flows' steps.
      'availableApiKeysPage', 'apiKeyPermissions',
      // A key's guardrails.
      'updateApiKeyLimits', 'apiKeyQuotaUsage',
      // Signed webhooks (admins and owners).
      'webhooks', 'createWebhook', 'updateWebhook', 'deleteWebhook', 'testWebhook', 'webhookDeliveries',
      // Permission insight: what a key can run, its grants with their use, a change previewed.
      'runnablePrompts', 'iterateRunnablePrompts', 'runnableFlows', 'iterateRunnableFlows', 'apiKeyGrants', 'previewApiKeyPermissions',
      // The console's sign-in hint, sparklines and usage charts.
      'demoSignIn', 'apiKeysWithDailyRuns', 'apiKeyDailyUsage',
    ];
    expect(methods.sort()).toEqual(required.sort());
  });

  it('takes an API key or a session token, never both (checked by tsc)', () => {
    // @ts-expect-error apiKey and token exclude each other
    expect(() => sdk.createClient({ url: 'http://localhost/graphql', apiKey: 'pgk_x', token: 'pgs_y' })).not.toThrow();
  });

  it('has every public method called by a test that runs it against the real server', () => {
    const tests = readdirSync('test/sdk')
      .filter((file) => file.endsWith('.test.ts') && file !== 'surface.test.ts')
      .map((file) => readFileSync(`test/sdk/${file}`, 'utf8'))
      .join('\n');
    const untested = methods.filter((name) => !new RegExp(`\\.${name}\\(`).test(tests));
    expect(untested).toEqual([]);
  });
});

describe('the errors', () => {
  it('are one class per contract code, all PromptGateErrors', () => {
    const classes = [
      sdk.UnauthenticatedError, sdk.ForbiddenError, sdk.NotFoundError, sdk.BadUserInputError,
      sdk.ConflictError, sdk.RateLimitedError, sdk.InternalServerError,
    ];
    for (const ErrorClass of classes) expect(new ErrorClass('X', 'm')).toBeInstanceOf(sdk.PromptGateError);
    expect(new sdk.NetworkError('m')).toMatchObject({ code: 'NETWORK_ERROR' });
    expect(new sdk.NetworkError('m')).toBeInstanceOf(sdk.PromptGateError);
  });
});

describe('the package', () => {
  it('imports no Node.js module: it runs in browsers with fetch alone', () => {
    const files = ['sdk/src', 'sdk/__generated__'].flatMap((dir) => readdirSync(dir).map((file) => `${dir}/${file}`));
    const nodeOnly = new Set(builtinModules);
    for (const file of files) {
      const imports = [...readFileSync(file, 'utf8').matchAll(/\bfrom\s+'([^']+)'/g)].map((match) => match[1]!);
      const offending = imports.filter((name) => name.startsWith('node:') || nodeOnly.has(name.split('/')[0]!));
      expect(offending, file).toEqual([]);
      const external = imports.filter((name) => !name.startsWith('.'));
      expect(external.every((name) => ['graphql', '@graphql-typed-document-node/core'].includes(name)), `${file}: ${external}`).toBe(true);
    }
  });

  it('exports the typed documents for urql and Apollo Client users', () => {
    expect(sdk.RunPromptDocument).toMatchObject({ kind: 'Document' });
    expect(sdk.AvailableApiKeysDocument.definitions[0]).toMatchObject({ kind: 'OperationDefinition', operation: 'query' });
  });
});
