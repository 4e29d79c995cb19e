import { complexityFromQuery } from '@pothos/plugin-complexity';
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isLeafType,
  isListType,
  Kind,
  type DocumentNode,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type TypeNode,
} from 'graphql';
import type { Principal } from '../auth/principal.ts';

/**
 * What a query costs, computed before execution from the document with the request's real
 * variable values and defaults (a `first: $n` counts as the n sent; no `first` counts as the
 * default page). It is the number of objects the query can return at most, plus PAGE_COST for
 * every page it can read, since each page is its own SQL statement for every parent:
 *
 * - a scalar or enum field costs nothing (it is read with its object);
 * - an object field costs 1 (one object, loaded in a batch with its siblings);
 * - a page (a field with `first`) costs PAGE_COST plus one per item it can return (`first`, 20
 *   when absent, at most 100), and what it selects counts once per item;
 * - another list costs one per item it can hold, and what it selects counts once per item: the
 *   bound given on the field (listBound: a key's grants, a flow's steps) or
 *   UNBOUNDED_LIST_ESTIMATE (members, memberships, usage per resource, each read in one batch).
 *
 * Pothos's complexity plugin holds these figures on each field (builder.ts); useQueryCost refuses
 * an operation over its caller's ceiling.
 */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** A page read: one statement per parent, weighed as this many objects. */
export const PAGE_COST = 250;
/** Lists with no bound of their own (members, memberships, usage per resource): an estimate. */
export const UNBOUNDED_LIST_ESTIMATE = 10;

/** The cost of a list field of at most `bound` items (for a field's `complexity` option). */
export function listBound(bound: number): { field: number; multiplier: number } {
  return { field: 1 + bound, multiplier: bound };
}

/** The most a request may cost, per kind of caller. */
export interface QueryCostLimits {
  anonymous: number;
  apiKey: number;
  user: number;
}

/**
 * A member's dashboard reads pages of 100 with what they name: 100 keys with up to 1000 grants
 * each is 200,000 objects (every SDK operation fits, see test/api/query-cost.test.ts), and 1000
 * pages at most. A key reads what it runs and its own runs; anonymous callers only introspect
 * and ask `viewer` (their other reads are refused as UNAUTHENTICATED without a statement).
 */
export const DEFAULT_QUERY_COST_LIMITS: QueryCostLimits = { anonymous: 50_000, apiKey: 100_000, user: 250_000 };

/** The plugin's figure for a field that sets none of its own (builder.ts: complexity.fieldComplexity). */
export function fieldCost<TContext>(args: Record<string, unknown>, _ctx: TContext, field: GraphQLField<unknown, TContext>): { field: number; multiplier: number } {
  const type = getNullableType(field.type);
  if (isLeafType(getNamedType(type))) return { field: 0, multiplier: 1 };
  if (field.args.some((arg) => arg.name === 'first')) {
    const first = typeof args.first === 'number' ? args.first : DEFAULT_PAGE_SIZE;
    // Past MAX_PAGE_SIZE the page refuses itself (BAD_USER_INPUT naming `first`), so it never costs more.
    const items = Math.min(Math.max(first, 0), MAX_PAGE_SIZE);
    return { field: PAGE_COST + items, multiplier: items };
  }
  // A connection's items were counted by the page that holds them.
  if (field.name === 'nodes' || field.name === 'edges') return { field: 0, multiplier: 1 };
  if (isListType(type)) return listBound(UNBOUNDED_LIST_ESTIMATE);
  return { field: 1, multiplier: 1 };
}

export function costLimitFor(principal: Principal, limits: QueryCostLimits): number {
  return principal.kind === 'user' ? limits.user : principal.kind === 'apiKey' ? limits.apiKey : limits.anonymous;
}

/**
 * The cost of the operation a request runs (the named one, or the document's only one), with its
 * variables coerced and defaulted as execution will. Undefined when the variables do not coerce:
 * execution then refuses them itself, before any resolver runs.
 */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null): number | undefined {
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((candidate) => candidate.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) return undefined;
  // The figures above read no argument but `first` (an Int): an operation costs the same for the
  // same Int values (Booleans too, for @skip/@include), so the cost is worked out once for each.
  // An absent variable takes its default, which differs from an explicit null: both are in the key.
  const key = JSON.stringify(costVariableNames(operation).map((name) => (variables && name in variables ? [variables[name]] : [])));
  let costs = costsByOperation.get(operation);
  if (!costs) costsByOperation.set(operation, (costs = new Map()));
  if (costs.has(key)) return costs.get(key);
  const cost = computeCost(schema, document, operation, variables);
  // Bounded: a caller sending a new `first` every time gets the cost computed, not a growing cache.
  // Not kept when the variables do not coerce: an input that does would cost what the figures say.
  if (cost !== undefined && costs.size < MAX_COSTS_PER_OPERATION) costs.set(key, cost);
  return cost;
}

// Yoga parses a document once and hands the same DocumentNode to every request that sends it.
const costsByOperation = new WeakMap<OperationDefinitionNode, Map<string, number | undefined>>();
const MAX_COSTS_PER_OPERATION = 32;
const variableNames = new WeakMap<OperationDefinitionNode, string[]>();

/** The operation's variables that a cost can depend on: Int and Boolean ones, however wrapped. */
function costVariableNames(operation: OperationDefinitionNode): string[] {
  let names = variableNames.get(operation);
  if (!names) {
    names = (operation.variableDefinitions ?? [])
      .filter((definition) => {
        let type: TypeNode = definition.type;
        while (type.kind !== Kind.NAMED_TYPE) type = type.type;
        return type.name.value === 'Int' || type.name.value === 'Boolean';
      })
      .map((definition) => definition.variable.name.value);
    variableNames.set(operation, names);
  }
  return names;
}

function computeCost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): number | undefined {
  // The plugin measures a document's first operation: give it the one that runs, with the fragments.
  const fragments = document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION);
  try {
    return complexityFromQuery({ kind: Kind.DOCUMENT, definitions: [operation, ...fragments] }, { schema, variables: variables ?? {} }).complexity;
  } catch {
    return undefined;
  }
}

interface QueryCostOptions<TContext> {
  limitOf(context: TContext): number;
}

/**
 * Refuses, before execution, an operation that costs more than its caller's ceiling:
 * BAD_USER_INPUT with `extensions.cost` and `extensions.limit`. Nothing of it runs.
 */
export function useQueryCost<TContext>({ limitOf }: QueryCostOptions<TContext>) {
  return {
    onExecute({
      args,
      setResultAndStopExecution,
    }: {
      args: { schema: GraphQLSchema; document: DocumentNode; operationName?: string | null; variableValues?: Record<string, unknown> | null; contextValue: unknown };
      setResultAndStopExecution: (result: { errors: GraphQLError[] }) => void;
    }) {
      const cost = operationCost(args.schema, args.document, args.variableValues ?? undefined, args.operationName);
      if (cost === undefined) return;
      const limit = limitOf(args.contextValue as TContext);
      if (cost <= limit) return;
      setResultAndStopExecution({
        errors: [
          new GraphQLError(
            `This query costs ${cost}; at most ${limit} is allowed for this caller. Ask for smaller pages (first), or fewer nested lists.`,
            { extensions: { code: 'BAD_USER_INPUT', reason: 'QUERY_TOO_COSTLY', cost, limit, http: { status: 400 } } },
          ),
        ],
      });
    },
  };
}
