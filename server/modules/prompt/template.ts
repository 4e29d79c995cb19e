/**
 * `{{name}}` placeholders, spaces inside the braces allowed (`{{ name }}`). Names start with a
 * letter or underscore and go on with letters, digits, underscores and dashes.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}/g;

/** Placeholder names in order of first appearance, each once. */
export function templateVariables(template: string): string[] {
  const seen = new Set<string>();
  for (const match of template.matchAll(PLACEHOLDER)) seen.add(match[1]!);
  return [...seen];
}

/**
 * What a flow needs from its caller (DESIGN.md rule 7): all of step 1's variables, then each later
 * step's variables but its first, which receives the previous step's result. Each name once.
 */
export function flowVariables(stepTemplates: string[]): string[] {
  const seen = new Set<string>();
  stepTemplates.forEach((template, index) => {
    const variables = templateVariables(template);
    for (const name of index === 0 ? variables : variables.slice(1)) seen.add(name);
  });
  return [...seen];
}

/**
 * Whether the caller gave a value for a variable: its own property, not undefined. (Not `in` or
 * a plain lookup, which would find `constructor` or `toString` on every object.)
 */
export function hasInput(inputs: Record<string, unknown>, name: string): boolean {
  return Object.hasOwn(inputs, name) && inputs[name] !== undefined;
}

/** A placeholder the caller did not give a value for. */
export class MissingVariableError extends Error {
  constructor(readonly variable: string) {
    super(`missing variable "${variable}"`);
  }
}

/**
 * Fills each placeholder with its input (DESIGN.md rule 7): strings as they are, anything else
 * JSON-encoded; extra inputs are ignored; a missing one throws MissingVariableError.
 */
export function renderTemplate(template: string, inputs: Record<string, unknown>): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    if (!hasInput(inputs, name)) throw new MissingVariableError(name);
    const value = inputs[name];
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}
