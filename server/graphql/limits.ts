import { GraphQLError, type ValidationRule } from 'graphql';

/**
 * At most `max` directives in the whole document, counted as written. graphql-armor's own
 * counter follows fragment spreads and skips a fragment it has seen, so `...F @include(if: true)`
 * repeated many times slipped past it; counting every directive node closes that gap.
 */
export function maxDirectivesInDocument(max: number): ValidationRule {
  return (context) => {
    let count = 0;
    return {
      Directive(node) {
        count += 1;
        if (count === max + 1) {
          context.reportError(new GraphQLError(`Directives limit of ${max} exceeded`, { nodes: [node], extensions: { code: 'BAD_USER_INPUT' } }));
        }
      },
    };
  };
}
