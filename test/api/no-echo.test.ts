import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../harness.ts';
import { buildWorld, type World } from '../fixtures.ts';

// A refusal never repeats what the caller sent: a password sent down any wrong path (an unknown
// field, a wrong type, a variable that does not coerce, a literal in the document, a bad enum, a
// syntax error) is answered without it, and never logged.
const PASSWORD = 'Hunter2SecretPassw0rdValue';
const EMAIL = 'echo-check-4711@example.com';

let h: Harness;
let w: World;

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
});
afterAll(() => h.close());

/** Posts a raw body and returns the status and the whole answer as text. */
async function post(body: string, token?: string): Promise<{ status: number; text: string }> {
  const response = await h.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body,
  });
  return { status: response.status, text: await response.text() };
}
const send = (query: string, variables?: unknown, token?: string) => post(JSON.stringify({ query, variables }), token);

const LOG_IN = 'mutation($input: LogInInput!) { logIn(input: $input) { token } }';
const SIGN_UP = 'mutation($input: SignUpInput!) { signUp(input: $input) { token } }';

const cases: [string, () => Promise<{ status: number; text: string }>][] = [
  ['logIn with an unknown extra field', () => send(LOG_IN, { input: { email: EMAIL, password: PASSWORD, extra: 'x' } })],
  ['signUp with an unknown extra field', () => send(SIGN_UP, { input: { email: EMAIL, password: PASSWORD, name: 'N', remember: true } })],
  ['logIn with a misspelt field', () => send(LOG_IN, { input: { email: EMAIL, pasword: PASSWORD } })],
  ['logIn with a number for the password', () => send(LOG_IN, { input: { email: EMAIL, password: 4711_0815_1234 } })],
  ['logIn with an object for the password', () => send(LOG_IN, { input: { email: EMAIL, password: { value: PASSWORD } } })],
  ['logIn with a list for the input', () => send(LOG_IN, { input: [EMAIL, PASSWORD] })],
  ['logIn with a string for the input', () => send(LOG_IN, { input: `${EMAIL}:${PASSWORD}` })],
  ['a String! variable given an object', () =>
    send('mutation($e: String!, $p: String!) { logIn(input: { email: $e, password: $p }) { token } }', { e: EMAIL, p: { secret: PASSWORD } })],
  ['a String! variable given a list', () =>
    send('mutation($e: String!, $p: String!) { logIn(input: { email: $e, password: $p }) { token } }', { e: [EMAIL], p: [PASSWORD] })],
  ['a literal number for the password', () => send(`mutation { logIn(input: { email: "${EMAIL}", password: 47110815123 }) { token } }`)],
  ['a literal unquoted password (an enum token)', () => send(`mutation { logIn(input: { email: "${EMAIL}", password: ${PASSWORD} }) { token } }`)],
  ['a literal object for the password', () => send(`mutation { logIn(input: { email: "${EMAIL}", password: { value: "${PASSWORD}" } }) { token } }`)],
  ['a literal list for the password', () => send(`mutation { logIn(input: { email: "${EMAIL}", password: ["${PASSWORD}"] }) { token } }`)],
  ['a literal unknown field', () => send(`mutation { logIn(input: { email: "${EMAIL}", password: "${PASSWORD}", again: "${PASSWORD}" }) { token } }`)],
  ['a literal input missing a field', () => send(`mutation { signUp(input: { email: "${EMAIL}", password: "${PASSWORD}" }) { token } }`)],
  ['a literal with a syntax error after the password', () => send(`mutation { logIn(input: { email: "${EMAIL}" password "${PASSWORD}" }) { token } }`)],
  ['a syntax error at the password', () => send(`mutation { logIn(input: { email: "${EMAIL}", password: "${PASSWORD}" ) { token } }`)],
  ['an unterminated password', () => send(`mutation { logIn(input: { email: "${EMAIL}", password: "${PASSWORD}`)],
  ['a block string password where a name belongs', () => send(`mutation { logIn(input: { email: "${EMAIL}", """${PASSWORD}""" }) { token } }`)],
  ['the password for an enum, as a variable', () =>
    send('mutation($input: AddMemberInput!) { addMember(input: $input) { role } }', { input: { organizationId: w.organizationId, email: EMAIL, role: PASSWORD } }, w.owner.token)],
  ['the password for an enum, as a literal', () =>
    send(`mutation { addMember(input: { organizationId: "${w.organizationId}", email: "${EMAIL}", role: ${PASSWORD} }) { role } }`, undefined, w.owner.token)],
  ['the password for an enum, as a literal string', () =>
    send(`mutation { addMember(input: { organizationId: "${w.organizationId}", email: "${EMAIL}", role: "${PASSWORD}" }) { role } }`, undefined, w.owner.token)],
  ['the password for an Int', () => send('mutation($input: RateRunInput!) { rateRun(input: $input) { id } }', { input: { runId: 'run_x', stars: PASSWORD } }, w.owner.token)],
  ['the password for an Int, as a literal', () => send(`mutation { rateRun(input: { runId: "run_x", stars: "${PASSWORD}" }) { id } }`, undefined, w.owner.token)],
  ['the password for a DateTime', () =>
    send('mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', { input: { organizationId: w.organizationId, name: 'k', expiresAt: PASSWORD } }, w.owner.token)],
  ['the password for a DateTime, as a literal', () =>
    send(`mutation { createApiKey(input: { organizationId: "${w.organizationId}", name: "k", expiresAt: "${PASSWORD}" }) { secret } }`, undefined, w.owner.token)],
  ['the password for an ID, as an object', () => send('query($id: ID!) { node(id: $id) { id } }', { id: { password: PASSWORD } }, w.owner.token)],
  ['the password for a Boolean', () => send('query($b: Boolean!) { viewer { user @include(if: $b) { id } } }', { b: PASSWORD }, w.owner.token)],
  ['an undeclared variable holding the password', () => send('mutation { logIn(input: { email: $e, password: $p }) { token } }', { e: EMAIL, p: PASSWORD })],
  ['variables that are not an object', () => post(JSON.stringify({ query: LOG_IN, variables: PASSWORD }))],
  ['a body that is not JSON', () => post(`{"query": "${LOG_IN}", "variables": {"input": {"password": "${PASSWORD}" ]]`)],
];

describe('refusals that do not repeat the input', () => {
  it.each(cases)('%s: BAD_USER_INPUT, no input value in the answer or the log', async (_name, request) => {
    const linesBefore = h.logLines.length;
    const { status, text } = await request();
    expect(status).toBe(400);
    const body = JSON.parse(text);
    expect(body.errors?.length).toBeGreaterThan(0);
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    for (const value of [PASSWORD, EMAIL, 'Hunter2', '47110815']) expect(text).not.toContain(value);
    const logged = h.logLines.slice(linesBefore).join('\n');
    for (const value of [PASSWORD, EMAIL]) expect(logged).not.toContain(value);
  });

  it('still says what is wrong: the variable, where, and what was expected', async () => {
    const unknown = JSON.parse((await send(LOG_IN, { input: { email: EMAIL, password: PASSWORD, extra: 'x' } })).text);
    expect(unknown.errors[0].message).toBe('Variable "$input" got an invalid value; Field "extra" is not defined by type "LogInInput".');
    const wrongType = JSON.parse((await send(LOG_IN, { input: { email: EMAIL, password: 4711 } })).text);
    expect(wrongType.errors[0].message).toBe('Variable "$input" got an invalid value at "input.password"; Expected a value of type "String!".');
    const literal = JSON.parse((await send(`mutation { logIn(input: { email: "${EMAIL}", password: 4711 }) { token } }`)).text);
    expect(literal.errors[0].message).toBe('String cannot represent a non string value: (value not repeated)');
    const missing = JSON.parse((await send(LOG_IN, {})).text);
    expect(missing.errors[0].message).toBe('Variable "$input" of required type "LogInInput!" was not provided.');
  });
});
