import { Kind, type GraphQLResolveInfo } from 'graphql';
import { builder } from '../../builder.ts';
import { badInput, forbidden } from '../../errors.ts';
import type { Context } from '../../context.ts';
import { missingAsNull } from '../../graphql/loadable.ts';
import { logIn, logOut, signUp, type AuthResult } from './user.service.ts';
import type { User } from './user.entity.ts';
import { loadUsers } from './user.loaders.ts';

/** A node loaded in batches: fields may return a user's id, and node(id) finds it. */
export const UserRef = builder.loadableNodeRef('User', {
  id: { resolve: (user: User) => user.id },
  load: (ids: string[], ctx: Context) => missingAsNull(loadUsers(ctx.em, ids)),
});

UserRef.implement({
  // A user is visible to itself, to the members of its organizations, and where something the
  // caller may read names it: the run it made, the audited change, the key it created. Those
  // objects' types grant `reachedUser` to their own fields.
  authScopes: (user) => ({ seeUser: user.id, $granted: 'reachedUser' }),
  fields: (t) => ({
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
      resolve: (viewer) => viewer.userId,
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

/**
 * signUp and logIn answer as the user who just signed in (so `user { memberships }` reads), which
 * is only sound when nothing else runs in the same operation: checks already made for the first
 * caller must not carry over to the new one, nor the new one's rights to other fields.
 */
function requireAlone(info: GraphQLResolveInfo): void {
  const fields = info.operation.selectionSet.selections.filter(
    (selection) => !(selection.kind === Kind.FIELD && selection.name.value === '__typename'),
  );
  // This field is one of them; anything more (another field, an alias of it, a fragment) is refused.
  if (fields.length !== 1 || fields[0]!.kind !== Kind.FIELD) {
    throw badInput(info.fieldName, 'must be the only field of its operation: send it on its own, then use the token');
  }
}

/**
 * An API key belongs to an app, not a person: it has no business creating accounts or sessions,
 * and a leaked key must not become a way to try passwords.
 */
function refuseApiKey(ctx: Context, field: string): void {
  if (ctx.principal.kind === 'apiKey') {
    throw forbidden(`An API key may not call ${field}: send it without an Authorization header`, {
      reason: 'KEY_NOT_ALLOWED',
      apiKeyId: ctx.principal.apiKeyId,
    });
  }
}

/** The rest of the request (the payload) reads as the user who just signed in. */
function signedIn(ctx: Context, result: AuthResult): AuthResult {
  ctx.actAs({ kind: 'user', userId: result.user.id, sessionId: result.sessionId });
  return result;
}

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayloadRef,
    description: 'Creates an account and signs it in. A taken email is CONFLICT. Must be the only field of its operation.',
    args: { input: t.arg({ type: SignUpInput, required: true }) },
    resolve: async (_root, { input }, ctx, info) => {
      refuseApiKey(ctx, 'signUp');
      requireAlone(info);
      return signedIn(ctx, await signUp(ctx.em, input, ctx.settings.sessionTtlSeconds));
    },
  }),
  logIn: t.field({
    type: AuthPayloadRef,
    description: 'Starts a session. A wrong email or password is UNAUTHENTICATED. Must be the only field of its operation.',
    args: { input: t.arg({ type: LogInInput, required: true }) },
    resolve: async (_root, { input }, ctx, info) => {
      refuseApiKey(ctx, 'logIn');
      requireAlone(info);
      const guard = { throttle: ctx.signInThrottle, address: ctx.clientAddress };
      return signedIn(ctx, await logIn(ctx.em, input, ctx.settings.sessionTtlSeconds, guard));
    },
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
