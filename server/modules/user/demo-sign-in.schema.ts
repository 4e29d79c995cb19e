import { builder } from '../../builder.ts';
import { demoSignIn, type DemoSignIn } from './demo-sign-in.ts';

const DemoSignInRef = builder.objectRef<DemoSignIn>('DemoSignIn').implement({
  description: 'The public demo account of a fresh embedded database.',
  fields: (t) => ({
    email: t.exposeString('email'),
    password: t.exposeString('password', { description: 'Public: printed at start and in the README.' }),
  }),
});

builder.queryField('demoSignIn', (t) =>
  t.field({
    type: DemoSignInRef,
    nullable: true,
    description:
      'The demo owner\'s email and password, so a sign-in screen can offer them. Open to everyone. Null on PostgreSQL, and once the demo owner is gone or its password changed.',
    resolve: (_root, _args, ctx) => demoSignIn(ctx.em),
  }),
);
