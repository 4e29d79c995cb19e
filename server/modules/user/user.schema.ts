import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { NodeRef } from '../../graphql/node.ts';
import { logIn, logOut, signUp, type AuthResult } from './user.service.ts';
import type { User } from './user.entity.ts';

export const UserRef = builder.objectRef<User>('User').implement({
  interfaces: [NodeRef],
  // A user is visible to itself, to the members of its organizations, and where something the
  // caller may read names it (see Authz.disclose).
  authScopes: (user) => ({ seeUser: user.id }),
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name'),
  }),
});

const AuthPayloadRef = builder.objectRef<AuthResult>('AuthPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Session token for the Authorization header.' }),
    user: t.field({ type: UserRef, resolve: (result) => result.user }),
  }),
});

/** Who is calling: a signed-in user, an API key, or (both null) nobody. */
export interface ViewerShape {
  userId: string | null;
  apiKeyId: string | null;
}

export const ViewerRef = builder.objectRef<ViewerShape>('Viewer').implement({
  fields: (t) => ({
    user: t.field({
      type: UserRef,
      nullable: true,
      resolve: (viewer, _args, ctx) => (viewer.userId ? ctx.loaders.user.load(viewer.userId) : null),
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    description: 'Who is calling. Open to everyone: both fields are null for an anonymous caller.',
    resolve: (_root, _args, { principal }) => ({
      userId: principal.kind === 'user' ? principal.userId : null,
      apiKeyId: principal.kind === 'apiKey' ? principal.apiKeyId : null,
    }),
  }),
);

const SignUpInput = builder.inputType('SignUpInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true, description: 'At least 10 characters.' }),
    name: t.string({ required: true }),
  }),
});

const LogInInput = builder.inputType('LogInInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
  }),
});

/** The rest of the request reads as the user who just signed in. */
function signedIn(ctx: Context, result: AuthResult): AuthResult {
  ctx.actAs({ kind: 'user', userId: result.user.id, sessionId: result.sessionId });
  return result;
}

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayloadRef,
    description: 'Creates an account and signs it in. A taken email is CONFLICT.',
    args: { input: t.arg({ type: SignUpInput, required: true }) },
    resolve: async (_root, { input }, ctx) => signedIn(ctx, await signUp(ctx.em, input, ctx.settings.sessionTtlSeconds)),
  }),
  logIn: t.field({
    type: AuthPayloadRef,
    description: 'Starts a session. A wrong email or password is UNAUTHENTICATED.',
    args: { input: t.arg({ type: LogInInput, required: true }) },
    resolve: async (_root, { input }, ctx) => signedIn(ctx, await logIn(ctx.em, input, ctx.settings.sessionTtlSeconds)),
  }),
  logOut: t.boolean({
    description: 'Ends the session this request was made with; its token stops working at once.',
    authScopes: { signedIn: true },
    resolve: async (_root, _args, ctx) => {
      await logOut(ctx.em, ctx.principal);
      return true;
    },
  }),
}));
