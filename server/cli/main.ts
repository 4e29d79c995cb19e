/**
 * `npx promptgate <command>`: the operator's tool for a PromptGate database (DATABASE_URL, .env).
 * Every change goes through the same services and the same authorization as the API, acting as a
 * named user (`--as <email>`), so the same rules apply and the same audit rows are written. Human
 * output by default, `--json` for scripts. A secret (a key's, a generated password) is printed
 * once, on stdout, and nowhere else.
 *
 * Exit codes: 0 done; 1 failed (the database, anything unexpected); 2 a usage error (a missing or
 * malformed option); 3 refused by PromptGate's rules (an error code of the contract: NOT_FOUND,
 * FORBIDDEN, CONFLICT, BAD_USER_INPUT…).
 */
import { randomBytes } from 'node:crypto';
import { Command, CommanderError } from 'commander';
import { GraphQLError } from 'graphql';
import type { EntityManager } from '@mikro-orm/core';
import { ConfigError, loadConfig } from '../config.ts';
import { openDatabase, type Orm } from '../db/orm.ts';
import { isEmpty, seedDemo, DEMO_OWNER } from '../db/seed.ts';
import { loadEnvFile } from '../env-file.ts';
import { redactCredentials } from '../http/redact.ts';
import type { UserPrincipal } from '../auth/principal.ts';
import { createOrganization } from '../modules/organization/organization.service.ts';
import { signUp, logOut, normalizeEmail } from '../modules/user/user.service.ts';
import { UserSchema } from '../modules/user/user.entity.ts';
import { createApiKey, currentGrants, keyFacts, revokeApiKey, rotateApiKey } from '../modules/api-key/api-key.service.ts';
import { ApiKeySchema, type ApiKey } from '../modules/api-key/api-key.entity.ts';
import { keyStatus } from '../modules/access/rule.ts';
import { cliContext } from './context.ts';

/** A failure the operator caused, with the exit code it ends the command with. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code: string,
  ) {
    super(message);
  }
}

const USAGE = 2;
const REFUSED = 3;

interface Output {
  json: boolean;
}

/** Prints a command's answer: the object as one JSON line, or the human lines. */
function answer(out: Output, value: Record<string, unknown>, human: string[]): void {
  process.stdout.write(out.json ? `${JSON.stringify(value)}\n` : `${human.join('\n')}\n`);
}

async function withDatabase<T>(work: (orm: Orm) => Promise<T>): Promise<T> {
  const orm = await openDatabase(loadConfig().database);
  try {
    return await work(orm);
  } finally {
    await orm.close(true);
  }
}

/** The user a command acts as, by email: the audit names them, and their role decides. */
async function actingUser(em: EntityManager, email: string | undefined): Promise<UserPrincipal> {
  if (!email) throw new CliError('--as <email> is required: the user (an admin or owner of the organization) this change is made as', USAGE, 'USAGE');
  const user = await em.findOne(UserSchema, { email: normalizeEmail(email) }, { fields: ['id'] });
  if (!user) throw new CliError(`No account has the email ${normalizeEmail(email)}`, REFUSED, 'NOT_FOUND');
  return { kind: 'user', userId: user.id, sessionId: 'cli' };
}

function parseDate(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new CliError(`not a date: "${value}" (use ISO 8601, e.g. 2027-01-31T00:00:00Z)`, USAGE, 'USAGE');
  return date;
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`--grace-period must be a whole number of seconds, not "${value}"`, USAGE, 'USAGE');
  return n;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

async function readPassword(fromStdin: boolean): Promise<{ password: string; generated: boolean }> {
  if (!fromStdin) return { password: randomBytes(18).toString('base64url'), generated: true };
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  return { password, generated: false };
}

function keyView(key: ApiKey, now: Date) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    access: key.access,
    status: keyStatus(keyFacts(key), now),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  };
}

export function program(): Command {
  const cli = new Command('promptgate')
    .description('Administer a PromptGate database (DATABASE_URL): migrations, owners, organizations, API keys')
    .option('--json', 'answer with one JSON object on stdout, for scripts')
    .showHelpAfterError()
    .exitOverride();
  const out = (): Output => ({ json: Boolean(cli.opts().json) });

  cli
    .command('migrate')
    .description('apply the committed migrations (on PostgreSQL under the lock replicas share) and exit')
    .action(async () => {
      const applied = await withDatabase(async (orm) => (await orm.getMigrator().getExecutedMigrations()).length);
      answer(out(), { migrated: true, applied }, [`The schema is up to date (${applied} migration(s) applied).`]);
    });

  cli
    .command('create-owner')
    .description('create a user account (the first owner); with --org, an organization they own')
    .requiredOption('--email <email>', 'their email, to sign in with')
    .requiredOption('--name <name>', 'their name')
    .option('--org <name>', 'also create an organization with this name, owned by them')
    .option('--password-stdin', 'read the password from the first line of stdin (otherwise one is generated and printed once)')
    .action(async (options: { email: string; name: string; org?: string; passwordStdin?: boolean }) => {
      const { password, generated } = await readPassword(Boolean(options.passwordStdin));
      const result = await withDatabase(async (orm) => {
        const em = orm.em.fork();
        const { user, sessionId } = await signUp(em, { email: options.email, password, name: options.name }, 60);
        const actor: UserPrincipal = { kind: 'user', userId: user.id, sessionId };
        // signUp starts a session: nobody will use this one.
        await logOut(em, actor);
        const organization = options.org ? await createOrganization(orm.em.fork(), actor, { name: options.org }) : undefined;
        return { user, organization };
      });
      answer(
        out(),
        {
          user: { id: result.user.id, email: result.user.email, name: result.user.name },
          ...(result.organization ? { organization: { id: result.organization.id, name: result.organization.name } } : {}),
          ...(generated ? { password } : {}),
        },
        [
          `Created user ${result.user.email} (${result.user.id}).`,
          ...(result.organization ? [`Created organization "${result.organization.name}" (${result.organization.id}), owned by them.`] : []),
          ...(generated ? [`Password (shown once; sign in with logIn and change it): ${password}`] : []),
        ],
      );
    });

  cli
    .command('create-org')
    .description('create an organization, owned by the user --as names')
    .requiredOption('--name <name>', 'the organization name')
    .option('--as <email>', 'the user who creates and owns it')
    .action(async (options: { name: string; as?: string }) => {
      const organization = await withDatabase(async (orm) => {
        const em = orm.em.fork();
        return createOrganization(em, await actingUser(em, options.as), { name: options.name });
      });
      answer(out(), { organization: { id: organization.id, name: organization.name } }, [`Created organization "${organization.name}" (${organization.id}).`]);
    });

  const keys = cli.command('keys').description('API keys: create, list, revoke, rotate');

  keys
    .command('create')
    .description('issue a key; its secret is printed once')
    .requiredOption('--org <id>', 'the organization id')
    .requiredOption('--name <name>', 'the key name (the partner app)')
    .option('--prompt <id>', 'grant one prompt (repeat for more); with --prompt/--flow the key is SPECIFIC', collect)
    .option('--flow <id>', 'grant one flow (repeat for more)', collect)
    .option('--expires-at <date>', 'when the key stops working (ISO 8601)')
    .option('--as <email>', 'the admin or owner issuing it')
    .action(async (options: { org: string; name: string; prompt?: string[]; flow?: string[]; expiresAt?: string; as?: string }) => {
      const specific = Boolean(options.prompt?.length || options.flow?.length);
      const expiresAt = options.expiresAt ? parseDate(options.expiresAt) : null;
      const issued = await withDatabase(async (orm) => {
        const ctx = cliContext(orm, await actingUser(orm.em.fork(), options.as));
        await ctx.authz.require({ action: 'apiKey:manage', target: { organizationId: options.org } });
        return createApiKey(ctx.em, ctx.principal, {
          organizationId: options.org,
          name: options.name,
          access: specific ? 'SPECIFIC' : 'ORGANIZATION',
          promptIds: options.prompt ?? [],
          flowIds: options.flow ?? [],
          expiresAt,
        });
      });
      const view = keyView(issued.apiKey, new Date());
      answer(out(), { apiKey: { ...view, promptIds: options.prompt ?? [], flowIds: options.flow ?? [] }, secret: issued.secret }, [
        `Created API key "${view.name}" (${view.id}), ${view.access === 'SPECIFIC' ? `for ${options.prompt?.length ?? 0} prompt(s) and ${options.flow?.length ?? 0} flow(s)` : 'for the whole organization'}.`,
        `Secret (shown once, store it now): ${issued.secret}`,
      ]);
    });

  keys
    .command('list')
    .description("list an organization's keys (never their secrets)")
    .requiredOption('--org <id>', 'the organization id')
    .option('--as <email>', 'a member of the organization')
    .action(async (options: { org: string; as?: string }) => {
      const now = new Date();
      const listed = await withDatabase(async (orm) => {
        const ctx = cliContext(orm, await actingUser(orm.em.fork(), options.as));
        await ctx.authz.require({ action: 'apiKey:read', target: { organizationId: options.org } });
        const found = await ctx.em.find(ApiKeySchema, { organization: options.org }, { orderBy: { createdAt: 'asc', id: 'asc' } });
        return Promise.all(found.map(async (key) => ({ ...keyView(key, now), ...(await currentGrants(ctx.em, key)) })));
      });
      answer(
        out(),
        { apiKeys: listed },
        listed.length
          ? listed.map((k) => `${k.id}  ${k.prefix}…  ${k.status.padEnd(7)}  ${k.access.padEnd(12)}  ${k.name}`)
          : ['This organization has no API keys.'],
      );
    });

  keys
    .command('revoke')
    .description('end a key for good, at once')
    .argument('<keyId>', 'the key id')
    .option('--as <email>', 'an admin or owner of its organization')
    .action(async (keyId: string, options: { as?: string }) => {
      const key = await withDatabase(async (orm) => {
        const ctx = cliContext(orm, await actingUser(orm.em.fork(), options.as));
        await ctx.authz.require({ action: 'apiKey:manage', target: { apiKeyId: keyId } });
        return revokeApiKey(ctx.em, ctx.principal, keyId);
      });
      answer(out(), { apiKey: keyView(key, new Date()) }, [`Revoked API key "${key.name}" (${key.id}).`]);
    });

  keys
    .command('rotate')
    .description('give a key a new secret (printed once); the old one works for --grace-period seconds')
    .argument('<keyId>', 'the key id')
    .option('--grace-period <seconds>', 'how long the old secret keeps working (default 0: it stops at once)', '0')
    .option('--as <email>', 'an admin or owner of its organization')
    .action(async (keyId: string, options: { gracePeriod: string; as?: string }) => {
      const gracePeriodSeconds = parseSeconds(options.gracePeriod);
      const issued = await withDatabase(async (orm) => {
        const ctx = cliContext(orm, await actingUser(orm.em.fork(), options.as));
        await ctx.authz.require({ action: 'apiKey:manage', target: { apiKeyId: keyId } });
        return rotateApiKey(ctx.em, ctx.principal, { apiKeyId: keyId, gracePeriodSeconds });
      });
      answer(out(), { apiKey: keyView(issued.apiKey, new Date()), secret: issued.secret, gracePeriodSeconds }, [
        `Rotated API key "${issued.apiKey.name}" (${issued.apiKey.id}); the old secret ${gracePeriodSeconds ? `works for ${gracePeriodSeconds} more second(s)` : 'no longer works'}.`,
        `New secret (shown once, store it now): ${issued.secret}`,
      ]);
    });

  cli
    .command('seed-demo')
    .description('seed the demo organization (public password) into an empty database')
    .action(async () => {
      const seeded = await withDatabase(async (orm) => {
        if (!(await isEmpty(orm.em.fork()))) return undefined;
        return orm.em.fork().transactional((em) => seedDemo(em));
      });
      if (!seeded) throw new CliError('The database already has accounts; the demo is only seeded into an empty one', REFUSED, 'CONFLICT');
      answer(out(), { seeded: true, ...seeded, email: DEMO_OWNER.email }, [
        `Seeded "Acme Demo" (${seeded.organizationId}) with two prompts and a flow.`,
        `Sign in with ${DEMO_OWNER.email} and the public demo password promptgate-demo (not for real use).`,
      ]);
    });

  return cli;
}

/** The error as the operator sees it, and the exit code. Never a stack, never a credential. */
function failure(error: unknown): { code: string; message: string; exitCode: number } {
  if (error instanceof CliError) return { code: error.code, message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError) return { code: 'CONFIGURATION', message: `configuration error: ${error.message}`, exitCode: USAGE };
  if (error instanceof GraphQLError) return { code: String(error.extensions?.code ?? 'ERROR'), message: error.message, exitCode: REFUSED };
  const message = error instanceof Error ? error.message : String(error);
  // A database error's message is its statement and values: only its reason is shown.
  const cut = message.lastIndexOf(' - ');
  return { code: 'FAILED', message: `failed: ${cut < 0 ? message : message.slice(cut + 3)}`, exitCode: 1 };
}

export async function main(argv: string[]): Promise<number> {
  loadEnvFile();
  const cli = program();
  const json = argv.includes('--json');
  try {
    await cli.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not failures; commander has already printed its message.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help' ? 0 : USAGE;
    }
    const { code, message, exitCode } = failure(error);
    const text = redactCredentials(message);
    process.stderr.write(json ? `${JSON.stringify({ error: { code, message: text } })}\n` : `promptgate: ${text}\n`);
    return exitCode;
  }
}

