import { Lexer, parse, Source, TokenKind, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_OPERATION } from '../../server/graphiql-example.ts';
import { schema } from '../../server/schema.ts';
import { QUERY_LIMITS } from '../../server/yoga.ts';
import { addMember, createOrganization, signUpUser, type TestUser } from '../fixtures.ts';
import { dataOf, startHarness, type Harness } from '../harness.ts';

const URL_BASE = 'http://localhost';

interface RawResponse {
  status: number;
  contentType: string | null;
  text: string;
  /** The JSON body, or undefined when it is not JSON. */
  body?: { data?: any; errors?: { message: string; extensions?: Record<string, any> }[] };
}

async function raw(h: Harness, path: string, init: RequestInit): Promise<RawResponse> {
  const response = await h.app.fetch(`${URL_BASE}${path}`, init);
  const text = await response.text();
  let body: RawResponse['body'];
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type'), text, body };
}

function postJson(h: Harness, payload: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return raw(h, '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: JSON.stringify(payload),
  });
}

function getQuery(h: Harness, params: Record<string, string>, headers: Record<string, string> = {}): Promise<RawResponse> {
  return raw(h, `/graphql?${new URLSearchParams(params)}`, {
    method: 'GET',
    headers: { accept: 'application/graphql-response+json, application/json', ...headers },
  });
}

/** A refusal of the request as a whole: a 4xx, or a 200 carrying errors and no data; the first error is BAD_USER_INPUT. */
function expectRequestRefused(response: RawResponse, message: RegExp): void {
  expect(response.status === 200 || (response.status >= 400 && response.status < 500), `status ${response.status}`).toBe(true);
  expect(response.body, response.text).toBeDefined();
  expect(response.body!.data ?? null).toBeNull();
  expect(response.body!.errors?.length, response.text).toBeGreaterThan(0);
  expect(response.body!.errors![0]!.extensions?.code, response.text).toBe('BAD_USER_INPUT');
  expect(response.body!.errors![0]!.message).toMatch(message);
}

function expectSuccess(response: RawResponse): any {
  expect(response.status, response.text.slice(0, 500)).toBe(200);
  expect(response.body?.errors, response.text.slice(0, 500)).toBeUndefined();
  expect(response.body?.data).toBeTruthy();
  return response.body!.data;
}

/** How many lexical tokens graphql-js (and so the token limit) counts in a document. */
function tokenCount(document: string): number {
  const lexer = new Lexer(new Source(document));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count++;
  return count;
}

/** A query that nests `levels` fields: viewer > user > memberships > organization > members > user > … > leaf. */
function nestedQuery(levels: number): string {
  const cycle = ['memberships', 'organization', 'members', 'user'];
  const names = ['viewer', 'user'];
  for (let i = 0; names.length < levels - 1; i++) names.push(cycle[i % cycle.length]!);
  const last = names.at(-1)!;
  const leaf = last === 'organization' || last === 'user' ? 'id' : 'role';
  return `{ ${names.reduceRight((inner, name) => `${name} { ${inner} }`, leaf)} }`;
}

/** A user-table lookup that does not go through the API under test. */
async function userExists(h: Harness, email: string): Promise<boolean> {
  const rows = await h.orm.em.fork().getConnection().execute('select id from users where email = ?', [email]);
  return rows.length > 0;
}

let h: Harness;
let owner: TestUser;

beforeAll(async () => {
  h = await startHarness();
  owner = await signUpUser(h, 'Owner');
  const organizationId = await createOrganization(h, owner, 'Acme');
  await addMember(h, owner, organizationId, await signUpUser(h, 'Member'), 'MEMBER');
});
afterAll(() => h.close());

describe('query limits (QUERY_LIMITS)', () => {
  it('has the limits the issue asks for', () => {
    expect(QUERY_LIMITS).toMatchObject({ maxDepth: 10, maxAliases: 15, maxTokens: 2000, maxDirectives: 20 });
  });

  it('answers a query 10 levels deep, and refuses one 11 or 14 levels deep as BAD_USER_INPUT', async () => {
    const within = expectSuccess(await postJson(h, { query: nestedQuery(10) }, { authorization: `Bearer ${owner.token}` }));
    expect(within.viewer.user.memberships[0].organization.members[0].user.memberships[0].organization.members.length).toBeGreaterThan(0);
    for (const levels of [11, 14]) {
      expectRequestRefused(await postJson(h, { query: nestedQuery(levels) }, { authorization: `Bearer ${owner.token}` }), /depth/i);
    }
  });

  it('counts depth through fragments and inline fragments too', async () => {
    const query = `{ viewer { user { ...M } } }
      fragment M on User { memberships { organization { ... on Organization { members { user { memberships { organization { members { user { id } } } } } } } } } }`;
    expectRequestRefused(await postJson(h, { query }, { authorization: `Bearer ${owner.token}` }), /depth/i);
  });

  it('answers 15 aliases and refuses 16 as BAD_USER_INPUT', async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: viewer { user { id } }`).join(' ')} }`;
    const within = expectSuccess(await postJson(h, { query: aliases(15) }, { authorization: `Bearer ${owner.token}` }));
    expect(Object.keys(within)).toHaveLength(15);
    expect(within.a14.user.id).toBe(owner.id);
    expectRequestRefused(await postJson(h, { query: aliases(16) }, { authorization: `Bearer ${owner.token}` }), /alias/i);
  });

  it('counts aliases inside fragments', async () => {
    const inFragment = Array.from({ length: 10 }, (_, i) => `f${i}: user { id }`).join(' ');
    const query = `{ ${Array.from({ length: 6 }, (_, i) => `a${i}: viewer { __typename }`).join(' ')} viewer { ...V } } fragment V on Viewer { ${inFragment} }`;
    expectRequestRefused(await postJson(h, { query }, { authorization: `Bearer ${owner.token}` }), /alias/i);
  });

  it('refuses a mutation with too many aliases before running any of it', async () => {
    const emails = Array.from({ length: 16 }, (_, i) => `alias-${i}-${Date.now()}@example.com`);
    const query = `mutation { ${emails
      .map((email, i) => `s${i}: signUp(input: { email: "${email}", password: "long enough password", name: "A" }) { token }`)
      .join(' ')} }`;
    expectRequestRefused(await postJson(h, { query }), /alias/i);
    for (const email of emails) expect(await userExists(h, email), email).toBe(false);
  });

  it(`answers a document of up to ${QUERY_LIMITS.maxTokens} tokens and refuses a longer one as BAD_USER_INPUT`, async () => {
    // Many small operations in one document: every other limit stays far away, only the token count grows.
    const operations = (n: number) => Array.from({ length: n }, (_, i) => `query Q${i} { __typename }`).join('\n');
    const within = operations(400);
    const beyond = operations(401);
    expect(tokenCount(within)).toBe(QUERY_LIMITS.maxTokens);
    expect(tokenCount(beyond)).toBeGreaterThan(QUERY_LIMITS.maxTokens);
    expect(expectSuccess(await postJson(h, { query: within, operationName: 'Q399' }))).toEqual({ __typename: 'Query' });
    expectRequestRefused(await postJson(h, { query: beyond, operationName: 'Q0' }), /token/i);

    const huge = `query($a: [Int] = [${Array.from({ length: 50_000 }, (_, i) => i).join(',')}]) { __typename }`;
    const refused = await postJson(h, { query: huge });
    expectRequestRefused(refused, /token/i);
    expect(refused.body!.errors![0]!.extensions!.reason).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('answers 20 directives and refuses 21 as BAD_USER_INPUT', async () => {
    const directives = (n: number) => `query { ${'... @include(if: true) { __typename } '.repeat(n)}}`;
    expect(expectSuccess(await postJson(h, { query: directives(20) }))).toEqual({ __typename: 'Query' });
    expectRequestRefused(await postJson(h, { query: directives(21) }), /directive/i);
    // Many directives on one field are refused by the limit too, before validation or execution.
    expectRequestRefused(await postJson(h, { query: `{ __typename ${'@skip(if: false) '.repeat(50)}}` }), /directive/i);
  });

  it('counts the directives on spreads of different fragments', async () => {
    const distinct = (n: number) =>
      `query { ${Array.from({ length: n }, (_, i) => `...F${i} @include(if: true)`).join(' ')} } ` +
      Array.from({ length: n }, (_, i) => `fragment F${i} on Query { __typename }`).join(' ');
    expect(expectSuccess(await postJson(h, { query: distinct(20) }))).toEqual({ __typename: 'Query' });
    expectRequestRefused(await postJson(h, { query: distinct(21) }), /directive/i);
  });

  it('counts the directives on repeated spreads of one fragment (the limit must not depend on fragment names)', async () => {
    const repeated = (n: number) => `query { ${'...F @include(if: true) '.repeat(n)}} fragment F on Query { __typename }`;
    expectRequestRefused(await postJson(h, { query: repeated(21) }), /directive/i);
    expectRequestRefused(await postJson(h, { query: repeated(200) }), /directive|token|cost/i);
  });
});

describe('HTTP methods and CSRF prevention (form and text POSTs)', () => {
  it('refuses a mutation over GET with 405 and writes nothing; the same mutation over POST writes', async () => {
    const email = `get-${Date.now()}@example.com`;
    const mutation = `mutation { signUp(input: { email: "${email}", password: "long enough password", name: "Get" }) { token } }`;
    const response = await getQuery(h, { query: mutation }, { 'x-graphql-yoga-csrf': '1' });
    expect(response.status).toBe(405);
    expect(response.body?.data ?? null).toBeNull();
    expect(await userExists(h, email)).toBe(false);

    expectSuccess(await postJson(h, { query: mutation }));
    expect(await userExists(h, email)).toBe(true);
  });

  it('answers a GET query with or without the x-graphql-yoga-csrf header (urql sends queries so): a GET cannot write', async () => {
    const query = '{ viewer { user { id } } }';
    const without = await getQuery(h, { query }, { authorization: `Bearer ${owner.token}` });
    expect(expectSuccess(without).viewer.user.id).toBe(owner.id);
    const withHeader = await getQuery(h, { query }, { authorization: `Bearer ${owner.token}`, 'x-graphql-yoga-csrf': '1' });
    expect(expectSuccess(withHeader).viewer.user.id).toBe(owner.id);
  });

  it.each([
    ['text/plain', (payload: string) => payload],
    ['application/x-www-form-urlencoded', (payload: string) => new URLSearchParams(JSON.parse(payload)).toString()],
  ])('refuses a %s POST (a form or a fetch without preflight) by CSRF prevention, and writes nothing', async (contentType, encode) => {
    const email = `csrf-${contentType.replace(/\W/g, '')}-${Date.now()}@example.com`;
    const payload = JSON.stringify({ query: `mutation { signUp(input: { email: "${email}", password: "long enough password", name: "X" }) { token } }` });
    const response = await raw(h, '/graphql', { method: 'POST', headers: { 'content-type': contentType }, body: encode(payload) });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.body?.data ?? null).toBeNull();
    expect(response.body?.errors?.[0]?.message).toMatch(/CSRF/);
    expect(await userExists(h, email)).toBe(false);
  });

  it('refuses a multipart/form-data POST without the CSRF header and writes nothing; with the header it is served', async () => {
    const email = `multipart-${Date.now()}@example.com`;
    const form = () => {
      const data = new FormData();
      data.set('operations', JSON.stringify({ query: `mutation { signUp(input: { email: "${email}", password: "long enough password", name: "X" }) { token } }` }));
      data.set('map', '{}');
      return data;
    };
    const response = await raw(h, '/graphql', { method: 'POST', body: form() });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.body?.errors?.[0]?.message).toMatch(/CSRF/);
    expect(await userExists(h, email)).toBe(false);

    const withHeader = await raw(h, '/graphql', { method: 'POST', body: form(), headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(withHeader.status).toBe(200);
    expect(await userExists(h, email)).toBe(true);
  });
});

describe('malformed requests', () => {
  it('answers a body that is not JSON with 400 and BAD_USER_INPUT', async () => {
    for (const body of ['{"query": ', 'not json', '']) {
      const response = await raw(h, '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body?.errors?.[0]?.extensions?.code, response.text).toBe('BAD_USER_INPUT');
      expect(response.text).not.toMatch(/\n\s+at\s|node_modules|"stack"/);
    }
  });

  it('answers a request without a query with 400 and BAD_USER_INPUT', async () => {
    for (const payload of [{}, { variables: {} }, { query: '' }, { query: null }]) {
      const response = await postJson(h, payload);
      expect(response.status, JSON.stringify(payload)).toBe(400);
      expect(response.body?.errors?.[0]?.extensions?.code, response.text).toBe('BAD_USER_INPUT');
    }
    const get = await getQuery(h, {}, { 'x-graphql-yoga-csrf': '1' });
    expect(get.status).toBe(400);
    expect(get.body?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('answers an unknown field with BAD_USER_INPUT naming it, keeping the GraphQL code in extensions.reason', async () => {
    const response = await postJson(h, { query: '{ viewer { user { id secretField } } }' });
    expect(response.status).toBe(400);
    expect(response.body!.data ?? null).toBeNull();
    const [error] = response.body!.errors!;
    expect(error!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' });
    expect(error!.message).toContain('secretField');
  });

  it('answers a syntax error with BAD_USER_INPUT', async () => {
    const syntax = await postJson(h, { query: '{ viewer { user { id }' });
    expect(syntax.status).toBe(400);
    expect(syntax.body!.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_PARSE_FAILED' });
  });

  it('answers a missing or null required variable with BAD_USER_INPUT naming it', async () => {
    for (const variables of [{}, { id: null }]) {
      const response = await postJson(h, { query: 'query($id: ID!) { node(id: $id) { id } }', variables }, { authorization: `Bearer ${owner.token}` });
      expect(response.body!.data ?? null).toBeNull();
      expect(response.body!.errors![0]!.extensions!.code, response.text).toBe('BAD_USER_INPUT');
      expect(response.body!.errors![0]!.message).toContain('$id');
    }
  });

  it.each([
    ['an object for an ID', 'query($id: ID!) { node(id: $id) { id } }', { id: { not: 'an id' } }, '$id'],
    ['a boolean for an ID', 'query($id: ID!) { node(id: $id) { id } }', { id: true }, '$id'],
    ['a string for an Int', 'query($first: Int) { viewer { user { memberships { organization { prompts(first: $first) { totalCount } } } } } }', { first: 'ten' }, '$first'],
    ['an Int beyond 32 bits', 'query($first: Int) { viewer { user { memberships { organization { prompts(first: $first) { totalCount } } } } } }', { first: 2 ** 40 }, '$first'],
    ['an input without a required field', 'mutation($input: SignUpInput!) { signUp(input: $input) { token } }', { input: { email: 'a@example.com', password: 'long enough password' } }, 'name'],
    ['an input with an unknown field', 'mutation($input: SignUpInput!) { signUp(input: $input) { token } }', { input: { email: 'b@example.com', password: 'long enough password', name: 'B', admin: true } }, 'admin'],
    ['an unknown enum value', 'mutation($input: AddMemberInput!) { addMember(input: $input) { role } }', { input: { organizationId: 'org_x', email: 'c@example.com', role: 'KING' } }, 'input.role'],
  ])('answers a variable with %s as BAD_USER_INPUT naming it, not as an internal error', async (_label, query, variables, named) => {
    const response = await postJson(h, { query, variables }, { authorization: `Bearer ${owner.token}` });
    expect(response.body!.data ?? null).toBeNull();
    expect(response.body!.errors![0]!.extensions!.code, response.text).toBe('BAD_USER_INPUT');
    expect(response.body!.errors![0]!.message).toContain(named);
  });

  it('answers an operationName that is not in the document with BAD_USER_INPUT', async () => {
    const response = await postJson(h, { query: 'query A { __typename }', operationName: 'B' });
    expect(response.body!.data ?? null).toBeNull();
    expect(response.body!.errors![0]!.extensions!.code, response.text).toBe('BAD_USER_INPUT');
  });
});

describe('unexpected errors are masked', () => {
  const LEAKS = /select\s|insert\s|\bfrom\s+["`]|no such table|relation\s|does not exist|sqlite|postgres|knex|mikro|Exception|node_modules|\.ts:\d|\.js:\d|\n\s+at\s|"stack"|prompts_gone/i;

  it('answers a database failure inside a resolver as INTERNAL_SERVER_ERROR with no SQL or stack, and logs it', async () => {
    const own = await startHarness();
    try {
      const user = await signUpUser(own, 'Broken');
      const organizationId = await createOrganization(own, user, 'Broken Inc');
      const query = 'query($id: ID!) { organization(id: $id) { name prompts { totalCount } } }';
      expect(dataOf(await own.gql(query, { id: organizationId }, { token: user.token })).organization.prompts.totalCount).toBe(0);

      // A real failure of the store: the table the resolver reads is gone.
      await own.orm.em.fork().getConnection().execute('alter table prompts rename to prompts_gone');
      const response = await own.app.fetch(`${URL_BASE}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({ query, variables: { id: organizationId } }),
      });
      const text = await response.text();
      const body = JSON.parse(text);
      expect(body.errors).toHaveLength(1);
      expect(body.errors[0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
      expect(body.errors[0].path).toEqual(['organization', 'prompts']);
      expect(text).not.toMatch(LEAKS);
      expect(own.logLines.some((line) => /no such table|does not exist/i.test(line) && /prompts/.test(line)), 'the original error is logged').toBe(true);
    } finally {
      await own.close();
    }
  });

  it('answers a lost database connection as INTERNAL_SERVER_ERROR with no details, in a resolver and while authenticating', async () => {
    const own = await startHarness();
    try {
      const user = await signUpUser(own, 'Closed');
      await own.orm.close(true);

      const signUp = await own.app.fetch(`${URL_BASE}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation { signUp(input: { email: "closed@example.com", password: "long enough password", name: "C" }) { token } }' }),
      });
      const signUpText = await signUp.text();
      expect(JSON.parse(signUpText).errors[0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
      expect(signUpText).not.toMatch(LEAKS);

      // With a session token the failure happens while settling who is calling, before any resolver.
      const viewer = await own.app.fetch(`${URL_BASE}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({ query: '{ viewer { user { id } } }' }),
      });
      const viewerText = await viewer.text();
      expect(JSON.parse(viewerText).errors[0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
      expect(viewerText).not.toMatch(LEAKS);
      expect(viewerText).not.toContain(user.token);
    } finally {
      await own.close();
    }
  });
});

describe('health and GraphiQL', () => {
  it('answers GET /health with 2xx', async () => {
    const response = await h.app.fetch(`${URL_BASE}/health`);
    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(300);
  });

  describe('GET /graphql with Accept: text/html', () => {
    let html: string;
    let config: { title?: string; defaultQuery?: string; headers?: string };

    beforeAll(async () => {
      const response = await h.app.fetch(`${URL_BASE}/graphql`, { headers: { accept: 'text/html' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const shell = await response.text();
      // The page as the browser puts it together: the shell and the files it loads from this server
      // (http/graphiql-page.ts serves the scripts and styles as content-hashed files).
      const assets = [...shell.matchAll(/\b(?:src|href)=["']?(\/graphql\/assets\/[^"'\s>]+)/g)].map((found) => found[1]!);
      expect(assets.length).toBeGreaterThan(0);
      const files = await Promise.all(
        assets.map(async (path) => {
          const asset = await h.app.fetch(`${URL_BASE}${path}`);
          expect(asset.status, path).toBe(200);
          return asset.text();
        }),
      );
      html = [shell, ...files].join('\n');
      const render = /renderYogaGraphiQL\(\s*window\.document\.querySelector\(['"]#root['"]\),\s*(\{[\s\S]*\})\s*,?\s*\);?\s*(?:<\/script>)?\s*$/;
      const match = files.map((file) => render.exec(file)).find(Boolean) ?? null;
      expect(match, 'GraphiQL is rendered with a JSON configuration').not.toBeNull();
      config = JSON.parse(match![1]!);
    });

    it('is GraphiQL', () => {
      expect(html).toMatch(/^\s*<!doctype html>/i);
      expect(html).toContain('<div id="root">');
      expect(config.title).toBe('PromptGate');
    });

    it('loads no script or style from another origin', () => {
      const scriptTags = html.match(/<script\b[^>]*>/gi) ?? [];
      expect(scriptTags.length).toBeGreaterThan(0);
      for (const tag of scriptTags) {
        const src = /\bsrc\s*=\s*["']?([^"'\s>]*)/i.exec(tag)?.[1];
        if (src !== undefined) expect(src, tag).not.toMatch(/^(https?:)?\/\//i);
      }
      for (const tag of html.match(/<link\b[^>]*>/gi) ?? []) {
        const href = /\bhref\s*=\s*["']?([^"'\s>]*)/i.exec(tag)?.[1] ?? '';
        expect(href.slice(0, 100), tag.slice(0, 100)).not.toMatch(/^(https?:)?\/\//i);
      }
      expect(html.match(/\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\/[^"'\s>]*/gi) ?? []).toEqual([]);
      expect(html.match(/@import\s+(?:url\()?\s*["']?(?:https?:)?\/\/[^"')\s]*/gi) ?? []).toEqual([]);
      expect(html.match(/url\(\s*["']?(?:https?:)?\/\/[^"')\s]*/gi) ?? []).toEqual([]);
      expect(html).not.toMatch(/unpkg\.com|cdn\.jsdelivr|cdnjs\.cloudflare|esm\.sh|fonts\.googleapis|fonts\.gstatic/i);
    });

    it('opens with the example operation, which is valid against the schema', () => {
      expect(config.defaultQuery).toBe(EXAMPLE_OPERATION);
      expect(html).toContain('Welcome to PromptGate');
      expect(validate(schema, parse(EXAMPLE_OPERATION))).toEqual([]);
    });

    it('offers an Authorization header ready for the token: "Bearer ", which is anonymous until one is pasted', () => {
      const headers = JSON.parse(config.headers!);
      expect(Object.keys(headers)).toEqual(['Authorization']);
      expect(headers.Authorization).toBe('Bearer ');
    });

    it("runs the example's SignUp and then Me with the token it returns", async () => {
      const signUp = expectSuccess(await postJson(h, { query: EXAMPLE_OPERATION, operationName: 'SignUp' }));
      const me = await postJson(h, { query: EXAMPLE_OPERATION, operationName: 'Me' }, { authorization: `Bearer ${signUp.signUp.token}` });
      expect(expectSuccess(me).viewer.user.memberships).toEqual([]);
    });
  });
});

describe('requests GraphQL refuses, whatever the client accepts', () => {
  const post = (body: string) =>
    h.app.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body });

  it('answers a query that does not parse or validate, or a body that is not JSON, with 400 and BAD_USER_INPUT', async () => {
    for (const body of [JSON.stringify({ query: '{ nope }' }), JSON.stringify({ query: '{ viewer ' }), 'not json {']) {
      const response = await post(body);
      expect(response.status, body).toBe(400);
      const json = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
      expect(json.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    }
  });

  it('never echoes a body that is not JSON back, even inside extensions', async () => {
    const secret = 'pgk_' + 'Q'.repeat(38);
    const response = await post(`{"query": "{ viewer { user { id } } }", "variables": {"x": "${secret}"`);
    expect(response.status).toBe(400);
    expect(await response.text()).not.toContain(secret);
  });

  it('logs an expected refusal (NOT_FOUND here) as nothing worse than debug', async () => {
    const before = h.logLines.length;
    await h.gql('{ prompt(id: "prm_00000000000000000000000000") { id } }', {}, { token: (await signUpUser(h, 'Quiet')).token });
    expect(h.logLines.slice(before).filter((line) => !line.includes('"level":"debug"') && !line.includes('"msg":"request"'))).toEqual([]);
  });
});

describe('the size of a request', () => {
  it('refuses a body over 1 MiB with 413 before reading it, and inputs over 256 KiB as BAD_USER_INPUT', async () => {
    const huge = JSON.stringify({ query: '{ viewer { user { id } } }', variables: { pad: 'x'.repeat(1024 * 1024 + 1) } });
    const response = await h.app.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(huge.length) }, body: huge });
    expect(response.status).toBe(413);
    const json = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(json.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');

    const owner = await signUpUser(h, 'Big inputs');
    const organizationId = await createOrganization(h, owner, 'Big Co');
    const prompt = dataOf(
      await h.gql('mutation($o: ID!) { createPrompt(input: { organizationId: $o, name: "p", template: "{{x}}" }) { id } }', { o: organizationId }, { token: owner.token }),
    ).createPrompt.id;
    const big = await h.gql('mutation($p: ID!, $i: JSON) { runPrompt(input: { promptId: $p, inputs: $i }) { id } }', { p: prompt, i: { x: 'y'.repeat(300 * 1024) } }, { token: owner.token });
    expect(big.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(big.errors?.[0]?.message).toContain('inputs');
  });
});
