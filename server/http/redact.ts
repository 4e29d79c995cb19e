import { CREDENTIAL_PREFIXES } from '../auth/credentials.ts';

// Anything shaped like one of our credentials: a known prefix and a run of base62 characters.
const CREDENTIAL = new RegExp(`(${Object.values(CREDENTIAL_PREFIXES).join('|')})[0-9A-Za-z]{8,}`, 'g');

/**
 * Replaces every credential-shaped string with its prefix and an ellipsis. Applied to every error
 * message the server answers and every line it logs, so a secret pasted into the wrong argument
 * (an id, an Int) never comes back out.
 */
export function redactCredentials(text: string): string {
  return text.replace(CREDENTIAL, '$1…');
}
