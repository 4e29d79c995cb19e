import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flowVariables, templateVariables } from '../../server/modules/prompt/template.ts';

describe('templateVariables (DESIGN.md rule 7)', () => {
  it.each([
    ['no placeholders', 'Just text.', []],
    ['one placeholder', 'Hello {{name}}!', ['name']],
    ['spaces inside the braces', 'Hello {{ name }} and {{  other}} and {{last   }}', ['name', 'other', 'last']],
    ['tabs and newlines inside the braces', 'A {{\tname\t}} B {{\n other \n}}', ['name', 'other']],
    ['order of first appearance', '{{b}} {{a}} {{c}}', ['b', 'a', 'c']],
    ['repeated names once, at their first place', '{{a}} {{b}} {{a}} {{ b }} {{c}} {{a}}', ['a', 'b', 'c']],
    ['underscores, digits and dashes after the first character', '{{_x}} {{x1}} {{first-name}} {{A_b-9}}', ['_x', 'x1', 'first-name', 'A_b-9']],
    ['names are case-sensitive', '{{Name}} {{name}} {{NAME}}', ['Name', 'name', 'NAME']],
    ['placeholders with no space around them', '{{a}}{{b}}x{{c}}', ['a', 'b', 'c']],
    ['a placeholder inside other braces', '{ {{a}} } {{ {{b}} }}', ['a', 'b']],
    ['JSON-looking text is not a placeholder', '{"a": {"b": 1}} {{a}}', ['a']],
  ])('%s', (_label, template, expected) => {
    expect(templateVariables(template)).toEqual(expected);
  });

  it.each([
    ['empty braces', '{{}} {{ }}'],
    ['a name starting with a digit', '{{1abc}} {{9}}'],
    ['a name starting with a dash', '{{-x}}'],
    ['two words', '{{first name}}'],
    ['a dotted path', '{{user.name}}'],
    ['non-ASCII letters', '{{é}} {{名前}}'],
    ['single braces', '{name} { name }'],
    ['unclosed', '{{name} {{other'],
    ['unopened', 'name}} other}}'],
    ['punctuation', '{{na$me}} {{na!}} {{a,b}}'],
  ])('ignores invalid placeholders: %s', (_label, template) => {
    expect(templateVariables(template)).toEqual([]);
    expect(templateVariables(`${template} {{ok}}`)).toEqual(['ok']);
  });

  it('gives the same answer when called again (no state carried between calls)', () => {
    const template = '{{a}} {{b}} {{c}}';
    expect(templateVariables(template)).toEqual(['a', 'b', 'c']);
    expect(templateVariables(template)).toEqual(['a', 'b', 'c']);
    expect(templateVariables('{{z}}')).toEqual(['z']);
  });

  it('finds every name placed in a template, once each, in order of first appearance (property)', () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,8}$/);
    const filler = fc.stringMatching(/^[^{}]{0,6}$/);
    const spaces = fc.constantFrom('', ' ', '  ', '\t');
    fc.assert(
      fc.property(fc.array(fc.tuple(filler, spaces, name, spaces), { maxLength: 12 }), filler, (parts, tail) => {
        const template = parts.map(([text, before, n, after]) => `${text}{{${before}${n}${after}}}`).join('') + tail;
        const expected = [...new Set(parts.map(([, , n]) => n))];
        expect(templateVariables(template)).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('flowVariables (DESIGN.md rule 7)', () => {
  it.each([
    ['no steps', [], []],
    ['one step: all of its variables', ['{{a}} {{b}}'], ['a', 'b']],
    ['a later step: all but its first, which takes the previous result', ['{{a}} {{b}}', '{{previous}} {{c}}'], ['a', 'b', 'c']],
    ['a later step with a single variable adds nothing', ['{{a}}', 'Summarize {{previous}}'], ['a']],
    ['a later step with no variable adds nothing', ['{{a}}', 'static text'], ['a']],
    ['a name shared with step 1 appears once', ['{{a}} {{b}}', '{{previous}} {{a}} {{c}}'], ['a', 'b', 'c']],
    ['a later step whose first variable repeats: every use takes the previous result', ['{{a}}', '{{p}} then {{p}} and {{b}}'], ['a', 'b']],
    ["a later step's first variable is an input where another step uses it later", ['{{a}}', '{{p}} {{q}}', '{{r}} {{p}}'], ['a', 'q', 'p']],
    ["step 1's first variable is an input like the others", ['{{x}}', '{{x}} {{y}}'], ['x', 'y']],
    ['spaces inside the braces', ['{{ a }}', '{{ prev }} and {{ b }}'], ['a', 'b']],
    ['invalid placeholders are ignored: the first valid one takes the previous result', ['{{a}}', '{{1x}} {{}} {{p}} {{q}}'], ['a', 'q']],
    ['order of first appearance across steps', ['{{c}} {{a}}', '{{p}} {{b}} {{a}}', '{{p}} {{d}} {{c}}'], ['c', 'a', 'b', 'd']],
  ])('%s', (_label, steps, expected) => {
    expect(flowVariables(steps)).toEqual(expected);
  });

  it('for one step equals templateVariables, and every later step contributes exactly its variables but the first (property)', () => {
    const name = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'prev');
    const template = fc.array(name, { maxLength: 5 }).map((names) => names.map((n) => `<{{ ${n} }}>`).join(' '));
    fc.assert(
      fc.property(fc.array(template, { minLength: 1, maxLength: 5 }), (steps) => {
        const expected: string[] = [];
        steps.forEach((step, index) => {
          const variables = templateVariables(step);
          for (const n of index === 0 ? variables : variables.slice(1)) if (!expected.includes(n)) expected.push(n);
        });
        expect(flowVariables(steps)).toEqual(expected);
        expect(flowVariables(steps.slice(0, 1))).toEqual(templateVariables(steps[0]!));
      }),
      { numRuns: 500 },
    );
  });
});
