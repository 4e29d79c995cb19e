/**
 * A partner app runs a prompt with its API key and handles a refusal.
 *
 *   PROMPTGATE_URL=http://localhost:4000/graphql PROMPTGATE_API_KEY=pgk_… PROMPT_ID=prm_… \
 *     node --conditions=@promptgate/source --import tsx examples/partner-app.ts "Text to summarize"
 *
 * The argument fills the template's {{text}}, as in the demo's prompts. A prompt with other
 * variables (its `variables` lists them) takes them all as JSON: PROMPT_INPUTS='{"name": "Ada"}'.
 *
 * (In this repository `--conditions=@promptgate/source` runs the SDK from its source; after
 * `npm run build:sdk`, or in an app that installed the package, plain `node` does.)
 */
import { BadUserInputError, createClient, ForbiddenError, RateLimitedError, UnauthenticatedError } from '@promptgate/sdk';

const client = createClient({
  url: process.env.PROMPTGATE_URL ?? 'http://localhost:4000/graphql',
  apiKey: process.env.PROMPTGATE_API_KEY ?? '',
});
const promptId = process.env.PROMPT_ID ?? '';

try {
  const inputs: unknown = process.env.PROMPT_INPUTS
    ? JSON.parse(process.env.PROMPT_INPUTS)
    : { text: process.argv[2] ?? 'PromptGate issues API keys with granular permissions.' };
  const run = await client.runPrompt({
    promptId,
    inputs,
    endUserId: 'customer-42', // your own id for the person this run serves
  });
  if (run.status === 'SUCCEEDED') {
    console.log(run.result);
  } else {
    console.error(`The model failed: ${run.error}`);
  }
} catch (error) {
  if (error instanceof ForbiddenError) {
    // The key is valid but may not run this prompt: reason is NOT_GRANTED.
    console.error(`Refused (${error.reason}): ${error.message}`);
    process.exitCode = 2;
  } else if (error instanceof BadUserInputError || error instanceof SyntaxError) {
    // The inputs do not fit the prompt (a variable of its template is missing), or are not JSON.
    console.error(`Cannot run the prompt: ${error.message}`);
    process.exitCode = 5;
  } else if (error instanceof UnauthenticatedError) {
    // The key itself was refused: revoked, expired, rotated past its grace period, or mistyped.
    console.error(`The API key was refused: ${error.message}`);
    process.exitCode = 4;
  } else if (error instanceof RateLimitedError) {
    // Reads were already retried; a run is never repeated on its own, so the app decides.
    console.error(`Too many requests: try again in ${error.retryAfterSeconds} s`);
    process.exitCode = 3;
  } else {
    throw error;
  }
}
