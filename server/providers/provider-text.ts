/**
 * A model's answer or a provider's error text, made fit to store and to show: every store keeps it
 * (PostgreSQL refuses a NUL in text; a lone surrogate is not valid UTF-8 on either store) and no
 * configured credential comes back out, even from a provider that echoes its Authorization header.
 */

// A NUL, or half of a surrogate pair with no other half.
// eslint-disable-next-line no-control-regex -- the NUL character is what is matched
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Secrets shorter than this are not searched for: replacing every "x" would garble the text. */
const MIN_SECRET_LENGTH = 8;

export const REDACTED = '[redacted]';

/** NUL and lone surrogates become U+FFFD, the replacement character; the rest is kept. */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, '\ufffd');
}

/** Every occurrence of a configured secret replaced by [redacted]. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= MIN_SECRET_LENGTH && result.includes(secret)) result = result.split(secret).join(REDACTED);
  }
  return result;
}

/** A provider's error text: storable, redacted and short (the run keeps it; callers read it). */
export const MAX_PROVIDER_ERROR_LENGTH = 1000;

export function providerErrorText(text: string, secrets: readonly string[]): string {
  const clean = redactSecrets(storableText(text), secrets);
  // Cut, then made storable again: the cut may fall between the halves of a surrogate pair.
  return clean.length > MAX_PROVIDER_ERROR_LENGTH ? storableText(`${clean.slice(0, MAX_PROVIDER_ERROR_LENGTH)}…`) : clean;
}
