/**
 * A CommonJS app uses the built SDK as an installed package: `require('@promptgate/sdk')` loads
 * the CommonJS build, TypeScript type-checks a CommonJS app against its declarations, and the
 * compiled app runs a prompt against the real listening server.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkServer, type SdkServer } from './server.ts';

const exec = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const tsc = join(repo, 'node_modules/typescript/bin/tsc');

let s: SdkServer;
let app: string;
let key: { secret: string; id: string };
let promptId: string;
let notGranted: string;

/** A file of the temporary app. */
function write(file: string, text: string): void {
  writeFileSync(join(app, file), text);
}

/** Runs a command in the temporary app; the result whether it succeeds or fails. */
async function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd: app, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout: string; stderr: string };
    return { code: failed.code ?? -1, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  // The package as an app installs it: dist built from the current source.
  await exec('npm', ['run', 'build:sdk'], { cwd: repo, timeout: 120_000 });

  s = await startSdkServer();
  const owner = await s.client().signUp({ email: 'cjs@example.com', name: 'CommonJS', password: 'a long password' });
  const dashboard = s.client({ token: owner.token });
  const organization = await dashboard.createOrganization({ name: 'CommonJS app' });
  promptId = (await dashboard.createPrompt({ organizationId: organization.id, name: 'Shout', template: 'Loud: {{text}}' })).id;
  notGranted = (await dashboard.createPrompt({ organizationId: organization.id, name: 'Other', template: '{{text}}' })).id;
  const issued = await dashboard.createApiKey({ organizationId: organization.id, name: 'CommonJS', access: 'SPECIFIC', promptIds: [promptId] });
  key = { secret: issued.secret, id: issued.apiKey.id };

  // A CommonJS project whose node_modules links the SDK's package folder, as npm's install of the
  // packed package or of the workspace would; the SDK's own dependencies resolve from the repo.
  app = mkdtempSync(join(tmpdir(), 'promptgate-cjs-'));
  mkdirSync(join(app, 'node_modules/@promptgate'), { recursive: true });
  symlinkSync(join(repo, 'sdk'), join(app, 'node_modules/@promptgate/sdk'), 'dir');
  write('package.json', JSON.stringify({ name: 'cjs-app', private: true, type: 'commonjs' }));
  write(
    'tsconfig.json',
    JSON.stringify({
      compilerOptions: {
        module: 'node16',
        moduleResolution: 'node16',
        target: 'ES2022',
        strict: true,
        outDir: 'out',
        // The default libraries (with the DOM's fetch, as the SDK's declarations use); the one
        // Node.js global the app uses is declared in app.ts, to keep the check quick.
        types: [],
        skipLibCheck: true,
      },
      files: ['app.ts'],
    }),
  );
  write(
    'app.ts',
    [
      "import { createClient, ForbiddenError, RunPromptDocument, type Run } from '@promptgate/sdk';",
      '',
      'declare const process: { argv: string[]; exitCode?: number };',
      '',
      '// The declarations are the typed ones, not any: a wrong argument is an error.',
      '// @ts-expect-error url is a string',
      'void createClient({ url: 1 });',
      '',
      'const [url, apiKey, promptId, notGranted] = process.argv.slice(2) as [string, string, string, string];',
      '',
      'async function main(): Promise<void> {',
      '  const client = createClient({ url, apiKey });',
      "  const run: Run = await client.runPrompt({ promptId, inputs: { text: 'from CommonJS' } });",
      '  console.log(run.status, run.result);',
      "  const refusal = await client.runPrompt({ promptId: notGranted, inputs: { text: 'x' } }).catch((error: unknown) => error);",
      "  console.log(refusal instanceof ForbiddenError ? `refused: ${refusal.reason}` : 'not refused');",
      "  console.log(RunPromptDocument.kind);",
      '}',
      '',
      'main().catch((error: unknown) => {',
      '  console.error(error);',
      '  process.exitCode = 1;',
      '});',
      '',
    ].join('\n'),
  );
  write(
    'check.cjs',
    [
      "const sdk = require('@promptgate/sdk');",
      "console.log(typeof sdk.createClient, sdk.RunPromptDocument.kind, require.resolve('@promptgate/sdk'));",
      '',
    ].join('\n'),
  );
}, 180_000);

afterAll(async () => {
  if (app) rmSync(app, { recursive: true, force: true });
  await s?.close();
});

describe('@promptgate/sdk from a CommonJS project', () => {
  it('loads with require() from a .cjs file: the CommonJS build, not ERR_PACKAGE_PATH_NOT_EXPORTED', async () => {
    const result = await run(process.execPath, ['check.cjs']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`function Document ${join(repo, 'sdk/dist/cjs/src/index.js')}\n`);
  });

  it('type-checks a CommonJS TypeScript app (module node16) against the CommonJS declarations, then runs it against the real server', async () => {
    const compiled = await run(process.execPath, [tsc, '-p', '.', '--listFiles']);
    expect(compiled.stderr).toBe('');
    expect(compiled.code, compiled.stdout).toBe(0);
    const files = compiled.stdout.split('\n');
    expect(files).toContain(join(repo, 'sdk/dist/cjs/src/index.d.ts'));
    expect(files).not.toContain(join(repo, 'sdk/dist/src/index.d.ts'));
    // Compiled as CommonJS: the import became a require().
    expect(readFileSync(join(app, 'out/app.js'), 'utf8')).toContain('require("@promptgate/sdk")');

    const result = await run(process.execPath, ['out/app.js', s.url, key.secret, promptId, notGranted]);
    expect(result).toEqual({ code: 0, stdout: 'SUCCEEDED Loud: from CommonJS\nrefused: NOT_GRANTED\nDocument\n', stderr: '' });
  });
});
