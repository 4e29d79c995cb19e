import { builder } from '../../builder.ts';
import { FlowRef } from '../flow/flow.schema.ts';
import type { AccessPath, AccessPathKind } from './paths.ts';

/** The GraphQL face of paths.ts: how a key reaches a prompt or flow. */
export const AccessPathKindEnum = builder.enumType('AccessPathKind', {
  description: 'How a key reaches a prompt or flow.',
  values: {
    ORGANIZATION_WIDE: { description: "The key's access is ORGANIZATION." },
    DIRECT_GRANT: { description: 'The prompt or flow itself is granted to the key.' },
    FLOW_GRANT: { description: 'A flow granted to the key runs this prompt as one of its steps.' },
  } satisfies Record<AccessPathKind, object>,
});

export const AccessPathRef = builder.objectRef<AccessPath>('AccessPath').implement({
  // The flow of a path is one the key is granted, named by something the caller may read.
  grantScopes: () => ['reachedFlow'],
  fields: (t) => ({
    kind: t.field({ type: AccessPathKindEnum, resolve: (path) => path.kind }),
    flow: t.field({
      type: FlowRef,
      nullable: true,
      description: 'For FLOW_GRANT: the granted flow that runs the prompt.',
      resolve: (path) => path.flowId,
    }),
  }),
});
