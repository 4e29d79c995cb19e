import {
  coerceInputValue,
  getNamedType,
  getOperationAST,
  GraphQLError,
  isEnumType,
  isInputObjectType,
  isInputType,
  isListType,
  isNonNullType,
  Kind,
  print,
  typeFromAST,
  type ASTNode,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';

/**
 * Refusals never repeat what the caller sent. graphql-js writes the value it refused into its
 * messages (`Variable "$input" got invalid value { email: "…", password: "…" }; Field "x" is not
 * defined…`), which would hand a password back into a response, a proxy's log or a screenshot.
 * Here the same checks are answered with the variable, the path and the expected type only.
 */

const NOT_REPEATED = '(value not repeated)';

/** Only a name of GraphQL's own shape is repeated back (an unknown field's key, for instance). */
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

/** The type expected at a path inside a variable, when it can be followed. */
function typeAt(type: GraphQLInputType, path: readonly (string | number)[]): GraphQLInputType | undefined {
  let current: GraphQLInputType | undefined = type;
  for (const key of path) {
    if (current && isNonNullType(current)) current = current.ofType;
    if (typeof key === 'number') current = current && isListType(current) ? current.ofType : undefined;
    else current = current && isInputObjectType(current) ? current.getFields()[key]?.type : undefined;
    if (!current) return undefined;
  }
  return current;
}

// graphql-js's reasons that name only schema things; anything else is answered by the expected type.
const SAFE_REASONS = [
  /^Expected type "[^"]+" to be an object\./,
  /^Field "[^"]+" of required type "[^"]+" was not provided\./,
  /^Expected non-nullable type "[^"]+" not to be null\./,
];
const UNKNOWN_FIELD = /^Field "([^"]*)" is not defined by type "([^"]+)"\./;

function reason(error: GraphQLError, expected: GraphQLInputType | undefined): string {
  for (const safe of SAFE_REASONS) {
    const match = safe.exec(error.message);
    if (match) return match[0];
  }
  const unknown = UNKNOWN_FIELD.exec(error.message);
  if (unknown) return NAME.test(unknown[1]!) ? unknown[0] : `A field is not defined by type "${unknown[2]}".`;
  if (!expected) return 'The value is not valid here.';
  // An enum's values are the schema's: listing them says what was meant without repeating the input.
  const named = getNamedType(expected);
  const choices = isEnumType(named) ? ` (one of ${named.getValues().map((value) => value.name).join(', ')})` : '';
  return `Expected a value of type "${String(expected)}"${choices}.`;
}

/** The variables' problems, each without the value, or none. */
export function variableProblems(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown>): string[] {
  const operation = getOperationAST(document, operationName);
  if (!operation) return [];
  const problems: string[] = [];
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type);
    if (!type || !isInputType(type)) continue; // validation has refused it already
    const given = Object.hasOwn(variables, name) && variables[name] !== undefined;
    if (!given) {
      if (!definition.defaultValue && isNonNullType(type)) problems.push(`Variable "$${name}" of required type "${String(type)}" was not provided.`);
      continue;
    }
    if (variables[name] === null && isNonNullType(type)) {
      problems.push(`Variable "$${name}" of non-null type "${String(type)}" must not be null.`);
      continue;
    }
    coerceInputValue(variables[name], type, (path, _invalid, error) => {
      const at = path.length ? ` at "${name}${path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('')}"` : '';
      problems.push(`Variable "$${name}" got an invalid value${at}; ${reason(error, typeAt(type, path))}`);
    });
  }
  return problems;
}

/**
 * Checks the variables before graphql-js does, and answers their problems in its place: the same
 * checks, BAD_USER_INPUT (reason: BAD_USER_INPUT), HTTP 400, no value repeated.
 */
export function useNoInputEcho() {
  return {
    onExecute({ args, setResultAndStopExecution }: { args: { schema: GraphQLSchema; document: DocumentNode; operationName?: string | null; variableValues?: Record<string, unknown> | null }; setResultAndStopExecution: (result: { errors: GraphQLError[] }) => void }) {
      const problems = variableProblems(args.schema, args.document, args.operationName, args.variableValues ?? {});
      if (!problems.length) return;
      setResultAndStopExecution({
        errors: problems.map((message) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', reason: 'BAD_USER_INPUT', http: { status: 400 } } })),
      });
    },
  };
}

const VALUE_KINDS = new Set<string>([Kind.INT, Kind.FLOAT, Kind.STRING, Kind.BOOLEAN, Kind.ENUM, Kind.LIST, Kind.OBJECT]);
// Where graphql-js writes a value into a message: "found 123", "value: 123", "Value \"ABC\"".
const VALUE_PREFIXES = ['found ', ': ', '"'];

/** A literal's text as graphql-js prints it, and a string's own characters (long enough to find). */
function valueTexts(node: ASTNode): { printed: string; raw?: string } | undefined {
  const value = node.kind === Kind.OBJECT_FIELD ? node.value : node;
  if (!VALUE_KINDS.has(value.kind)) return undefined;
  return { printed: print(value), raw: value.kind === Kind.STRING && value.value.length >= 3 ? value.value : undefined };
}

/**
 * A request error's message with the literal values it quotes taken out: the values of the
 * document that a validation error points at, and the token a syntax error stopped at.
 */
export function withoutInputValues(error: GraphQLError): string {
  let message = error.message;
  for (const node of error.nodes ?? []) {
    const texts = valueTexts(node);
    if (!texts) continue;
    for (const prefix of VALUE_PREFIXES) message = message.split(prefix + texts.printed).join(prefix + NOT_REPEATED);
    // A string's own characters, wherever a scalar's message may have put them.
    if (texts.raw) message = message.split(texts.raw).join(NOT_REPEATED);
  }
  // Syntax errors name the token they stopped at: its kind is enough.
  return message.replace(/^(Syntax Error: [\s\S]*?(?:found|Unexpected) (?:String|BlockString|Int|Float|Name)) "[\s\S]*"(\.?)$/, '$1$2');
}
