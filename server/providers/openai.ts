import OpenAI from 'openai';
import { ProviderError, type Completion, type ModelProvider } from './provider.ts';

export interface OpenAIProviderConfig {
  /** Any OpenAI-compatible endpoint, e.g. https://api.openai.com/v1 or a local server. */
  baseURL: string;
  apiKey: string;
  timeoutMs: number;
}

/**
 * Chat completions through the official `openai` client against any OpenAI-compatible endpoint.
 * No automatic retries: a run must end within its deadline, and a retry is the caller's choice.
 */
export function openAIProvider(config: OpenAIProviderConfig): ModelProvider {
  const client = new OpenAI({ baseURL: config.baseURL, apiKey: config.apiKey, timeout: config.timeoutMs, maxRetries: 0 });
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
  if (error instanceof OpenAI.APIConnectionTimeoutError) return `the model provider did not answer within ${timeoutMs} ms`;
  if (error instanceof OpenAI.APIConnectionError) return 'the model provider could not be reached';
  if (error instanceof OpenAI.APIError) {
    const detail = typeof error.error === 'object' && error.error && 'message' in error.error ? String(error.error.message) : error.message;
    return `the model provider answered ${error.status ?? 'an error'}: ${detail}`;
  }
  return 'the model provider failed';
}
