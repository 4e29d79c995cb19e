import OpenAI from 'openai';
import { ProviderError, type Completion, type ModelProvider } from './provider.ts';

export interface OpenAIProviderConfig {
  /** Any OpenAI-compatible endpoint, e.g. https://api.openai.com/v1 or a local server. */
  baseURL: string;
  apiKey: string;
  timeoutMs: number;
}

/** An answer body larger than the provider may send: reading stopped there. */
class ResponseTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the model provider's answer was over ${maxBytes} bytes; reading stopped there`);
  }
}

/**
 * fetch that stops reading an answer body past `maxBytes`, declared or not: a provider that
 * ignores max_tokens cannot make the server hold a 30 MB answer to then refuse it.
 */
function boundedFetch(maxBytes: number): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(maxBytes);
    }
    if (!response.body) return response;
    let read = 0;
    const limited = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          read += chunk.byteLength;
          if (read > maxBytes) controller.error(new ResponseTooLargeError(maxBytes));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(limited, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** The ResponseTooLargeError behind an error, however the client wrapped it. */
function tooLarge(error: unknown): ResponseTooLargeError | undefined {
  for (let cause = error, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    if (cause instanceof ResponseTooLargeError) return cause;
  }
  return undefined;
}

/**
 * Chat completions through the official `openai` client against any OpenAI-compatible endpoint.
 * No automatic retries: a run must end within its deadline, and a retry is the caller's choice.
 */
export function openAIProvider(config: OpenAIProviderConfig, maxResponseBytes: number): ModelProvider {
  const client = new OpenAI({ baseURL: config.baseURL, apiKey: config.apiKey, timeout: config.timeoutMs, maxRetries: 0, fetch: boundedFetch(maxResponseBytes) });
  return {
    name: 'openai',
    async complete({ model, prompt, maxTokens }): Promise<Completion> {
      try {
        // max_tokens, not max_completion_tokens: every OpenAI-compatible server knows this one.
        const response = await client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }], max_tokens: maxTokens });
        return {
          text: response.choices[0]?.message?.content ?? '',
          promptTokens: response.usage?.prompt_tokens ?? 0,
          completionTokens: response.usage?.completion_tokens ?? 0,
        };
      } catch (error) {
        throw new ProviderError(describe(error, config.timeoutMs));
      }
    },
  };
}

function describe(error: unknown, timeoutMs: number): string {
  const large = tooLarge(error);
  if (large) return large.message;
  if (error instanceof OpenAI.APIConnectionTimeoutError) return `the model provider did not answer within ${timeoutMs} ms`;
  if (error instanceof OpenAI.APIConnectionError) return 'the model provider could not be reached';
  if (error instanceof OpenAI.APIError) {
    const detail = typeof error.error === 'object' && error.error && 'message' in error.error ? String(error.error.message) : error.message;
    return `the model provider answered ${error.status ?? 'an error'}: ${detail}`;
  }
  return 'the model provider failed';
}
