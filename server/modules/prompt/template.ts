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

/** A rendering that would be larger than the limit it was given; nothing was built. */
export class RenderTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`the rendered prompt would be ${bytes} bytes; at most ${maxBytes} are sent to a model (RUN_MAX_RENDERED_BYTES)`);
  }
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The UTF-8 size `renderTemplate` would produce, from the template's parts and each value's size,
 * without building the string: `{{x}}` 20,000 times with a 20 KB value is known to be 400 MB for
 * the cost of one pass over the template. A missing variable throws MissingVariableError.
 */
export function renderedBytes(template: string, inputs: Record<string, unknown>): number {
  const valueBytes = new Map<string, number>();
  // Placeholders are ASCII: their length in characters is their length in bytes.
  let total = Buffer.byteLength(template);
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    let bytes = valueBytes.get(name);
    if (bytes === undefined) {
      if (!hasInput(inputs, name)) throw new MissingVariableError(name);
      bytes = Buffer.byteLength(valueText(inputs[name]));
      valueBytes.set(name, bytes);
    }
    total += bytes - match[0].length;
  }
  return total;
}

/**
 * Fills each placeholder with its input (DESIGN.md rule 7): strings as they are, anything else
 * JSON-encoded; extra inputs are ignored; a missing one throws MissingVariableError. With
 * `maxBytes`, a result larger than that throws RenderTooLargeError before anything is built.
 */
export function renderTemplate(template: string, inputs: Record<string, unknown>, maxBytes = Infinity): string {
  if (maxBytes !== Infinity) {
    const bytes = renderedBytes(template, inputs);
    if (bytes > maxBytes) throw new RenderTooLargeError(bytes, maxBytes);
  }
  const texts = new Map<string, string>();
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    let text = texts.get(name);
    if (text === undefined) {
      if (!hasInput(inputs, name)) throw new MissingVariableError(name);
      text = valueText(inputs[name]);
      texts.set(name, text);
    }
    return text;
  });
}
