import { badInput } from './errors.ts';

/** A required display name: trimmed, not empty, at most `max` characters. */
export function checkName(field: string, name: string, max = 200): string {
  const trimmed = name.trim();
  if (!trimmed) throw badInput(field, 'must not be empty');
  if (trimmed.length > max) throw badInput(field, `must be at most ${max} characters`);
  return trimmed;
}

/** An optional description: null when absent or blank, at most 2000 characters. */
export function checkDescription(description: string | null | undefined): string | null {
  if (description == null) return null;
  if (description.length > 2000) throw badInput('description', 'must be at most 2000 characters');
  return description.trim() || null;
}
