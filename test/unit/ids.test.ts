import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ID_PREFIXES, newId, typeOfId, type IdType } from '../../server/ids.ts';

const TYPES = Object.keys(ID_PREFIXES) as IdType[];
/** Crockford base32: digits and lowercase letters without i, l, o and u. */
const BODY = /^[0-9a-hjkmnp-tv-z]{26}$/;
const MAX_TIME = 2 ** 48 - 1;

describe('newId', () => {
  it('prefixes each type with its own three letters and a 26-character Crockford base32 body', () => {
    for (const type of TYPES) {
      const id = newId(type);
      const [prefix, body, ...rest] = id.split('_');
      expect(prefix, id).toBe(ID_PREFIXES[type]);
      expect(prefix).toMatch(/^[a-z]{3}$/);
      expect(body, id).toMatch(BODY);
      expect(rest).toEqual([]);
    }
  });

  it('gives every type a different prefix', () => {
    expect(new Set(Object.values(ID_PREFIXES)).size).toBe(TYPES.length);
  });

  it('uses the documented prefixes for the node types', () => {
    expect(newId('Organization')).toMatch(/^org_/);
    expect(newId('User')).toMatch(/^usr_/);
    expect(newId('Prompt')).toMatch(/^prm_/);
    expect(newId('Flow')).toMatch(/^flw_/);
    expect(newId('AuditEvent')).toMatch(/^aud_/);
    expect(newId('ApiKey')).toMatch(/^key_/);
    expect(newId('Run')).toMatch(/^run_/);
  });

  it('never repeats, even within the same millisecond', () => {
    const now = Date.now();
    const ids = Array.from({ length: 10_000 }, () => newId('Prompt', now));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('counts up within a millisecond: ids made now, one after another, sort in the order they were made', () => {
    const ids = Array.from({ length: 10_000 }, () => newId('AuditEvent'));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('keeps ids made now in order when the clock steps back', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 5000);
      const before = newId('Run');
      vi.setSystemTime(Date.now() - 5000);
      expect(newId('Run') > before).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('sorts by creation time: a later time gives a greater id, compared as plain strings (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_TIME }), fc.integer({ min: 0, max: MAX_TIME }), fc.constantFrom(...TYPES), (t1, t2, type) => {
        fc.pre(t1 !== t2);
        const [a, b] = [newId(type, t1), newId(type, t2)];
        expect(a < b).toBe(t1 < t2);
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts ids one millisecond apart, and a sorted list of times gives a sorted list of ids', () => {
    const base = Date.UTC(2026, 10, 26, 12, 0, 0);
    for (let i = 0; i < 300; i++) expect(newId('Run', base + i) < newId('Run', base + i + 1)).toBe(true);
    const times = Array.from({ length: 200 }, (_, i) => base + i * 7919);
    const ids = times.map((t) => newId('AuditEvent', t));
    expect([...ids].sort()).toEqual(ids);
  });

  it('keeps ids of the same millisecond together: their first 9 characters (45 bits of time) agree', () => {
    const now = Date.UTC(2030, 0, 1);
    const heads = new Set(Array.from({ length: 50 }, () => newId('Flow', now).slice(4, 13)));
    expect(heads.size).toBe(1);
  });
});

describe('typeOfId', () => {
  it('round-trips: the type of a new id is the type it was made for', () => {
    for (const type of TYPES) {
      for (let i = 0; i < 20; i++) expect(typeOfId(newId(type, Math.floor(Math.random() * MAX_TIME)))).toBe(type);
    }
    fc.assert(
      fc.property(fc.constantFrom(...TYPES), fc.integer({ min: 0, max: MAX_TIME }), (type, time) => typeOfId(newId(type, time)) === type),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['empty', ''],
    ['a prefix alone', 'prm_'],
    ['an unknown prefix', `xyz_${'0'.repeat(26)}`],
    ['an upper-case prefix', `PRM_${'0'.repeat(26)}`],
    ['an upper-case body', `prm_${'A'.repeat(26)}`],
    ['a body one short', `prm_${'0'.repeat(25)}`],
    ['a body one long', `prm_${'0'.repeat(27)}`],
    ['a dash instead of the underscore', `prm-${'0'.repeat(26)}`],
    ['surrounding space', ` prm_${'0'.repeat(26)}`],
    ['a trailing newline', `prm_${'0'.repeat(26)}\n`],
    ['a UUID', '3f1c0b7e-8a55-4f4e-9c39-2c0f3a7d9b21'],
    ['a two-letter prefix', `pr_${'0'.repeat(27)}`],
  ])('refuses %s', (_label, id) => {
    expect(typeOfId(id)).toBeUndefined();
  });

  it('accepts nothing but a known prefix, an underscore and 26 characters (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const type = typeOfId(text);
        if (type === undefined) return true;
        return text.startsWith(`${ID_PREFIXES[type]}_`) && text.length === 30;
      }),
      { numRuns: 2000 },
    );
  });
});
